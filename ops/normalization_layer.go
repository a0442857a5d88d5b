package ops

import (
	"fmt"
	"math"
	"strconv"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// LayerNorm normalises each sample over the last axis of x (Keras'
// LayerNormalization with axis=-1, whose default epsilon is 1e-3):
// (x−μ)/sqrt(σ²+epsilon)·gamma + beta, μ and σ² being the mean and biased
// variance of each row x[…, :]. gamma and beta have shape (C) for x of
// shape (…, C); nil means no scale or no offset. It is one fused op with
// analytic gradients with respect to x, gamma and beta.
func LayerNorm(x, gamma, beta *gorgonia.Node, epsilon float64) (*gorgonia.Node, error) {
	if x.Dims() < 1 || x.Shape().TotalSize() == 0 {
		return nil, errors.Errorf("ops: LayerNorm needs a non-empty input with at least one axis, got shape %v", x.Shape())
	}
	if !(epsilon >= 0) || math.IsInf(epsilon, 1) {
		return nil, errors.Errorf("ops: LayerNorm: epsilon must be finite and >= 0, got %v", epsilon)
	}
	c := lastAxis(x.Shape())
	p := layerNormParams{d: x.Dims(), eps: epsilon, gamma: gamma != nil, beta: beta != nil}
	in := gorgonia.Nodes{x}
	for _, v := range []struct {
		name string
		n    *gorgonia.Node
	}{{"gamma", gamma}, {"beta", beta}} {
		if v.n == nil {
			continue
		}
		if v.n.Dims() != 1 || v.n.Shape()[0] != c {
			return nil, errors.Errorf("ops: LayerNorm: %s has shape %v, want (%d) to match input shape %v", v.name, v.n.Shape(), c, x.Shape())
		}
		in = append(in, v.n)
	}
	return apply(layerNormOp(p), in...)
}

// layerNormParams identify a LayerNorm op; its inputs are x, [gamma], [beta].
type layerNormParams struct {
	d           int
	eps         float64
	gamma, beta bool
}

func (p layerNormParams) String() string {
	return fmt.Sprintf("(%d,eps=%s,scale=%v,center=%v)", p.d, strconv.FormatFloat(p.eps, 'g', -1, 64), p.gamma, p.beta)
}

func layerNormOp(p layerNormParams) *customOp {
	dims := []int{p.d}
	if p.gamma {
		dims = append(dims, 1)
	}
	if p.beta {
		dims = append(dims, 1)
	}
	// The position of beta among the inputs.
	bi := len(dims) - 1
	return &customOp{
		id:    "LayerNorm" + p.String(),
		arity: len(dims),
		typ:   fnType(append(dims, p.d)...),
		do: func(out *tensor.Dense, in []*tensor.Dense) error {
			c := lastAxis(in[0].Shape())
			return dispatch(out, in,
				func(o []float32, in [][]float32) {
					layerNormRows(o, in[0], layerNormGamma(p, in), layerNormBeta(p, in, bi), c, p.eps)
				},
				func(o []float64, in [][]float64) {
					layerNormRows(o, in[0], layerNormGamma(p, in), layerNormBeta(p, in, bi), c, p.eps)
				})
		},
		diff: func(in gorgonia.Nodes, out, grad *gorgonia.Node) (gorgonia.Nodes, error) {
			x := in[0]
			xArgs := gorgonia.Nodes{x}
			if p.gamma {
				xArgs = append(xArgs, in[1])
			}
			dx, err := apply(layerNormGradXOp(p), append(xArgs, grad)...)
			if err != nil {
				return nil, err
			}
			grads := gorgonia.Nodes{dx}
			if p.gamma {
				dg, err := apply(layerNormGradGammaOp(p), x, grad)
				if err != nil {
					return nil, err
				}
				grads = append(grads, dg)
			}
			if p.beta {
				db, err := SumLeading(grad)
				if err != nil {
					return nil, err
				}
				grads = append(grads, db)
			}
			return grads, nil
		},
	}
}

func layerNormGamma[T any](p layerNormParams, in []T) (g T) {
	if p.gamma {
		g = in[1]
	}
	return g
}

func layerNormBeta[T any](p layerNormParams, in []T, i int) (b T) {
	if p.beta {
		b = in[i]
	}
	return b
}

// layerNormGradXOp maps (x, [γ], g) to dx.
func layerNormGradXOp(p layerNormParams) *customOp {
	dims := []int{p.d}
	if p.gamma {
		dims = append(dims, 1)
	}
	dims = append(dims, p.d)
	return &customOp{
		id:    "LayerNorm'x" + p.String(),
		arity: len(dims),
		typ:   fnType(append(dims, p.d)...),
		do: func(out *tensor.Dense, in []*tensor.Dense) error {
			c := lastAxis(in[0].Shape())
			return dispatch(out, in,
				func(o []float32, in [][]float32) {
					layerNormGradX(o, in[0], layerNormGamma(p, in), in[len(in)-1], c, p.eps)
				},
				func(o []float64, in [][]float64) {
					layerNormGradX(o, in[0], layerNormGamma(p, in), in[len(in)-1], c, p.eps)
				})
		},
	}
}

// layerNormGradGammaOp maps (x, g) to Σ_rows g·x̂, of shape (C).
func layerNormGradGammaOp(p layerNormParams) *customOp {
	return &customOp{
		id:    "LayerNorm'gamma" + p.String(),
		arity: 2,
		typ:   fnType(p.d, p.d, 1),
		shape: func(in []tensor.Shape) (tensor.Shape, error) { return tensor.Shape{lastAxis(in[0])}, nil },
		do: func(out *tensor.Dense, in []*tensor.Dense) error {
			return dispatch(out, in,
				func(o []float32, in [][]float32) { layerNormGradGamma(o, in[0], in[1], p.eps) },
				func(o []float64, in [][]float64) { layerNormGradGamma(o, in[0], in[1], p.eps) })
		},
	}
}
