package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/keragon/keragon/internal/gradcheck"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// normShapes are the channel-last shapes the normalisation tests use:
// (N, C), (N, T, C) and NHWC.
var normShapes = [][]int{{5, 3}, {2, 3, 4}, {2, 3, 2, 3}}

// channelData returns x with a different offset and spread per channel.
func channelData(rng *rand.Rand, shape ...int) *tensor.Dense {
	x := gradcheck.Random(rng, -1, 1, shape...)
	c := shape[len(shape)-1]
	d := x.Data().([]float64)
	for i := range d {
		j := i % c
		d[i] = d[i]*(0.5+float64(j)) + float64(j) - 1
	}
	return x
}

func TestBatchMomentsValues(t *testing.T) {
	// Two channels over N = 4 rows: means 2.5 and 0, biased variances
	// ((1.5²+0.5²)·2)/4 = 1.25 and (4+0+0+4)/4 = 2.
	x := tensor.New(tensor.WithShape(2, 2, 2), tensor.WithBacking([]float64{1, -2, 2, 0, 3, 0, 4, 2}))
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		g := gorgonia.NewGraph()
		xn := gorgonia.NodeFromAny(g, castTo(x, dt), gorgonia.WithName("x"))
		m, v, err := BatchMoments(xn)
		if err != nil {
			t.Fatal(err)
		}
		got := run(t, g, m, v)
		want := [][]float64{{2.5, 0}, {1.25, 2}}
		for k := range want {
			for j := range want[k] {
				if got[k][j] != want[k][j] {
					t.Errorf("%v: BatchMoments = %v, want %v", dt, got, want)
				}
			}
		}
	}
}

func TestBatchMomentsGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 1))
	for _, shape := range normShapes {
		x := channelData(rng, shape...)
		for k, name := range []string{"mean", "variance"} {
			err := gradcheck.Check(func(g *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
				m, v, err := BatchMoments(in[0])
				return []*gorgonia.Node{m, v}[k], err
			}, []*tensor.Dense{x}, gradcheck.Options{})
			if err != nil {
				t.Errorf("%s of %v: %v", name, shape, err)
			}
		}
	}
}

// normInputs returns x, mean, variance (in [0.5, 2]), gamma and beta.
func normInputs(rng *rand.Rand, shape []int) []*tensor.Dense {
	c := shape[len(shape)-1]
	return []*tensor.Dense{
		channelData(rng, shape...),
		gradcheck.Random(rng, -1, 1, c),
		gradcheck.Random(rng, 0.5, 2, c),
		gradcheck.Random(rng, 0.5, 1.5, c),
		gradcheck.Random(rng, -1, 1, c),
	}
}

// affineVariants are the four (scale, center) settings of Keras.
var affineVariants = []struct {
	name         string
	scale, shift bool
}{{"gamma+beta", true, true}, {"gamma", true, false}, {"beta", false, true}, {"neither", false, false}}

// pick returns the inputs used by a variant, and the nodes for gamma and
// beta (nil when unused) from the graph's input nodes.
func pick(in []*tensor.Dense, scale, shift bool) []*tensor.Dense {
	out := in[: len(in)-2 : len(in)-2]
	if scale {
		out = append(out, in[len(in)-2])
	}
	if shift {
		out = append(out, in[len(in)-1])
	}
	return out
}

func affineNodes(nodes []*gorgonia.Node, first int, scale, shift bool) (gamma, beta *gorgonia.Node) {
	i := first
	if scale {
		gamma = nodes[i]
		i++
	}
	if shift {
		beta = nodes[i]
	}
	return gamma, beta
}

func TestNormalizeGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 1))
	for _, shape := range normShapes {
		all := normInputs(rng, shape)
		for _, v := range affineVariants {
			err := gradcheck.Check(func(g *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
				gamma, beta := affineNodes(in, 3, v.scale, v.shift)
				return Normalize(in[0], in[1], in[2], gamma, beta, 1e-3)
			}, pick(all, v.scale, v.shift), gradcheck.Options{})
			if err != nil {
				t.Errorf("%v %s: %v", shape, v.name, err)
			}
		}
	}
}

// TestBatchNormGradient checks the training-mode composition: gradients
// flow into x both directly and through the batch statistics.
func TestBatchNormGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 1))
	for _, shape := range normShapes {
		all := normInputs(rng, shape)
		in := []*tensor.Dense{all[0], all[3], all[4]}
		for _, v := range affineVariants {
			err := gradcheck.Check(func(g *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
				gamma, beta := affineNodes(in, 1, v.scale, v.shift)
				m, variance, err := BatchMoments(in[0])
				if err != nil {
					return nil, err
				}
				return Normalize(in[0], m, variance, gamma, beta, 1e-3)
			}, pick(in, v.scale, v.shift), gradcheck.Options{})
			if err != nil {
				t.Errorf("%v %s: %v", shape, v.name, err)
			}
		}
	}
}

func TestLayerNormGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(14, 1))
	for _, shape := range append(normShapes, []int{3, 1}) {
		all := normInputs(rng, shape)
		in := []*tensor.Dense{gradcheck.Random(rng, -2, 2, shape...), all[3], all[4]}
		for _, v := range affineVariants {
			err := gradcheck.Check(func(g *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
				gamma, beta := affineNodes(in, 1, v.scale, v.shift)
				return LayerNorm(in[0], gamma, beta, 1e-3)
			}, pick(in, v.scale, v.shift), gradcheck.Options{})
			if err != nil {
				t.Errorf("%v %s: %v", shape, v.name, err)
			}
		}
	}
}

func TestLayerNormValues(t *testing.T) {
	// Row (1, 2, 3, 6): mean 3, biased variance (4+1+0+9)/4 = 3.5; with
	// epsilon 0.5 the scale is 1/2, so x̂ = (−1, −0.5, 0, 1.5).
	x := tensor.New(tensor.WithShape(1, 4), tensor.WithBacking([]float64{1, 2, 3, 6}))
	gamma := tensor.New(tensor.WithShape(4), tensor.WithBacking([]float64{1, 2, 1, 2}))
	beta := tensor.New(tensor.WithShape(4), tensor.WithBacking([]float64{0, 0, 1, 1}))
	want := []float64{-1, -1, 1, 4}
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		g := gorgonia.NewGraph()
		y, err := LayerNorm(gorgonia.NodeFromAny(g, castTo(x, dt), gorgonia.WithName("x")),
			gorgonia.NodeFromAny(g, castTo(gamma, dt), gorgonia.WithName("gamma")),
			gorgonia.NodeFromAny(g, castTo(beta, dt), gorgonia.WithName("beta")), 0.5)
		if err != nil {
			t.Fatal(err)
		}
		got := run(t, g, y)[0]
		for j := range want {
			if got[j] != want[j] {
				t.Errorf("%v: LayerNorm = %v, want %v", dt, got, want)
				break
			}
		}
	}
}

// evalGrads builds f on inputs of dtype dt, runs loss = Σ f(in)·upstream
// and returns f's value followed by the gradient of each input, as float64.
func evalGrads(t *testing.T, dt tensor.Dtype, f gradcheck.Func, inputs []*tensor.Dense, upstream *tensor.Dense) [][]float64 {
	t.Helper()
	g := gorgonia.NewGraph()
	nodes := make([]*gorgonia.Node, len(inputs))
	for i, x := range inputs {
		nodes[i] = gorgonia.NodeFromAny(g, castTo(x, dt), gorgonia.WithName(fmt.Sprint("in", i)))
	}
	y, err := f(g, nodes)
	if err != nil {
		t.Fatal(err)
	}
	up := gorgonia.NodeFromAny(g, castTo(upstream, dt), gorgonia.WithName("upstream"))
	loss := gorgonia.Must(gorgonia.Sum(gorgonia.Must(gorgonia.HadamardProd(y, up))))
	grads, err := gorgonia.Grad(loss, nodes...)
	if err != nil {
		t.Fatal(err)
	}
	return run(t, g, append(gorgonia.Nodes{y}, grads...)...)
}

// TestNormalizationFloat32 runs every op in float32 and compares values
// and gradients with float64.
func TestNormalizationFloat32(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 1))
	shape := []int{2, 3, 2, 4}
	all := normInputs(rng, shape)
	upstream := gradcheck.Random(rng, -1, 1, shape...)
	cases := []struct {
		name string
		f    gradcheck.Func
		in   []*tensor.Dense
	}{
		{"Normalize", func(g *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
			return Normalize(in[0], in[1], in[2], in[3], in[4], 1e-3)
		}, all},
		{"BatchMoments+Normalize", func(g *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
			m, v, err := BatchMoments(in[0])
			if err != nil {
				return nil, err
			}
			return Normalize(in[0], m, v, in[1], in[2], 1e-3)
		}, []*tensor.Dense{all[0], all[3], all[4]}},
		{"LayerNorm", func(g *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
			return LayerNorm(in[0], in[1], in[2], 1e-3)
		}, []*tensor.Dense{all[0], all[3], all[4]}},
	}
	for _, c := range cases {
		want := evalGrads(t, tensor.Float64, c.f, c.in, upstream)
		got := evalGrads(t, tensor.Float32, c.f, c.in, upstream)
		for k := range want {
			for j := range want[k] {
				if math.Abs(got[k][j]-want[k][j]) > 1e-5*(1+math.Abs(want[k][j])) {
					t.Errorf("%s: output %d entry %d: float32 %v, float64 %v", c.name, k, j, got[k][j], want[k][j])
					break
				}
			}
		}
	}
}

func TestNormalizationErrors(t *testing.T) {
	g := gorgonia.NewGraph()
	var count int
	vec := func(n int) *gorgonia.Node {
		count++
		return gorgonia.NewVector(g, tensor.Float64, gorgonia.WithShape(n), gorgonia.WithName(fmt.Sprint("v", count)))
	}
	x := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(4, 3), gorgonia.WithName("x"))
	scalar := gorgonia.NewScalar(g, tensor.Float64, gorgonia.WithName("s"))
	if _, _, err := BatchMoments(scalar); err == nil {
		t.Error("BatchMoments(scalar): no error")
	}
	cases := []struct {
		name string
		err  error
	}{
		{"Normalize wrong mean", second(Normalize(x, vec(4), vec(3), nil, nil, 1e-3))},
		{"Normalize wrong gamma", second(Normalize(x, vec(3), vec(3), vec(2), nil, 1e-3))},
		{"Normalize wrong beta", second(Normalize(x, vec(3), vec(3), nil, vec(5), 1e-3))},
		{"Normalize negative epsilon", second(Normalize(x, vec(3), vec(3), nil, nil, -1))},
		{"Normalize NaN epsilon", second(Normalize(x, vec(3), vec(3), nil, nil, math.NaN()))},
		{"LayerNorm wrong gamma", second(LayerNorm(x, vec(4), nil, 1e-3))},
		{"LayerNorm wrong beta", second(LayerNorm(x, nil, vec(2), 1e-3))},
		{"LayerNorm negative epsilon", second(LayerNorm(x, nil, nil, -1e-3))},
		{"LayerNorm scalar", second(LayerNorm(scalar, nil, nil, 1e-3))},
	}
	for _, c := range cases {
		if c.err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
}

func second(_ *gorgonia.Node, err error) error { return err }
