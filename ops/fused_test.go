package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/keragon/keragon/internal/gradcheck"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// forwardBackward builds f on fresh input nodes holding copies of inputs,
// runs it once with the upstream gradient up (dL/dout = up, through
// L = Σ out⊙up) and returns the output and the gradient of every input,
// bit for bit as float64 slices (float32 values convert exactly).
func forwardBackward(t *testing.T, f func(in []*gorgonia.Node) (*gorgonia.Node, error), up *tensor.Dense, inputs ...*tensor.Dense) [][]float64 {
	t.Helper()
	g := gorgonia.NewGraph()
	nodes := make(gorgonia.Nodes, len(inputs))
	for i, x := range inputs {
		nodes[i] = gorgonia.NodeFromAny(g, x.Clone().(*tensor.Dense), gorgonia.WithName(fmt.Sprintf("in%d", i)))
	}
	out, err := f(nodes)
	if err != nil {
		t.Fatal(err)
	}
	upN := gorgonia.NodeFromAny(g, up.Clone().(*tensor.Dense), gorgonia.WithName("up"))
	loss := gorgonia.Must(gorgonia.Sum(gorgonia.Must(gorgonia.HadamardProd(out, upN))))
	grads, err := gorgonia.Grad(loss, nodes...)
	if err != nil {
		t.Fatal(err)
	}
	return run(t, g, append(gorgonia.Nodes{out}, grads...)...)
}

// sameBits fails unless got and want are equal bit for bit.
func sameBits(t *testing.T, what string, got, want [][]float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d results, want %d", what, len(got), len(want))
	}
	for i := range want {
		if len(got[i]) != len(want[i]) {
			t.Fatalf("%s: result %d has %d values, want %d", what, i, len(got[i]), len(want[i]))
		}
		for j := range want[i] {
			if math.Float64bits(got[i][j]) != math.Float64bits(want[i][j]) {
				t.Fatalf("%s: result %d value %d is %v, want %v (bitwise)", what, i, j, got[i][j], want[i][j])
			}
		}
	}
}

// composedDense is what keras.Dense composed before the fused op.
func composedDense(act string) func(in []*gorgonia.Node) (*gorgonia.Node, error) {
	return func(in []*gorgonia.Node) (*gorgonia.Node, error) {
		y, err := gorgonia.Mul(in[0], in[1])
		if err != nil {
			return nil, err
		}
		if len(in) > 2 {
			if y, err = BiasAdd(y, in[2]); err != nil {
				return nil, err
			}
		}
		f, err := Activation(act)
		if err != nil {
			return nil, err
		}
		return f(y)
	}
}

// fusedCases are activations Dense and BiasActivation fuse, and two they
// apply after (softmax, sigmoid).
var fusedCases = []string{"", "relu", "relu6", "tanh", "selu", "exponential", "sigmoid", "softmax"}

// inSplitModes runs f with the default grain and with a grain of one
// element, so that every parallel kernel splits even tiny tensors.
func inSplitModes(t *testing.T, f func(t *testing.T)) {
	for _, g := range []int{grain, 1} {
		t.Run(fmt.Sprintf("grain=%d", g), func(t *testing.T) {
			defer func(old int) { grain = old }(grain)
			grain = g
			f(t)
		})
	}
}

func TestDenseEqualsComposed(t *testing.T) {
	inSplitModes(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(1, 2))
		for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
			x := castTo(awayFromKinks(gradcheck.Random(rng, -3, 7, 5, 4)), dt)
			k := castTo(gradcheck.Random(rng, -1, 1, 4, 3), dt)
			b := castTo(gradcheck.Random(rng, -1, 1, 3), dt)
			up := castTo(gradcheck.Random(rng, -1, 1, 5, 3), dt)
			for _, act := range fusedCases {
				for _, bias := range []bool{true, false} {
					name := fmt.Sprintf("%v/%q/bias=%v", dt, act, bias)
					in := []*tensor.Dense{x, k}
					if bias {
						in = append(in, b)
					}
					want := forwardBackward(t, composedDense(act), up, in...)
					got := forwardBackward(t, func(in []*gorgonia.Node) (*gorgonia.Node, error) {
						var b *gorgonia.Node
						if len(in) > 2 {
							b = in[2]
						}
						return Dense(in[0], in[1], b, act)
					}, up, in...)
					sameBits(t, name, got, want)
				}
			}
		}
	})
}

func TestBiasActivationEqualsComposed(t *testing.T) {
	inSplitModes(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(3, 4))
		for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
			x := castTo(awayFromKinks(gradcheck.Random(rng, -3, 7, 2, 3, 4, 5)), dt)
			b := castTo(gradcheck.Random(rng, -1, 1, 5), dt)
			up := castTo(gradcheck.Random(rng, -1, 1, 2, 3, 4, 5), dt)
			for _, act := range fusedCases {
				want := forwardBackward(t, func(in []*gorgonia.Node) (*gorgonia.Node, error) {
					y, err := BiasAdd(in[0], in[1])
					if err != nil {
						return nil, err
					}
					f, _ := Activation(act)
					return f(y)
				}, up, x, b)
				got := forwardBackward(t, func(in []*gorgonia.Node) (*gorgonia.Node, error) {
					return BiasActivation(in[0], in[1], act)
				}, up, x, b)
				sameBits(t, fmt.Sprintf("%v/%q", dt, act), got, want)
			}
		}
	})
}

func TestMatMulEqualsGorgonia(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		for _, tr := range [][2]bool{{false, false}, {false, true}, {true, false}, {true, true}} {
			as, bs := []int{4, 3}, []int{3, 5}
			if tr[0] {
				as = []int{3, 4}
			}
			if tr[1] {
				bs = []int{5, 3}
			}
			a := castTo(gradcheck.Random(rng, -1, 1, as...), dt)
			b := castTo(gradcheck.Random(rng, -1, 1, bs...), dt)
			up := castTo(gradcheck.Random(rng, -1, 1, 4, 5), dt)
			want := forwardBackward(t, func(in []*gorgonia.Node) (*gorgonia.Node, error) {
				x, y := in[0], in[1]
				var err error
				if tr[0] {
					if x, err = gorgonia.Transpose(x); err != nil {
						return nil, err
					}
				}
				if tr[1] {
					if y, err = gorgonia.Transpose(y); err != nil {
						return nil, err
					}
				}
				return gorgonia.Mul(x, y)
			}, up, a, b)
			got := forwardBackward(t, func(in []*gorgonia.Node) (*gorgonia.Node, error) {
				return MatMul(in[0], in[1], tr[0], tr[1])
			}, up, a, b)
			name := fmt.Sprintf("%v/trans=%v", dt, tr)
			if tr == [2]bool{} {
				sameBits(t, name, got, want)
				continue
			}
			// Gorgonia materialises the transposes, so its gemm calls
			// (hence their order of summation) differ from MatMul's.
			tol := 1e-13
			if dt == tensor.Float32 {
				tol = 1e-6
			}
			for i := range want {
				compareTol(t, fmt.Sprintf("%s result %d", name, i), got[i], want[i], tol)
			}
		}
	}
}

func TestFusedGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	x := awayFromKinks(gradcheck.Random(rng, -3, 7, 5, 4))
	k := gradcheck.Random(rng, -1, 1, 4, 3)
	b := gradcheck.Random(rng, -1, 1, 3)
	for _, act := range fusedCases {
		err := gradcheck.Check(func(g *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
			return Dense(in[0], in[1], in[2], act)
		}, []*tensor.Dense{x, k, b}, gradcheck.Options{})
		if err != nil {
			t.Errorf("Dense %q: %v", act, err)
		}
		x4 := awayFromKinks(gradcheck.Random(rng, -3, 7, 2, 2, 3, 3))
		err = gradcheck.Check(func(g *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
			return BiasActivation(in[0], in[1], act)
		}, []*tensor.Dense{x4, b}, gradcheck.Options{})
		if err != nil {
			t.Errorf("BiasActivation %q: %v", act, err)
		}
	}
	for _, tr := range [][2]bool{{false, false}, {false, true}, {true, false}, {true, true}} {
		a := gradcheck.Random(rng, -1, 1, 3, 3)
		c := gradcheck.Random(rng, -1, 1, 3, 3)
		err := gradcheck.Check(func(g *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
			return MatMul(in[0], in[1], tr[0], tr[1])
		}, []*tensor.Dense{a, c}, gradcheck.Options{})
		if err != nil {
			t.Errorf("MatMul trans=%v: %v", tr, err)
		}
	}
}

func TestFusedErrors(t *testing.T) {
	g := gorgonia.NewGraph()
	m := func(shape ...int) *gorgonia.Node {
		return gorgonia.NewTensor(g, tensor.Float32, len(shape), gorgonia.WithShape(shape...))
	}
	cases := []struct {
		name string
		f    func() (*gorgonia.Node, error)
	}{
		{"MatMul inner", func() (*gorgonia.Node, error) { return MatMul(m(2, 3), m(4, 5), false, false) }},
		{"MatMul rank", func() (*gorgonia.Node, error) { return MatMul(m(2, 3, 1), m(3, 5), false, false) }},
		{"Dense kernel", func() (*gorgonia.Node, error) { return Dense(m(2, 3), m(4, 5), nil, "relu") }},
		{"Dense bias", func() (*gorgonia.Node, error) { return Dense(m(2, 3), m(3, 5), m(4), "relu") }},
		{"Dense activation", func() (*gorgonia.Node, error) { return Dense(m(2, 3), m(3, 5), nil, "nope") }},
		{"BiasActivation bias", func() (*gorgonia.Node, error) { return BiasActivation(m(2, 3), m(4), "relu") }},
	}
	for _, c := range cases {
		if _, err := c.f(); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
}

// TestFastKernelsMatch checks the branch-free float32 ReLU kernels and
// every output-derivative against the generic definitions, on special
// values and random ones.
func TestFastKernelsMatch(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	x := []float32{0, float32(math.Copysign(0, -1)), nan, -nan, inf, -inf, 1e-45, -1e-45,
		math.MaxFloat32, -math.MaxFloat32, 1, -1, 5.999, 6, 6.001}
	rng := rand.New(rand.NewPCG(9, 10))
	for range 1000 {
		x = append(x, float32(rng.NormFloat64()*4))
	}
	g := make([]float32, len(x))
	for i := range g {
		g[i] = float32(rng.NormFloat64())
	}
	y, dx, dy := make([]float32, len(x)), make([]float32, len(x)), make([]float32, len(x))
	relu32(y, x)
	reluGrad32(dx, x, y, g)
	reluK.dfy32(dy, y, g)
	for i, v := range x {
		want := float32(0)
		if v > 0 {
			want = v
		}
		if math.Float32bits(y[i]) != math.Float32bits(want) {
			t.Errorf("relu(%v) = %v, want %v", v, y[i], want)
		}
		wantD := float32(0)
		if v > 0 {
			wantD = g[i]
		}
		if math.Float32bits(dx[i]) != math.Float32bits(wantD) || math.Float32bits(dy[i]) != math.Float32bits(wantD) {
			t.Errorf("relu'(%v)·%v = %v from x, %v from y; want %v", v, g[i], dx[i], dy[i], wantD)
		}
	}
	for name, k := range fusable {
		for _, v := range x {
			xv := float64(v)
			yv := k.f(xv)
			got, want := k.dfy(yv), k.df(xv, yv)
			if math.Float64bits(got) != math.Float64bits(want) && !(math.IsNaN(got) && math.IsNaN(want)) {
				t.Errorf("%s: derivative at x=%v from y=%v is %v, want %v", name, xv, yv, got, want)
			}
		}
	}
}

// TestParallelKernelsIgnoreGOMAXPROCS runs the parallel kernels with 1
// and 2 (and more) cores and a tiny grain: the results must not change.
func TestParallelKernelsIgnoreGOMAXPROCS(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	defer func(old int) { grain = old }(grain)
	grain = 7
	rng := rand.New(rand.NewPCG(11, 12))
	x := make([]float32, 999*37)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	b := x[:37]
	g := make([]float32, len(x))
	for i := range g {
		g[i] = float32(rng.NormFloat64())
	}
	kernels := map[string]func(out []float32){
		"sumLeading": func(out []float32) { sumLeading(out[:37], x) },
		"biasAdd":    func(out []float32) { biasAdd(out, x, b) },
		"biasAct":    func(out []float32) { biasAct(out, x, b, 37, reluK, true) },
		"relu":       func(out []float32) { map32(reluK.f32, out, x) },
		"tanh":       func(out []float32) { mapSlice(out, x, tanhK.f) },
		"mean":       func(out []float32) { channelMoment(out[:37], x, false) },
		"variance":   func(out []float32) { channelMoment(out[:37], x, true) },
		"variance'":  func(out []float32) { channelMomentGrad(out, x, b, true) },
		"normalize":  func(out []float32) { normalizeRows(out, x, b, x[37:74], x[74:111], x[111:148], 1e-3) },
		"stats":      func(out []float32) { normalizeStats(out[:74], x, b, g) },
		"normalize'": func(out []float32) { normalizeGradX(out, g, x[37:74], b, 1e-3) },
	}
	for name, k := range kernels {
		var ref []float32
		for _, procs := range []int{1, 2, 3, 8} {
			runtime.GOMAXPROCS(procs)
			out := make([]float32, len(x))
			k(out)
			if ref == nil {
				ref = out
				continue
			}
			for i := range ref {
				if math.Float32bits(out[i]) != math.Float32bits(ref[i]) {
					t.Fatalf("%s: GOMAXPROCS=%d changes value %d: %v, want %v", name, procs, i, out[i], ref[i])
				}
			}
		}
	}
}
