package datasets

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"sort"
	"strings"
	"testing"
)

// sklearnRef is testdata/sklearn_splits.json, written by
// testdata/sklearn_splits.py with Debian's scikit-learn 1.2.1.
type sklearnRef struct {
	KFold []struct {
		N, Splits int
		Test      [][]int
	}
	Stratified []struct {
		Y      []float64
		Splits int
		Test   [][]int
	}
	Moons, Circles map[string]struct {
		X [][]float64
		Y []float64
	}
}

func loadSklearnRef(t *testing.T) *sklearnRef {
	t.Helper()
	raw, err := os.ReadFile("testdata/sklearn_splits.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref sklearnRef
	if err := json.Unmarshal(raw, &ref); err != nil {
		t.Fatal(err)
	}
	return &ref
}

// sortedRows renders the rows (x, label) as sorted strings, so that point
// sets can be compared whatever their order.
func sortedRows(xs []float32, ys []float32, d int) []string {
	rows := make([]string, len(ys))
	for i := range ys {
		rows[i] = fmt.Sprint(xs[i*d:(i+1)*d], ys[i])
	}
	sort.Strings(rows)
	return rows
}

// TestMoonsCirclesMatchSklearn: without noise the points are exactly
// scikit-learn's (make_moons and make_circles with shuffle=False), in
// another order.
func TestMoonsCirclesMatchSklearn(t *testing.T) {
	ref := loadSklearnRef(t)
	for _, gen := range []struct {
		name string
		ref  map[string]struct {
			X [][]float64
			Y []float64
		}
		make func(n int) ([]float32, []float32, error)
	}{
		{"Moons", ref.Moons, func(n int) ([]float32, []float32, error) {
			x, y, err := Moons(n, 0, 3)
			if err != nil {
				return nil, nil, err
			}
			return x.Data().([]float32), y.Data().([]float32), nil
		}},
		{"Circles", ref.Circles, func(n int) ([]float32, []float32, error) {
			x, y, err := Circles(n, 0, 0, 3)
			if err != nil {
				return nil, nil, err
			}
			return x.Data().([]float32), y.Data().([]float32), nil
		}},
	} {
		if len(gen.ref) == 0 {
			t.Fatalf("%s: no reference points", gen.name)
		}
		for key, r := range gen.ref {
			var n int
			fmt.Sscan(key, &n)
			xs, ys, err := gen.make(n)
			if err != nil {
				t.Fatalf("%s(%d): %+v", gen.name, n, err)
			}
			var wantX, wantY []float32
			for i, p := range r.X {
				wantX = append(wantX, float32(p[0]), float32(p[1]))
				wantY = append(wantY, float32(r.Y[i]))
			}
			got, want := sortedRows(xs, ys, 2), sortedRows(wantX, wantY, 2)
			if strings.Join(got, ";") != strings.Join(want, ";") {
				t.Errorf("%s(%d) points\n got %v\nwant %v", gen.name, n, got, want)
			}
		}
	}
}

func TestGeneratorsSeeded(t *testing.T) {
	gens := map[string]func(seed int64) ([]float32, error){
		"Moons": func(seed int64) ([]float32, error) {
			x, _, err := Moons(50, 0.1, seed)
			if err != nil {
				return nil, err
			}
			return x.Data().([]float32), nil
		},
		"Circles": func(seed int64) ([]float32, error) {
			x, _, err := Circles(50, 0.1, 0.5, seed)
			if err != nil {
				return nil, err
			}
			return x.Data().([]float32), nil
		},
		"Blobs": func(seed int64) ([]float32, error) {
			x, _, _, err := Blobs(BlobsConfig{Samples: 50, Seed: seed})
			if err != nil {
				return nil, err
			}
			return x.Data().([]float32), nil
		},
	}
	for name, gen := range gens {
		a, err := gen(1)
		if err != nil {
			t.Fatalf("%s: %+v", name, err)
		}
		b, _ := gen(1)
		c, _ := gen(2)
		if !equalFloats(a, b) {
			t.Errorf("%s: seed 1 twice gave different points", name)
		}
		if equalFloats(a, c) {
			t.Errorf("%s: seeds 1 and 2 gave the same points", name)
		}
	}
}

// TestCirclesNoise: the radii of each circle spread with the noise's
// standard deviation around 1 and the factor.
func TestCirclesNoise(t *testing.T) {
	const n, noise, factor = 4000, 0.05, 0.5
	x, y, err := Circles(n, noise, factor, 9)
	if err != nil {
		t.Fatal(err)
	}
	xs, ys := x.Data().([]float32), y.Data().([]float32)
	var sum, sq [2]float64
	var count [2]int
	for i, l := range ys {
		r := math.Hypot(float64(xs[2*i]), float64(xs[2*i+1]))
		sum[int(l)] += r
		sq[int(l)] += r * r
		count[int(l)]++
	}
	if count != [2]int{n / 2, n / 2} {
		t.Fatalf("points per circle %v, want %d each", count, n/2)
	}
	for c, wantR := range []float64{1, factor} {
		mean := sum[c] / float64(count[c])
		std := math.Sqrt(sq[c]/float64(count[c]) - mean*mean)
		// Mean within 5 standard errors (0.05/√2000 ≈ 0.0011); the radial
		// spread of 2-D noise is about the noise's standard deviation.
		if math.Abs(mean-wantR) > 0.006 || std < 0.04 || std > 0.06 {
			t.Errorf("circle %d: radius mean %.4f std %.4f, want %.2f and about %.2f", c, mean, std, wantR, noise)
		}
	}
}

func TestBlobs(t *testing.T) {
	const n, d, k = 3001, 3, 4
	x, y, centers, err := Blobs(BlobsConfig{Samples: n, Features: d, Centers: k, ClusterStd: 0.5, Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	if !equalInts(x.Shape(), []int{n, d}) || !equalInts(y.Shape(), []int{n}) || len(centers) != k {
		t.Fatalf("shapes %v %v, %d centres; want [%d %d] [%d], %d", x.Shape(), y.Shape(), len(centers), n, d, n, k)
	}
	xs, ys := x.Data().([]float32), y.Data().([]float32)
	count := make([]int, k)
	mean := make([][]float64, k)
	for c := range mean {
		mean[c] = make([]float64, d)
		for _, v := range centers[c] {
			if v < -10 || v > 10 {
				t.Errorf("centre %d is %v, outside the default box [-10, 10]", c, centers[c])
			}
		}
	}
	for i, l := range ys {
		c := int(l)
		count[c]++
		for j := 0; j < d; j++ {
			mean[c][j] += float64(xs[i*d+j])
		}
	}
	// 3001 = 751 + 750 + 750 + 750: the first n%k blobs get one more.
	if !equalInts(count, []int{751, 750, 750, 750}) {
		t.Errorf("points per blob %v, want [751 750 750 750]", count)
	}
	for c := range mean {
		for j := range mean[c] {
			// Within 5 standard errors: 0.5/√750 ≈ 0.018.
			if got := mean[c][j] / float64(count[c]); math.Abs(got-centers[c][j]) > 0.1 {
				t.Errorf("blob %d axis %d: mean %.3f, centre %.3f", c, j, got, centers[c][j])
			}
		}
	}
	// Fixed centres, no spread, no shuffle: the points are the centres.
	x, y, _, err = Blobs(BlobsConfig{Samples: 5, CenterPoints: [][]float64{{1, 2}, {-3, 4}}, ZeroStd: true, NoShuffle: true})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := x.Data().([]float32), []float32{1, 2, 1, 2, 1, 2, -3, 4, -3, 4}; !equalFloats(got, want) {
		t.Errorf("fixed centres: points %v, want %v", got, want)
	}
	if got, want := y.Data().([]float32), []float32{0, 0, 0, 1, 1}; !equalFloats(got, want) {
		t.Errorf("fixed centres: labels %v, want %v", got, want)
	}
}

func TestGeneratorErrors(t *testing.T) {
	cases := []struct {
		name string
		err  func() error
		want string
	}{
		{"moons n", func() error { _, _, err := Moons(1, 0, 0); return err }, "n ≥ 2"},
		{"moons noise", func() error { _, _, err := Moons(10, -1, 0); return err }, "noise"},
		{"circles NaN noise", func() error { _, _, err := Circles(10, math.NaN(), 0, 0); return err }, "noise"},
		{"circles factor", func() error { _, _, err := Circles(10, 0, 1, 0); return err }, "factor must be in (0, 1)"},
		{"blobs std", func() error { _, _, _, err := Blobs(BlobsConfig{ClusterStd: -1}); return err }, "ClusterStd"},
		{"blobs box", func() error { _, _, _, err := Blobs(BlobsConfig{CenterBox: [2]float64{3, 1}}); return err }, "CenterBox"},
		{"blobs too few", func() error { _, _, _, err := Blobs(BlobsConfig{Samples: 2, Centers: 3}); return err }, "at least one point per blob"},
		{"blobs centre size", func() error {
			_, _, _, err := Blobs(BlobsConfig{CenterPoints: [][]float64{{1, 2}, {3}}})
			return err
		}, "centre 1 has 1 coordinates, want 2"},
	}
	for _, c := range cases {
		err := c.err()
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "datasets: ") {
			t.Errorf("%s: error %v, want one starting \"datasets: \" containing %q", c.name, err, c.want)
		}
	}
}
