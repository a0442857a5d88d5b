package datasets

import (
	"math"
	"strings"
	"testing"
)

func TestXOR(t *testing.T) {
	x, y, err := XOR(1000, 7)
	if err != nil {
		t.Fatal(err)
	}
	if !equalInts(x.Shape(), []int{1000, 2}) || !equalInts(y.Shape(), []int{1000}) {
		t.Fatalf("shapes %v, %v; want [1000 2], [1000]", x.Shape(), y.Shape())
	}
	xs, ys := x.Data().([]float32), y.Data().([]float32)
	ones := 0
	for i := range ys {
		a, b := xs[2*i], xs[2*i+1]
		if a < -1 || a > 1 || b < -1 || b > 1 {
			t.Fatalf("point %d (%v, %v) is outside [-1, 1]²", i, a, b)
		}
		want := float32(0)
		if a*b < 0 {
			want = 1
		}
		if ys[i] != want {
			t.Fatalf("point %d (%v, %v): label %v, want %v", i, a, b, ys[i], want)
		}
		ones += int(ys[i])
	}
	// Half the square is class 1: 500 ± 4.5 standard deviations (√250 ≈ 15.8).
	if ones < 430 || ones > 570 {
		t.Errorf("%d of 1000 labels are 1, want about 500", ones)
	}
}

func TestSpirals(t *testing.T) {
	const n, classes = 301, 3
	x, y, err := Spirals(n, classes, 0, 3)
	if err != nil {
		t.Fatal(err)
	}
	if !equalInts(x.Shape(), []int{n, 2}) || !equalInts(y.Shape(), []int{n}) {
		t.Fatalf("shapes %v, %v; want [%d 2], [%d]", x.Shape(), y.Shape(), n, n)
	}
	xs, ys := x.Data().([]float32), y.Data().([]float32)
	counts := make([]int, classes)
	for i, l := range ys {
		k := int(l)
		counts[k]++
		// Without noise each point lies on its arm: angle = 2πk/3 + 4r.
		px, py := float64(xs[2*i]), float64(xs[2*i+1])
		r := math.Hypot(px, py)
		want := 2*math.Pi*float64(k)/classes + spiralTurn*r
		if d := math.Remainder(math.Atan2(px, py)-want, 2*math.Pi); r > 1+1e-6 || math.Abs(d) > 1e-5 {
			t.Fatalf("point %d (%v, %v) of class %d: radius %v, angle off its arm by %v", i, px, py, k, r, d)
		}
	}
	if !equalInts(counts, []int{101, 100, 100}) {
		t.Errorf("class counts %v, want [101 100 100]", counts)
	}
	// The order is shuffled: the last tenth holds every class.
	seen := map[float32]bool{}
	for _, l := range ys[n-n/10:] {
		seen[l] = true
	}
	if len(seen) != classes {
		t.Errorf("the last %d samples hold classes %v, want all %d", n/10, seen, classes)
	}
}

func TestSyntheticSeeds(t *testing.T) {
	gens := []struct {
		name string
		gen  func(seed int64) ([]float32, []float32)
	}{
		{"XOR", func(seed int64) ([]float32, []float32) {
			x, y, err := XOR(50, seed)
			if err != nil {
				t.Fatal(err)
			}
			return x.Data().([]float32), y.Data().([]float32)
		}},
		{"Spirals", func(seed int64) ([]float32, []float32) {
			x, y, err := Spirals(50, 4, 0.1, seed)
			if err != nil {
				t.Fatal(err)
			}
			return x.Data().([]float32), y.Data().([]float32)
		}},
	}
	for _, g := range gens {
		x1, y1 := g.gen(42)
		x2, y2 := g.gen(42)
		x3, _ := g.gen(43)
		if !equalFloats(x1, x2) || !equalFloats(y1, y2) {
			t.Errorf("%s: seed 42 gave different data on two calls", g.name)
		}
		if equalFloats(x1, x3) {
			t.Errorf("%s: seeds 42 and 43 gave the same points", g.name)
		}
	}
}

func TestSyntheticErrors(t *testing.T) {
	cases := []struct {
		name string
		err  func() error
		want string
	}{
		{"XOR n=0", func() error { _, _, err := XOR(0, 1); return err }, "n > 0 points, got 0"},
		{"Spirals 1 class", func() error { _, _, err := Spirals(10, 1, 0, 1); return err }, "at least 2 classes, got 1"},
		{"Spirals n<classes", func() error { _, _, err := Spirals(2, 3, 0, 1); return err }, "n=2 for 3 classes"},
		{"Spirals noise<0", func() error { _, _, err := Spirals(10, 2, -1, 1); return err }, "got -1"},
		{"Spirals noise NaN", func() error { _, _, err := Spirals(10, 2, math.NaN(), 1); return err }, "got NaN"},
	}
	for _, c := range cases {
		if err := c.err(); err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "datasets: ") {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}
