package ops

import (
	"math"
	"math/rand/v2"
	"testing"

	"gorgonia.org/tensor"
)

// sample fills a new tensor of the given dtype and shape from seed.
func sample(t *testing.T, init Initializer, dt tensor.Dtype, seed uint64, shape ...int) []float64 {
	t.Helper()
	d := tensor.New(tensor.Of(dt), tensor.WithShape(shape...))
	if err := init.Initialize(rand.New(rand.NewPCG(seed, 99)), d); err != nil {
		t.Fatalf("Initialize(%v): %v", shape, err)
	}
	out := make([]float64, d.Shape().TotalSize())
	switch v := d.Data().(type) {
	case []float32:
		for i, x := range v {
			out[i] = float64(x)
		}
	case []float64:
		copy(out, v)
	}
	return out
}

func moments(xs []float64) (mean, variance, maxAbsDev float64) {
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	for _, x := range xs {
		variance += (x - mean) * (x - mean)
	}
	variance /= float64(len(xs))
	for _, x := range xs {
		maxAbsDev = math.Max(maxAbsDev, math.Abs(x))
	}
	return mean, variance, maxAbsDev
}

func TestInitializerStatistics(t *testing.T) {
	// Shapes: a Dense kernel (fan_in 300, fan_out 200) and a Conv2D kernel
	// (fan_in 3·3·16 = 144, fan_out 3·3·32 = 288); 60,000 and 4,608 samples.
	dense, conv := []int{300, 200}, []int{3, 3, 16, 32}
	tn := truncatedNormalStddev
	cases := []struct {
		name     string
		init     Initializer
		shape    []int
		mean     float64
		variance float64
		// bound: every sample lies in [mean−bound, mean+bound].
		bound float64
	}{
		{"glorot_uniform", GlorotUniform{}, dense, 0, 2.0 / 500, math.Sqrt(6.0 / 500)},
		{"glorot_normal", GlorotNormal{}, dense, 0, 2.0 / 500, 2 * math.Sqrt(2.0/500) / tn},
		{"he_uniform", HeUniform{}, dense, 0, 2.0 / 300, math.Sqrt(6.0 / 300)},
		{"he_normal", HeNormal{}, dense, 0, 2.0 / 300, 2 * math.Sqrt(2.0/300) / tn},
		{"he_normal_conv", HeNormal{}, conv, 0, 2.0 / 144, 2 * math.Sqrt(2.0/144) / tn},
		{"lecun_uniform", LecunUniform{}, dense, 0, 1.0 / 300, math.Sqrt(3.0 / 300)},
		{"lecun_normal", LecunNormal{}, dense, 0, 1.0 / 300, 2 * math.Sqrt(1.0/300) / tn},
		{"glorot_uniform_conv", GlorotUniform{}, conv, 0, 2.0 / (144 + 288), math.Sqrt(6.0 / (144 + 288))},
		{"variance_scaling_fan_out", VarianceScaling{Scale: 3, Mode: "fan_out", Distribution: "untruncated_normal"}, dense, 0, 3.0 / 200, math.Inf(1)},
		{"random_uniform_default", RandomUniform{}, dense, 0, 0.1 * 0.1 / 12, 0.05},
		{"random_uniform", RandomUniform{Min: 1, Max: 3}, dense, 2, 4.0 / 12, 1},
		{"random_normal_default", RandomNormal{}, dense, 0, 0.05 * 0.05, math.Inf(1)},
		{"random_normal", RandomNormal{Mean: -1, Stddev: 2}, dense, -1, 4, math.Inf(1)},
		{"truncated_normal_default", TruncatedNormal{}, dense, 0, 0.05 * 0.05 * tn * tn, 2 * 0.05},
		{"truncated_normal", TruncatedNormal{Mean: 3, Stddev: 0.5}, dense, 3, 0.25 * tn * tn, 1},
	}
	for _, c := range cases {
		for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
			xs := sample(t, c.init, dt, 1, c.shape...)
			n := float64(len(xs))
			mean, variance, _ := moments(xs)
			sd := math.Sqrt(c.variance)
			// Five standard errors: of the mean sd/√n; of the variance at
			// most variance·√(2/n) for these light-tailed distributions.
			if math.Abs(mean-c.mean) > 5*sd/math.Sqrt(n) {
				t.Errorf("%s %v: mean %.5g, want %.5g ± %.2g", c.name, dt, mean, c.mean, 5*sd/math.Sqrt(n))
			}
			if math.Abs(variance/c.variance-1) > 5*math.Sqrt(2/n) {
				t.Errorf("%s %v: variance %.5g, want %.5g (ratio %.4f)", c.name, dt, variance, c.variance, variance/c.variance)
			}
			var outside int
			var maxDev float64
			for _, x := range xs {
				maxDev = math.Max(maxDev, math.Abs(x-c.mean))
				if math.Abs(x-c.mean) > c.bound*(1+1e-7) {
					outside++
				}
			}
			if outside > 0 {
				t.Errorf("%s %v: %d samples beyond mean ± %.5g (max deviation %.5g)", c.name, dt, outside, c.bound, maxDev)
			}
			// The bound is tight: the samples come close to it.
			if !math.IsInf(c.bound, 1) && maxDev < 0.97*c.bound {
				t.Errorf("%s %v: max deviation %.5g, want close to the bound %.5g", c.name, dt, maxDev, c.bound)
			}
		}
	}
}

func TestInitializerSeeds(t *testing.T) {
	for _, name := range InitializerNames() {
		init, err := InitializerByName(name)
		if err != nil {
			t.Fatal(err)
		}
		a := sample(t, init, tensor.Float64, 7, 6, 5)
		b := sample(t, init, tensor.Float64, 7, 6, 5)
		c := sample(t, init, tensor.Float64, 8, 6, 5)
		f := sample(t, init, tensor.Float32, 7, 6, 5)
		same, differ := true, false
		for i := range a {
			same = same && a[i] == b[i]
			differ = differ || a[i] != c[i]
			if float32(a[i]) != float32(f[i]) {
				t.Errorf("%s: float32 value %d is %v, want float32(%v) as in float64", name, i, f[i], a[i])
				break
			}
		}
		if !same {
			t.Errorf("%s: two draws from the same seed differ", name)
		}
		random := name != "zeros" && name != "zero" && name != "ones" && name != "one" && name != "constant" && name != "identity"
		if differ != random {
			t.Errorf("%s: draws from different seeds differ: %v, want %v", name, differ, random)
		}
	}
}

func TestOrthogonal(t *testing.T) {
	cases := []struct {
		shape []int
		gain  float64
	}{
		{[]int{7, 3}, 0},        // tall: orthonormal columns
		{[]int{3, 7}, 0},        // wide: orthonormal rows
		{[]int{6, 6}, 2},        // square, gain 2
		{[]int{3, 3, 4, 6}, 0},  // conv kernel viewed as (36, 6)
		{[]int{2, 2, 2, 16}, 0}, // viewed as (8, 16): wide
	}
	for _, c := range cases {
		for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
			xs := sample(t, Orthogonal{Gain: c.gain}, dt, 3, c.shape...)
			cols := c.shape[len(c.shape)-1]
			rows := len(xs) / cols
			gain := gainOrOne(c.gain)
			// Gram matrix of the columns (tall) or of the rows (wide).
			k, m := cols, rows
			at := func(i, j int) float64 { return xs[i*cols+j] } // (row, col)
			if rows < cols {
				k, m = rows, cols
				at = func(i, j int) float64 { return xs[j*cols+i] }
			}
			tol := 1e-12
			if dt == tensor.Float32 {
				tol = 1e-5
			}
			worst := 0.0
			for a := range k {
				for b := range k {
					var s float64
					for i := range m {
						s += at(i, a) * at(i, b)
					}
					want := 0.0
					if a == b {
						want = gain * gain
					}
					worst = math.Max(worst, math.Abs(s-want))
				}
			}
			if worst > tol*gain*gain*float64(m) {
				t.Errorf("shape %v gain %v %v: |QᵀQ − gain²·I| reaches %.3g", c.shape, c.gain, dt, worst)
			}
		}
	}
}

// TestOrthogonalIsSignCorrectedQ rebuilds the normal matrix A that
// Orthogonal drew and checks that R = QᵀA is upper triangular with a
// positive diagonal, which makes Q Keras' sign-corrected Q factor of A.
func TestOrthogonalIsSignCorrectedQ(t *testing.T) {
	const m, n = 9, 4
	q := sample(t, Orthogonal{}, tensor.Float64, 5, m, n)
	rng := rand.New(rand.NewPCG(5, 99))
	a := make([]float64, m*n)
	for i := range a {
		a[i] = rng.NormFloat64()
	}
	for i := range n {
		for j := range n {
			var r float64
			for k := range m {
				r += q[k*n+i] * a[k*n+j]
			}
			switch {
			case i > j && math.Abs(r) > 1e-12:
				t.Errorf("R[%d,%d] = %.3g, want 0", i, j, r)
			case i == j && r <= 0:
				t.Errorf("R[%d,%d] = %.3g, want > 0", i, j, r)
			}
		}
	}
}

func TestConstantInitializers(t *testing.T) {
	cases := []struct {
		init  Initializer
		shape []int
		want  []float64
	}{
		{Zeros{}, []int{2, 2}, []float64{0, 0, 0, 0}},
		{Ones{}, []int{3}, []float64{1, 1, 1}},
		{Constant{Value: -2.5}, []int{1, 2}, []float64{-2.5, -2.5}},
		{Identity{}, []int{2, 3}, []float64{1, 0, 0, 0, 1, 0}},
		{Identity{Gain: 0.5}, []int{3, 2}, []float64{0.5, 0, 0, 0.5, 0, 0}},
	}
	for i, c := range cases {
		got := sample(t, c.init, tensor.Float32, 1, c.shape...)
		for j := range c.want {
			if got[j] != c.want[j] {
				t.Errorf("case %d (%T): got %v, want %v", i, c.init, got, c.want)
				break
			}
		}
	}
}

func TestInitializerErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	cases := []struct {
		init  Initializer
		rng   *rand.Rand
		shape []int
	}{
		{Orthogonal{}, rng, []int{5}},
		{Identity{}, rng, []int{2, 2, 2}},
		{VarianceScaling{Mode: "fan_sum"}, rng, []int{2, 2}},
		{VarianceScaling{Distribution: "cauchy"}, rng, []int{2, 2}},
		{VarianceScaling{Scale: -1}, rng, []int{2, 2}},
		{RandomUniform{Min: 1, Max: -1}, rng, []int{2}},
		{RandomNormal{Stddev: -1}, rng, []int{2}},
		{GlorotUniform{}, nil, []int{2, 2}},
	}
	for i, c := range cases {
		d := tensor.New(tensor.Of(tensor.Float64), tensor.WithShape(c.shape...))
		if err := c.init.Initialize(c.rng, d); err == nil {
			t.Errorf("case %d: %#v on shape %v: no error", i, c.init, c.shape)
		}
	}
	ints := tensor.New(tensor.Of(tensor.Int), tensor.WithShape(2))
	if err := (Ones{}).Initialize(rng, ints); err == nil {
		t.Error("Ones on an int tensor: no error")
	}
}

func TestInitializerByName(t *testing.T) {
	cases := map[string]Initializer{
		"glorot_uniform": GlorotUniform{}, "GlorotUniform": GlorotUniform{},
		"he_normal": HeNormal{}, "zeros": Zeros{}, "one": Ones{},
		"orthogonal": Orthogonal{}, "uniform": RandomUniform{}, "normal": RandomNormal{},
	}
	for name, want := range cases {
		got, err := InitializerByName(name)
		if err != nil || got != want {
			t.Errorf("InitializerByName(%q) = %#v, %v; want %#v", name, got, err, want)
		}
	}
	if _, err := InitializerByName("xavier"); err == nil {
		t.Error(`InitializerByName("xavier"): no error`)
	}
}
