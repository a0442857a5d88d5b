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

func TestPadAndUpSampleGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(51, 1))
	cases := []struct {
		name  string
		shape []int
		f     func(*gorgonia.Node) (*gorgonia.Node, error)
	}{
		{"ZeroPad2D(1,2,0,3)", []int{2, 3, 2, 2}, func(x *gorgonia.Node) (*gorgonia.Node, error) { return ZeroPad2D(x, 1, 2, 0, 3) }},
		{"ZeroPad2D(0,0,0,0)", []int{1, 2, 2, 1}, func(x *gorgonia.Node) (*gorgonia.Node, error) { return ZeroPad2D(x, 0, 0, 0, 0) }},
		{"ZeroPad1D(2,1)", []int{2, 3, 2}, func(x *gorgonia.Node) (*gorgonia.Node, error) { return ZeroPad1D(x, 2, 1) }},
		{"UpSample2D(2,3)", []int{2, 3, 2, 2}, func(x *gorgonia.Node) (*gorgonia.Node, error) { return UpSample2D(x, 2, 3) }},
		{"UpSample2D(1,1)", []int{1, 2, 3, 1}, func(x *gorgonia.Node) (*gorgonia.Node, error) { return UpSample2D(x, 1, 1) }},
		{"UpSample1D(3)", []int{2, 3, 2}, func(x *gorgonia.Node) (*gorgonia.Node, error) { return UpSample1D(x, 3) }},
	}
	for _, c := range cases {
		x := gradcheck.Random(rng, -1, 1, c.shape...)
		err := gradcheck.Check(func(g *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
			return c.f(in[0])
		}, []*tensor.Dense{x}, gradcheck.Options{})
		if err != nil {
			t.Errorf("%s of %v: %v", c.name, c.shape, err)
		}
	}
}

// TestPadAndUpSampleByHand checks values worked out on paper, x being
// [1 2; 3 4] with one channel.
func TestPadAndUpSampleByHand(t *testing.T) {
	x := tensor.New(tensor.WithShape(1, 2, 2, 1), tensor.WithBacking([]float64{1, 2, 3, 4}))
	cases := []struct {
		name  string
		f     func(*gorgonia.Node) (*gorgonia.Node, error)
		shape tensor.Shape
		want  []float64
	}{
		{"ZeroPad2D(1,0,0,1)", func(x *gorgonia.Node) (*gorgonia.Node, error) { return ZeroPad2D(x, 1, 0, 0, 1) },
			tensor.Shape{1, 3, 3, 1}, []float64{0, 0, 0, 1, 2, 0, 3, 4, 0}},
		{"UpSample2D(2,1)", func(x *gorgonia.Node) (*gorgonia.Node, error) { return UpSample2D(x, 2, 1) },
			tensor.Shape{1, 4, 2, 1}, []float64{1, 2, 1, 2, 3, 4, 3, 4}},
		{"UpSample2D(1,2)", func(x *gorgonia.Node) (*gorgonia.Node, error) { return UpSample2D(x, 1, 2) },
			tensor.Shape{1, 2, 4, 1}, []float64{1, 1, 2, 2, 3, 3, 4, 4}},
	}
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		for _, c := range cases {
			g := gorgonia.NewGraph()
			y, err := c.f(gorgonia.NodeFromAny(g, castTo(x, dt), gorgonia.WithName("x")))
			if err != nil {
				t.Fatal(err)
			}
			if !y.Shape().Eq(c.shape) {
				t.Errorf("%v %s: shape %v, want %v", dt, c.name, y.Shape(), c.shape)
				continue
			}
			if got := run(t, g, y)[0]; fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Errorf("%v %s = %v, want %v", dt, c.name, got, c.want)
			}
		}
	}
}

func TestPadAndUpSampleErrors(t *testing.T) {
	g := gorgonia.NewGraph()
	x := gorgonia.NewTensor(g, tensor.Float64, 4, gorgonia.WithShape(2, 3, 3, 2), gorgonia.WithName("x"))
	seq := gorgonia.NewTensor(g, tensor.Float64, 3, gorgonia.WithShape(2, 3, 2), gorgonia.WithName("seq"))
	cases := []struct {
		name string
		err  error
		want string
	}{
		{"pad rank", second(ZeroPad2D(seq, 1, 1, 1, 1)), "input must be (batch, height, width, channels)"},
		{"pad negative", second(ZeroPad2D(x, 1, -1, 0, 0)), "bottom -1"},
		{"pad1D rank", second(ZeroPad1D(x, 1, 1)), "input must be (batch, steps, channels)"},
		{"upsample zero", second(UpSample2D(x, 0, 2)), "got 0×2"},
		{"upsample1D rank", second(UpSample1D(x, 2)), "input must be (batch, steps, channels)"},
	}
	for _, c := range cases {
		if c.err == nil || !strings.Contains(c.err.Error(), c.want) || !strings.HasPrefix(c.err.Error(), "ops: ") {
			t.Errorf("%s: error %v, want one starting with \"ops: \" and containing %q", c.name, c.err, c.want)
		}
	}
}
