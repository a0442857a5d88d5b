// Package sgemm is a float32 matrix product in Go with AVX2/FMA and
// AVX-512 assembly kernels, for machines without a C BLAS: on the shapes
// of neural networks it runs at OpenBLAS's speed or better, many times
// gonum's pure-Go Sgemm.
//
// It is the BLIS scheme: B is packed by blocks of kc×nc into panels of nr
// columns when transposed (else read in place), A is packed by blocks of
// mc×kc (or read in place), and an h×nr kernel (h up
// to mr: 12×32 with AVX-512, 6×16 with AVX2) accumulates a tile over kc
// in registers and writes it into C. Each element of C sums its products
// in order, by blocks of kc, whatever the tile, the kernel or the core it
// falls to, so a product cut into row or column blocks gives the same bits
// as uncut, and the split over cores does not change a bit.
package sgemm

//go:generate go run gen_kernels.go

import (
	"math"
	"runtime"
	"sync"

	"github.com/keragon/keragon/internal/team"
)

// The kernel's tile is mr×nr: 12×32 with AVX-512, 6×16 with AVX2; kerns
// are the kernels by A layout (0: packed by columns, 1: read by rows) and
// by row count h ≤ mr; masked kernels store partial tiles themselves.
var (
	mr, nr               = tileFor()
	kerns, wides, masked = kernelsFor(nr)
)

const (
	kc = 256  // depth of a block: a panel of B is 16 or 32 KiB
	nc = 4096 // columns of a block of B, a multiple of nr
)

// mc is the number of rows of a block of A, a multiple of mr: 384×256
// floats, 384 KiB, stay in L2 while the panels of B go by.
var mc = 32 * mr

// Available reports whether this processor runs the kernels (AVX2 and FMA
// on amd64); without them Sgemm does nothing and returns false.
var Available = haveFMA()

// wideFunc is a wide kernel's: kernFunc over four full panels of B at
// once (4·nr columns), for at most a few rows of A read by rows; wides
// holds them by row count.
type wideFunc func(kc int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32, load int)

// kernFunc is the signature of the generated kernels (gen_kernels.go):
// c[0:h][0:nr] = alpha·acc (+ beta·c when load ≠ 0), acc = Σₚ a ⊗ b over kc
// steps; b advances ldb floats a step; A is packed by columns (mr floats a
// step) or read by rows lda floats apart; m1 and m2 mask the columns of a
// partial tile (AVX-512 only).
type kernFunc func(kc int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32, load int, m1, m2 uint16)

// Tuning, by the shape of the block a goroutine computes:
//
//   - B is read in place (not packed) when it is not transposed and at
//     most directBRows rows of A will go over each of its panels. On the
//     AMD EPYC (Zen 5, AVX-512) this was tuned on, reading in place beat
//     packing for every shape measured (the MNIST MLP's products by a
//     fifth, 1024³ a little: L2 feeds the kernel's two B loads per step
//     fast enough, and packing cost a pass over B per product), so there
//     is no limit with the AVX-512 kernels. On an AVX2-only EPYC (Zen 3)
//     a tall product lost to packing (1024³ on one core: 43 against 53
//     GFLOP per CPU second, median of 5 interleaved runs), while products
//     of up to 128 rows (the MLP's and LSTM's at batch 128, batch-1
//     inference) still ran faster read in place: with the AVX2 kernels B
//     is packed above 256 rows;
//   - A (not transposed) is read in place when its block is reused by at
//     most directAPanels panels of B, else copied, so that the rows of a
//     block, lda apart, do not fight over the same sets of the L2 cache;
//     a transposed A, whose steps are contiguous columns, is read in place
//     by at most directATPanels panels: always, as measured (the MLP's
//     kernel gradient 175 → 190 GFLOP per CPU second);
//   - a product is split over goroutines when each gets at least
//     minFlopsPerThread floating-point operations: half a million (a few
//     microseconds) since a piece reaches a spinning helper of package
//     team in about a microsecond (the MLP's output layer, 128×10×512,
//     now split; MNIST MLP inference +8%, its epoch −8%, medians of 6
//     interleaved runs on an AVX2 EPYC; it was 2 million when each split
//     started goroutines).
var (
	directBRows       = directBRowsFor(nr)
	directAPanels     = 4
	directATPanels    = math.MaxInt
	minFlopsPerThread = 1 << 19
)

// directBRowsFor returns directBRows for the kernels of an nr-wide tile.
func directBRowsFor(nr int) int {
	if nr == 32 {
		return math.MaxInt
	}
	return 256
}

// buffers holds the packing space of one goroutine.
type buffers struct{ a, b, tile []float32 }

var pool = sync.Pool{New: func() any {
	return &buffers{a: make([]float32, mc*kc), b: make([]float32, kc*nc), tile: make([]float32, mr*nr)}
}}

// product is one call's arguments.
type product struct {
	transA, transB bool
	m, n, k        int
	alpha, beta    float32
	a, b, c        []float32
	lda, ldb, ldc  int
}

// Sgemm sets c = alpha·op(a)·op(b) + beta·c for row-major matrices, op(a)
// m×k and op(b) k×n (op transposes when the flag says so; lda, ldb and
// ldc are the row strides as stored), and returns true; it returns false
// and does nothing when the kernels are not Available. With beta = 0, c is
// not read (NaNs in it are overwritten). Large products are split over up
// to GOMAXPROCS goroutines, the caller's and idle helpers of package team
// (none when other callers keep them busy); the result does not depend on
// their number.
// It panics when a slice is too short for its matrix.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) bool {
	return SgemmThreads(0, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// SgemmThreads is Sgemm on at most threads goroutines (0: GOMAXPROCS).
func SgemmThreads(threads int, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) bool {
	if !Available {
		return false
	}
	if m < 0 || n < 0 || k < 0 {
		panic("sgemm: negative dimension")
	}
	if m == 0 || n == 0 {
		return true
	}
	checkMatrix("c", c, m, n, ldc)
	if k == 0 || alpha == 0 {
		scaleC(m, n, beta, c, ldc)
		return true
	}
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	checkMatrix("a", a, ar, ac, lda)
	checkMatrix("b", b, br, bc, ldb)
	p := &product{transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, beta: beta,
		a: a, b: b, c: c, lda: lda, ldb: ldb, ldc: ldc}
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	p.run(min(threads, max(1, 2*m*n*k/minFlopsPerThread)))
	return true
}

// checkMatrix panics unless s holds a rows×cols matrix of row stride ld.
func checkMatrix(name string, s []float32, rows, cols, ld int) {
	if ld < max(cols, 1) || len(s) < (rows-1)*ld+cols {
		panic("sgemm: " + name + " is too short or its stride too small")
	}
}

// run computes the product on up to threads goroutines (the caller and
// idle helpers of package team), each a block of rows or of columns of c,
// whichever shares the work out better.
func (p *product) run(threads int) {
	if threads <= 1 {
		p.block(0, p.m, 0, p.n)
		return
	}
	mp, np := (p.m+mr-1)/mr, (p.n+nr-1)/nr
	byRows := splitByRows(p.m, p.n, mp, np, threads, p.transB)
	panels, unit, size := np, nr, p.n
	if byRows {
		panels, unit, size = mp, mr, p.m
	}
	threads = min(threads, panels)
	if threads <= 1 {
		p.block(0, p.m, 0, p.n)
		return
	}
	part := func(i int) (int, int) {
		lo, hi := panels*i/threads*unit, min(size, panels*(i+1)/threads*unit)
		return lo, hi - lo
	}
	team.Run(threads, threads, func(i int) {
		lo, n := part(i)
		if byRows {
			p.block(lo, n, 0, p.n)
		} else {
			p.block(0, p.m, lo, n)
		}
	})
}

// splitByRows reports whether threads should take blocks of rows rather
// than of columns: the busiest one's work, in multiply-adds per step of
// k, plus the packing each repeats (all of A when split by columns, all of
// B by rows; a transposed B costs more to pack) is compared.
func splitByRows(m, n, mp, np, threads int, transB bool) bool {
	const packA, packB, packBT = 2, 2, 8 // relative cost of packing an element
	pb := packB
	if transB {
		pb = packBT
	}
	cols := (np+threads-1)/threads*nr*m + packA*m
	rows := (mp+threads-1)/threads*mr*n + pb*n
	return rows < cols
}

// block computes rows [i0, i0+m) and columns [j0, j0+n) of the product on
// this goroutine.
func (p *product) block(i0, m, j0, n int) {
	buf := pool.Get().(*buffers)
	defer pool.Put(buf)
	directB := !p.transB && m <= directBRows
	for jb := 0; jb < n; jb += nc {
		nb := min(nc, n-jb)
		col := j0 + jb
		for p0 := 0; p0 < p.k; p0 += kc {
			kb := min(kc, p.k-p0)
			switch {
			case !directB:
				packB(buf.b, p.b, p.ldb, p.transB, p0, kb, col, nb)
			case nb%nr != 0:
				// The last, partial panel is packed (padded with zeros).
				last := nb / nr * nr
				packB(buf.b[last*kb:], p.b, p.ldb, false, p0, kb, col+last, nb-last)
			}
			// The first block of k applies beta, the others add.
			load, beta := 1, float32(1)
			if p0 == 0 {
				beta = p.beta
				if beta == 0 {
					load = 0
				}
			}
			for ib := 0; ib < m; ib += mc {
				hb := min(mc, m-ib)
				row := i0 + ib
				layout, directA := 1, false
				switch {
				case p.transA && (nb+nr-1)/nr <= directATPanels:
					layout, directA = 0, true
				case p.transA:
					layout = 0
					packAColumns(buf.a, p.a, p.lda, p0, kb, row, hb)
				case (nb+nr-1)/nr <= directAPanels:
					directA = true
				default:
					packARows(buf.a, p.a, p.lda, p0, kb, row, hb)
				}
				for jr := 0; jr < nb; jr += nr {
					if directB && hb < len(wides) && layout == 1 && jr+4*nr <= nb {
						// Very few rows: four panels at a time.
						ap, as := &buf.a[0], kb
						if directA {
							ap, as = &p.a[row*p.lda+p0], p.lda
						}
						wides[hb](kb, ap, as, &p.b[p0*p.ldb+col+jr], p.ldb, &p.c[row*p.ldc+col+jr], p.ldc, p.alpha, beta, load)
						jr += 3 * nr
						continue
					}
					w := min(nr, nb-jr)
					bp, bs := &buf.b[jr*kb], nr
					if directB && w == nr {
						bp, bs = &p.b[p0*p.ldb+col+jr], p.ldb
					}
					m1, m2 := masks(w)
					for ir := 0; ir < hb; ir += mr {
						h := min(mr, hb-ir)
						ap, as := &buf.a[ir*kb], kb
						switch {
						case directA && layout == 0:
							ap, as = &p.a[p0*p.lda+row+ir], p.lda
						case directA:
							ap, as = &p.a[(row+ir)*p.lda+p0], p.lda
						case layout == 0:
							as = mr
						}
						kern := kerns[layout][h]
						ci := (row+ir)*p.ldc + col + jr
						if w == nr || masked {
							kern(kb, ap, as, bp, bs, &p.c[ci], p.ldc, p.alpha, beta, load, m1, m2)
							continue
						}
						kern(kb, ap, as, bp, bs, &buf.tile[0], nr, 1, 0, 0, 0xffff, 0xffff)
						addTile(p.c[ci:], p.ldc, h, w, buf.tile, p.alpha, beta, load != 0)
					}
				}
			}
		}
	}
}

// masks returns the column masks of a tile w columns wide, for the two
// halves of 16 of an AVX-512 tile.
func masks(w int) (uint16, uint16) {
	return uint16(1<<min(w, 16) - 1), uint16(1<<max(w-16, 0) - 1)
}

// packB copies op(b)[p0:p0+kb, j0:j0+nb] into panels of nr columns, each
// kb×nr row-major, padding the last with zeros.
func packB(dst, b []float32, ldb int, trans bool, p0, kb, j0, nb int) {
	if !trans {
		packBRows(dst, b, ldb, p0, kb, j0, nb)
		return
	}
	for jr := 0; jr < nb; jr += nr {
		panel := dst[jr*kb : (jr+nr)*kb]
		w := min(nr, nb-jr)
		// op(b) = bᵀ: column j of the panel is row j0+jr+j of b. Eight
		// rows are read side by side, so that each step writes eight
		// adjacent floats.
		j := 0
		for ; j+8 <= w; j += 8 {
			r := b[(j0+jr+j)*ldb+p0:]
			r0, r1, r2, r3 := r[:kb], r[ldb:][:kb], r[2*ldb:][:kb], r[3*ldb:][:kb]
			r4, r5, r6, r7 := r[4*ldb:][:kb], r[5*ldb:][:kb], r[6*ldb:][:kb], r[7*ldb:][:kb]
			for p := range kb {
				d := panel[p*nr+j:][:8]
				d[0], d[1], d[2], d[3] = r0[p], r1[p], r2[p], r3[p]
				d[4], d[5], d[6], d[7] = r4[p], r5[p], r6[p], r7[p]
			}
		}
		for ; j < w; j++ {
			src := b[(j0+jr+j)*ldb+p0:][:kb]
			for p, v := range src {
				panel[p*nr+j] = v
			}
		}
		if w < nr {
			for p := range kb {
				clear(panel[p*nr+w : (p+1)*nr])
			}
		}
	}
}

// packBRows is packB for b not transposed. It goes down the rows of b,
// each read from start to end and dealt out to the panels, 16 floats at
// a time: read panel by panel, every line came from another row (ldb
// floats on, another page when ldb is a large power of two), which no
// prefetcher follows (1024³ on an AVX2 EPYC: packing took 10% of the
// product, 1.2 GB/s).
func packBRows(dst, b []float32, ldb int, p0, kb, j0, nb int) {
	full := nb / nr * nr
	for p := range kb {
		src := b[(p0+p)*ldb+j0:][:nb]
		d := dst[p*nr:]
		for jr := 0; jr < full; jr += 16 {
			// Row p of panel jr/nr, its half jr%nr.
			*(*[16]float32)(d[jr/nr*nr*kb+jr%nr:]) = *(*[16]float32)(src[jr:])
		}
		if full < nb {
			row := d[full*kb:][:nr]
			copy(row, src[full:])
			clear(row[nb-full:])
		}
	}
}

// packAColumns copies op(a)[i0:i0+ib, p0:p0+kb] for a transposed a (op(a)
// = aᵀ, so each step's column is contiguous in a) into panels of mr rows,
// each kb×mr (k-major); rows past ib are not read by the kernels.
func packAColumns(dst, a []float32, lda, p0, kb, i0, ib int) {
	for ir := 0; ir < ib; ir += mr {
		panel := dst[ir*kb : (ir+mr)*kb]
		h := min(mr, ib-ir)
		for p := range kb {
			copy(panel[p*mr:p*mr+h], a[(p0+p)*lda+i0+ir:][:h])
		}
	}
}

// packARows copies a[i0:i0+ib, p0:p0+kb] (not transposed) row by row, kb
// floats apart: the kernels read a panel's rows at a stride.
func packARows(dst, a []float32, lda, p0, kb, i0, ib int) {
	for i := range ib {
		copy(dst[i*kb:(i+1)*kb], a[(i0+i)*lda+p0:][:kb])
	}
}

// addTile writes the h×w corner of a tile into c: c = alpha·tile +
// beta·c when load (else alpha·tile, c unread), rounding as the kernels
// do. Only the AVX2 kernels, which cannot mask a partial tile, need it.
func addTile(c []float32, ldc, h, w int, tile []float32, alpha, beta float32, load bool) {
	for r := range h {
		dst := c[r*ldc:][:w]
		src := tile[r*nr:][:w]
		if !load {
			for q, v := range src {
				dst[q] = alpha * v
			}
			continue
		}
		for q, v := range src {
			// Conversions keep the products and the sum rounded apart.
			dst[q] = float32(alpha*v) + float32(beta*dst[q])
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
