package ops

// Kernels of the pooling ops on channel-last data: for each output pixel
// p (row-major over batch, height, width) the taps inside the input are
// visited in row-major window order, and each tap is a contiguous run of
// c channels.

// eachWindow visits every output pixel p with the offsets, within its
// image, of its taps that lie inside the input (in window order) and the
// image's offset in x. Images are split among the cores: newVisitor is
// called once per part, so that each has its own scratch space.
func eachWindow(g geom, newVisitor func() func(p, img int, taps []int)) {
	parallelImages(0, g.n, g.h.in*g.w.in*g.c, func(lo, hi int) {
		windowsOf(g, lo, hi, newVisitor())
	})
}

func windowsOf(g geom, n0, n1 int, f func(p, img int, taps []int)) {
	taps := make([]int, 0, g.h.k*g.w.k)
	size := g.h.in * g.w.in * g.c
	p := n0 * g.outPixels()
	for n := n0; n < n1; n++ {
		for i := range g.h.out {
			a0, a1 := g.h.taps(i)
			for j := range g.w.out {
				b0, b1 := g.w.taps(j)
				taps = taps[:0]
				for a := a0; a < a1; a++ {
					y := g.h.first(i) + a*g.h.dilation
					for b := b0; b < b1; b++ {
						taps = append(taps, (y*g.w.in+g.w.first(j)+b*g.w.dilation)*g.c)
					}
				}
				f(p, n*size, taps)
				p++
			}
		}
	}
}

// maxPool sets y to the maximum of each window. NaN wins, as in
// TensorFlow and PyTorch (Go's max propagates it).
func maxPool[T float](g geom, y, x []T) {
	c := g.c
	eachWindow(g, func() func(p, img int, taps []int) {
		return func(p, img int, taps []int) {
			yp := y[p*c : (p+1)*c]
			copy(yp, x[img+taps[0]:][:c])
			for _, t := range taps[1:] {
				xs := x[img+t:][:len(yp)]
				for ch, v := range xs {
					yp[ch] = max(yp[ch], v)
				}
			}
		}
	})
}

// maxPoolGrad sets dx: each window's gradient goes to its maximum, the
// first one in window order on ties. The loop is written so that the
// compiler can select the index without a branch: on random data the
// comparison is unpredictable.
func maxPoolGrad[T float](g geom, dx, x, grad []T) {
	c := g.c
	clear(dx)
	eachWindow(g, func() func(p, img int, taps []int) {
		best := make([]T, c)
		at := make([]int, c)
		return func(p, img int, taps []int) {
			off := img + taps[0]
			copy(best, x[off:][:c])
			for ch := range at {
				at[ch] = off + ch
			}
			for _, t := range taps[1:] {
				off := img + t
				xs := x[off:][:len(best)]
				at := at[:len(xs)]
				for ch, v := range xs {
					b, a := best[ch], at[ch]
					if v > b {
						a = off + ch
					}
					best[ch], at[ch] = max(b, v), a
				}
			}
			for ch, gv := range grad[p*c : (p+1)*c] {
				dx[at[ch]] += gv
			}
		}
	})
}

// avgPool sets y to the mean of each window's entries inside x.
func avgPool[T float](g geom, y, x []T) {
	c := g.c
	eachWindow(g, func() func(p, img int, taps []int) {
		return func(p, img int, taps []int) {
			yp := y[p*c : (p+1)*c]
			copy(yp, x[img+taps[0]:][:c])
			for _, t := range taps[1:] {
				addTo(yp, x[img+t:][:c])
			}
			inv := 1 / T(len(taps))
			for ch := range yp {
				yp[ch] *= inv
			}
		}
	})
}

// avgPoolGrad sets dx: each window's gradient is shared equally among its
// entries inside x.
func avgPoolGrad[T float](g geom, dx, grad []T) {
	c := g.c
	clear(dx)
	eachWindow(g, func() func(p, img int, taps []int) {
		return func(p, img int, taps []int) {
			gp := grad[p*c : (p+1)*c]
			inv := 1 / T(len(taps))
			for _, t := range taps {
				d := dx[img+t:][:c]
				for ch, v := range gp {
					d[ch] += v * inv
				}
			}
		}
	})
}
