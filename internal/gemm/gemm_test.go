package gemm

import (
	"math"
	"testing"

	"gorgonia.org/gorgonia"
)

// TestGorgoniaUsesThisBLAS: importing this package (as ops does, without
// graph) gives Gorgonia the same BLAS as Keragon's kernels.
func TestGorgoniaUsesThisBLAS(t *testing.T) {
	if impl == nil {
		t.Fatal("no BLAS chosen")
	}
	if gorgonia.WhichBLAS() != impl {
		t.Errorf("gorgonia.WhichBLAS() = %T, want this build's %T (%s)", gorgonia.WhichBLAS(), impl, Name)
	}
}

// TestGemm checks Gemm and Serial, both element types and the transposes
// against sums done by hand: a (2×3) times b (3×2), alpha 2, beta 0.5.
func TestGemm(t *testing.T) {
	testGemm(t, "Gemm", Gemm[float64], Gemm[float32])
	testGemm(t, "Serial", Serial[float64], Serial[float32])
}

func testGemm(t *testing.T, name string,
	g64 func(bool, bool, int, int, int, float64, []float64, int, []float64, int, float64, []float64, int),
	g32 func(bool, bool, int, int, int, float32, []float32, int, []float32, int, float32, []float32, int)) {
	a := []float64{1, 2, 3, 4, 5, 6}
	b := []float64{7, 8, 9, 10, 11, 12}
	// a·b = [[58 64] [139 154]]; 2·a·b + 0.5·1 below.
	want := []float64{116.5, 128.5, 278.5, 308.5}
	for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
		at, lda := a, 3
		if tr[0] {
			at, lda = []float64{1, 4, 2, 5, 3, 6}, 2
		}
		bt, ldb := b, 2
		if tr[1] {
			bt, ldb = []float64{7, 9, 11, 8, 10, 12}, 3
		}
		c64 := []float64{1, 1, 1, 1}
		g64(tr[0], tr[1], 2, 2, 3, 2, at, lda, bt, ldb, 0.5, c64, 2)
		c32 := []float32{1, 1, 1, 1}
		g32(tr[0], tr[1], 2, 2, 3, 2, to32(at), lda, to32(bt), ldb, 0.5, c32, 2)
		for i, w := range want {
			if c64[i] != w || math.Abs(float64(c32[i])-w) > 1e-4 {
				t.Errorf("%s, trans %v: c[%d] = %v (float64), %v (float32), want %v", name, tr, i, c64[i], c32[i], w)
			}
		}
	}
}
