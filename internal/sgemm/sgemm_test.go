package sgemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// TestSgemmMatchesGonum compares with gonum's Dgemm on the same float32
// inputs (the reference computed in float64), for every transpose, edge
// sizes around the tile and block sizes, strides wider than the rows,
// alpha and beta, and NaNs in c when beta is 0.
func TestSgemmMatchesGonum(t *testing.T) { inTiles(t, testSgemmMatchesGonum) }

// inTiles runs f with each kernel this machine has: 6×16 (AVX2) and, with
// AVX-512, 12×32.
func inTiles(t *testing.T, f func(t *testing.T)) {
	if !Available {
		t.Skip("no AVX2/FMA on this machine")
	}
	tiles := [][2]int{{6, 16}}
	if nr == 32 {
		tiles = append(tiles, [2]int{12, 32})
	}
	for _, tile := range tiles {
		t.Run(fmt.Sprintf("%dx%d", tile[0], tile[1]), func(t *testing.T) {
			defer func(r, c, m int, k [2][]kernFunc, wk []wideFunc, masks bool) {
				mr, nr, mc, kerns, wides, masked = r, c, m, k, wk, masks
				pool = sync.Pool{New: pool.New}
			}(mr, nr, mc, kerns, wides, masked)
			mr, nr, mc = tile[0], tile[1], 32*tile[0]
			kerns, wides, masked = kernelsFor(nr)
			pool = sync.Pool{New: pool.New}
			f(t)
		})
	}
}

func testSgemmMatchesGonum(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	sizes := [][3]int{{1, 1, 1}, {6, 16, 1}, {7, 17, 3}, {5, 15, 257}, {13, 33, 256}, {97, 40, 300},
		{70, 130, 520}, {300, 4100, 2}, {2, 3, 600}}
	for _, s := range sizes {
		m, n, k := s[0], s[1], s[2]
		for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
			for _, ab := range [][2]float32{{1, 0}, {1, 1}, {-0.5, 2}} {
				name := fmt.Sprintf("%dx%dx%d trans=%v alpha,beta=%v", m, n, k, tr, ab)
				pad := 3 // leading dimensions wider than the rows
				ar, ac := m, k
				if tr[0] {
					ar, ac = k, m
				}
				br, bc := k, n
				if tr[1] {
					br, bc = n, k
				}
				lda, ldb, ldc := ac+pad, bc+pad, n+pad
				a, b := random(rng, ar*lda), random(rng, br*ldb)
				c := random(rng, m*ldc)
				if ab[1] == 0 {
					for i := range c {
						c[i] = float32(math.NaN())
					}
				}
				want := reference(tr, m, n, k, ab[0], a, lda, b, ldb, ab[1], c, ldc)
				if !Sgemm(tr[0], tr[1], m, n, k, ab[0], a, lda, b, ldb, ab[1], c, ldc) {
					t.Fatal("Sgemm refused")
				}
				for i := range m {
					for j := range n {
						got, w := float64(c[i*ldc+j]), want[i*n+j]
						if math.Abs(got-w) > 1e-5*(1+math.Abs(w))*math.Sqrt(float64(k)) {
							t.Fatalf("%s: c[%d][%d] = %v, want %v", name, i, j, got, w)
						}
					}
					for j := n; j < ldc && i < m-1; j++ {
						if ab[1] == 0 && !math.IsNaN(float64(c[i*ldc+j])) {
							t.Fatalf("%s: padding c[%d][%d] was written", name, i, j)
						}
					}
				}
			}
		}
	}
}

// TestSgemmPathsAgree: reading A and B in place or packed, and splitting
// over any number of goroutines by rows or by columns, give bitwise the
// same product.
func TestSgemmPathsAgree(t *testing.T) { inTiles(t, testSgemmPathsAgree) }

func testSgemmPathsAgree(t *testing.T) {
	defer func(b, a, at, f int, procs int) {
		directBRows, directAPanels, directATPanels, minFlopsPerThread = b, a, at, f
		runtime.GOMAXPROCS(procs)
	}(directBRows, directAPanels, directATPanels, minFlopsPerThread, runtime.GOMAXPROCS(0))
	rng := rand.New(rand.NewPCG(5, 6))
	for _, s := range [][3]int{{50, 70, 600}, {130, 45, 300}, {7, 300, 40}, {1, 33, 5}, {1, 300, 70}, {3, 290, 300}, {2, 140, 9}} {
		m, n, k := s[0], s[1], s[2]
		for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
			lda, ldb := k+1, n+2
			if tr[0] {
				lda = m + 1
			}
			if tr[1] {
				ldb = k + 2
			}
			a, b := random(rng, max(m, k)*lda), random(rng, max(n, k)*ldb)
			var first []float32
			c0 := random(rng, m*n)
			for i, v := range []struct{ directB, directA, flops, procs int }{
				{0, 0, 1 << 40, 1},             // everything packed, one goroutine
				{1 << 20, 1 << 20, 1 << 40, 1}, // everything in place
				{0, 1 << 20, 1, 2},
				{1 << 20, 0, 1, 3},
				{directBRows, directAPanels, 1, 4},
			} {
				directBRows, directAPanels, directATPanels, minFlopsPerThread = v.directB, v.directA, v.directA, v.flops
				runtime.GOMAXPROCS(v.procs)
				c := append([]float32(nil), c0...)
				Sgemm(tr[0], tr[1], m, n, k, 1.5, a, lda, b, ldb, 0.5, c, n)
				if i == 0 {
					first = c
					continue
				}
				for j := range c {
					if math.Float32bits(c[j]) != math.Float32bits(first[j]) {
						t.Fatalf("%dx%dx%d trans=%v, variant %d: c[%d] = %v, want %v", m, n, k, tr, i, j, c[j], first[j])
					}
				}
			}
		}
	}
}

// TestSgemmBlocksAgree: the rows and the columns of a product computed
// apart are bitwise those computed together.
func TestSgemmBlocksAgree(t *testing.T) { inTiles(t, testSgemmBlocksAgree) }

func testSgemmBlocksAgree(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	m, n, k := 50, 70, 600
	a, b := random(rng, m*k), random(rng, k*n)
	whole := make([]float32, m*n)
	Sgemm(false, false, m, n, k, 1, a, k, b, n, 0, whole, n)
	parts := make([]float32, m*n)
	Sgemm(false, false, 23, n, k, 1, a, k, b, n, 0, parts, n)
	Sgemm(false, false, m-23, 31, k, 1, a[23*k:], k, b, n, 0, parts[23*n:], n)
	Sgemm(false, false, m-23, n-31, k, 1, a[23*k:], k, b[31:], n, 0, parts[23*n+31:], n)
	for i := range whole {
		if math.Float32bits(whole[i]) != math.Float32bits(parts[i]) {
			t.Fatalf("element %d: %v apart, %v together", i, parts[i], whole[i])
		}
	}
}

func random(rng *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	return x
}

// reference is alpha·op(a)·op(b) + beta·c in float64 by gonum.
func reference(tr [2]bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) []float64 {
	ta, tb := blas.NoTrans, blas.NoTrans
	if tr[0] {
		ta = blas.Trans
	}
	if tr[1] {
		tb = blas.Trans
	}
	c64 := make([]float64, m*n)
	for i := range m {
		for j := range n {
			if beta != 0 {
				c64[i*n+j] = float64(c[i*ldc+j])
			}
		}
	}
	gonum.Implementation{}.Dgemm(ta, tb, m, n, k, float64(alpha), to64(a), lda, to64(b), ldb, float64(beta), c64, n)
	return c64
}

func to64(x []float32) []float64 {
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = float64(v)
	}
	return y
}
