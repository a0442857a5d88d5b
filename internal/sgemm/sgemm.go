// Package sgemm is a float32 matrix product in Go with an AVX2/FMA
// assembly kernel, for machines without a C BLAS: several times faster
// than gonum's pure-Go Sgemm on the shapes of neural networks.
//
// It is the BLIS scheme: B is packed by blocks of kc×nc into panels of nr
// columns, A by blocks of mc×kc into panels of mr rows, and an mr×nr
// kernel (12×32 with AVX-512, 6×16 with AVX2) accumulates a tile over kc
// in registers. Each element of C sums its products in order, by blocks of
// kc, whatever the tile it falls in, so a product cut into row or column
// blocks gives the same bits as uncut.
package sgemm

import "sync"

// The kernel's tile is mr×nr: 12×32 with AVX-512, 6×16 with AVX2.
var mr, nr = tileFor()

const (
	kc = 256  // depth of a block: a panel of B is 16 or 32 KiB
	nc = 4096 // columns of a block of B, a multiple of nr
)

// mc is the number of rows of a block of A, a multiple of mr: 384×256
// floats, 384 KiB, stay in L2 while the panels of B go by.
var mc = 32 * mr

// Available reports whether this processor runs the kernel (AVX2 and FMA
// on amd64); without it Sgemm does nothing and returns false.
var Available = haveFMA()

// buffers holds the packing space of one call.
type buffers struct{ a, b, tile []float32 }

var pool = sync.Pool{New: func() any {
	return &buffers{a: make([]float32, mc*kc), b: make([]float32, kc*nc), tile: make([]float32, mr*nr)}
}}

// Sgemm sets c = alpha·op(a)·op(b) + beta·c for row-major matrices, op(a)
// m×k and op(b) k×n (op transposes when the flag says so; lda, ldb and
// ldc are the row strides as stored), and returns true; it returns false
// and does nothing when the kernel is not Available. With beta = 0, c is
// not read (NaNs in it are overwritten).
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) bool {
	if !Available {
		return false
	}
	if m == 0 || n == 0 {
		return true
	}
	if k == 0 || alpha == 0 {
		scaleC(m, n, beta, c, ldc)
		return true
	}
	buf := pool.Get().(*buffers)
	defer pool.Put(buf)
	for j0 := 0; j0 < n; j0 += nc {
		nb := min(nc, n-j0)
		for p0 := 0; p0 < k; p0 += kc {
			kb := min(kc, k-p0)
			packB(buf.b, b, ldb, transB, p0, kb, j0, nb)
			for i0 := 0; i0 < m; i0 += mc {
				ib := min(mc, m-i0)
				packA(buf.a, a, lda, transA, i0, ib, p0, kb)
				for jr := 0; jr < nb; jr += nr {
					bp := buf.b[jr*kb : (jr+nr)*kb]
					for ir := 0; ir < ib; ir += mr {
						kernel(kb, buf.a[ir*kb:(ir+mr)*kb], bp, buf.tile)
						// The first block of k applies beta, the others add.
						addTile(c, ldc, i0+ir, j0+jr, min(mr, ib-ir), min(nr, nb-jr), buf.tile, alpha, beta, p0 == 0)
					}
				}
			}
		}
	}
	return true
}

// packB copies op(b)[p0:p0+kb, j0:j0+nb] into panels of nr columns, each
// kb×nr row-major, padding the last with zeros.
func packB(dst, b []float32, ldb int, trans bool, p0, kb, j0, nb int) {
	for jr := 0; jr < nb; jr += nr {
		panel := dst[jr*kb : (jr+nr)*kb]
		w := min(nr, nb-jr)
		for p := range kb {
			row := panel[p*nr : (p+1)*nr]
			if !trans {
				src := b[(p0+p)*ldb+j0+jr:][:w]
				copy(row, src)
			} else {
				for j := range w {
					row[j] = b[(j0+jr+j)*ldb+p0+p]
				}
			}
			clear(row[w:])
		}
	}
}

// packA copies op(a)[i0:i0+ib, p0:p0+kb] into panels of mr rows, each
// kb×mr (k-major), padding the last with zeros.
func packA(dst, a []float32, lda int, trans bool, i0, ib, p0, kb int) {
	for ir := 0; ir < ib; ir += mr {
		panel := dst[ir*kb : (ir+mr)*kb]
		h := min(mr, ib-ir)
		if trans {
			for p := range kb {
				col := panel[p*mr : (p+1)*mr]
				copy(col, a[(p0+p)*lda+i0+ir:][:h])
				clear(col[h:])
			}
			continue
		}
		for i := range mr {
			if i >= h {
				for p := range kb {
					panel[p*mr+i] = 0
				}
				continue
			}
			src := a[(i0+ir+i)*lda+p0:][:kb]
			for p, v := range src {
				panel[p*mr+i] = v
			}
		}
	}
}

// addTile writes the h×w corner of a tile into c at (i, j): c =
// alpha·tile + beta·c when first (c unread if beta is 0), else c +=
// alpha·tile.
func addTile(c []float32, ldc, i, j, h, w int, tile []float32, alpha, beta float32, first bool) {
	for r := range h {
		dst := c[(i+r)*ldc+j:][:w]
		src := tile[r*nr:][:w]
		switch {
		case !first:
			for q, v := range src {
				dst[q] += alpha * v
			}
		case beta == 0:
			for q, v := range src {
				dst[q] = alpha * v
			}
		default:
			for q, v := range src {
				dst[q] = alpha*v + beta*dst[q]
			}
		}
	}
}

// scaleC sets c = beta·c (zero when beta is 0, NaNs included).
func scaleC(m, n int, beta float32, c []float32, ldc int) {
	for i := range m {
		row := c[i*ldc:][:n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}
