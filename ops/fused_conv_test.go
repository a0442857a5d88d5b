package ops

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/keragon/keragon/internal/gradcheck"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestConvBiasActivationEqualsComposed: the fused op gives bit for bit
// what Conv2D (or Conv1D) then BiasActivation give, forward and backward,
// for every case of the convolution tests, chunked or not.
func TestConvBiasActivationEqualsComposed(t *testing.T) {
	inKernelModes(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(41, 1))
		type conv struct {
			name        string
			x, k        []int
			plain, bias func(x, k, b *gorgonia.Node, act string) (*gorgonia.Node, error)
		}
		var convs []conv
		for i, c := range conv2DCases {
			convs = append(convs, conv{fmt.Sprintf("2D case %d", i), c.x, c.k,
				func(x, k, b *gorgonia.Node, act string) (*gorgonia.Node, error) {
					y, err := Conv2D(x, k, c.cfg)
					if err != nil {
						return nil, err
					}
					return BiasActivation(y, b, act)
				},
				func(x, k, b *gorgonia.Node, act string) (*gorgonia.Node, error) {
					return Conv2DBiasActivation(x, k, b, c.cfg, act)
				}})
		}
		for i, c := range conv1DCases {
			convs = append(convs, conv{fmt.Sprintf("1D case %d", i), c.x, c.k,
				func(x, k, b *gorgonia.Node, act string) (*gorgonia.Node, error) {
					y, err := Conv1D(x, k, c.cfg)
					if err != nil {
						return nil, err
					}
					return BiasActivation(y, b, act)
				},
				func(x, k, b *gorgonia.Node, act string) (*gorgonia.Node, error) {
					return Conv1DBiasActivation(x, k, b, c.cfg, act)
				}})
		}
		for _, c := range convs {
			for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
				x := castTo(gradcheck.Random(rng, -1, 1, c.x...), dt)
				k := castTo(gradcheck.Random(rng, -1, 1, c.k...), dt)
				b := castTo(gradcheck.Random(rng, -1, 1, c.k[len(c.k)-1]), dt)
				// The output's shape, from the composed ops.
				g := gorgonia.NewGraph()
				y, err := c.plain(gorgonia.NodeFromAny(g, x), gorgonia.NodeFromAny(g, k), gorgonia.NodeFromAny(g, b), "")
				if err != nil {
					t.Fatal(err)
				}
				up := castTo(gradcheck.Random(rng, -1, 1, y.Shape()...), dt)
				for _, act := range []string{"", "relu", "tanh", "sigmoid"} {
					name := fmt.Sprintf("%s %v %q", c.name, dt, act)
					want := forwardBackward(t, func(in []*gorgonia.Node) (*gorgonia.Node, error) {
						return c.plain(in[0], in[1], in[2], act)
					}, up, x, k, b)
					got := forwardBackward(t, func(in []*gorgonia.Node) (*gorgonia.Node, error) {
						return c.bias(in[0], in[1], in[2], act)
					}, up, x, k, b)
					sameBits(t, name, got, want)
				}
			}
		}
	})
}

func TestConvBiasActivationGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(42, 1))
	for i, c := range conv2DCases[:4] {
		x := awayFromKinks(gradcheck.Random(rng, -1, 1, c.x...))
		k := gradcheck.Random(rng, -1, 1, c.k...)
		b := gradcheck.Random(rng, -0.5, 0.5, c.k[3])
		for _, act := range []string{"", "relu", "tanh"} {
			err := gradcheck.Check(func(g *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
				return Conv2DBiasActivation(in[0], in[1], in[2], c.cfg, act)
			}, []*tensor.Dense{x, k, b}, gradcheck.Options{})
			if err != nil {
				t.Errorf("%d %q: %v", i, act, err)
			}
		}
	}
	g := gorgonia.NewGraph()
	x := gorgonia.NewTensor(g, tensor.Float32, 4, gorgonia.WithShape(1, 5, 5, 2))
	k := gorgonia.NewTensor(g, tensor.Float32, 4, gorgonia.WithShape(3, 3, 2, 4))
	if _, err := Conv2DBiasActivation(x, k, gorgonia.NewVector(g, tensor.Float32, gorgonia.WithShape(3)), ConvConfig{}, "relu"); err == nil {
		t.Error("a bias of 3 for 4 filters was accepted")
	}
}
