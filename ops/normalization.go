package ops

import (
	"fmt"
	"math"
	"strconv"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Batch normalisation, channel-last. Keras' BatchNormalization(axis=-1) in
// a training step is
//
//	mean, variance, err := BatchMoments(x)
//	y, err := Normalize(x, mean, variance, gamma, beta, epsilon)
//
// and in inference Normalize alone, given the moving averages. Gradients
// flow through the batch statistics, as in Keras and PyTorch. Statistics
// are accumulated in float64 for float32 data too.

// BatchMoments returns the per-channel mean and biased variance of x over
// every axis but the last: for x of shape (…, C) both have shape (C).
// The variance is the biased one (divided by N, not N−1), as Keras uses
// for normalising and for its moving variance. The gradients are exact:
// d mean/dx = 1/N, d variance/dx = 2(x−mean)/N.
func BatchMoments(x *gorgonia.Node) (mean, variance *gorgonia.Node, err error) {
	if x.Dims() < 1 || x.Shape().TotalSize() == 0 {
		return nil, nil, errors.Errorf("ops: BatchMoments needs a non-empty input with at least one axis, got shape %v", x.Shape())
	}
	if mean, err = apply(batchMomentOp(x.Dims(), false), x); err != nil {
		return nil, nil, err
	}
	if variance, err = apply(batchMomentOp(x.Dims(), true), x); err != nil {
		return nil, nil, err
	}
	return mean, variance, nil
}

// batchMomentOp reduces (…, C) to (C): the mean, or the biased variance.
func batchMomentOp(d int, variance bool) *customOp {
	name := "BatchMean"
	if variance {
		name = "BatchVariance"
	}
	return &customOp{
		id:    fmt.Sprintf("%s(%d)", name, d),
		arity: 1,
		typ:   fnType(d, 1),
		shape: func(in []tensor.Shape) (tensor.Shape, error) { return tensor.Shape{lastAxis(in[0])}, nil },
		do: func(out *tensor.Dense, in []*tensor.Dense) error {
			return dispatch(out, in,
				func(o []float32, in [][]float32) { channelMoment(o, in[0], variance) },
				func(o []float64, in [][]float64) { channelMoment(o, in[0], variance) })
		},
		diff: func(in gorgonia.Nodes, out, grad *gorgonia.Node) (gorgonia.Nodes, error) {
			dx, err := apply(batchMomentGradOp(in[0].Shape(), variance), in[0], grad)
			return gorgonia.Nodes{dx}, err
		},
	}
}

// batchMomentGradOp maps (x, g) with g of shape (C) to dx: g/N for the mean,
// 2(x−mean)g/N for the variance.
func batchMomentGradOp(xs tensor.Shape, variance bool) *customOp {
	xs = xs.Clone()
	name := "BatchMean'"
	if variance {
		name = "BatchVariance'"
	}
	return &customOp{
		id:    fmt.Sprintf("%s%v", name, xs),
		arity: 2,
		typ:   fnType(len(xs), 1, len(xs)),
		do: func(out *tensor.Dense, in []*tensor.Dense) error {
			return dispatch(out, in,
				func(o []float32, in [][]float32) { channelMomentGrad(o, in[0], in[1], variance) },
				func(o []float64, in [][]float64) { channelMomentGrad(o, in[0], in[1], variance) })
		},
	}
}

// Normalize returns (x−mean)/sqrt(variance+epsilon)·gamma + beta, mean,
// variance, gamma and beta being vectors along the last axis of x
// (shape (C) for x of shape (…, C)). gamma nil means no scale (Keras'
// scale=False), beta nil no offset (center=False). It is one fused op,
// differentiable with respect to all its inputs.
func Normalize(x, mean, variance, gamma, beta *gorgonia.Node, epsilon float64) (*gorgonia.Node, error) {
	if x.Dims() < 1 || x.Shape().TotalSize() == 0 {
		return nil, errors.Errorf("ops: Normalize needs a non-empty input with at least one axis, got shape %v", x.Shape())
	}
	if !(epsilon >= 0) || math.IsInf(epsilon, 1) {
		return nil, errors.Errorf("ops: Normalize: epsilon must be finite and >= 0, got %v", epsilon)
	}
	c := lastAxis(x.Shape())
	p := normParams{d: x.Dims(), eps: epsilon, gamma: gamma != nil, beta: beta != nil,
		batch: batchStatsOf(x, mean, variance)}
	in := gorgonia.Nodes{x, mean, variance}
	names := []string{"mean", "variance"}
	if gamma != nil {
		in, names = append(in, gamma), append(names, "gamma")
	}
	if beta != nil {
		in, names = append(in, beta), append(names, "beta")
	}
	for i, n := range in[1:] {
		if n.Dims() != 1 || n.Shape()[0] != c {
			return nil, errors.Errorf("ops: Normalize: %s has shape %v, want (%d) to match input shape %v", names[i], n.Shape(), c, x.Shape())
		}
	}
	return apply(normalizeOp(p), in...)
}

// normParams identify a Normalize op: input rank, epsilon, and which of
// gamma and beta are inputs (x, mean, variance, [gamma], [beta]).
type normParams struct {
	d           int
	eps         float64
	gamma, beta bool
	// batch: the mean and variance are BatchMoments of x, and the op is
	// differentiated as a whole (see fused_batchnorm.go).
	batch bool
}

func (p normParams) String() string {
	return fmt.Sprintf("(%d,eps=%s,scale=%v,center=%v,batch=%v)", p.d, strconv.FormatFloat(p.eps, 'g', -1, 64), p.gamma, p.beta, p.batch)
}

func (p normParams) arity() int {
	n := 3
	if p.gamma {
		n++
	}
	if p.beta {
		n++
	}
	return n
}

// gammaOf and betaOf return the optional inputs, or nil.
func gammaOf[T any](p normParams, in []T) (g T) {
	if p.gamma {
		g = in[3]
	}
	return g
}

func betaOf[T any](p normParams, in []T) (b T) {
	if p.beta {
		b = in[p.arity()-1]
	}
	return b
}

func normalizeOp(p normParams) *customOp {
	dims := []int{p.d, 1, 1}
	for range p.arity() - 3 {
		dims = append(dims, 1)
	}
	return &customOp{
		id:    "Normalize" + p.String(),
		arity: p.arity(),
		typ:   fnType(append(dims, p.d)...),
		do: func(out *tensor.Dense, in []*tensor.Dense) error {
			return dispatch(out, in,
				func(o []float32, in [][]float32) {
					normalizeRows(o, in[0], in[1], in[2], gammaOf(p, in), betaOf(p, in), p.eps)
				},
				func(o []float64, in [][]float64) {
					normalizeRows(o, in[0], in[1], in[2], gammaOf(p, in), betaOf(p, in), p.eps)
				})
		},
		diff: func(in gorgonia.Nodes, out, grad *gorgonia.Node) (gorgonia.Nodes, error) {
			if p.batch {
				return batchNormGrads(p, in, grad)
			}
			return normalizeGrads(p, in, grad)
		},
		noDiff: batchNoDiff(p),
	}
}

// batchNoDiff lists the statistics as not differentiated when the op is
// differentiated as a whole.
func batchNoDiff(p normParams) []int {
	if p.batch {
		return []int{1, 2}
	}
	return nil
}

// normalizeGrads builds, with y = (x−m)·s + β, s = γ/sqrt(v+ε), S0 = Σg and
// S1 = Σ g(x−m) summed over all axes but the last:
//
//	dx = g·s   dm = −s·S0   dv = −½·s·S1/(v+ε)   dγ = S1/sqrt(v+ε)   dβ = S0
//
// from one pass over (x, g) for S0 and S1 and one for dx.
func normalizeGrads(p normParams, in gorgonia.Nodes, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	x, m, v, gamma := in[0], in[1], in[2], gammaOf(p, in)
	xArgs := gorgonia.Nodes{grad, v}
	if gamma != nil {
		xArgs = append(xArgs, gamma)
	}
	dx, err := apply(normGradXOp(p), xArgs...)
	if err != nil {
		return nil, err
	}
	stats, err := apply(normStatsOp(p.d), x, m, grad)
	if err != nil {
		return nil, err
	}
	grads := gorgonia.Nodes{dx}
	for _, which := range []normInput{normMean, normVariance, normGamma, normBeta} {
		if (which == normGamma && !p.gamma) || (which == normBeta && !p.beta) {
			continue
		}
		args := gorgonia.Nodes{stats, v}
		if gamma != nil && (which == normMean || which == normVariance) {
			args = append(args, gamma)
		}
		g, err := apply(normGradParamOp(p, which), args...)
		if err != nil {
			return nil, err
		}
		grads = append(grads, g)
	}
	return grads, nil
}

// normGradXOp maps (g, v, [γ]) to g·γ/sqrt(v+ε).
func normGradXOp(p normParams) *customOp {
	dims := []int{p.d, 1}
	if p.gamma {
		dims = append(dims, 1)
	}
	return &customOp{
		id:    "Normalize'x" + p.String(),
		arity: len(dims),
		typ:   fnType(append(dims, p.d)...),
		do: func(out *tensor.Dense, in []*tensor.Dense) error {
			return dispatch(out, in,
				func(o []float32, in [][]float32) { normalizeGradX(o, in[0], in[1], optional(in, 2), p.eps) },
				func(o []float64, in [][]float64) { normalizeGradX(o, in[0], in[1], optional(in, 2), p.eps) })
		},
	}
}

// normStatsOp maps (x, m, g) to the (2, C) matrix [Σg; Σg(x−m)].
func normStatsOp(d int) *customOp {
	return &customOp{
		id:    fmt.Sprintf("NormalizeStats(%d)", d),
		arity: 3,
		typ:   fnType(d, 1, d, 2),
		shape: func(in []tensor.Shape) (tensor.Shape, error) { return tensor.Shape{2, lastAxis(in[0])}, nil },
		do: func(out *tensor.Dense, in []*tensor.Dense) error {
			return dispatch(out, in,
				func(o []float32, in [][]float32) { normalizeStats(o, in[0], in[1], in[2]) },
				func(o []float64, in [][]float64) { normalizeStats(o, in[0], in[1], in[2]) })
		},
	}
}

type normInput int

const (
	normMean normInput = iota
	normVariance
	normGamma
	normBeta
)

func (w normInput) String() string { return [...]string{"mean", "variance", "gamma", "beta"}[w] }

// normGradParamOp maps (stats, v, [γ]) to the gradient of one vector input.
func normGradParamOp(p normParams, which normInput) *customOp {
	useGamma := p.gamma && (which == normMean || which == normVariance)
	dims := []int{2, 1}
	if useGamma {
		dims = append(dims, 1)
	}
	return &customOp{
		id:    "Normalize'" + which.String() + p.String(),
		arity: len(dims),
		typ:   fnType(append(dims, 1)...),
		shape: func(in []tensor.Shape) (tensor.Shape, error) { return in[1].Clone(), nil },
		do: func(out *tensor.Dense, in []*tensor.Dense) error {
			return dispatch(out, in,
				func(o []float32, in [][]float32) { normalizeGradParam(o, in[0], in[1], optional(in, 2), p.eps, which) },
				func(o []float64, in [][]float64) { normalizeGradParam(o, in[0], in[1], optional(in, 2), p.eps, which) })
		},
	}
}

// optional returns in[i], or nil if there is no such input.
func optional[T any](in []T, i int) (t T) {
	if i < len(in) {
		t = in[i]
	}
	return t
}

// lastAxis is the size of the last axis of s (1 for a scalar).
func lastAxis(s tensor.Shape) int {
	if len(s) == 0 {
		return 1
	}
	return s[len(s)-1]
}
