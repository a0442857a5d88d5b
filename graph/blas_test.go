package graph

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/keragon/keragon/internal/gemm"
)

// TestSetHelperSpin: the setting round-trips, and a product split over the
// cores gives the same bits whether the helpers spin or park at once.
func TestSetHelperSpin(t *testing.T) {
	prev := SetHelperSpin(0)
	defer SetHelperSpin(prev)
	if prev != time.Millisecond {
		t.Errorf("default spin %v, want 1ms", prev)
	}
	if got := SetHelperSpin(time.Millisecond); got != 0 {
		t.Errorf("SetHelperSpin returned %v, want the 0 set before", got)
	}
	if got := SetHelperSpin(-time.Second); got != time.Millisecond {
		t.Errorf("SetHelperSpin returned %v, want 1ms", got)
	}
	if got := SetHelperSpin(0); got != 0 {
		t.Errorf("a negative spin became %v, want 0", got)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	const m, n, k = 96, 300, 200
	a, b := make([]float32, m*k), make([]float32, k*n)
	for i := range a {
		a[i] = rng.Float32() - 0.5
	}
	for i := range b {
		b[i] = rng.Float32() - 0.5
	}
	product := func() []float32 {
		c := make([]float32, m*n)
		gemm.Gemm(false, false, m, n, k, 1, a, k, b, n, 0, c, n)
		return c
	}
	parked := product()
	SetHelperSpin(prev)
	for range 3 {
		spun := product()
		for i := range spun {
			if math.Float32bits(spun[i]) != math.Float32bits(parked[i]) {
				t.Fatalf("c[%d] = %v with spinning helpers, %v with parked ones", i, spun[i], parked[i])
			}
		}
	}
}
