package ops

import (
	"fmt"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Elementwise building blocks of Keras' merge layers (Maximum, Minimum,
// and the mask handling of Multiply, Maximum and Minimum) and of
// broadcasting between inputs of different shapes.

// sameShapes checks that a and b have the same shape and dtype.
func sameShapes(name string, a, b *gorgonia.Node) error {
	if !a.Shape().Eq(b.Shape()) {
		return errors.Errorf("ops: %s: shapes %v and %v differ", name, a.Shape(), b.Shape())
	}
	if a.Dtype() != b.Dtype() {
		return errors.Errorf("ops: %s: dtypes %v and %v differ", name, a.Dtype(), b.Dtype())
	}
	return nil
}

// Maximum is the elementwise maximum of a and b (same shape). The
// gradient goes to a where a ≥ b and to b elsewhere, as TensorFlow's.
func Maximum(a, b *gorgonia.Node) (*gorgonia.Node, error) { return extremum(a, b, true) }

// Minimum is the elementwise minimum of a and b (same shape). The
// gradient goes to a where a ≤ b and to b elsewhere.
func Minimum(a, b *gorgonia.Node) (*gorgonia.Node, error) { return extremum(a, b, false) }

func extremum(a, b *gorgonia.Node, isMax bool) (*gorgonia.Node, error) {
	name := map[bool]string{true: "Maximum", false: "Minimum"}[isMax]
	if err := sameShapes(name, a, b); err != nil {
		return nil, err
	}
	d := a.Dims()
	op := &customOp{
		id:    fmt.Sprintf("%s(%d)", name, d),
		arity: 2,
		typ:   fnType(d, d, d),
		do: func(out *tensor.Dense, in []*tensor.Dense) error {
			return dispatch(out, in,
				func(o []float32, x [][]float32) { pickExtremum(o, x[0], x[1], isMax) },
				func(o []float64, x [][]float64) { pickExtremum(o, x[0], x[1], isMax) })
		},
		diff: func(in gorgonia.Nodes, _, g *gorgonia.Node) (gorgonia.Nodes, error) {
			ga, err := extremumGrad(in[0], in[1], g, isMax, true)
			if err != nil {
				return nil, err
			}
			gb, err := extremumGrad(in[0], in[1], g, isMax, false)
			return gorgonia.Nodes{ga, gb}, err
		},
	}
	return apply(op, a, b)
}

// firstWins reports whether a is the one Maximum (or Minimum) picks.
func firstWins[T float](a, b T, isMax bool) bool {
	if isMax {
		return a >= b
	}
	return a <= b
}

func pickExtremum[T float](out, a, b []T, isMax bool) {
	for i := range out {
		if firstWins(a[i], b[i], isMax) {
			out[i] = a[i]
		} else {
			out[i] = b[i]
		}
	}
}

// extremumGrad routes g to a (toA) or to b where that input was picked.
func extremumGrad(a, b, g *gorgonia.Node, isMax, toA bool) (*gorgonia.Node, error) {
	d := a.Dims()
	op := &customOp{
		id:    fmt.Sprintf("ExtremumGrad(max=%v,a=%v,%d)", isMax, toA, d),
		arity: 3,
		typ:   fnType(d, d, d, d),
		do: func(out *tensor.Dense, in []*tensor.Dense) error {
			return dispatch(out, in,
				func(o []float32, x [][]float32) { routeExtremum(o, x[0], x[1], x[2], isMax, toA) },
				func(o []float64, x [][]float64) { routeExtremum(o, x[0], x[1], x[2], isMax, toA) })
		},
	}
	return apply(op, a, b, g)
}

func routeExtremum[T float](out, a, b, g []T, isMax, toA bool) {
	for i := range out {
		if firstWins(a[i], b[i], isMax) == toA {
			out[i] = g[i]
		} else {
			out[i] = 0
		}
	}
}

// checkStepMask checks a time-step mask (batch, steps) against x (batch,
// steps, …) and returns how many elements of x each mask entry covers.
func checkStepMask(name string, mask, x *gorgonia.Node) (int, error) {
	ms, xs := mask.Shape(), x.Shape()
	if ms.Dims() != 2 || xs.Dims() < 2 || ms[0] != xs[0] || ms[1] != xs[1] {
		return 0, errors.Errorf("ops: %s needs a mask (batch, steps) for x (batch, steps, …), got %v and %v", name, ms, xs)
	}
	if mask.Dtype() != x.Dtype() {
		return 0, errors.Errorf("ops: %s: mask is %v, x is %v", name, mask.Dtype(), x.Dtype())
	}
	return xs.TotalSize() / max(ms.TotalSize(), 1), nil
}

// MaskSelect is Keras' where(mask, a, b) for a time-step mask: a where the
// step is real (mask ≠ 0), b where it is padding. mask is (batch, steps),
// a and b (batch, steps, …) of the same shape. The gradient flows to a on
// real steps and to b on padded ones; the mask gets none.
func MaskSelect(mask, a, b *gorgonia.Node) (*gorgonia.Node, error) {
	if err := sameShapes("MaskSelect", a, b); err != nil {
		return nil, err
	}
	per, err := checkStepMask("MaskSelect", mask, a)
	if err != nil {
		return nil, err
	}
	d := a.Dims()
	op := &customOp{
		id:     fmt.Sprintf("MaskSelect(%d)", d),
		arity:  3,
		typ:    fnType(2, d, d, d),
		shape:  func(in []tensor.Shape) (tensor.Shape, error) { return in[1].Clone(), nil },
		noDiff: []int{0},
		do: func(out *tensor.Dense, in []*tensor.Dense) error {
			return dispatch(out, in,
				func(o []float32, x [][]float32) { maskSelect(o, x[0], x[1], x[2], per) },
				func(o []float64, x [][]float64) { maskSelect(o, x[0], x[1], x[2], per) })
		},
		diff: func(in gorgonia.Nodes, _, g *gorgonia.Node) (gorgonia.Nodes, error) {
			ga, err := maskKeep(in[0], g, false)
			if err != nil {
				return nil, err
			}
			gb, err := maskKeep(in[0], g, true)
			return gorgonia.Nodes{nil, ga, gb}, err
		},
	}
	return apply(op, mask, a, b)
}

func maskSelect[T float](out, mask, a, b []T, per int) {
	for i, m := range mask {
		src := b
		if m != 0 {
			src = a
		}
		copy(out[i*per:(i+1)*per], src[i*per:(i+1)*per])
	}
}

// MaskFill is x on real steps (mask ≠ 0) and value on padded ones; mask
// is (batch, steps), x (batch, steps, …). The gradient flows to x on real
// steps.
func MaskFill(mask, x *gorgonia.Node, value float64) (*gorgonia.Node, error) {
	per, err := checkStepMask("MaskFill", mask, x)
	if err != nil {
		return nil, err
	}
	d := x.Dims()
	op := &customOp{
		id:     fmt.Sprintf("MaskFill(%v,%d)", value, d),
		arity:  2,
		typ:    fnType(2, d, d),
		shape:  func(in []tensor.Shape) (tensor.Shape, error) { return in[1].Clone(), nil },
		noDiff: []int{0},
		do: func(out *tensor.Dense, in []*tensor.Dense) error {
			return dispatch(out, in,
				func(o []float32, x [][]float32) { maskFill(o, x[0], x[1], per, float32(value), false) },
				func(o []float64, x [][]float64) { maskFill(o, x[0], x[1], per, value, false) })
		},
		diff: func(in gorgonia.Nodes, _, g *gorgonia.Node) (gorgonia.Nodes, error) {
			gx, err := maskKeep(in[0], g, false)
			return gorgonia.Nodes{nil, gx}, err
		},
	}
	return apply(op, mask, x)
}

// maskKeep is x on real steps and 0 on padded ones, or the reverse with
// invert. No gradient: it only appears in gradients.
func maskKeep(mask, x *gorgonia.Node, invert bool) (*gorgonia.Node, error) {
	per, err := checkStepMask("maskKeep", mask, x)
	if err != nil {
		return nil, err
	}
	d := x.Dims()
	op := &customOp{
		id:    fmt.Sprintf("MaskKeep(invert=%v,%d)", invert, d),
		arity: 2,
		typ:   fnType(2, d, d),
		shape: func(in []tensor.Shape) (tensor.Shape, error) { return in[1].Clone(), nil },
		do: func(out *tensor.Dense, in []*tensor.Dense) error {
			return dispatch(out, in,
				func(o []float32, x [][]float32) { maskFill(o, x[0], x[1], per, 0, invert) },
				func(o []float64, x [][]float64) { maskFill(o, x[0], x[1], per, 0, invert) })
		},
	}
	return apply(op, mask, x)
}

// maskFill sets out to x where the mask says real (padding with invert)
// and to v elsewhere.
func maskFill[T float](out, mask, x []T, per int, v T, invert bool) {
	for i, m := range mask {
		o := out[i*per : (i+1)*per]
		if (m != 0) != invert {
			copy(o, x[i*per:(i+1)*per])
			continue
		}
		for j := range o {
			o[j] = v
		}
	}
}

// MaskAny combines time-step masks of the same shape: 1 where any of them
// (or, with all, every one of them) is not 0. No gradient.
func MaskAny(all bool, masks ...*gorgonia.Node) (*gorgonia.Node, error) {
	if len(masks) == 0 {
		return nil, errors.New("ops: MaskAny needs at least one mask")
	}
	for _, m := range masks[1:] {
		if err := sameShapes("MaskAny", masks[0], m); err != nil {
			return nil, err
		}
	}
	if len(masks) == 1 {
		return masks[0], nil
	}
	d := masks[0].Dims()
	dims := make([]int, len(masks)+1)
	for i := range dims {
		dims[i] = d
	}
	op := &customOp{
		id:    fmt.Sprintf("MaskAny(all=%v,%d,%d)", all, len(masks), d),
		arity: len(masks),
		typ:   fnType(dims...),
		do: func(out *tensor.Dense, in []*tensor.Dense) error {
			return dispatch(out, in,
				func(o []float32, x [][]float32) { maskAny(o, x, all) },
				func(o []float64, x [][]float64) { maskAny(o, x, all) })
		},
	}
	return apply(op, masks...)
}

func maskAny[T float](out []T, masks [][]T, all bool) {
	for i := range out {
		on := all
		for _, m := range masks {
			if all {
				on = on && m[i] != 0
			} else {
				on = on || m[i] != 0
			}
		}
		out[i] = 0
		if on {
			out[i] = 1
		}
	}
}

// BroadcastTo repeats x along its axes of size 1 to the given shape, of
// the same rank (NumPy's broadcast_to once the ranks agree). The gradient
// sums over the repeated axes.
func BroadcastTo(x *gorgonia.Node, shape tensor.Shape) (*gorgonia.Node, error) {
	xs := x.Shape()
	if err := broadcastable(xs, shape); err != nil {
		return nil, errors.WithMessage(err, "ops: BroadcastTo")
	}
	if xs.Eq(shape) {
		return x, nil
	}
	shape = shape.Clone()
	d := len(shape)
	op := &customOp{
		id:    fmt.Sprintf("BroadcastTo%v", shape),
		arity: 1,
		typ:   fnType(d, d),
		shape: func([]tensor.Shape) (tensor.Shape, error) { return shape.Clone(), nil },
		do: func(out *tensor.Dense, in []*tensor.Dense) error {
			src := in[0].Shape()
			return dispatch(out, in,
				func(o []float32, x [][]float32) { broadcastInto(o, x[0], src, shape) },
				func(o []float64, x [][]float64) { broadcastInto(o, x[0], src, shape) })
		},
		diff: func(in gorgonia.Nodes, _, g *gorgonia.Node) (gorgonia.Nodes, error) {
			gx, err := ReduceTo(g, in[0].Shape())
			return gorgonia.Nodes{gx}, err
		},
	}
	return apply(op, x)
}

// ReduceTo sums x over the axes where shape has size 1 and x does not: the
// gradient of BroadcastTo. shape has x's rank.
func ReduceTo(x *gorgonia.Node, shape tensor.Shape) (*gorgonia.Node, error) {
	xs := x.Shape()
	if err := broadcastable(shape, xs); err != nil {
		return nil, errors.WithMessage(err, "ops: ReduceTo")
	}
	if xs.Eq(shape) {
		return x, nil
	}
	shape = shape.Clone()
	d := len(shape)
	op := &customOp{
		id:    fmt.Sprintf("ReduceTo%v", shape),
		arity: 1,
		typ:   fnType(d, d),
		shape: func([]tensor.Shape) (tensor.Shape, error) { return shape.Clone(), nil },
		do: func(out *tensor.Dense, in []*tensor.Dense) error {
			src := in[0].Shape()
			return dispatch(out, in,
				func(o []float32, x [][]float32) { reduceInto(o, x[0], shape, src) },
				func(o []float64, x [][]float64) { reduceInto(o, x[0], shape, src) })
		},
		diff: func(in gorgonia.Nodes, _, g *gorgonia.Node) (gorgonia.Nodes, error) {
			gx, err := BroadcastTo(g, in[0].Shape())
			return gorgonia.Nodes{gx}, err
		},
	}
	return apply(op, x)
}

// broadcastable checks that small (each axis 1 or equal) fits big.
func broadcastable(small, big tensor.Shape) error {
	if len(small) != len(big) {
		return errors.Errorf("shapes %v and %v have different ranks", small, big)
	}
	for i := range small {
		if small[i] != big[i] && small[i] != 1 {
			return errors.Errorf("shape %v does not broadcast to %v (axis %d)", small, big, i)
		}
	}
	return nil
}

// broadcastIndex calls f(i, j) for every element i of shape big and the
// element j of shape small (same rank, axes 1 or equal) it repeats.
func broadcastIndex(small, big tensor.Shape, f func(i, j int)) {
	d := len(big)
	strides := make([]int, d)
	s := 1
	for k := d - 1; k >= 0; k-- {
		if small[k] != 1 {
			strides[k] = s
		}
		s *= small[k]
	}
	idx := make([]int, d)
	j := 0
	n := big.TotalSize()
	for i := 0; i < n; i++ {
		f(i, j)
		for k := d - 1; k >= 0; k-- {
			idx[k]++
			j += strides[k]
			if idx[k] < big[k] {
				break
			}
			j -= strides[k] * big[k]
			idx[k] = 0
		}
	}
}

func broadcastInto[T float](out, x []T, src, dst tensor.Shape) {
	broadcastIndex(src, dst, func(i, j int) { out[i] = x[j] })
}

func reduceInto[T float](out, x []T, small, big tensor.Shape) {
	clear(out)
	broadcastIndex(small, big, func(i, j int) { out[j] += x[i] })
}
