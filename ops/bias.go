package ops

import (
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// BiasAdd adds the vector b to the last axis of x: out[..., j] = x[..., j] + b[j].
// It is one fused op, cheaper than Gorgonia's BroadcastAdd, which first
// materialises the repeated bias.
func BiasAdd(x, b *gorgonia.Node) (*gorgonia.Node, error) {
	xs := x.Shape()
	if b.Dims() != 1 || xs.Dims() < 1 || xs[len(xs)-1] != b.Shape()[0] {
		return nil, errors.Errorf("ops: BiasAdd: bias shape %v does not match the last axis of %v", b.Shape(), xs)
	}
	d := xs.Dims()
	op := &customOp{
		id:    fmt.Sprintf("BiasAdd(%d)", d),
		arity: 2,
		typ:   fnType(d, 1, d),
		do: func(out *tensor.Dense, in []*tensor.Dense) error {
			return dispatch(out, in,
				func(o []float32, in [][]float32) { biasAdd(o, in[0], in[1]) },
				func(o []float64, in [][]float64) { biasAdd(o, in[0], in[1]) })
		},
		diff: func(in gorgonia.Nodes, out, grad *gorgonia.Node) (gorgonia.Nodes, error) {
			db, err := SumLeading(grad)
			if err != nil {
				return nil, err
			}
			return gorgonia.Nodes{grad, db}, nil
		},
	}
	return apply(op, x, b)
}

func biasAdd[T float](out, x, b []T) {
	c := len(b)
	parallelElems(len(x), c, func(lo, hi int) {
		for i := lo; i < hi; i += c {
			xr, or := x[i:i+len(b)], out[i:i+len(b)]
			for j, v := range b {
				or[j] = xr[j] + v
			}
		}
	})
}

// SumLeading sums x over every axis but the last: (…, n) → (n).
func SumLeading(x *gorgonia.Node) (*gorgonia.Node, error) {
	xs := x.Shape()
	if xs.Dims() < 1 {
		return nil, errors.Errorf("ops: SumLeading needs at least one axis, got %v", xs)
	}
	d := xs.Dims()
	op := &customOp{
		id:    fmt.Sprintf("SumLeading(%d)", d),
		arity: 1,
		typ:   fnType(d, 1),
		shape: func(in []tensor.Shape) (tensor.Shape, error) { return tensor.Shape{in[0][len(in[0])-1]}, nil },
		do: func(out *tensor.Dense, in []*tensor.Dense) error {
			return dispatch(out, in,
				func(o []float32, in [][]float32) { sumLeading(o, in[0]) },
				func(o []float64, in [][]float64) { sumLeading(o, in[0]) })
		},
		diff: func(in gorgonia.Nodes, out, grad *gorgonia.Node) (gorgonia.Nodes, error) {
			dx, err := BroadcastLeading(grad, in[0].Shape())
			return gorgonia.Nodes{dx}, err
		},
	}
	return apply(op, x)
}

// sumLeading sums the rows of x. Many rows (a convolution's or a
// recurrent pass's bias gradient) are summed as a product with a row of
// ones, at the BLAS's speed (each column summed in row order by blocks of
// the BLAS's depth); few, column by column in row order by one goroutine
// each (see parallel.go). Either way the result depends on the shape only.
func sumLeading[T float](out, x []T) {
	c := len(out)
	rows := len(x) / max(c, 1)
	if rows >= sumByGemmRows && c >= 16 {
		gemm(false, false, 1, c, rows, 1, onesOf[T](rows), rows, x, c, 0, out, c)
		return
	}
	parallelCols(rows, c, func(c0, c1 int) {
		o := out[c0:c1]
		clear(o)
		for i := 0; i < len(x); i += c {
			for j, v := range x[i+c0 : i+c0+len(o)] {
				o[j] += v
			}
		}
	})
}

// sumByGemmRows is the least number of rows sumLeading sums by a product.
const sumByGemmRows = 512

// ones32 and ones64 are read-only rows of ones, grown on demand.
var (
	onesMu  sync.Mutex
	ones32  atomic.Pointer[[]float32]
	ones64s atomic.Pointer[[]float64]
)

// onesOf returns n ones (shared: never write to them).
func onesOf[T float](n int) []T {
	var zero T
	if _, ok := any(zero).(float32); ok {
		return any(growOnes(&ones32, n)).([]T)
	}
	return any(growOnes(&ones64s, n)).([]T)
}

func growOnes[T float](p *atomic.Pointer[[]T], n int) []T {
	if s := p.Load(); s != nil && len(*s) >= n {
		return (*s)[:n]
	}
	onesMu.Lock()
	defer onesMu.Unlock()
	if s := p.Load(); s != nil && len(*s) >= n {
		return (*s)[:n]
	}
	s := make([]T, max(n, 1024))
	for i := range s {
		s[i] = 1
	}
	p.Store(&s)
	return s[:n]
}

// BroadcastLeading repeats the vector v (n) into shape (…, n).
func BroadcastLeading(v *gorgonia.Node, shape tensor.Shape) (*gorgonia.Node, error) {
	if v.Dims() != 1 || shape[len(shape)-1] != v.Shape()[0] {
		return nil, errors.Errorf("ops: BroadcastLeading: cannot repeat %v into %v", v.Shape(), shape)
	}
	shape = shape.Clone()
	op := &customOp{
		id:    fmt.Sprintf("BroadcastLeading%v", shape),
		arity: 1,
		typ:   fnType(1, len(shape)),
		shape: func([]tensor.Shape) (tensor.Shape, error) { return shape.Clone(), nil },
		do: func(out *tensor.Dense, in []*tensor.Dense) error {
			return dispatch(out, in,
				func(o []float32, in [][]float32) { repeatRows(o, in[0]) },
				func(o []float64, in [][]float64) { repeatRows(o, in[0]) })
		},
		diff: func(in gorgonia.Nodes, out, grad *gorgonia.Node) (gorgonia.Nodes, error) {
			dv, err := SumLeading(grad)
			return gorgonia.Nodes{dv}, err
		},
	}
	return apply(op, v)
}

func repeatRows[T float](out, v []T) {
	parallelElems(len(out), len(v), func(lo, hi int) {
		for i := lo; i < hi; i += len(v) {
			copy(out[i:i+len(v)], v)
		}
	})
}
