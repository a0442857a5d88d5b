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

// conv2DCases cover every option of Conv2D on small, odd shapes:
// x is (n, h, w, c), the kernel (kh, kw, c, o).
var conv2DCases = []struct {
	x, k []int
	cfg  ConvConfig
}{
	{[]int{2, 5, 6, 3}, []int{3, 3, 3, 2}, ConvConfig{}},
	{[]int{2, 5, 6, 3}, []int{3, 3, 3, 2}, ConvConfig{Padding: "same"}},
	{[]int{2, 5, 6, 3}, []int{3, 3, 3, 2}, ConvConfig{Strides: [2]int{2, 2}, Padding: "same"}},
	{[]int{1, 7, 6, 2}, []int{3, 2, 2, 3}, ConvConfig{Strides: [2]int{2, 2}}},
	{[]int{1, 7, 5, 2}, []int{2, 2, 2, 2}, ConvConfig{Padding: "SAME"}},
	{[]int{1, 7, 6, 2}, []int{3, 3, 2, 2}, ConvConfig{Dilation: [2]int{2, 2}}},
	{[]int{1, 6, 7, 2}, []int{3, 2, 2, 2}, ConvConfig{Dilation: [2]int{2, 2}, Padding: "same"}},
	{[]int{2, 5, 5, 2}, []int{3, 3, 2, 2}, ConvConfig{Strides: [2]int{2, 1}, Dilation: [2]int{1, 2}, Padding: "same"}},
	{[]int{2, 3, 4, 3}, []int{1, 1, 3, 2}, ConvConfig{}},
	{[]int{2, 5, 4, 3}, []int{1, 1, 3, 2}, ConvConfig{Strides: [2]int{2, 2}}},
	{[]int{1, 4, 4, 1}, []int{4, 4, 1, 2}, ConvConfig{Strides: [2]int{3, 3}, Padding: "same"}},
}

// inKernelModes runs f under each setting of the kernels: the defaults
// (on test shapes: the whole batch in one GEMM, no goroutines) and "split"
// (one image per GEMM, every loop over images and every elementwise
// kernel split among the cores).
func inKernelModes(t *testing.T, f func(t *testing.T)) {
	modes := []struct {
		name                   string
		budget, minWork, grain int
	}{{"default", colsBudget, parallelMinWork, grain}, {"split", 1, 1, 1}}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			defer func(b, w, g int) { colsBudget, parallelMinWork, grain = b, w, g }(colsBudget, parallelMinWork, grain)
			colsBudget, parallelMinWork, grain = m.budget, m.minWork, m.grain
			f(t)
		})
	}
}

func TestConv2DGradient(t *testing.T) {
	inKernelModes(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(31, 1))
		for i, c := range conv2DCases {
			x := gradcheck.Random(rng, -1, 1, c.x...)
			k := gradcheck.Random(rng, -1, 1, c.k...)
			err := gradcheck.Check(func(g *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
				return Conv2D(in[0], in[1], c.cfg)
			}, []*tensor.Dense{x, k}, gradcheck.Options{})
			if err != nil {
				t.Errorf("%d: x %v kernel %v %+v: %v", i, c.x, c.k, c.cfg, err)
			}
		}
	})
}

var conv1DCases = []struct {
	x, k []int
	cfg  Conv1DConfig
}{
	{[]int{2, 7, 3}, []int{3, 3, 2}, Conv1DConfig{}},
	{[]int{2, 7, 3}, []int{3, 3, 2}, Conv1DConfig{Padding: "same", Stride: 2}},
	{[]int{2, 8, 2}, []int{2, 2, 3}, Conv1DConfig{Padding: "same"}},
	{[]int{2, 7, 2}, []int{3, 2, 2}, Conv1DConfig{Padding: "causal", Dilation: 2}},
	{[]int{1, 9, 2}, []int{3, 2, 2}, Conv1DConfig{Padding: "causal", Stride: 2}},
	{[]int{1, 9, 2}, []int{2, 2, 2}, Conv1DConfig{Stride: 2, Dilation: 3}},
}

func TestConv1DGradient(t *testing.T) {
	inKernelModes(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(32, 1))
		for i, c := range conv1DCases {
			x := gradcheck.Random(rng, -1, 1, c.x...)
			k := gradcheck.Random(rng, -1, 1, c.k...)
			err := gradcheck.Check(func(g *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
				return Conv1D(in[0], in[1], c.cfg)
			}, []*tensor.Dense{x, k}, gradcheck.Options{})
			if err != nil {
				t.Errorf("%d: x %v kernel %v %+v: %v", i, c.x, c.k, c.cfg, err)
			}
		}
	})
}

// TestConv2DByHand checks a case worked out on paper: one 3×3 image
// 1…9, a 2×2 kernel [[1, 0], [0, −1]] (each output is x[i,j] − x[i+1,j+1]),
// "same" padding adds one zero row at the bottom and one zero column at
// the right.
func TestConv2DByHand(t *testing.T) {
	x := tensor.New(tensor.WithShape(1, 3, 3, 1), tensor.WithBacking([]float64{1, 2, 3, 4, 5, 6, 7, 8, 9}))
	k := tensor.New(tensor.WithShape(2, 2, 1, 1), tensor.WithBacking([]float64{1, 0, 0, -1}))
	cases := []struct {
		cfg   ConvConfig
		shape tensor.Shape
		want  []float64
	}{
		{ConvConfig{}, tensor.Shape{1, 2, 2, 1}, []float64{-4, -4, -4, -4}},
		{ConvConfig{Padding: Same}, tensor.Shape{1, 3, 3, 1}, []float64{-4, -4, 3, -4, -4, 6, 7, 8, 9}},
		{ConvConfig{Padding: Same, Strides: [2]int{2, 2}}, tensor.Shape{1, 2, 2, 1}, []float64{-4, 3, 7, 9}},
		{ConvConfig{Dilation: [2]int{2, 2}}, tensor.Shape{1, 1, 1, 1}, []float64{1 - 9}},
	}
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		for i, c := range cases {
			g := gorgonia.NewGraph()
			y, err := Conv2D(gorgonia.NodeFromAny(g, castTo(x, dt), gorgonia.WithName("x")),
				gorgonia.NodeFromAny(g, castTo(k, dt), gorgonia.WithName("k")), c.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if !y.Shape().Eq(c.shape) {
				t.Errorf("%v %d: shape %v, want %v", dt, i, y.Shape(), c.shape)
				continue
			}
			if got := run(t, g, y)[0]; fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Errorf("%v %d: %+v gives %v, want %v", dt, i, c.cfg, got, c.want)
			}
		}
	}
}

func TestConvErrors(t *testing.T) {
	g := gorgonia.NewGraph()
	node := func(name string, dt tensor.Dtype, shape ...int) *gorgonia.Node {
		return gorgonia.NewTensor(g, dt, len(shape), gorgonia.WithShape(shape...), gorgonia.WithName(name))
	}
	x := node("x", tensor.Float64, 2, 5, 5, 3)
	seq := node("seq", tensor.Float64, 2, 5, 3)
	cases := []struct {
		name string
		err  error
		want string
	}{
		{"rank of x", second(Conv2D(seq, node("k1", tensor.Float64, 3, 3, 3, 2), ConvConfig{})), "input must be (batch, height, width, channels)"},
		{"channels", second(Conv2D(x, node("k2", tensor.Float64, 3, 3, 2, 2), ConvConfig{})), "in = 3"},
		{"kernel rank", second(Conv2D(x, node("k3", tensor.Float64, 3, 3, 2), ConvConfig{})), "kernel must be (kh, kw, in, out)"},
		{"too big", second(Conv2D(x, node("k4", tensor.Float64, 6, 3, 3, 2), ConvConfig{})), "more than the input's 5"},
		{"dilated too big", second(Conv2D(x, node("k5", tensor.Float64, 3, 3, 3, 2), ConvConfig{Dilation: [2]int{3, 1}})), "kernel spans 7"},
		{"padding", second(Conv2D(x, node("k6", tensor.Float64, 3, 3, 3, 2), ConvConfig{Padding: "full"})), `unknown padding "full"`},
		{"causal 2D", second(Conv2D(x, node("k7", tensor.Float64, 3, 3, 3, 2), ConvConfig{Padding: "causal"})), "Conv1D only"},
		{"stride", second(Conv2D(x, node("k8", tensor.Float64, 3, 3, 3, 2), ConvConfig{Strides: [2]int{-1, 1}})), "stride -1"},
		{"dtype", second(Conv2D(x, node("k9", tensor.Float32, 3, 3, 3, 2), ConvConfig{})), "kernel float32"},
		{"conv1d kernel", second(Conv1D(seq, node("k10", tensor.Float64, 3, 2, 2), Conv1DConfig{})), "(k, in, out) with in = 3"},
		{"depthwise kernel", second(DepthwiseConv2D(x, node("k11", tensor.Float64, 3, 3, 2, 1), ConvConfig{})), "(kh, kw, in, depth multiplier)"},
		{"depthwise causal", second(DepthwiseConv2D(x, node("k12", tensor.Float64, 3, 3, 3, 1), ConvConfig{Padding: Causal})), "Conv1D only"},
		{"transpose kernel", second(Conv2DTranspose(x, node("k13", tensor.Float64, 3, 3, 3, 2), ConvConfig{})), "(kh, kw, filters, in) with in = 3"},
		{"transpose causal", second(Conv1DTranspose(seq, node("k14", tensor.Float64, 3, 2, 3), Conv1DConfig{Padding: Causal})), `unknown padding "causal"`},
		{"transpose stride", second(Conv2DTranspose(x, node("k15", tensor.Float64, 3, 3, 2, 3), ConvConfig{Strides: [2]int{-2, 1}})), "stride -2"},
	}
	for _, c := range cases {
		if c.err == nil || !strings.Contains(c.err.Error(), c.want) || !strings.HasPrefix(c.err.Error(), "ops: ") {
			t.Errorf("%s: error %v, want one starting with \"ops: \" and containing %q", c.name, c.err, c.want)
		}
	}
}

var depthwiseCases = []struct {
	x, k []int
	cfg  ConvConfig
}{
	{[]int{2, 5, 6, 3}, []int{3, 3, 3, 1}, ConvConfig{}},
	{[]int{2, 5, 6, 3}, []int{3, 3, 3, 2}, ConvConfig{Padding: "same"}},
	{[]int{1, 7, 6, 2}, []int{3, 3, 2, 2}, ConvConfig{Strides: [2]int{2, 2}, Padding: "same"}},
	{[]int{1, 7, 7, 2}, []int{3, 2, 2, 1}, ConvConfig{Strides: [2]int{2, 2}}},
	{[]int{1, 7, 6, 2}, []int{3, 3, 2, 3}, ConvConfig{Dilation: [2]int{2, 2}}},
	{[]int{1, 6, 7, 2}, []int{2, 3, 2, 1}, ConvConfig{Dilation: [2]int{2, 2}, Padding: "same"}},
}

func TestDepthwiseConv2DGradient(t *testing.T) {
	inKernelModes(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(33, 1))
		for i, c := range depthwiseCases {
			x := gradcheck.Random(rng, -1, 1, c.x...)
			k := gradcheck.Random(rng, -1, 1, c.k...)
			err := gradcheck.Check(func(g *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
				return DepthwiseConv2D(in[0], in[1], c.cfg)
			}, []*tensor.Dense{x, k}, gradcheck.Options{})
			if err != nil {
				t.Errorf("%d: x %v kernel %v %+v: %v", i, c.x, c.k, c.cfg, err)
			}
		}
	})
}

func TestConvOutputLength(t *testing.T) {
	cases := []struct {
		in, k, stride, dilation int
		padding                 string
		want                    int
	}{
		{28, 3, 1, 1, Valid, 26},
		{28, 3, 0, 0, "", 26}, // zero stride and dilation mean 1
		{26, 2, 2, 1, Valid, 13},
		{27, 2, 2, 1, Valid, 13},
		{7, 3, 2, 1, Same, 4},
		{8, 4, 3, 1, "SAME", 3},
		{9, 3, 1, 2, Valid, 5},
		{9, 3, 2, 1, Causal, 5},
	}
	for _, c := range cases {
		got, err := ConvOutputLength(c.in, c.k, c.stride, c.dilation, c.padding)
		if err != nil || got != c.want {
			t.Errorf("ConvOutputLength(%d, %d, %d, %d, %q) = %d, %v; want %d", c.in, c.k, c.stride, c.dilation, c.padding, got, err, c.want)
		}
	}
	if _, err := ConvOutputLength(2, 3, 1, 1, Valid); err == nil || !strings.HasPrefix(err.Error(), "ops: ") {
		t.Errorf("a kernel larger than the input: error %v, want one starting with \"ops: \"", err)
	}
}

// TestKernelsRejectOtherShapes runs ops on values of other shapes than
// their nodes': an error, not an index panic.
func TestKernelsRejectOtherShapes(t *testing.T) {
	g := gorgonia.NewGraph()
	x := gorgonia.NewTensor(g, tensor.Float64, 4, gorgonia.WithShape(1, 5, 5, 2), gorgonia.WithName("x"))
	k := gorgonia.NewTensor(g, tensor.Float64, 4, gorgonia.WithShape(3, 3, 2, 4), gorgonia.WithName("k"))
	dk := gorgonia.NewTensor(g, tensor.Float64, 4, gorgonia.WithShape(3, 3, 2, 1), gorgonia.WithName("dk"))
	big := tensor.New(tensor.WithShape(2, 5, 5, 2), tensor.Of(tensor.Float64))
	type opRun struct {
		name string
		y    *gorgonia.Node
		in   []gorgonia.Value
	}
	var runs []opRun
	add := func(name string, y *gorgonia.Node, err error, in ...gorgonia.Value) {
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		runs = append(runs, opRun{name, y, in})
	}
	kv := tensor.New(tensor.WithShape(3, 3, 2, 4), tensor.Of(tensor.Float64))
	y, err := Conv2D(x, k, ConvConfig{})
	add("Conv2D", y, err, big, kv)
	y, err = DepthwiseConv2D(x, dk, ConvConfig{})
	add("DepthwiseConv2D", y, err, big, tensor.New(tensor.WithShape(3, 3, 2, 1), tensor.Of(tensor.Float64)))
	y, err = MaxPool2D(x, PoolConfig{})
	add("MaxPool2D", y, err, big)
	y, err = AvgPool2D(x, PoolConfig{})
	add("AvgPool2D", y, err, big)
	y, err = GlobalMaxPool2D(x)
	add("GlobalMaxPool2D", y, err, big)
	y, err = ZeroPad2D(x, 1, 1, 1, 1)
	add("ZeroPad2D", y, err, big)
	y, err = UpSample2D(x, 2, 2)
	add("UpSample2D", y, err, big)
	for _, c := range runs {
		_, err := c.y.Op().Do(c.in...)
		if err == nil || !strings.Contains(err.Error(), "input 0 has shape (2, 5, 5, 2)") {
			t.Errorf("%s on a batch of 2 built for 1: error %v", c.name, err)
		}
	}
}
