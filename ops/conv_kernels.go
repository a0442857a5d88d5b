package ops

import (
	"sync"

	kgemm "github.com/keragon/keragon/internal/gemm"
)

// Kernels of Conv2D and Conv1D. Data is row-major channel-last; the
// kernel, seen as a matrix, is (K, o) with K = kh·kw·c, rows in (a, b, c)
// order. Images are processed in chunks whose im2col matrix fits a
// scratch buffer of about colsBudget elements, so memory stays bounded
// for any batch and the buffer is reused between calls.

// colsBudget is the im2col buffer size, in elements, that a chunk of
// images aims at (2 MiB of float32): big enough for the GEMM to run at
// full speed, small enough to stay in cache on the way to it. Tests lower
// it to exercise chunking.
var colsBudget = 1 << 19

// pointwise reports whether the im2col matrix of g is the input itself:
// a 1×1 kernel, stride 1, no padding.
func (g geom) pointwise() bool {
	return g.h.k == 1 && g.w.k == 1 && g.h.stride == 1 && g.w.stride == 1 &&
		g.h.before+g.h.after+g.w.before+g.w.after == 0
}

// chunk returns how many images to process at once when each needs
// per elements of scratch.
func (g geom) chunk(per int) int {
	return max(1, min(g.n, colsBudget/max(per, 1)))
}

func convForward[T float](g geom, o int, y, x, k []T) { convForwardThen(g, o, y, x, k, nil) }

// convForwardThen is convForward calling then (when not nil) on each
// chunk of the output right after its GEMM, while it is in cache.
func convForwardThen[T float](g geom, o int, y, x, k []T, then func(chunk []T)) {
	K, P := g.h.k*g.w.k*g.c, g.outPixels()
	if g.pointwise() {
		gemm(false, false, g.n*P, o, K, 1, x, K, k, o, 0, y, o)
		if then != nil {
			then(y)
		}
		return
	}
	// Chunks bound the output too, so that then finds it in cache.
	per := g.chunk(P * max(K, o))
	buf := scratch[T](per * P * K)
	defer release(buf)
	for n0 := 0; n0 < g.n; n0 += per {
		n1 := min(n0+per, g.n)
		im2col(g, *buf, x, n0, n1)
		gemm(false, false, (n1-n0)*P, o, K, 1, *buf, K, k, o, 0, y[n0*P*o:], o)
		if then != nil {
			then(y[n0*P*o : n1*P*o])
		}
	}
}

// convGradInput sets dx to the gradient of the input: the windows'
// gradients grad·kernelᵀ, added back where they were read (col2im).
func convGradInput[T float](g geom, o int, dx, grad, k []T) {
	K, P := g.h.k*g.w.k*g.c, g.outPixels()
	if g.pointwise() {
		gemm(false, true, g.n*P, K, o, 1, grad, o, k, o, 0, dx, K)
		return
	}
	clear(dx)
	per := g.chunk(P * K)
	buf := scratch[T](per * P * K)
	defer release(buf)
	for n0 := 0; n0 < g.n; n0 += per {
		n1 := min(n0+per, g.n)
		gemm(false, true, (n1-n0)*P, K, o, 1, grad[n0*P*o:], o, k, o, 0, *buf, K)
		col2im(g, dx, *buf, n0, n1)
	}
}

// convGradKernel sets dk to the gradient of the kernel, im2col(x)ᵀ·grad,
// accumulated over the chunks.
func convGradKernel[T float](g geom, o int, dk, x, grad []T) {
	K, P := g.h.k*g.w.k*g.c, g.outPixels()
	if g.pointwise() {
		gemm(true, false, K, o, g.n*P, 1, x, K, grad, o, 0, dk, o)
		return
	}
	per := g.chunk(P * K)
	buf := scratch[T](per * P * K)
	defer release(buf)
	for n0 := 0; n0 < g.n; n0 += per {
		n1 := min(n0+per, g.n)
		im2col(g, *buf, x, n0, n1)
		var beta T
		if n0 > 0 {
			beta = 1
		}
		gemm(true, false, K, o, (n1-n0)*P, 1, *buf, K, grad[n0*P*o:], o, beta, dk, o)
	}
}

// im2col writes the windows of images [n0, n1) of x as the rows of cols:
// row (n, i, j), column (a, b, c) holds x[n, i·sh−pt+a·dh, j·sw−pl+b·dw, c],
// or 0 where that falls in the padding.
func im2col[T float](g geom, cols, x []T, n0, n1 int) {
	rows := g.outPixels() * g.h.k * g.w.k * g.c
	parallelImages(n0, n1, rows, func(lo, hi int) {
		im2colRange(g, cols[(lo-n0)*rows:], x, lo, hi)
	})
}

func im2colRange[T float](g geom, cols, x []T, n0, n1 int) {
	c, kw := g.c, g.w.k
	rowLen := g.h.k * kw * c
	img, line := g.h.in*g.w.in*c, g.w.in*c
	r := 0
	for n := n0; n < n1; n++ {
		xn := x[n*img : (n+1)*img]
		for i := range g.h.out {
			y0 := g.h.first(i)
			for j := range g.w.out {
				row := cols[r*rowLen : (r+1)*rowLen]
				r++
				x0 := g.w.first(j)
				inside := g.w.dilation == 1 && x0 >= 0 && x0+kw <= g.w.in
				for a := range g.h.k {
					seg := row[a*kw*c : (a+1)*kw*c]
					y := y0 + a*g.h.dilation
					if y < 0 || y >= g.h.in {
						clear(seg)
						continue
					}
					src := xn[y*line : (y+1)*line]
					if inside {
						copyShort(seg, src[x0*c:(x0+kw)*c])
						continue
					}
					for b := range kw {
						xx := x0 + b*g.w.dilation
						if xx < 0 || xx >= g.w.in {
							clear(seg[b*c : (b+1)*c])
						} else {
							copy(seg[b*c:(b+1)*c], src[xx*c:(xx+1)*c])
						}
					}
				}
			}
		}
	}
}

// col2im adds the rows of cols (as laid out by im2col for images
// [n0, n1)) back into dx at the positions they were read from.
func col2im[T float](g geom, dx, cols []T, n0, n1 int) {
	rows := g.outPixels() * g.h.k * g.w.k * g.c
	parallelImages(n0, n1, rows, func(lo, hi int) {
		col2imRange(g, dx, cols[(lo-n0)*rows:], lo, hi)
	})
}

func col2imRange[T float](g geom, dx, cols []T, n0, n1 int) {
	c, kw := g.c, g.w.k
	rowLen := g.h.k * kw * c
	img, line := g.h.in*g.w.in*c, g.w.in*c
	r := 0
	for n := n0; n < n1; n++ {
		dn := dx[n*img : (n+1)*img]
		for i := range g.h.out {
			y0 := g.h.first(i)
			for j := range g.w.out {
				row := cols[r*rowLen : (r+1)*rowLen]
				r++
				x0 := g.w.first(j)
				for a := range g.h.k {
					y := y0 + a*g.h.dilation
					if y < 0 || y >= g.h.in {
						continue
					}
					dst := dn[y*line : (y+1)*line]
					for b := range kw {
						xx := x0 + b*g.w.dilation
						if xx < 0 || xx >= g.w.in {
							continue
						}
						addTo(dst[xx*c:(xx+1)*c], row[(a*kw+b)*c:(a*kw+b+1)*c])
					}
				}
			}
		}
	}
}

// copyShort is copy for the short runs of im2col (a 3×3 kernel over one
// channel copies runs of 3), where calling memmove costs more than the
// copy.
func copyShort[T float](dst, src []T) {
	if len(dst) >= 16 {
		copy(dst, src)
		return
	}
	src = src[:len(dst)]
	//lint:ignore S1001 the loop is the point: copy would call memmove
	for i, v := range src {
		dst[i] = v
	}
}

// addTo sets dst += src elementwise.
func addTo[T float](dst, src []T) {
	src = src[:len(dst)]
	for i, v := range src {
		dst[i] += v
	}
}

// gemm sets c = alpha·op(a)·op(b) + beta·c for row-major matrices, op(a)
// being m×k and op(b) k×n: every product of this package goes through it
// to internal/gemm, the BLAS of this build (the one Gorgonia uses too).
func gemm[T float](transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	switch a := any(a).(type) {
	case []float32:
		kgemm.Gemm(transA, transB, m, n, k, float32(alpha), a, lda, any(b).([]float32), ldb, float32(beta), any(c).([]float32), ldc)
	case []float64:
		kgemm.Gemm(transA, transB, m, n, k, float64(alpha), a, lda, any(b).([]float64), ldb, float64(beta), any(c).([]float64), ldc)
	}
}

// gemmSerial is gemm on the calling goroutine alone, for kernels that
// split their work over the cores themselves.
func gemmSerial[T float](transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	switch a := any(a).(type) {
	case []float32:
		kgemm.Serial(transA, transB, m, n, k, float32(alpha), a, lda, any(b).([]float32), ldb, float32(beta), any(c).([]float32), ldc)
	case []float64:
		kgemm.Serial(transA, transB, m, n, k, float64(alpha), a, lda, any(b).([]float64), ldb, float64(beta), any(c).([]float64), ldc)
	}
}

// Scratch buffers, reused across calls (and safe across goroutines).
var scratch32, scratch64 sync.Pool

// scratch returns a buffer of n elements (contents undefined); give it
// back with release.
func scratch[T float](n int) *[]T {
	p := &scratch64
	if _, ok := any(T(0)).(float32); ok {
		p = &scratch32
	}
	if b, ok := p.Get().(*[]T); ok && cap(*b) >= n {
		*b = (*b)[:n]
		return b
	}
	b := make([]T, n)
	return &b
}

func release[T float](b *[]T) {
	if _, ok := any(T(0)).(float32); ok {
		scratch32.Put(b)
		return
	}
	scratch64.Put(b)
}
