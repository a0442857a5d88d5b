package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

func TestGemmBlocks(t *testing.T) {
	cases := []struct {
		m, n, k int
		split   bool
	}{
		{2, 3, 4, false},       // tiny
		{128, 512, 784, true},  // MLP forward: by columns
		{784, 512, 128, true},  // MLP kernel gradient: by rows
		{86528, 32, 9, true},   // first MNIST convolution
		{288, 64, 15488, true}, // its kernel gradient
		{17, 1000, 1000, true},
		{4000, 15, 1000, true}, // rows only: too few columns to split them
	}
	for _, c := range cases {
		byRows, cuts := gemmBlocks(c.m, c.n, c.k)
		if (cuts != nil) != c.split {
			t.Errorf("%d×%d×%d: cuts %v, want split=%v", c.m, c.n, c.k, cuts, c.split)
			continue
		}
		if cuts == nil {
			continue
		}
		size := c.n
		if byRows {
			size = c.m
		}
		if parts := len(cuts) - 1; parts&(parts-1) != 0 {
			t.Errorf("%d×%d×%d: %d blocks, not a power of two", c.m, c.n, c.k, parts)
		}
		if cuts[0] != 0 || cuts[len(cuts)-1] != size || len(cuts)-1 > gemmMaxBlocks {
			t.Errorf("%d×%d×%d: cuts %v do not cover [0, %d) in at most %d blocks", c.m, c.n, c.k, cuts, size, gemmMaxBlocks)
		}
		for i := 1; i < len(cuts); i++ {
			if cuts[i] <= cuts[i-1] || (i < len(cuts)-1 && cuts[i]%gemmAlign != 0) {
				t.Errorf("%d×%d×%d: cuts %v are not increasing multiples of %d", c.m, c.n, c.k, cuts, gemmAlign)
			}
		}
	}
}

// TestParallelBLASIgnoresGOMAXPROCS multiplies with every transpose and
// shapes that split by rows and by columns: the blocks give the unsplit
// product (to rounding), bitwise the same whatever GOMAXPROCS.
func TestParallelBLASIgnoresGOMAXPROCS(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	rng := rand.New(rand.NewPCG(1, 2))
	p := ParallelBLAS{gonum.Implementation{}}
	for _, s := range [][3]int{{300, 40, 400}, {40, 300, 400}, {3, 5, 7}} {
		m, n, k := s[0], s[1], s[2]
		for _, tr := range [][2]blas.Transpose{{blas.NoTrans, blas.NoTrans}, {blas.Trans, blas.NoTrans}, {blas.NoTrans, blas.Trans}, {blas.Trans, blas.Trans}} {
			name := fmt.Sprintf("%d×%d×%d %c%c", m, n, k, tr[0], tr[1])
			a, b := make([]float64, m*k), make([]float64, k*n)
			for i := range a {
				a[i] = rng.NormFloat64()
			}
			for i := range b {
				b[i] = rng.NormFloat64()
			}
			lda, ldb := k, n
			if tr[0] == blas.Trans {
				lda = m
			}
			if tr[1] == blas.Trans {
				ldb = k
			}
			want := make([]float64, m*n)
			gonum.Implementation{}.Dgemm(tr[0], tr[1], m, n, k, 1, a, lda, b, ldb, 0, want, n)
			var first []float32
			for _, procs := range []int{1, 2, 5} {
				runtime.GOMAXPROCS(procs)
				got := make([]float64, m*n)
				p.Dgemm(tr[0], tr[1], m, n, k, 1, a, lda, b, ldb, 0, got, n)
				for i := range want {
					if math.Abs(got[i]-want[i]) > 1e-10*(1+math.Abs(want[i])) {
						t.Fatalf("%s: Dgemm value %d is %v, want %v", name, i, got[i], want[i])
					}
				}
				a32, b32 := to32(a), to32(b)
				got32 := make([]float32, m*n)
				p.Sgemm(tr[0], tr[1], m, n, k, 1, a32, lda, b32, ldb, 0, got32, n)
				if first == nil {
					first = got32
					continue
				}
				for i := range first {
					if math.Float32bits(got32[i]) != math.Float32bits(first[i]) {
						t.Fatalf("%s: GOMAXPROCS=%d changes Sgemm value %d: %v, want %v", name, procs, i, got32[i], first[i])
					}
				}
			}
		}
	}
}

func to32(x []float64) []float32 {
	y := make([]float32, len(x))
	for i, v := range x {
		y[i] = float32(v)
	}
	return y
}
