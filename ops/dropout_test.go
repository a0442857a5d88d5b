package ops

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/keragon/keragon/internal/gradcheck"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func TestDropoutMaskFiller(t *testing.T) {
	const n = 100000
	cases := []struct {
		rate     float64
		wantZero float64 // expected fraction of zeros
	}{
		{0.3, 0.3},
		{0.5, 0.5},
		{0.9, 0.9},
		{0, 0},
		{-0.2, 0}, // clamped to 0: keeps everything
		{1, 1},    // drops everything
	}
	for _, c := range cases {
		// The value of kept entries, computed at run time as Keras does
		// (1/(1−0.9) is 10.000000000000002 in float64).
		keep := 1 / (1 - math.Max(c.rate, 0))
		for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
			m := tensor.New(tensor.Of(dt), tensor.WithShape(n))
			DropoutMaskFiller(c.rate)(rand.New(rand.NewPCG(1, 2)), m)
			xs := sample32or64(m)
			zeros := 0
			for i, v := range xs {
				switch {
				case v == 0:
					zeros++
				case dt == tensor.Float32 && float32(v) != float32(keep),
					dt == tensor.Float64 && v != keep:
					t.Fatalf("rate %v %v: entry %d is %v, want 0 or %v", c.rate, dt, i, v, keep)
				}
			}
			frac := float64(zeros) / n
			// Five standard errors of a binomial proportion.
			if tol := 5 * math.Sqrt(c.wantZero*(1-c.wantZero)/n); math.Abs(frac-c.wantZero) > tol {
				t.Errorf("rate %v %v: %.4f of the mask is zero, want %.4f ± %.4f", c.rate, dt, frac, c.wantZero, tol)
			}
		}
	}
	// The same seed gives the same mask; the next draw differs.
	a := tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(64))
	b := tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(64))
	fill := DropoutMaskFiller(0.5)
	rngA, rngB := rand.New(rand.NewPCG(3, 4)), rand.New(rand.NewPCG(3, 4))
	fill(rngA, a)
	fill(rngB, b)
	if !equalF32(a.Data().([]float32), b.Data().([]float32)) {
		t.Error("two masks from the same seed differ")
	}
	fill(rngB, b)
	if equalF32(a.Data().([]float32), b.Data().([]float32)) {
		t.Error("the second mask from a source equals the first")
	}
}

func sample32or64(t *tensor.Dense) []float64 {
	switch d := t.Data().(type) {
	case []float32:
		out := make([]float64, len(d))
		for i, v := range d {
			out[i] = float64(v)
		}
		return out
	case []float64:
		return d
	}
	return nil
}

func equalF32(a, b []float32) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return len(a) == len(b)
}

// maskFor returns a float64 dropout mask of the given shape.
func maskFor(seed uint64, rate float64, shape ...int) *tensor.Dense {
	m := tensor.New(tensor.Of(tensor.Float64), tensor.WithShape(shape...))
	DropoutMaskFiller(rate)(rand.New(rand.NewPCG(seed, 1)), m)
	return m
}

func TestDropoutForward(t *testing.T) {
	// x[n,h,c] = 100n + 10h + c; a mask of shape (2,1,3) is repeated over h.
	x := tensor.New(tensor.WithShape(2, 2, 3), tensor.WithBacking([]float64{
		0, 1, 2, 10, 11, 12,
		100, 101, 102, 110, 111, 112}))
	mask := tensor.New(tensor.WithShape(2, 1, 3), tensor.WithBacking([]float64{2, 0, 2, 0, 2, 0}))
	want := []float64{
		0, 0, 4, 20, 0, 24,
		0, 202, 0, 0, 222, 0}
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		g := gorgonia.NewGraph()
		xn := gorgonia.NodeFromAny(g, castTo(x, dt), gorgonia.WithName("x"))
		mn := gorgonia.NodeFromAny(g, castTo(mask, dt), gorgonia.WithName("mask"))
		y, err := Dropout(xn, mn)
		if err != nil {
			t.Fatal(err)
		}
		got := run(t, g, y)[0]
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("%v: Dropout = %v, want %v", dt, got, want)
			}
		}
	}
}

func TestDropoutGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	cases := []struct{ x, mask []int }{
		{[]int{4, 5}, []int{4, 5}},
		{[]int{2, 3, 3, 4}, []int{2, 1, 1, 4}}, // SpatialDropout2D-style
		{[]int{3, 4, 2}, []int{1, 4, 1}},
		{[]int{6}, []int{1}},
	}
	for i, c := range cases {
		x := gradcheck.Random(rng, -1, 1, c.x...)
		mask := maskFor(uint64(i), 0.4, c.mask...)
		err := gradcheck.Check(func(g *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
			return Dropout(in[0], in[1])
		}, []*tensor.Dense{x, mask}, gradcheck.Options{Wrt: []int{0}})
		if err != nil {
			t.Errorf("x %v mask %v: %v", c.x, c.mask, err)
		}
	}
}

// TestDropoutGradientIsMask checks the gradient's value directly: for
// cost = Σ Dropout(x)·w, d cost/dx = w·mask, kept entries scaled by
// 1/(1−rate) (Gorgonia's own Dropout gets 1/rate; see gorgonia_bugs_test.go).
func TestDropoutGradientIsMask(t *testing.T) {
	g := gorgonia.NewGraph()
	ones := tensor.New(tensor.WithShape(1000), tensor.WithBacking(make([]float64, 1000)))
	for i := range ones.Data().([]float64) {
		ones.Data().([]float64)[i] = 1
	}
	x := gorgonia.NodeFromAny(g, ones, gorgonia.WithName("x"))
	m := gorgonia.NodeFromAny(g, maskFor(1, 0.25, 1000), gorgonia.WithName("mask"))
	y, err := Dropout(x, m)
	if err != nil {
		t.Fatal(err)
	}
	cost := gorgonia.Must(gorgonia.Sum(y))
	gs, err := gorgonia.Grad(cost, x)
	if err != nil {
		t.Fatal(err)
	}
	vals := run(t, g, y, gs[0])
	for i, yv := range vals[0] {
		if dx := vals[1][i]; dx != yv || (dx != 0 && dx != 1/0.75) {
			t.Fatalf("entry %d: y %v, dx %v; want dx = y ∈ {0, 4/3}", i, yv, dx)
		}
	}
}

func TestDropoutShapeErrors(t *testing.T) {
	cases := []struct{ x, mask []int }{
		{[]int{4, 5}, []int{4, 4}},
		{[]int{4, 5}, []int{5}},
		{[]int{2, 3}, []int{2, 3, 1}},
	}
	for _, c := range cases {
		g := gorgonia.NewGraph()
		x := gorgonia.NewTensor(g, tensor.Float64, len(c.x), gorgonia.WithShape(c.x...), gorgonia.WithName("x"))
		m := gorgonia.NewTensor(g, tensor.Float64, len(c.mask), gorgonia.WithShape(c.mask...), gorgonia.WithName("m"))
		if _, err := Dropout(x, m); err == nil {
			t.Errorf("x %v mask %v: no error", c.x, c.mask)
		}
	}
}

// castTo returns a copy of the float64 tensor t in dtype dt.
func castTo(t *tensor.Dense, dt tensor.Dtype) *tensor.Dense {
	src := t.Data().([]float64)
	if dt == tensor.Float64 {
		return tensor.New(tensor.WithShape(t.Shape().Clone()...), tensor.WithBacking(append([]float64(nil), src...)))
	}
	d := make([]float32, len(src))
	for i, v := range src {
		d[i] = float32(v)
	}
	return tensor.New(tensor.WithShape(t.Shape().Clone()...), tensor.WithBacking(d))
}

// run runs g once and returns the values of nodes as float64 slices.
func run(t *testing.T, g *gorgonia.ExprGraph, nodes ...*gorgonia.Node) [][]float64 {
	t.Helper()
	vals := make([]gorgonia.Value, len(nodes))
	for i, n := range nodes {
		gorgonia.Read(n, &vals[i])
	}
	m := gorgonia.NewTapeMachine(g)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		t.Fatal(err)
	}
	out := make([][]float64, len(vals))
	for i, v := range vals {
		switch s := v.(type) {
		case *gorgonia.F64:
			out[i] = []float64{float64(*s)}
		case *gorgonia.F32:
			out[i] = []float64{float64(*s)}
		case *tensor.Dense:
			if s.IsView() {
				s = s.Materialize().(*tensor.Dense)
			}
			out[i] = append([]float64(nil), sample32or64(s)...)
		default:
			t.Fatalf("node %v has value %T", nodes[i], v)
		}
	}
	return out
}

// BenchmarkDropoutMask fills the MNIST MLP's mask of one hidden layer at
// batch 128 (rate 0.2).
func BenchmarkDropoutMask(b *testing.B) {
	fill := DropoutMaskFiller(0.2)
	rng := rand.New(rand.NewPCG(1, 2))
	t := tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(128, 512))
	b.SetBytes(4 * 128 * 512)
	for b.Loop() {
		fill(rng, t)
	}
}
