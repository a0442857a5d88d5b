package ops

import (
	"math"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Batch normalisation's gradient in two passes. Differentiated as
// composed, Normalize(x, BatchMoments(x), …) sends x three gradients (one
// through the normalisation, one through the mean, one through the
// variance) that Gorgonia then adds: seven passes over the activations
// and two more for the adds. When Normalize sees that its mean and
// variance are BatchMoments of its own x, it differentiates the whole
// instead, as every framework's batch norm does: with s = γ/√(v+ε),
// S0 = Σg and S1 = Σg(x−m) over the batch (one pass, normStatsOp),
//
//	dx = s·g − s·S0/N − (x−m)·s·S1/(N·(v+ε))    (one pass)
//
// which is the sum of the three composed gradients. The statistics then
// get no gradient through Normalize (they are not differentiated there),
// but keep their own for any other use.

// batchStatsOf reports whether mean and variance are BatchMoments(x).
func batchStatsOf(x, mean, variance *gorgonia.Node) bool {
	return isMomentOf(mean, x, false) && isMomentOf(variance, x, true)
}

func isMomentOf(n, x *gorgonia.Node, variance bool) bool {
	op, ok := n.Op().(*customOp)
	if !ok || op.id != batchMomentOp(x.Dims(), variance).id {
		return false
	}
	children := n.Graph().From(n.ID())
	if children.Len() != 1 || !children.Next() {
		return false
	}
	c, ok := children.Node().(*gorgonia.Node)
	return ok && c == x
}

// batchNormGrads returns the gradients of Normalize(x, BatchMoments(x),
// γ, β): dx, nothing for the statistics, dγ and dβ.
func batchNormGrads(p normParams, in gorgonia.Nodes, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	x, m, v, gamma := in[0], in[1], in[2], gammaOf(p, in)
	stats, err := apply(normStatsOp(p.d), x, m, grad)
	if err != nil {
		return nil, err
	}
	args := gorgonia.Nodes{x, grad, m, v, stats}
	if gamma != nil {
		args = append(args, gamma)
	}
	dx, err := apply(batchNormGradXOp(p, len(args)), args...)
	if err != nil {
		return nil, err
	}
	grads := gorgonia.Nodes{dx, nil, nil}
	for _, which := range []normInput{normGamma, normBeta} {
		if (which == normGamma && !p.gamma) || (which == normBeta && !p.beta) {
			continue
		}
		g, err := apply(normGradParamOp(p, which), stats, v)
		if err != nil {
			return nil, err
		}
		grads = append(grads, g)
	}
	return grads, nil
}

// batchNormGradXOp maps (x, g, m, v, stats, [γ]) to dx above.
func batchNormGradXOp(p normParams, arity int) *customOp {
	dims := []int{p.d, p.d, 1, 1, 2}
	if arity == 6 {
		dims = append(dims, 1)
	}
	return &customOp{
		id:    "BatchNorm'x" + p.String(),
		arity: arity,
		typ:   fnType(append(dims, p.d)...),
		do: func(out *tensor.Dense, in []*tensor.Dense) error {
			return dispatch(out, in,
				func(o []float32, in [][]float32) {
					batchNormGradX(o, in[0], in[1], in[2], in[3], in[4], optional(in, 5), p.eps)
				},
				func(o []float64, in [][]float64) {
					batchNormGradX(o, in[0], in[1], in[2], in[3], in[4], optional(in, 5), p.eps)
				})
		},
	}
}

// batchNormGradX sets dx = a·g − b − (x−m)·c per channel, a = s,
// b = s·S0/N, c = s·S1/(N·(v+ε)), in float64.
func batchNormGradX[T float](dx, x, g, m, v, stats, gamma []T, eps float64) {
	ch := len(m)
	n := float64(len(x) / ch)
	a, b, c, mf := make([]float64, ch), make([]float64, ch), make([]float64, ch), make([]float64, ch)
	for j := range ch {
		ve := float64(v[j]) + eps
		s := 1 / math.Sqrt(ve)
		if gamma != nil {
			s *= float64(gamma[j])
		}
		a[j], b[j] = s, s*float64(stats[j])/n
		c[j], mf[j] = s*float64(stats[ch+j])/(n*ve), float64(m[j])
	}
	parallelElems(len(x), ch, func(lo, hi int) {
		// Slices of len(mf), so that the compiler drops the bounds checks.
		a, b, c := a[:len(mf)], b[:len(mf)], c[:len(mf)]
		for i := lo; i < hi; i += ch {
			xs, gs, ds := x[i:i+len(mf)], g[i:i+len(mf)], dx[i:i+len(mf)]
			for j, mj := range mf {
				ds[j] = T(a[j]*float64(gs[j]) - b[j] - (float64(xs[j])-mj)*c[j])
			}
		}
	})
}
