package ops

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/keragon/keragon/internal/gradcheck"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// awayFromKinks nudges values off the points where an activation is not
// differentiable (0 for ReLU-like, ±3 for hard_sigmoid, 6 for relu6), so the
// finite differences never straddle a kink.
func awayFromKinks(t *tensor.Dense) *tensor.Dense {
	for i, v := range t.Data().([]float64) {
		for _, k := range []float64{0, 3, -3, 6} {
			if math.Abs(v-k) < 1e-3 {
				t.Data().([]float64)[i] = k + 0.01
			}
		}
	}
	return t
}

func TestActivationGradients(t *testing.T) {
	for _, name := range ActivationNames() {
		t.Run(name, func(t *testing.T) {
			f, err := Activation(name)
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(1, 2))
			x := awayFromKinks(gradcheck.Random(rng, -4, 8, 3, 5))
			err = gradcheck.Check(func(g *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
				return f(in[0])
			}, []*tensor.Dense{x}, gradcheck.Options{})
			if err != nil {
				t.Error(err)
			}
		})
	}
}

func TestParameterisedActivationGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	x := awayFromKinks(gradcheck.Random(rng, -3, 3, 4, 3))
	cases := map[string]ActivationFunc{
		"leaky_relu(0.3)": func(x *gorgonia.Node) (*gorgonia.Node, error) { return LeakyReLU(x, 0.3) },
		"elu(0.5)":        func(x *gorgonia.Node) (*gorgonia.Node, error) { return ELU(x, 0.5) },
		"gelu_tanh":       GELUTanh,
	}
	for name, f := range cases {
		err := gradcheck.Check(func(g *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
			return f(in[0])
		}, []*tensor.Dense{x}, gradcheck.Options{})
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestBiasAddGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, shape := range [][]int{{4, 3}, {2, 3, 5}} {
		x := gradcheck.Random(rng, -1, 1, shape...)
		b := gradcheck.Random(rng, -1, 1, shape[len(shape)-1])
		err := gradcheck.Check(func(g *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
			return BiasAdd(in[0], in[1])
		}, []*tensor.Dense{x, b}, gradcheck.Options{})
		if err != nil {
			t.Errorf("shape %v: %v", shape, err)
		}
	}
}

// TestGradcheckCatchesWrongGradient guards the checker itself: a kernel with
// a deliberately wrong derivative must be rejected.
func TestGradcheckCatchesWrongGradient(t *testing.T) {
	wrong := &unaryKernel{name: "wrong_square", f: func(x float64) float64 { return x * x },
		df: func(x, _ float64) float64 { return 2*x + 0.01 }}
	rng := rand.New(rand.NewPCG(7, 8))
	x := gradcheck.Random(rng, -1, 1, 3, 2)
	err := gradcheck.Check(func(g *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
		return applyUnary(wrong, in[0])
	}, []*tensor.Dense{x}, gradcheck.Options{})
	if err == nil {
		t.Fatal("a wrong derivative passed the finite-difference check")
	}
}

// TestReLUFloat32FastPath checks the float32 slice kernels against the
// generic float64 definition, NaN and signed zero included.
func TestReLUFloat32FastPath(t *testing.T) {
	x := []float32{-2, -0.5, 0, 0.25, 3, float32(math.Inf(1)), float32(math.Inf(-1))}
	g := []float32{1, 2, 3, 4, 5, 6, 7}
	y := make([]float32, len(x))
	dx := make([]float32, len(x))
	relu32(y, x)
	reluGrad32(dx, x, y, g)
	for i := range x {
		if want := float32(reluK.f(float64(x[i]))); y[i] != want {
			t.Errorf("relu(%v) = %v, want %v", x[i], y[i], want)
		}
		if want := g[i] * float32(reluK.df(float64(x[i]), 0)); dx[i] != want {
			t.Errorf("relu'(%v)·%v = %v, want %v", x[i], g[i], dx[i], want)
		}
	}
}
