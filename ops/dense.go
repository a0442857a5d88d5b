package ops

import (
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// float is the set of element types the kernels in this package handle.
type float interface{ ~float32 | ~float64 }

// asDense returns v as a contiguous *tensor.Dense, materialising views.
func asDense(v gorgonia.Value) (*tensor.Dense, error) {
	d, ok := v.(*tensor.Dense)
	if !ok {
		return nil, errors.Errorf("ops: expected a *tensor.Dense, got %T", v)
	}
	if d.IsView() {
		m, ok := d.Materialize().(*tensor.Dense)
		if !ok {
			return nil, errors.Errorf("ops: cannot materialise a view of shape %v", d.Shape())
		}
		return m, nil
	}
	return d, nil
}

// outLike returns prealloc when it is a *tensor.Dense of the wanted shape and
// dtype, and a new tensor otherwise.
func outLike(prealloc gorgonia.Value, dt tensor.Dtype, shape tensor.Shape) *tensor.Dense {
	if p, ok := prealloc.(*tensor.Dense); ok && p != nil && !p.IsView() && p.Dtype() == dt && p.Shape().Eq(shape) {
		return p
	}
	if len(shape) == 0 {
		return tensor.New(tensor.Of(dt), tensor.WithShape())
	}
	return tensor.New(tensor.Of(dt), tensor.WithShape(shape.Clone()...))
}

// outBuf keeps an op's last output for reuse by the next run (see
// customOp.out). Each application of an op gets its own.
type outBuf struct{ t *tensor.Dense }

// get returns the buffer to write into: prealloc if Gorgonia gives one,
// else the last output if it fits, else a new tensor; it remembers it.
func (b *outBuf) get(prealloc gorgonia.Value, dt tensor.Dtype, shape tensor.Shape) *tensor.Dense {
	if prealloc == nil && b != nil && b.t != nil {
		prealloc = b.t
	}
	out := outLike(prealloc, dt, shape)
	if b != nil {
		b.t = out
	}
	return out
}

// scalarOf wraps x as a Gorgonia scalar value of dtype dt.
func scalarOf(dt tensor.Dtype, x float64) (gorgonia.Value, error) {
	switch dt {
	case tensor.Float32:
		return gorgonia.NewF32(float32(x)), nil
	case tensor.Float64:
		return gorgonia.NewF64(x), nil
	}
	return nil, errors.Errorf("ops: unsupported dtype %v", dt)
}

// scalarValue reads a Gorgonia scalar (or a one-element tensor) as float64.
func scalarValue(v gorgonia.Value) (float64, error) {
	switch s := v.(type) {
	case *gorgonia.F32:
		return float64(*s), nil
	case *gorgonia.F64:
		return float64(*s), nil
	case *tensor.Dense:
		if s.Shape().TotalSize() != 1 {
			return 0, errors.Errorf("ops: expected a scalar, got shape %v", s.Shape())
		}
		switch d := s.Data().(type) {
		case []float32:
			return float64(d[0]), nil
		case []float64:
			return d[0], nil
		case float32:
			return float64(d), nil
		case float64:
			return d, nil
		}
	}
	return 0, errors.Errorf("ops: expected a float scalar, got %T", v)
}

func checkFloat(dt tensor.Dtype) error {
	if dt != tensor.Float32 && dt != tensor.Float64 {
		return errors.Errorf("ops: unsupported dtype %v (want float32 or float64)", dt)
	}
	return nil
}
