package ops

import "math"

// Kernels of the normalisation ops. x is row-major with C = the length of
// the per-channel vectors as its last axis; sums run in float64.
//
// They run over the cores as parallel.go describes: per-channel sums split
// by channels (each channel summed in row order by one goroutine),
// elementwise passes by rows, so the results are bitwise those of the
// serial loops.

// channelMeans returns the mean of each column of x viewed as (N, c).
func channelMeans[T float](x []T, c int) []float64 {
	acc := make([]float64, c)
	n := float64(len(x) / c)
	parallelCols(len(x)/c, c, func(c0, c1 int) {
		a := acc[c0:c1]
		for i := 0; i < len(x); i += c {
			for j, v := range x[i+c0 : i+c1] {
				a[j] += float64(v)
			}
		}
		for j := range a {
			a[j] /= n
		}
	})
	return acc
}

// channelMoment sets out (C) to the mean or the biased variance of each
// column of x, the latter in two passes.
func channelMoment[T float](out, x []T, variance bool) {
	c := len(out)
	mean := channelMeans(x, c)
	if !variance {
		for j, m := range mean {
			out[j] = T(m)
		}
		return
	}
	acc := make([]float64, c)
	n := float64(len(x) / c)
	parallelCols(len(x)/c, c, func(c0, c1 int) {
		a, m := acc[c0:c1], mean[c0:c1]
		for i := 0; i < len(x); i += c {
			for j, v := range x[i+c0 : i+c1] {
				d := float64(v) - m[j]
				a[j] += d * d
			}
		}
		for j := range a {
			out[c0+j] = T(a[j] / n)
		}
	})
}

// channelMomentGrad sets dx = g/N (mean) or 2(x−mean)·g/N (variance).
func channelMomentGrad[T float](dx, x, g []T, variance bool) {
	c := len(g)
	n := float64(len(x) / c)
	if !variance {
		row := make([]T, c)
		for j, gj := range g {
			row[j] = T(float64(gj) / n)
		}
		repeatRows(dx, row)
		return
	}
	mean := channelMeans(x, c)
	parallelElems(len(dx), c, func(lo, hi int) {
		mean := mean[:len(g)]
		for i := lo; i < hi; i += c {
			xs, ds := x[i:i+len(g)], dx[i:i+len(g)]
			for j, gj := range g {
				ds[j] = T(2 * (float64(xs[j]) - mean[j]) * float64(gj) / n)
			}
		}
	})
}

// normalizeRows sets out = (x−m)·γ/sqrt(v+ε) + β; gamma and beta may be nil.
func normalizeRows[T float](out, x, m, v, gamma, beta []T, eps float64) {
	c := len(m)
	scale := make([]float64, c)
	shift := make([]float64, c)
	for j := range scale {
		scale[j] = 1 / math.Sqrt(float64(v[j])+eps)
		if gamma != nil {
			scale[j] *= float64(gamma[j])
		}
		if beta != nil {
			shift[j] = float64(beta[j])
		}
	}
	mf := make([]float64, c)
	for j := range mf {
		mf[j] = float64(m[j])
	}
	parallelElems(len(x), c, func(lo, hi int) {
		// Slices of len(mf), so that the compiler drops the bounds checks.
		scale, shift := scale[:len(mf)], shift[:len(mf)]
		for i := lo; i < hi; i += c {
			xs, os := x[i:i+len(mf)], out[i:i+len(mf)]
			for j, mj := range mf {
				os[j] = T((float64(xs[j])-mj)*scale[j] + shift[j])
			}
		}
	})
}

// normalizeGradX sets dx = g·γ/sqrt(v+ε); gamma may be nil.
func normalizeGradX[T float](dx, g, v, gamma []T, eps float64) {
	c := len(v)
	scale := make([]float64, c)
	for j := range scale {
		scale[j] = 1 / math.Sqrt(float64(v[j])+eps)
		if gamma != nil {
			scale[j] *= float64(gamma[j])
		}
	}
	parallelElems(len(g), c, func(lo, hi int) {
		for i := lo; i < hi; i += c {
			gs, ds := g[i:i+len(scale)], dx[i:i+len(scale)]
			for j, sj := range scale {
				ds[j] = T(float64(gs[j]) * sj)
			}
		}
	})
}

// normalizeStats sets out (2, C) to [Σg; Σg(x−m)], summed over rows.
func normalizeStats[T float](out, x, m, g []T) {
	c := len(m)
	s0 := make([]float64, c)
	s1 := make([]float64, c)
	parallelCols(len(x)/c, c, func(c0, c1 int) {
		a0, a1 := s0[c0:c1], s1[c0:c1]
		mf := make([]float64, c1-c0)
		for j := range mf {
			mf[j] = float64(m[c0+j])
		}
		a0, a1 = a0[:len(mf)], a1[:len(mf)]
		for i := 0; i < len(x); i += c {
			xs, gs := x[i+c0:i+c0+len(mf)], g[i+c0:i+c0+len(mf)]
			for j, mj := range mf {
				gj := float64(gs[j])
				a0[j] += gj
				a1[j] += gj * (float64(xs[j]) - mj)
			}
		}
		for j := range a0 {
			out[c0+j], out[c+c0+j] = T(a0[j]), T(a1[j])
		}
	})
}

// normalizeGradParam sets out (C) to the gradient of the mean, variance,
// gamma or beta input of Normalize from stats = [Σg; Σg(x−m)].
func normalizeGradParam[T float](out, stats, v, gamma []T, eps float64, which normInput) {
	c := len(v)
	for j := range c {
		s0, s1 := float64(stats[j]), float64(stats[c+j])
		inv := 1 / math.Sqrt(float64(v[j])+eps)
		g := 1.0
		if gamma != nil {
			g = float64(gamma[j])
		}
		var d float64
		switch which {
		case normMean:
			d = -g * inv * s0
		case normVariance:
			d = -0.5 * g * inv * inv * inv * s1
		case normGamma:
			d = inv * s1
		case normBeta:
			d = s0
		}
		out[j] = T(d)
	}
}

// rowStats returns the mean and 1/sqrt(variance+ε) of a row (biased
// variance, two passes).
func rowStats[T float](x []T, eps float64) (mean, inv float64) {
	for _, v := range x {
		mean += float64(v)
	}
	mean /= float64(len(x))
	var ss float64
	for _, v := range x {
		d := float64(v) - mean
		ss += d * d
	}
	return mean, 1 / math.Sqrt(ss/float64(len(x))+eps)
}

// layerNormRows normalises each row of x (length C = len of a row) and
// applies γ and β (either may be nil).
func layerNormRows[T float](out, x, gamma, beta []T, c int, eps float64) {
	for i := 0; i < len(x); i += c {
		row := x[i : i+c]
		mean, inv := rowStats(row, eps)
		for j, v := range row {
			y := (float64(v) - mean) * inv
			if gamma != nil {
				y *= float64(gamma[j])
			}
			if beta != nil {
				y += float64(beta[j])
			}
			out[i+j] = T(y)
		}
	}
}

// layerNormGradX sets dx per row: with x̂ = (x−μ)·inv and h = g·γ,
// dx = inv·(h − mean(h) − x̂·mean(h·x̂)).
func layerNormGradX[T float](dx, x, gamma, g []T, c int, eps float64) {
	xhat := make([]float64, c)
	h := make([]float64, c)
	for i := 0; i < len(x); i += c {
		mean, inv := rowStats(x[i:i+c], eps)
		var a, b float64
		for j := range c {
			xhat[j] = (float64(x[i+j]) - mean) * inv
			h[j] = float64(g[i+j])
			if gamma != nil {
				h[j] *= float64(gamma[j])
			}
			a += h[j]
			b += h[j] * xhat[j]
		}
		a /= float64(c)
		b /= float64(c)
		for j := range c {
			dx[i+j] = T(inv * (h[j] - a - xhat[j]*b))
		}
	}
}

// layerNormGradGamma sets out (C) to Σ_rows g·x̂.
func layerNormGradGamma[T float](out, x, g []T, eps float64) {
	c := len(out)
	acc := make([]float64, c)
	for i := 0; i < len(x); i += c {
		mean, inv := rowStats(x[i:i+c], eps)
		for j := range c {
			acc[j] += float64(g[i+j]) * (float64(x[i+j]) - mean) * inv
		}
	}
	for j := range out {
		out[j] = T(acc[j])
	}
}
