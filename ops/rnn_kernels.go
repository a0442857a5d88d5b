package ops

import (
	"github.com/keragon/keragon/internal/team"
	"github.com/keragon/keragon/internal/vmath"
)

// Kernels of the recurrent sequence ops (see rnn.go and rnn_ops.go for
// the layouts). Every function writes each element of its output.

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

// rnnStash is what a pass's sequence op keeps between runs, and for the
// gradient op of the same run: the projections, which the steps turn into
// the gate activations in place (batch, steps, G·u); an LSTM's cell states
// (steps+1, batch, u: before step 0, then after each step) and their
// activations (steps, batch, u); a GRU's recurrent part of the candidate,
// h₋₁·R_h + rb_h, or the reset-before GRU's recurrent input to it,
// r⊙h₋₁⊙rm_h (steps, batch, u); the gradient op's buffers; and the
// scratch of each block of the batch.
type rnnStash struct {
	p, c, tc, rh, xm rnnScratch
	dp, drec, rt     rnnScratch
	grad             [3]rnnScratch
	blocks           []rnnBlockScratch
}

type rnnBlockScratch struct{ a, b, c, d, e rnnScratch }

// rnnBlockRows is the least number of rows of a block of the batch: the
// per-step products of smaller blocks run too far below the BLAS's speed.
// Tests change it.
var rnnBlockRows = 32

// rnnInBlocks calls f on blocks of rows of the batch, at most eight, on up
// to GOMAXPROCS goroutines. The blocks depend on the batch size only.
func rnnInBlocks(g *rnnGeom, st *rnnStash, f func(b0, b1 int, sc *rnnBlockScratch)) {
	n := max(1, min(8, g.batch/rnnBlockRows))
	if len(st.blocks) < n {
		st.blocks = make([]rnnBlockScratch, n)
	}
	team.Run(n, 0, func(i int) { f(g.batch*i/n, g.batch*(i+1)/n, &st.blocks[i]) })
}

// maskAt returns row bi's mask value at input step idx; no mask means
// every step is real.
func (g *rnnGeom) maskAt(mask rnnMask, bi, idx int) float64 {
	if mask == nil {
		return 1
	}
	return mask.at(bi*g.steps + idx)
}

// rnnMask reads a mask of either element type as float64.
type rnnMask interface{ at(i int) float64 }

type rnnMask32 []float32
type rnnMask64 []float64

func (s rnnMask32) at(i int) float64 { return float64(s[i]) }
func (s rnnMask64) at(i int) float64 { return s[i] }

// rnnMaskOf wraps a mask's data (nil: no mask).
func rnnMaskOf[T float](m []T) rnnMask {
	if len(m) == 0 {
		return nil
	}
	switch d := any(m).(type) {
	case []float32:
		return rnnMask32(d)
	case []float64:
		return rnnMask64(d)
	}
	return nil
}

// rnnReal reports whether a mask value marks a real step (Keras casts the
// mask to booleans).
func rnnReal(m float64) bool { return m != 0 }

// rnnForward runs the sequence op: y (steps+2, batch, u) from the inputs,
// the gate activations and states kept in st.
func rnnForward[T float](g *rnnGeom, st *rnnStash, y []T, a rnnArgs[T]) {
	b, steps, u := g.batch, g.steps, g.units
	gu, bu := g.gates*u, g.batch*g.units
	P := rnnScratchOf[T](&st.p, b*steps*gu)
	rnnProjectForward(g, P, a.x, a.k, a.idrop, g.inputGates, &st.xm)
	if a.bias != nil && g.kind == GRUCell {
		// GRU's input bias goes with the projection (its candidate
		// keeps the recurrent part apart); the others add theirs to each
		// row at its step, in cache.
		ib := a.bias[:gu]
		parallelFor(b*steps, gu, func(lo, hi int) {
			for r := lo; r < hi; r++ {
				row := P[r*gu : (r+1)*gu]
				for j, v := range ib {
					row[j] += v
				}
			}
		})
	}
	if a.h0 != nil {
		copy(y[:bu], a.h0)
	} else {
		clear(y[:bu])
	}
	var C, TC, RH []T
	switch g.kind {
	case LSTMCell:
		C, TC = rnnScratchOf[T](&st.c, (steps+1)*bu), rnnScratchOf[T](&st.tc, steps*bu)
		if a.c0 != nil {
			copy(C[:bu], a.c0)
		} else {
			clear(C[:bu])
		}
	case GRUCell, GRUResetBeforeCell:
		RH = rnnScratchOf[T](&st.rh, steps*bu)
	}
	mask := rnnMaskOf(a.mask)
	rnnInBlocks(g, st, func(b0, b1 int, sc *rnnBlockScratch) {
		for t := 0; t < steps; t++ {
			rnnStepForward(g, t, b0, b1, sc, P, y, C, TC, RH, a.r, a.bias, mask, a.rdrop)
		}
	})
	last := y[(steps+1)*bu:]
	if g.kind == LSTMCell {
		copy(last, C[steps*bu:])
	} else {
		clear(last)
	}
}

// rnnStepForward computes step t for rows [b0, b1): the recurrent product
// added into the projections (a separate buffer for GRU, whose reset gate
// multiplies the recurrent part of the candidate), the activations in
// place, the new states.
func rnnStepForward[T float](g *rnnGeom, t, b0, b1 int, sc *rnnBlockScratch, P, y, C, TC, RH, R, bias []T, mask rnnMask, rm []T) {
	u, steps := g.units, g.steps
	gu, bu := g.gates*u, g.batch*u
	rows, idx := b1-b0, g.idx(t)
	hPrev := y[t*bu+b0*u : t*bu+b1*u]
	hNew := y[(t+1)*bu+b0*u : (t+1)*bu+b1*u]
	var rec []T
	switch g.kind {
	case GRUCell:
		rec = rnnScratchOf[T](&sc.b, rows*gu)
		rnnRecInto(g, rec, gu, hPrev, rows, b0, R, rm, g.gates, &sc.a, 0)
	case GRUResetBeforeCell:
		// The gates' recurrent products now; the candidate's reads
		// r⊙h₋₁ once the gates are known (below).
		rnnRecInto(g, P[(b0*steps+idx)*gu:], steps*gu, hPrev, rows, b0, R, rm, 2, &sc.a, 1)
	default:
		rnnRecInto(g, P[(b0*steps+idx)*gu:], steps*gu, hPrev, rows, b0, R, rm, g.gates, &sc.a, 1)
	}
	var ib, rb []T
	if bias != nil {
		if g.kind == GRUCell {
			rb = bias[gu : 2*gu]
		} else {
			ib = bias[:gu]
		}
	}
	for r := 0; r < rows; r++ {
		bi := b0 + r
		z := P[(bi*steps+idx)*gu : (bi*steps+idx+1)*gu]
		hp, hn := hPrev[r*u:(r+1)*u], hNew[r*u:(r+1)*u]
		keep := rnnReal(g.maskAt(mask, bi, idx))
		for j, v := range ib {
			z[j] += v
		}
		switch g.kind {
		case SimpleRNNCell:
			actInPlace(g.act, z)
			if keep {
				copy(hn, z)
			} else {
				copy(hn, hp)
			}
		case LSTMCell:
			actInPlace(g.ract, z[:2*u])
			actInPlace(g.act, z[2*u:3*u])
			actInPlace(g.ract, z[3*u:])
			i, f, gg, o := z[:u], z[u:2*u], z[2*u:3*u], z[3*u:]
			row := bi * u
			cp, cn := C[t*bu+row:t*bu+row+u], C[(t+1)*bu+row:(t+1)*bu+row+u]
			tc := TC[t*bu+row : t*bu+row+u]
			for j := range cn {
				cn[j] = f[j]*cp[j] + i[j]*gg[j]
			}
			copy(tc, cn)
			actInPlace(g.act, tc)
			for j := range hn {
				hn[j] = o[j] * tc[j]
			}
			if !keep {
				copy(hn, hp)
				copy(cn, cp)
			}
		case GRUCell:
			rc := rec[r*gu : (r+1)*gu]
			for j := 0; j < 2*u; j++ {
				v := z[j] + rc[j]
				if rb != nil {
					v += rb[j]
				}
				z[j] = v
			}
			actInPlace(g.ract, z[:2*u])
			zg, rg, hc := z[:u], z[u:2*u], z[2*u:]
			rh := RH[t*bu+bi*u : t*bu+(bi+1)*u]
			for j := range rh {
				v := rc[2*u+j]
				if rb != nil {
					v += rb[2*u+j]
				}
				rh[j] = v
			}
			for j := range hc {
				hc[j] += rg[j] * rh[j]
			}
			actInPlace(g.act, hc)
			for j := range hn {
				hn[j] = zg[j]*hp[j] + (1-zg[j])*hc[j]
			}
			if !keep {
				copy(hn, hp)
			}
		case GRUResetBeforeCell:
			actInPlace(g.ract, z[:2*u])
			rg, s := z[u:2*u], RH[t*bu+bi*u:t*bu+(bi+1)*u]
			for j := range s {
				s[j] = rg[j] * hp[j]
			}
			if rm != nil {
				m := rm[(bi*g.gates+2)*u : (bi*g.gates+3)*u]
				for j := range s {
					s[j] *= m[j]
				}
			}
		}
	}
	if g.kind != GRUResetBeforeCell {
		return
	}
	// The candidate: act(x·K_h + b_h + (r⊙h₋₁⊙rm_h)·R_h), then the state.
	gemmSerial(false, false, rows, u, u, 1, RH[t*bu+b0*u:], u, R[2*u:], gu, 1, P[(b0*steps+idx)*gu+2*u:], steps*gu)
	for r := 0; r < rows; r++ {
		bi := b0 + r
		z := P[(bi*steps+idx)*gu : (bi*steps+idx+1)*gu]
		hp, hn := hPrev[r*u:(r+1)*u], hNew[r*u:(r+1)*u]
		zg, hc := z[:u], z[2*u:]
		actInPlace(g.act, hc)
		if !rnnReal(g.maskAt(mask, bi, idx)) {
			copy(hn, hp)
			continue
		}
		for j := range hn {
			hn[j] = zg[j]*hp[j] + (1-zg[j])*hc[j]
		}
	}
}

// rnnRecInto sets the first ng gate blocks of dst (rows, G·u; row stride
// ld) to Σ_g (h ⊙ rm_g)·R_g + beta·dst for rows [b0, b0+rows) of the
// batch; without rm, h·R + beta·dst.
func rnnRecInto[T float](g *rnnGeom, dst []T, ld int, h []T, rows, b0 int, R, rm []T, ng int, s *rnnScratch, beta T) {
	u, G := g.units, g.gates
	gu := G * u
	if rm == nil {
		gemmSerial(false, false, rows, ng*u, u, 1, h, u, R, gu, beta, dst, ld)
		return
	}
	tmp := rnnScratchOf[T](s, rows*u)
	for gi := 0; gi < ng; gi++ {
		for r := 0; r < rows; r++ {
			m := rm[((b0+r)*G+gi)*u : ((b0+r)*G+gi+1)*u]
			hr, d := h[r*u:(r+1)*u], tmp[r*u:(r+1)*u]
			for j := range d {
				d[j] = hr[j] * m[j]
			}
		}
		gemmSerial(false, false, rows, u, u, 1, tmp, u, R[gi*u:], gu, beta, dst[gi*u:], ld)
	}
}

// rnnBackward runs the gradient op: from dY, the gradient of the sequence
// op's output y, it writes the gradients of X, K, R, the bias and the
// initial states into out (laid out by lay), reading the gate activations
// and states the forward run kept in st.
func rnnBackward[T float](g *rnnGeom, st *rnnStash, lay rnnGradLayout, out, dY, y []T, a rnnArgs[T]) {
	b, steps, u := g.batch, g.steps, g.units
	gu, bu := g.gates*u, g.batch*g.units
	P := rnnScratchOf[T](&st.p, b*steps*gu)
	var C, TC, RH []T
	switch g.kind {
	case LSTMCell:
		C, TC = rnnScratchOf[T](&st.c, (steps+1)*bu), rnnScratchOf[T](&st.tc, steps*bu)
	case GRUCell, GRUResetBeforeCell:
		RH = rnnScratchOf[T](&st.rh, steps*bu)
	}
	dP := rnnScratchOf[T](&st.dp, b*steps*gu)
	dRec := dP
	if g.kind == GRUCell {
		dRec = rnnScratchOf[T](&st.drec, b*steps*gu)
	}
	part := func(i int) []T {
		if lay.off[i] < 0 {
			return nil
		}
		return out[lay.off[i] : lay.off[i]+lay.shapes[i].TotalSize()]
	}
	dH0, dC0 := part(4), part(5)
	mask := rnnMaskOf(a.mask)
	// Rᵀ, so that every step's dz·Rᵀ reads a plain matrix in place
	// rather than packing R transposed again.
	Rt := rnnScratchOf[T](&st.rt, u*gu)
	for i := 0; i < u; i++ {
		for j, v := range a.r[i*gu : (i+1)*gu] {
			Rt[j*u+i] = v
		}
	}
	rnnInBlocks(g, st, func(b0, b1 int, sc *rnnBlockScratch) {
		rows := b1 - b0
		dh := rnnScratchOf[T](&sc.b, rows*u)
		clear(dh)
		var dc []T
		if g.kind == LSTMCell {
			dc = rnnScratchOf[T](&sc.c, rows*u)
			clear(dc)
			fin := dY[(steps+1)*bu+b0*u : (steps+1)*bu+b1*u]
			copy(dc, fin)
		}
		for t := steps - 1; t >= 0; t-- {
			rnnStepBackward(g, t, b0, b1, sc, dP, dRec, dY, y, P, C, TC, RH, Rt, mask, a.rdrop, dh, dc)
		}
		if dH0 != nil {
			copy(dH0[b0*u:b1*u], dh)
		}
		if dC0 != nil {
			copy(dC0[b0*u:b1*u], dc)
		}
	})
	rnnProjectGradX(g, part(0), dP, a.k, a.idrop, g.inputGates, &st.grad[0])
	rnnProjectGradK(g, part(1), a.x, dP, a.idrop, g.inputGates, &st.grad[1])
	rnnRecKernelGrad(g, part(2), y, dRec, RH, a.rdrop, &st.grad[2])
	if db := part(3); db != nil {
		sumLeading(db[:gu], dP)
		if g.kind == GRUCell {
			sumLeading(db[gu:], dRec)
		}
	}
}

// rnnStepBackward takes step t back for rows [b0, b1): dh and dc hold the
// gradients of the states after the step and leave with those before it;
// the gradients of the gate inputs go to dP (input side) and dRec (the
// recurrent side: GRU's differs, else dRec is dP). Padded steps pass the
// state gradients on and get zeros.
func rnnStepBackward[T float](g *rnnGeom, t, b0, b1 int, sc *rnnBlockScratch, dP, dRec, dY, y, P, C, TC, RH, Rt []T, mask rnnMask, rm []T, dh, dc []T) {
	u, steps := g.units, g.steps
	gu, bu := g.gates*u, g.batch*u
	rows, idx := b1-b0, g.idx(t)
	for j, v := range dY[(t+1)*bu+b0*u : (t+1)*bu+b1*u] {
		dh[j] += v
	}
	tmp := rnnScratchOf[T](&sc.a, u)
	_, is32 := any(tmp).([]float32)
	fast := is32 && g.kind == LSTMCell && g.act == tanhK && g.ract == sigmoidK
	for r := 0; r < rows; r++ {
		bi := b0 + r
		o := (bi*steps + idx) * gu
		z, dz, dzr := P[o:o+gu], dP[o:o+gu], dRec[o:o+gu]
		gh := dh[r*u : (r+1)*u]
		if !rnnReal(g.maskAt(mask, bi, idx)) {
			clear(dz)
			clear(dzr)
			continue
		}
		switch g.kind {
		case SimpleRNNCell:
			actGrad(g.act, dz, z, gh)
			clear(gh)
		case LSTMCell:
			i, f, gg, og := z[:u], z[u:2*u], z[2*u:3*u], z[3*u:]
			gc := dc[r*u : (r+1)*u]
			row := bi * u
			tc, cp := TC[t*bu+row:t*bu+row+u], C[t*bu+row:t*bu+row+u]
			if fast {
				// Keras' default cell in float32: one vector kernel.
				v := func(x []T) []float32 { return any(x).([]float32) }
				vmath.LSTMCellGrad(v(gh), v(gc), v(i), v(f), v(gg), v(og), v(tc), v(cp), v(dz[:u]), v(dz[u:2*u]), v(dz[2*u:3*u]), v(dz[3*u:]))
				continue
			}
			for j := range tmp {
				tmp[j] = gh[j] * og[j]
			}
			actGrad(g.act, tmp, tc, tmp)
			for j := range gc {
				gc[j] += tmp[j]
			}
			di, df, dg, do := dz[:u], dz[u:2*u], dz[2*u:3*u], dz[3*u:]
			for j := range do {
				do[j] = gh[j] * tc[j]
			}
			actGrad(g.ract, do, og, do)
			for j := range di {
				di[j] = gc[j] * gg[j]
			}
			actGrad(g.ract, di, i, di)
			for j := range df {
				df[j] = gc[j] * cp[j]
			}
			actGrad(g.ract, df, f, df)
			for j := range dg {
				dg[j] = gc[j] * i[j]
			}
			actGrad(g.act, dg, gg, dg)
			for j := range gc {
				gc[j] *= f[j]
			}
			clear(gh)
		case GRUCell:
			zg, rg, hh := z[:u], z[u:2*u], z[2*u:]
			rh := RH[t*bu+bi*u : t*bu+(bi+1)*u]
			hp := y[t*bu+bi*u : t*bu+(bi+1)*u]
			dpz, dpr, dph := dz[:u], dz[u:2*u], dz[2*u:]
			for j := range dph {
				dph[j] = gh[j] * (1 - zg[j])
			}
			actGrad(g.act, dph, hh, dph)
			for j := range dpz {
				dpz[j] = gh[j] * (hp[j] - hh[j])
			}
			actGrad(g.ract, dpz, zg, dpz)
			for j := range dpr {
				dpr[j] = dph[j] * rh[j]
			}
			actGrad(g.ract, dpr, rg, dpr)
			copy(dzr[:2*u], dz[:2*u])
			for j := range dph {
				dzr[2*u+j] = dph[j] * rg[j]
			}
			for j := range gh {
				gh[j] *= zg[j]
			}
		case GRUResetBeforeCell:
			// The reset gate waits for ds = dph·R_hᵀ (below).
			zg, hh := z[:u], z[2*u:]
			hp := y[t*bu+bi*u : t*bu+(bi+1)*u]
			dpz, dph := dz[:u], dz[2*u:]
			for j := range dph {
				dph[j] = gh[j] * (1 - zg[j])
			}
			actGrad(g.act, dph, hh, dph)
			for j := range dpz {
				dpz[j] = gh[j] * (hp[j] - hh[j])
			}
			actGrad(g.ract, dpz, zg, dpz)
			for j := range gh {
				gh[j] *= zg[j]
			}
		}
	}
	ng := g.gates
	if g.kind == GRUResetBeforeCell {
		// With s = r⊙h₋₁⊙rm_h fed to R_h: ds = dph·R_hᵀ, the reset gate's
		// gradient ds⊙h₋₁⊙rm_h⊙σ'(r), and h₋₁'s share ds⊙rm_h⊙r.
		ng = 2
		ds := rnnScratchOf[T](&sc.d, rows*u)
		gemmSerial(false, false, rows, u, u, 1, dP[(b0*steps+idx)*gu+2*u:], steps*gu, Rt[2*u*u:], u, 0, ds, u)
		for r := 0; r < rows; r++ {
			bi := b0 + r
			if !rnnReal(g.maskAt(mask, bi, idx)) {
				continue
			}
			o := (bi*steps + idx) * gu
			rg, dpr := P[o+u:o+2*u], dP[o+u:o+2*u]
			hp := y[t*bu+bi*u : t*bu+(bi+1)*u]
			d, gh := ds[r*u:(r+1)*u], dh[r*u:(r+1)*u]
			var m []T
			if rm != nil {
				m = rm[(bi*g.gates+2)*u : (bi*g.gates+3)*u]
			}
			for j := range dpr {
				v := d[j]
				if m != nil {
					v *= m[j]
				}
				dpr[j] = v * hp[j]
				gh[j] += v * rg[j]
			}
			actGrad(g.ract, dpr, rg, dpr)
		}
	}
	rnnRecBackInto(g, dh, dRec[(b0*steps+idx)*gu:], steps*gu, rows, b0, Rt, rm, ng, &sc.e)
}

// rnnRecBackInto adds to dh (rows, u) Σ_g (dzr_g·R_gᵀ) ⊙ rm_g over the
// first ng gate blocks, dzr being rows of G·u gate-input gradients ld
// apart and Rt = Rᵀ (G·u, u); without rm, dzr·Rᵀ.
func rnnRecBackInto[T float](g *rnnGeom, dh, dzr []T, ld, rows, b0 int, Rt, rm []T, ng int, s *rnnScratch) {
	u, G := g.units, g.gates
	if rm == nil {
		gemmSerial(false, false, rows, u, ng*u, 1, dzr, ld, Rt, u, 1, dh, u)
		return
	}
	tmp := rnnScratchOf[T](s, rows*u)
	for gi := 0; gi < ng; gi++ {
		gemmSerial(false, false, rows, u, u, 1, dzr[gi*u:], ld, Rt[gi*u*u:], u, 0, tmp, u)
		for r := 0; r < rows; r++ {
			m := rm[((b0+r)*G+gi)*u : ((b0+r)*G+gi+1)*u]
			d, v := dh[r*u:(r+1)*u], tmp[r*u:(r+1)*u]
			for j := range d {
				d[j] += v[j] * m[j]
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

// rnnRecKernelGrad sets dR (u, G·u) = Σ_t Σ_g (h_{t−1} ⊙ rm_g)ᵀ·dzr_{t,g},
// one product per step (and gate block, with rm) over the whole batch:
// h_{t−1} is slot t of the sequence y, dzr_t the rows of step t of dzr
// (batch, steps, G·u). The reset-before GRU's candidate block reads its
// recurrent input s_t = r⊙h_{t−1}⊙rm_h (rh, steps × batch × u) instead.
func rnnRecKernelGrad[T float](g *rnnGeom, dR, y, dzr, rh, rm []T, s *rnnScratch) {
	b, u, G, steps := g.batch, g.units, g.gates, g.steps
	gu, bu := G*u, b*u
	ng := G
	if g.kind == GRUResetBeforeCell {
		ng = 2
	}
	for t := 0; t < steps; t++ {
		h := y[t*bu : (t+1)*bu]
		dz := dzr[g.idx(t)*gu:]
		beta := T(1)
		if t == 0 {
			beta = 0
		}
		if ng < G {
			gemm(true, false, u, u, b, 1, rh[t*bu:(t+1)*bu], u, dz[ng*u:], steps*gu, beta, dR[ng*u:], gu)
		}
		if rm == nil {
			gemm(true, false, u, ng*u, b, 1, h, u, dz, steps*gu, beta, dR, gu)
			continue
		}
		hm := rnnScratchOf[T](s, bu)
		for gi := 0; gi < ng; gi++ {
			for bi := 0; bi < b; bi++ {
				m := rm[(bi*G+gi)*u : (bi*G+gi+1)*u]
				for j := 0; j < u; j++ {
					hm[bi*u+j] = h[bi*u+j] * m[j]
				}
			}
			gemm(true, false, u, u, b, 1, hm, u, dz[gi*u:], steps*gu, beta, dR[gi*u:], gu)
		}
	}
}
