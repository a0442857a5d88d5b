package ops

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/keragon/keragon/internal/gradcheck"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

var transposeCases = []struct {
	x, k  []int // x (n, h, w, in) or (n, l, in); kernel (kh, kw, filters, in) or (k, filters, in)
	cfg   ConvConfig
	shape tensor.Shape // the output's
}{
	{[]int{2, 3, 4, 3}, []int{3, 3, 2, 3}, ConvConfig{}, tensor.Shape{2, 5, 6, 2}},
	{[]int{2, 3, 4, 3}, []int{3, 3, 2, 3}, ConvConfig{Padding: Same}, tensor.Shape{2, 3, 4, 2}},
	{[]int{1, 3, 3, 2}, []int{3, 3, 2, 2}, ConvConfig{Strides: [2]int{2, 2}}, tensor.Shape{1, 7, 7, 2}},
	{[]int{1, 3, 4, 2}, []int{3, 2, 3, 2}, ConvConfig{Strides: [2]int{2, 2}, Padding: Same}, tensor.Shape{1, 6, 8, 3}},
	// A kernel smaller than the stride: Keras' output is still in·stride.
	{[]int{1, 2, 3, 2}, []int{2, 1, 2, 2}, ConvConfig{Strides: [2]int{3, 3}}, tensor.Shape{1, 6, 9, 2}},
	{[]int{1, 3, 3, 2}, []int{3, 3, 2, 2}, ConvConfig{Dilation: [2]int{2, 2}}, tensor.Shape{1, 7, 7, 2}},
	{[]int{1, 3, 3, 2}, []int{3, 2, 2, 2}, ConvConfig{Dilation: [2]int{2, 1}, Padding: Same}, tensor.Shape{1, 3, 3, 2}},
	// Output padding, Keras' deconv_output_length: (in−1)·s + k − 2·pad + op.
	{[]int{1, 3, 3, 2}, []int{3, 3, 2, 2}, ConvConfig{Strides: [2]int{2, 2}, Padding: Same, OutputPadding: []int{1, 0}}, tensor.Shape{1, 6, 5, 2}},
	{[]int{1, 3, 3, 2}, []int{3, 3, 2, 2}, ConvConfig{Strides: [2]int{2, 3}, OutputPadding: []int{1, 2}}, tensor.Shape{1, 8, 11, 2}},
	{[]int{1, 2, 3, 2}, []int{2, 1, 2, 2}, ConvConfig{Strides: [2]int{3, 3}, OutputPadding: []int{0, 0}}, tensor.Shape{1, 5, 7, 2}},
}

func TestConvTransposeGradient(t *testing.T) {
	inKernelModes(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(34, 1))
		for i, c := range transposeCases {
			x := gradcheck.Random(rng, -1, 1, c.x...)
			k := gradcheck.Random(rng, -1, 1, c.k...)
			err := gradcheck.Check(func(g *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
				y, err := Conv2DTranspose(in[0], in[1], c.cfg)
				if err == nil && !y.Shape().Eq(c.shape) {
					err = fmt.Errorf("shape %v, want %v", y.Shape(), c.shape)
				}
				return y, err
			}, []*tensor.Dense{x, k}, gradcheck.Options{})
			if err != nil {
				t.Errorf("%d: x %v kernel %v %+v: %v", i, c.x, c.k, c.cfg, err)
			}
		}
		x := gradcheck.Random(rng, -1, 1, 2, 4, 3)
		k := gradcheck.Random(rng, -1, 1, 3, 2, 3)
		for _, cfg := range []Conv1DConfig{{}, {Stride: 2, Padding: Same}, {Stride: 2, Dilation: 2}, {Stride: 3, Padding: Same, OutputPadding: []int{2}}} {
			err := gradcheck.Check(func(g *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
				return Conv1DTranspose(in[0], in[1], cfg)
			}, []*tensor.Dense{x, k}, gradcheck.Options{})
			if err != nil {
				t.Errorf("Conv1DTranspose %+v: %v", cfg, err)
			}
		}
	})
}

// TestConvKernelGradientGradient checks the derivative of Conv2D's kernel
// gradient op (Conv2DTranspose checks the input gradient op's), so that
// Conv2D is twice differentiable.
func TestConvKernelGradientGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(35, 1))
	for i, c := range conv2DCases[:8] {
		g0 := gorgonia.NewGraph()
		x := gorgonia.NewTensor(g0, tensor.Float64, 4, gorgonia.WithShape(c.x...), gorgonia.WithName("x"))
		k := gorgonia.NewTensor(g0, tensor.Float64, 4, gorgonia.WithShape(c.k...), gorgonia.WithName("k"))
		geo, o, err := convGeom("Conv2D", x, k, 2, c.cfg.Strides, c.cfg.Dilation, c.cfg.Padding, false)
		if err != nil {
			t.Fatal(err)
		}
		inputs := []*tensor.Dense{gradcheck.Random(rng, -1, 1, c.x...), gradcheck.Random(rng, -1, 1, geo.outShape(o)...)}
		err = gradcheck.Check(func(g *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
			return apply(convGradKernelOp(geo, o), in[0], in[1])
		}, inputs, gradcheck.Options{})
		if err != nil {
			t.Errorf("%d: x %v kernel %v %+v: %v", i, c.x, c.k, c.cfg, err)
		}
	}
}
