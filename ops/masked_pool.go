package ops

import (
	"fmt"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// MaskedMean1D is the mean of x (batch, steps, c) over its real steps, as
// Keras' GlobalAveragePooling1D with a mask (batch, steps) of 1s and 0s:
// Σ_t mask·x / Σ_t mask, (batch, c). A sample without real steps gives
// zeros (Keras divides 0 by 0). The gradient flows to x.
func MaskedMean1D(x, mask *gorgonia.Node) (*gorgonia.Node, error) {
	xs, ms := x.Shape(), mask.Shape()
	if xs.Dims() != 3 || ms.Dims() != 2 || ms[0] != xs[0] || ms[1] != xs[1] {
		return nil, errors.Errorf("ops: MaskedMean1D needs x (batch, steps, c) and a mask (batch, steps), got %v and %v", xs, ms)
	}
	if x.Dtype() != mask.Dtype() {
		return nil, errors.Errorf("ops: MaskedMean1D: x is %v, the mask %v", x.Dtype(), mask.Dtype())
	}
	B, T, C := xs[0], xs[1], xs[2]
	op := &customOp{
		id:     fmt.Sprintf("MaskedMean1D%v", xs),
		arity:  2,
		typ:    fnType(3, 2, 2),
		shape:  func([]tensor.Shape) (tensor.Shape, error) { return tensor.Shape{B, C}, nil },
		noDiff: []int{1},
		do: func(out *tensor.Dense, in []*tensor.Dense) error {
			return dispatch(out, in,
				func(y []float32, v [][]float32) { maskedMean(y, v[0], v[1], B, T, C, false) },
				func(y []float64, v [][]float64) { maskedMean(y, v[0], v[1], B, T, C, false) })
		},
	}
	op.diff = func(in gorgonia.Nodes, _, g *gorgonia.Node) (gorgonia.Nodes, error) {
		gop := &customOp{
			id:    fmt.Sprintf("MaskedMean1DGrad%v", xs),
			arity: 2,
			typ:   fnType(2, 2, 3),
			shape: func([]tensor.Shape) (tensor.Shape, error) { return xs.Clone(), nil },
			do: func(out *tensor.Dense, in []*tensor.Dense) error {
				return dispatch(out, in,
					func(y []float32, v [][]float32) { maskedMean(v[0], y, v[1], B, T, C, true) },
					func(y []float64, v [][]float64) { maskedMean(v[0], y, v[1], B, T, C, true) })
			},
		}
		gx, err := apply(gop, g, in[1])
		return gorgonia.Nodes{gx, nil}, err
	}
	return apply(op, x, mask)
}

// maskedMean sets y (B, C) to the masked mean of x (B, T, C), or, with
// back, x to y's gradient spread over the real steps.
func maskedMean[T float](y, x, mask []T, B, T_, C int, back bool) {
	for b := 0; b < B; b++ {
		var n T
		for t := 0; t < T_; t++ {
			if mask[b*T_+t] != 0 {
				n++
			}
		}
		yr := y[b*C : (b+1)*C]
		if !back {
			clear(yr)
		}
		for t := 0; t < T_; t++ {
			xr := x[(b*T_+t)*C : (b*T_+t+1)*C]
			if mask[b*T_+t] == 0 {
				if back {
					clear(xr)
				}
				continue
			}
			for c := range yr {
				if back {
					xr[c] = yr[c] / n
				} else {
					yr[c] += xr[c]
				}
			}
		}
		if !back && n > 0 {
			for c := range yr {
				yr[c] /= n
			}
		}
	}
}
