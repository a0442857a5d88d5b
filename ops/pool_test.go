package ops

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/keragon/keragon/internal/gradcheck"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// poolCases cover every option of the 2-D pools on odd shapes.
var poolCases = []struct {
	x   []int
	cfg PoolConfig
}{
	{[]int{2, 4, 6, 3}, PoolConfig{}},
	{[]int{2, 5, 7, 2}, PoolConfig{}},
	{[]int{1, 7, 6, 2}, PoolConfig{Size: [2]int{3, 3}, Strides: [2]int{2, 2}}},
	{[]int{2, 5, 7, 2}, PoolConfig{Padding: "same"}},
	{[]int{1, 7, 6, 2}, PoolConfig{Size: [2]int{3, 3}, Strides: [2]int{2, 2}, Padding: "same"}},
	{[]int{1, 5, 6, 2}, PoolConfig{Size: [2]int{2, 3}, Strides: [2]int{1, 1}, Padding: "same"}},
	{[]int{1, 5, 5, 2}, PoolConfig{Size: [2]int{3, 2}, Strides: [2]int{1, 2}}},
}

var pool1DCases = []struct {
	x   []int
	cfg Pool1DConfig
}{
	{[]int{2, 7, 3}, Pool1DConfig{}},
	{[]int{2, 7, 3}, Pool1DConfig{Size: 3, Stride: 2, Padding: "same"}},
	{[]int{2, 8, 2}, Pool1DConfig{Size: 3, Stride: 1}},
	{[]int{1, 5, 2}, Pool1DConfig{Size: 2, Stride: 1, Padding: "same"}},
}

func TestPoolGradients(t *testing.T) {
	inKernelModes(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(41, 1))
		check := func(name string, shape []int, f func(x *gorgonia.Node) (*gorgonia.Node, error)) {
			x := gradcheck.Random(rng, -1, 1, shape...)
			err := gradcheck.Check(func(g *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
				return f(in[0])
			}, []*tensor.Dense{x}, gradcheck.Options{})
			if err != nil {
				t.Errorf("%s of %v: %v", name, shape, err)
			}
		}
		for i, c := range poolCases {
			check(fmt.Sprintf("%d MaxPool2D %+v", i, c.cfg), c.x, func(x *gorgonia.Node) (*gorgonia.Node, error) { return MaxPool2D(x, c.cfg) })
			check(fmt.Sprintf("%d AvgPool2D %+v", i, c.cfg), c.x, func(x *gorgonia.Node) (*gorgonia.Node, error) { return AvgPool2D(x, c.cfg) })
		}
		for i, c := range pool1DCases {
			check(fmt.Sprintf("%d MaxPool1D %+v", i, c.cfg), c.x, func(x *gorgonia.Node) (*gorgonia.Node, error) { return MaxPool1D(x, c.cfg) })
			check(fmt.Sprintf("%d AvgPool1D %+v", i, c.cfg), c.x, func(x *gorgonia.Node) (*gorgonia.Node, error) { return AvgPool1D(x, c.cfg) })
		}
		check("GlobalMaxPool2D", []int{2, 3, 4, 3}, GlobalMaxPool2D)
		check("GlobalAvgPool2D", []int{2, 3, 4, 3}, GlobalAvgPool2D)
		check("GlobalMaxPool1D", []int{2, 5, 3}, GlobalMaxPool1D)
		check("GlobalAvgPool1D", []int{2, 5, 3}, GlobalAvgPool1D)

	})
}

// TestPoolByHand checks values worked out on paper on one 3×3 image 1…9
// with one channel, and where the gradient goes on ties.
func TestPoolByHand(t *testing.T) {
	x := tensor.New(tensor.WithShape(1, 3, 3, 1), tensor.WithBacking([]float64{1, 2, 3, 4, 5, 6, 7, 8, 9}))
	same := PoolConfig{Padding: Same}
	cases := []struct {
		name string
		f    func(*gorgonia.Node) (*gorgonia.Node, error)
		want []float64
	}{
		// Valid 2×2/2 keeps one window: [1 2; 4 5].
		{"max valid", func(x *gorgonia.Node) (*gorgonia.Node, error) { return MaxPool2D(x, PoolConfig{}) }, []float64{5}},
		{"avg valid", func(x *gorgonia.Node) (*gorgonia.Node, error) { return AvgPool2D(x, PoolConfig{}) }, []float64{3}},
		// Same: 2×2 output, padding one row and column at the end; the
		// border windows are [3; 6], [7 8] and [9], averaged over what
		// lies inside the image.
		{"max same", func(x *gorgonia.Node) (*gorgonia.Node, error) { return MaxPool2D(x, same) }, []float64{5, 6, 8, 9}},
		{"avg same", func(x *gorgonia.Node) (*gorgonia.Node, error) { return AvgPool2D(x, same) }, []float64{3, 4.5, 7.5, 9}},
		{"global max", GlobalMaxPool2D, []float64{9}},
		{"global avg", GlobalAvgPool2D, []float64{5}},
	}
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		for _, c := range cases {
			g := gorgonia.NewGraph()
			y, err := c.f(gorgonia.NodeFromAny(g, castTo(x, dt), gorgonia.WithName("x")))
			if err != nil {
				t.Fatal(err)
			}
			if got := run(t, g, y)[0]; fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Errorf("%v %s = %v, want %v", dt, c.name, got, c.want)
			}
		}
	}

	// Ties: a 2×2 window of equal values sends its gradient to the first
	// entry; the global maximum of [3 1 3] to the first 3.
	ties := []struct {
		name  string
		shape []int
		x     []float64
		f     func(*gorgonia.Node) (*gorgonia.Node, error)
		want  []float64
	}{
		{"MaxPool2D", []int{1, 2, 2, 1}, []float64{7, 7, 7, 7}, func(x *gorgonia.Node) (*gorgonia.Node, error) { return MaxPool2D(x, PoolConfig{}) }, []float64{1, 0, 0, 0}},
		{"MaxPool1D", []int{1, 4, 1}, []float64{2, 5, 5, 5}, func(x *gorgonia.Node) (*gorgonia.Node, error) { return MaxPool1D(x, Pool1DConfig{}) }, []float64{0, 1, 1, 0}},
		{"GlobalMaxPool1D", []int{1, 3, 1}, []float64{3, 1, 3}, GlobalMaxPool1D, []float64{1, 0, 0}},
	}
	for _, c := range ties {
		xs := tensor.New(tensor.WithShape(c.shape...), tensor.WithBacking(c.x))
		y := evalGrads(t, tensor.Float64, func(g *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
			return c.f(in[0])
		}, []*tensor.Dense{xs}, onesLike(t, c.f, c.shape))
		if fmt.Sprint(y[1]) != fmt.Sprint(c.want) {
			t.Errorf("%s on ties %v: gradient %v, want %v", c.name, c.x, y[1], c.want)
		}
	}
}

// onesLike returns ones in the shape of f's output for an input of shape.
func onesLike(t *testing.T, f func(*gorgonia.Node) (*gorgonia.Node, error), shape []int) *tensor.Dense {
	t.Helper()
	g := gorgonia.NewGraph()
	y, err := f(gorgonia.NewTensor(g, tensor.Float64, len(shape), gorgonia.WithShape(shape...), gorgonia.WithName("x")))
	if err != nil {
		t.Fatal(err)
	}
	ones := make([]float64, y.Shape().TotalSize())
	for i := range ones {
		ones[i] = 1
	}
	return tensor.New(tensor.WithShape(y.Shape().Clone()...), tensor.WithBacking(ones))
}

func TestPoolErrors(t *testing.T) {
	g := gorgonia.NewGraph()
	x := gorgonia.NewTensor(g, tensor.Float64, 4, gorgonia.WithShape(2, 3, 3, 2), gorgonia.WithName("x"))
	seq := gorgonia.NewTensor(g, tensor.Float64, 3, gorgonia.WithShape(2, 3, 2), gorgonia.WithName("seq"))
	cases := []struct {
		name string
		err  error
		want string
	}{
		{"rank", second(MaxPool2D(seq, PoolConfig{})), "input must be (batch, height, width, channels)"},
		{"rank 1D", second(AvgPool1D(x, Pool1DConfig{})), "input must be (batch, steps, channels)"},
		{"too big", second(MaxPool2D(x, PoolConfig{Size: [2]int{4, 2}})), "more than the input's 3"},
		{"padding", second(AvgPool2D(x, PoolConfig{Padding: "causal"})), `unknown padding "causal"`},
		{"negative", second(AvgPool2D(x, PoolConfig{Size: [2]int{-2, 2}})), "kernel -2"},
		{"global rank", second(GlobalAvgPool2D(seq)), "input must be (batch, height, width, channels)"},
		{"global 1D rank", second(GlobalMaxPool1D(x)), "input must be (batch, steps, channels)"},
	}
	for _, c := range cases {
		if c.err == nil || !strings.Contains(c.err.Error(), c.want) || !strings.HasPrefix(c.err.Error(), "ops: ") {
			t.Errorf("%s: error %v, want one starting with \"ops: \" and containing %q", c.name, c.err, c.want)
		}
	}
}
