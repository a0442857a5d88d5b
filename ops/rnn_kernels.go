package ops

// Kernels of the fused recurrent cells (see rnn.go for the layouts).
// Every function writes each element of its output.

// rnnScratch holds a kernel's temporary buffer between runs.
type rnnScratch struct {
	f32 []float32
	f64 []float64
}

// rnnScratchOf returns a buffer of n elements of type T (not cleared).
func rnnScratchOf[T float](s *rnnScratch, n int) []T {
	var zero T
	switch any(zero).(type) {
	case float32:
		if cap(s.f32) < n {
			s.f32 = make([]float32, n)
		}
		return any(s.f32[:n]).([]T)
	default:
		if cap(s.f64) < n {
			s.f64 = make([]float64, n)
		}
		return any(s.f64[:n]).([]T)
	}
}

// maskAt returns row bi's mask value at input step idx; no mask means
// every step is real.
func (g *rnnGeom) maskAt(mask rnnMask, bi, idx int) float64 {
	if mask == nil {
		return 1
	}
	return mask.at(bi*g.steps + idx)
}

// float32or64 reads a mask of either element type as float64.
type rnnMask interface{ at(i int) float64 }

type rnnMask32 []float32
type rnnMask64 []float64

func (s rnnMask32) at(i int) float64 { return float64(s[i]) }
func (s rnnMask64) at(i int) float64 { return s[i] }

// rnnReal reports whether a mask value marks a real step (Keras casts the
// mask to booleans).
func rnnReal(m float64) bool { return m != 0 }

// rnnRecProduct sets rec (batch, G·u) = Σ_g (h ⊙ rm_g)·R_g, h being the
// first u columns of the packs (row stride S); without rm, rec = h·R.
func rnnRecProduct[T float](g *rnnGeom, rec, packs, R, rm []T, s *rnnScratch) {
	b, u, G, S := g.batch, g.units, g.gates, g.width
	gu := G * u
	if rm == nil {
		gemm(false, false, b, gu, u, 1, packs, S, R, gu, 0, rec, gu)
		return
	}
	tmp := rnnScratchOf[T](s, b*u)
	for gi := 0; gi < G; gi++ {
		for bi := 0; bi < b; bi++ {
			h, m, d := packs[bi*S:bi*S+u], rm[(bi*G+gi)*u:(bi*G+gi+1)*u], tmp[bi*u:(bi+1)*u]
			for j := range d {
				d[j] = h[j] * m[j]
			}
		}
		gemm(false, false, b, u, u, 1, tmp, u, R[gi*u:], gu, 0, rec[gi*u:], gu)
	}
}

// rnnRecBack sets dh (batch, u) = Σ_g (dzr_g·R_gᵀ) ⊙ rm_g, dzr being
// the columns off… of dz (row stride ld).
func rnnRecBack[T float](g *rnnGeom, dh, dz []T, off, ld int, R, rm []T, s *rnnScratch) {
	b, u, G := g.batch, g.units, g.gates
	gu := G * u
	if rm == nil {
		gemm(false, true, b, u, gu, 1, dz[off:], ld, R, gu, 0, dh, u)
		return
	}
	tmp := rnnScratchOf[T](s, b*u)
	clear(dh)
	for gi := 0; gi < G; gi++ {
		gemm(false, true, b, u, u, 1, dz[off+gi*u:], ld, R[gi*u:], gu, 0, tmp, u)
		for bi := 0; bi < b; bi++ {
			m := rm[(bi*G+gi)*u : (bi*G+gi+1)*u]
			for j := 0; j < u; j++ {
				dh[bi*u+j] += tmp[bi*u+j] * m[j]
			}
		}
	}
}

// rnnCellForward computes step t: out (batch, S) from the input projections
// P (batch, steps, G·u), the previous packs, the recurrent kernel, the
// bias and the masks.
func rnnCellForward[T float](g *rnnGeom, t int, out, P, prev, R, bias []T, mask rnnMask, rm []T, s []rnnScratch) {
	b, u, S := g.batch, g.units, g.width
	gu := g.gates * u
	rec := rnnScratchOf[T](&s[0], b*gu)
	rnnRecProduct(g, rec, prev, R, rm, &s[1])
	idx := g.idx(t)
	act, ract := rnnActFunc[T](g.act), rnnActFunc[T](g.ract)
	var ib, rb []T
	if bias != nil {
		ib = bias[:gu]
		if g.kind == GRUCell {
			rb = bias[gu : 2*gu]
		}
	}
	bAt := func(v []T, j int) T {
		if v == nil {
			return 0
		}
		return v[j]
	}
	for bi := 0; bi < b; bi++ {
		xp := P[(bi*g.steps+idx)*gu : (bi*g.steps+idx+1)*gu]
		rc := rec[bi*gu : (bi+1)*gu]
		o, p := out[bi*S:(bi+1)*S], prev[bi*S:(bi+1)*S]
		keep := rnnReal(g.maskAt(mask, bi, idx))
		switch g.kind {
		case SimpleRNNCell:
			for j := 0; j < u; j++ {
				h := act(xp[j] + bAt(ib, j) + rc[j])
				if !keep {
					h = p[j]
				}
				o[j] = h
			}
		case LSTMCell:
			for j := 0; j < u; j++ {
				i := ract(xp[j] + bAt(ib, j) + rc[j])
				f := ract(xp[u+j] + bAt(ib, u+j) + rc[u+j])
				c := act(xp[2*u+j] + bAt(ib, 2*u+j) + rc[2*u+j])
				og := ract(xp[3*u+j] + bAt(ib, 3*u+j) + rc[3*u+j])
				cell := f*p[u+j] + i*c
				tc := act(cell)
				h := og * tc
				if !keep {
					h, cell = p[j], p[u+j]
				}
				o[j], o[u+j] = h, cell
				o[2*u+j], o[3*u+j], o[4*u+j], o[5*u+j], o[6*u+j] = i, f, c, og, tc
			}
		case GRUCell:
			for j := 0; j < u; j++ {
				z := ract(xp[j] + bAt(ib, j) + rc[j] + bAt(rb, j))
				r := ract(xp[u+j] + bAt(ib, u+j) + rc[u+j] + bAt(rb, u+j))
				rh := rc[2*u+j] + bAt(rb, 2*u+j)
				hh := act(xp[2*u+j] + bAt(ib, 2*u+j) + r*rh)
				h := z*p[j] + (1-z)*hh
				if !keep {
					h = p[j]
				}
				o[j], o[u+j], o[2*u+j], o[3*u+j], o[4*u+j] = h, z, r, hh, rh
			}
		case GRUResetBeforeCell:
			// The gates now, the candidate once r⊙h₋₁ has gone through R_h.
			for j := 0; j < u; j++ {
				z := ract(xp[j] + bAt(ib, j) + rc[j])
				r := ract(xp[u+j] + bAt(ib, u+j) + rc[u+j])
				o[u+j], o[2*u+j], o[4*u+j] = z, r, r*p[j]*rnnDropAt(g, rm, bi, 2, j)
			}
		}
	}
	if g.kind != GRUResetBeforeCell {
		return
	}
	rh := rnnScratchOf[T](&s[1], b*u)
	rnnGemm(false, false, b, u, u, out[4*u:], S, R[2*u:], gu, 0, rh, u)
	for bi := 0; bi < b; bi++ {
		xp := P[(bi*g.steps+idx)*gu : (bi*g.steps+idx+1)*gu]
		o, p := out[bi*S:(bi+1)*S], prev[bi*S:(bi+1)*S]
		keep := rnnReal(g.maskAt(mask, bi, idx))
		for j := 0; j < u; j++ {
			hh := act(xp[2*u+j] + bAt(ib, 2*u+j) + rh[bi*u+j])
			z := o[u+j]
			h := z*p[j] + (1-z)*hh
			if !keep {
				h = p[j]
			}
			o[j], o[3*u+j] = h, hh
		}
	}
}

// rnnDropAt is the recurrent dropout mask of gate gi at unit j of row bi
// (1 without dropout).
func rnnDropAt[T float](g *rnnGeom, rm []T, bi, gi, j int) T {
	if rm == nil {
		return 1
	}
	return rm[(bi*g.gates+gi)*g.units+j]
}

// rnnCellGradZ sets dz (batch, W) to the gradient of the pre-activations of
// step t from the gradient gr of its pack: W = G·u, or 2·G·u for GRU,
// whose input side [0, 3u) and recurrent side [3u, 6u) differ (the
// reset gate multiplies the recurrent part of the candidate). Padded
// steps get zeros.
func rnnCellGradZ[T float](g *rnnGeom, t int, dz, gr, pack, prev []T, mask rnnMask) {
	b, u, S, W := g.batch, g.units, g.width, g.dzWidth()
	idx := g.idx(t)
	act, ract := g.act.dy, g.ract.dy
	for bi := 0; bi < b; bi++ {
		d := dz[bi*W : (bi+1)*W]
		if !rnnReal(g.maskAt(mask, bi, idx)) {
			clear(d)
			continue
		}
		gg, o, p := gr[bi*S:(bi+1)*S], pack[bi*S:(bi+1)*S], prev[bi*S:(bi+1)*S]
		switch g.kind {
		case SimpleRNNCell:
			for j := 0; j < u; j++ {
				d[j] = gg[j] * T(act(float64(o[j])))
			}
		case LSTMCell:
			for j := 0; j < u; j++ {
				i, f, c, og, tc := o[2*u+j], o[3*u+j], o[4*u+j], o[5*u+j], o[6*u+j]
				dc := gg[u+j] + gg[j]*og*T(act(float64(tc)))
				d[j] = dc * c * T(ract(float64(i)))
				d[u+j] = dc * p[u+j] * T(ract(float64(f)))
				d[2*u+j] = dc * i * T(act(float64(c)))
				d[3*u+j] = gg[j] * tc * T(ract(float64(og)))
			}
		case GRUCell:
			for j := 0; j < u; j++ {
				z, r, hh, rh := o[u+j], o[2*u+j], o[3*u+j], o[4*u+j]
				dh := gg[j]
				dph := dh * (1 - z) * T(act(float64(hh)))
				dpz := dh * (p[j] - hh) * T(ract(float64(z)))
				dpr := dph * rh * T(ract(float64(r)))
				d[j], d[u+j], d[2*u+j] = dpz, dpr, dph
				d[3*u+j], d[4*u+j], d[5*u+j] = dpz, dpr, dph*r
			}
		case GRUResetBeforeCell:
			// The reset gate's column waits for rnnResetBeforeGradR.
			for j := 0; j < u; j++ {
				z, hh := o[u+j], o[3*u+j]
				dh := gg[j]
				d[j] = dh * (p[j] - hh) * T(ract(float64(z)))
				d[u+j] = 0
				d[2*u+j] = dh * (1 - z) * T(act(float64(hh)))
			}
		}
	}
}

// rnnResetBeforeGradR fills the reset gate's column of the reset-before
// GRU's gate gradient dz: with s = r⊙h₋₁⊙rm_h fed to R_h, ds =
// dph·R_hᵀ and dpr = ds⊙h₋₁⊙rm_h⊙σ'(r). (Padded steps have dph = 0.)
func rnnResetBeforeGradR[T float](g *rnnGeom, dz, pack, prev, R, rm []T, sc *rnnScratch) {
	b, u, S, W := g.batch, g.units, g.width, g.dzWidth()
	gu := g.gates * u
	ds := rnnScratchOf[T](sc, b*u)
	rnnGemm(false, true, b, u, u, dz[2*u:], W, R[2*u:], gu, 0, ds, u)
	ract := g.ract.dy
	for bi := 0; bi < b; bi++ {
		o, p, d := pack[bi*S:(bi+1)*S], prev[bi*S:(bi+1)*S], dz[bi*W:(bi+1)*W]
		for j := 0; j < u; j++ {
			d[u+j] = ds[bi*u+j] * p[j] * rnnDropAt(g, rm, bi, 2, j) * T(ract(float64(o[2*u+j])))
		}
	}
}

// rnnCellGradPrev sets dprev (batch, S) to the gradient of the previous pack
// of step t: through the recurrent kernel (dz's recurrent side), through
// the carried state (padded steps pass the gradient on unchanged), and,
// for LSTM and GRU, through the state update. Columns past the state are
// zero.
func rnnCellGradPrev[T float](g *rnnGeom, t int, dprev, dz, gr, pack, R []T, mask rnnMask, rm []T, s []rnnScratch) {
	b, u, S, W := g.batch, g.units, g.width, g.dzWidth()
	gu := g.gates * u
	dh := rnnScratchOf[T](&s[0], b*u)
	off := 0
	if g.kind == GRUCell {
		off = gu
	}
	rnnRecBack(g, dh, dz, off, W, R, rm, &s[1])
	idx := g.idx(t)
	act := g.act.dy
	var hb []T
	if g.kind == GRUResetBeforeCell {
		// The candidate's block read r⊙h₋₁, not h₋₁: its term
		// (dph·R_hᵀ)⊙rm_h in dh is scaled by r below.
		hb = rnnScratchOf[T](&s[2], b*u)
		rnnGemm(false, true, b, u, u, dz[2*u:], W, R[2*u:], gu, 0, hb, u)
	}
	for bi := 0; bi < b; bi++ {
		d, gg, o := dprev[bi*S:(bi+1)*S], gr[bi*S:(bi+1)*S], pack[bi*S:(bi+1)*S]
		clear(d)
		keep := rnnReal(g.maskAt(mask, bi, idx))
		for j := 0; j < u; j++ {
			carry := gg[j]
			if keep {
				carry = 0
				if g.kind == GRUCell || g.kind == GRUResetBeforeCell {
					carry = gg[j] * o[u+j]
				}
			}
			d[j] = carry + dh[bi*u+j]
			if hb != nil {
				d[j] += hb[bi*u+j] * rnnDropAt(g, rm, bi, 2, j) * (o[2*u+j] - 1)
			}
		}
		if g.kind == LSTMCell {
			for j := 0; j < u; j++ {
				if !keep {
					d[u+j] = gg[u+j]
					continue
				}
				og, tc, f := o[5*u+j], o[6*u+j], o[3*u+j]
				d[u+j] = (gg[u+j] + gg[j]*og*T(act(float64(tc)))) * f
			}
		}
	}
}

// rnnProjectForward sets P (batch·steps, G·u) = (X ⊙ dm)·K, the mask dm
// (batch, Gm, features) being repeated over the steps; Gm is 1 (one mask
// for every gate) or G (one per gate block of K's columns).
func rnnProjectForward[T float](g *rnnGeom, P, X, K, dm []T, gm int, s *rnnScratch) {
	n, f, gu := g.batch*g.steps, g.feat, g.gates*g.units
	if dm == nil {
		gemm(false, false, n, gu, f, 1, X, f, K, gu, 0, P, gu)
		return
	}
	xm := rnnScratchOf[T](s, n*f)
	if gm == 1 {
		rnnMaskSteps(g, xm, X, dm, 0, 1)
		gemm(false, false, n, gu, f, 1, xm, f, K, gu, 0, P, gu)
		return
	}
	u := g.units
	for gi := 0; gi < gm; gi++ {
		rnnMaskSteps(g, xm, X, dm, gi, gm)
		gemm(false, false, n, u, f, 1, xm, f, K[gi*u:], gu, 0, P[gi*u:], gu)
	}
}

// rnnMaskSteps sets xm = X ⊙ dm[:, gi] repeated over the steps.
func rnnMaskSteps[T float](g *rnnGeom, xm, X, dm []T, gi, gm int) {
	f, steps := g.feat, g.steps
	for bi := 0; bi < g.batch; bi++ {
		m := dm[(bi*gm+gi)*f : (bi*gm+gi+1)*f]
		for t := 0; t < steps; t++ {
			o := (bi*steps + t) * f
			x, d := X[o:o+f], xm[o:o+f]
			for j := range d {
				d[j] = x[j] * m[j]
			}
		}
	}
}

// rnnProjectGradX sets dX = Σ_g (dP_g·K_gᵀ) ⊙ dm_g.
func rnnProjectGradX[T float](g *rnnGeom, dX, dP, K, dm []T, gm int, s *rnnScratch) {
	n, f, gu, u := g.batch*g.steps, g.feat, g.gates*g.units, g.units
	if dm == nil {
		gemm(false, true, n, f, gu, 1, dP, gu, K, gu, 0, dX, f)
		return
	}
	if gm == 1 {
		gemm(false, true, n, f, gu, 1, dP, gu, K, gu, 0, dX, f)
		rnnMaskSteps(g, dX, dX, dm, 0, 1)
		return
	}
	tmp := rnnScratchOf[T](s, n*f)
	clear(dX)
	for gi := 0; gi < gm; gi++ {
		gemm(false, true, n, f, u, 1, dP[gi*u:], gu, K[gi*u:], gu, 0, tmp, f)
		rnnMaskSteps(g, tmp, tmp, dm, gi, gm)
		for i, v := range tmp {
			dX[i] += v
		}
	}
}

// rnnProjectGradK sets dK_g = (X ⊙ dm_g)ᵀ·dP_g.
func rnnProjectGradK[T float](g *rnnGeom, dK, X, dP, dm []T, gm int, s *rnnScratch) {
	n, f, gu, u := g.batch*g.steps, g.feat, g.gates*g.units, g.units
	if dm == nil {
		gemm(true, false, f, gu, n, 1, X, f, dP, gu, 0, dK, gu)
		return
	}
	xm := rnnScratchOf[T](s, n*f)
	if gm == 1 {
		rnnMaskSteps(g, xm, X, dm, 0, 1)
		gemm(true, false, f, gu, n, 1, xm, f, dP, gu, 0, dK, gu)
		return
	}
	for gi := 0; gi < gm; gi++ {
		rnnMaskSteps(g, xm, X, dm, gi, gm)
		gemm(true, false, f, u, n, 1, xm, f, dP[gi*u:], gu, 0, dK[gi*u:], gu)
	}
}

// rnnRecKernelGrad sets dR (u, G·u) = Σ_t Σ_g (h_{t−1} ⊙ rm_g)ᵀ·dzr_{t,g}
// with one gemm per gate block over all steps stacked.
func rnnRecKernelGrad[T float](g *rnnGeom, dR []T, prevs, dzs [][]T, rm []T, s []rnnScratch) {
	b, u, G, S, W, T_ := g.batch, g.units, g.gates, g.width, g.dzWidth(), g.steps
	gu := G * u
	off := 0
	if g.kind == GRUCell {
		off = gu
	}
	hs := rnnScratchOf[T](&s[0], T_*b*u)
	ds := rnnScratchOf[T](&s[1], T_*b*gu)
	for t := 0; t < T_; t++ {
		for bi := 0; bi < b; bi++ {
			r := t*b + bi
			copy(hs[r*u:(r+1)*u], prevs[t][bi*S:bi*S+u])
			copy(ds[r*gu:(r+1)*gu], dzs[t][bi*W+off:bi*W+off+gu])
		}
	}
	if rm == nil {
		gemm(true, false, u, gu, T_*b, 1, hs, u, ds, gu, 0, dR, gu)
		return
	}
	hm := rnnScratchOf[T](&s[2], T_*b*u)
	for gi := 0; gi < G; gi++ {
		for t := 0; t < T_; t++ {
			for bi := 0; bi < b; bi++ {
				r := t*b + bi
				m := rm[(bi*G+gi)*u : (bi*G+gi+1)*u]
				for j := 0; j < u; j++ {
					hm[r*u+j] = hs[r*u+j] * m[j]
				}
			}
		}
		gemm(true, false, u, u, T_*b, 1, hm, u, ds[gi*u:], gu, 0, dR[gi*u:], gu)
	}
}

// rnnResetBeforeKernelGrad replaces the candidate's block of dR (which
// rnnRecKernelGrad computed from h₋₁) with Σ_t s_tᵀ·dph_t, s_t = r⊙h₋₁⊙rm_h
// being kept in each step's pack.
func rnnResetBeforeKernelGrad[T float](g *rnnGeom, dR []T, packs, dzs [][]T, s []rnnScratch) {
	b, u, S, W, T_ := g.batch, g.units, g.width, g.dzWidth(), g.steps
	gu := g.gates * u
	ss := rnnScratchOf[T](&s[0], T_*b*u)
	ds := rnnScratchOf[T](&s[1], T_*b*u)
	for t := 0; t < T_; t++ {
		for bi := 0; bi < b; bi++ {
			r := t*b + bi
			copy(ss[r*u:(r+1)*u], packs[t][bi*S+4*u:bi*S+5*u])
			copy(ds[r*u:(r+1)*u], dzs[t][bi*W+2*u:bi*W+3*u])
		}
	}
	rnnGemm(true, false, u, u, T_*b, ss, u, ds, u, 0, dR[2*u:], gu)
}
