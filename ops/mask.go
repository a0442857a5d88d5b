package ops

import (
	"fmt"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// MaskedLossWeights turns per-sample weights sw (batch) and a time-step
// mask (batch, steps) of 1s and 0s into one weight per (sample, step),
// flattened to (batch·steps):
//
//	w[b·steps+t] = sw[b]·mask[b, t] / max(Σ mask, 1)
//
// so that Σ w·loss is Keras' masked "sum_over_batch_size" reduction: the
// weighted loss summed over the real steps, divided by their number.
// Neither input gets a gradient.
func MaskedLossWeights(sw, mask *gorgonia.Node) (*gorgonia.Node, error) {
	ms := mask.Shape()
	if ms.Dims() != 2 || sw.Dims() != 1 || sw.Shape()[0] != ms[0] {
		return nil, errors.Errorf("ops: MaskedLossWeights needs weights (batch) and a mask (batch, steps), got %v and %v", sw.Shape(), ms)
	}
	n := ms[0] * ms[1]
	op := &customOp{
		id:    fmt.Sprintf("MaskedLossWeights%v", ms),
		arity: 2,
		typ:   fnType(1, 2, 1),
		shape: func([]tensor.Shape) (tensor.Shape, error) { return tensor.Shape{n}, nil },
		do: func(out *tensor.Dense, in []*tensor.Dense) error {
			return dispatch(out, in,
				func(o []float32, in [][]float32) { maskWeights(o, in[0], in[1]) },
				func(o []float64, in [][]float64) { maskWeights(o, in[0], in[1]) })
		},
	}
	return apply(op, sw, mask)
}

func maskWeights[T float](out, sw, mask []T) {
	var valid float64
	for _, m := range mask {
		valid += float64(m)
	}
	valid = max(valid, 1)
	steps := len(mask) / len(sw)
	for b, w := range sw {
		for t := 0; t < steps; t++ {
			i := b*steps + t
			out[i] = T(float64(w) * float64(mask[i]) / valid)
		}
	}
}

// NotEqualMask is 1 where x differs from value and 0 where it equals it,
// with x's shape: Embedding's mask for MaskZero (value 0). No gradient.
func NotEqualMask(x *gorgonia.Node, value float64) (*gorgonia.Node, error) {
	op := &customOp{
		id:    fmt.Sprintf("NotEqualMask(%v)", value),
		arity: 1,
		do: func(out *tensor.Dense, in []*tensor.Dense) error {
			return dispatch(out, in,
				func(o []float32, in [][]float32) { notEqual(o, in[0], value) },
				func(o []float64, in [][]float64) { notEqual(o, in[0], value) })
		},
	}
	return apply(op, x)
}

func notEqual[T float](out, x []T, v float64) {
	for i, e := range x {
		if float64(e) != v {
			out[i] = 1
		} else {
			out[i] = 0
		}
	}
}

// StepMask is the mask Keras' Masking layer computes: for x of shape
// (batch, steps, features), 1 where any feature of a step differs from
// value, else 0; shape (batch, steps). No gradient.
func StepMask(x *gorgonia.Node, value float64) (*gorgonia.Node, error) {
	s := x.Shape()
	if s.Dims() != 3 {
		return nil, errors.Errorf("ops: StepMask needs (batch, steps, features), got %v", s)
	}
	op := &customOp{
		id:    fmt.Sprintf("StepMask(%v)%v", value, s),
		arity: 1,
		typ:   fnType(3, 2),
		shape: func([]tensor.Shape) (tensor.Shape, error) { return tensor.Shape{s[0], s[1]}, nil },
		do: func(out *tensor.Dense, in []*tensor.Dense) error {
			return dispatch(out, in,
				func(o []float32, in [][]float32) { anyNotEqual(o, in[0], s[2], value) },
				func(o []float64, in [][]float64) { anyNotEqual(o, in[0], s[2], value) })
		},
	}
	return apply(op, x)
}

func anyNotEqual[T float](out, x []T, f int, v float64) {
	for i := range out {
		out[i] = 0
		for _, e := range x[i*f : (i+1)*f] {
			if float64(e) != v {
				out[i] = 1
				break
			}
		}
	}
}

// ApplyStepMask multiplies every feature of each step of x (batch, steps,
// …) by the step's mask value (batch, steps): padded steps become zeros.
// The gradient flows to x (times the mask), not to the mask.
func ApplyStepMask(x, mask *gorgonia.Node) (*gorgonia.Node, error) {
	s, ms := x.Shape(), mask.Shape()
	if s.Dims() < 2 || ms.Dims() != 2 || s[0] != ms[0] || s[1] != ms[1] {
		return nil, errors.Errorf("ops: ApplyStepMask needs x (batch, steps, …) and a mask (batch, steps), got %v and %v", s, ms)
	}
	op := &customOp{
		id:     fmt.Sprintf("ApplyStepMask%v", s),
		arity:  2,
		typ:    fnType(s.Dims(), 2, s.Dims()),
		noDiff: []int{1},
		do: func(out *tensor.Dense, in []*tensor.Dense) error {
			return dispatch(out, in,
				func(o []float32, in [][]float32) { stepMask(o, in[0], in[1]) },
				func(o []float64, in [][]float64) { stepMask(o, in[0], in[1]) })
		},
		diff: func(in gorgonia.Nodes, _, grad *gorgonia.Node) (gorgonia.Nodes, error) {
			dx, err := ApplyStepMask(grad, in[1])
			return gorgonia.Nodes{dx, nil}, err
		},
	}
	return apply(op, x, mask)
}

func stepMask[T float](out, x, mask []T) {
	f := len(x) / len(mask)
	for i, m := range mask {
		for j := i * f; j < (i+1)*f; j++ {
			out[j] = x[j] * m
		}
	}
}
