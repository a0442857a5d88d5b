package ops

import (
	"fmt"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Conv2DBiasActivation is BiasActivation(Conv2D(x, kernel, cfg), bias,
// activation) as one op when the activation is fusable (see Dense): the
// bias and the activation are applied to each chunk of images right after
// its GEMM, while the chunk is still in cache, instead of in another pass
// over the whole activations. Results are bitwise those of the composed
// ops. bias may be nil; other activations follow as their own op.
func Conv2DBiasActivation(x, kernel, bias *gorgonia.Node, cfg ConvConfig, activation string) (*gorgonia.Node, error) {
	g, out, err := convGeom("Conv2D", x, kernel, 2, cfg.Strides, cfg.Dilation, cfg.Padding, false)
	if err != nil {
		return nil, err
	}
	return convBiasActivation(g, out, x, kernel, bias, activation)
}

// Conv1DBiasActivation is Conv2DBiasActivation for Conv1D.
func Conv1DBiasActivation(x, kernel, bias *gorgonia.Node, cfg Conv1DConfig, activation string) (*gorgonia.Node, error) {
	g, out, err := convGeom("Conv1D", x, kernel, 1, [2]int{1, cfg.Stride}, [2]int{1, cfg.Dilation}, cfg.Padding, false)
	if err != nil {
		return nil, err
	}
	return convBiasActivation(g, out, x, kernel, bias, activation)
}

func convBiasActivation(g geom, o int, x, kernel, bias *gorgonia.Node, activation string) (*gorgonia.Node, error) {
	if _, err := Activation(activation); err != nil {
		return nil, err
	}
	k, fused := fusedKernel(activation)
	if bias == nil || !fused {
		y, err := apply(convOp(g, o), x, kernel)
		if err != nil {
			return nil, err
		}
		return BiasActivation(y, bias, activation)
	}
	if bias.Dims() != 1 || bias.Shape()[0] != o {
		return nil, errors.Errorf("ops: Conv: bias shape %v, want (%d)", bias.Shape(), o)
	}
	if bias.Dtype() != x.Dtype() {
		return nil, errors.Errorf("ops: Conv: bias is %v, input %v", bias.Dtype(), x.Dtype())
	}
	return apply(convBiasActOp(g, o, k), x, kernel, bias)
}

// convBiasActOp maps (x, kernel, bias) to k(conv(x, kernel) + bias); k nil
// is linear.
func convBiasActOp(g geom, o int, k *unaryKernel) *customOp {
	d := g.rank + 2
	name := "linear"
	if k != nil {
		name = fmt.Sprintf("%s%v", k.name, k.params)
	}
	return checked(&customOp{
		id:    fmt.Sprintf("ConvBias(%v,o%d,%s)", g, o, name),
		arity: 3,
		typ:   fnType(d, d, 1, d),
		shape: func([]tensor.Shape) (tensor.Shape, error) { return g.outShape(o), nil },
		do: func(out *tensor.Dense, in []*tensor.Dense) error {
			return dispatch(out, in,
				func(y []float32, in [][]float32) {
					convForwardThen(g, o, y, in[0], in[1], func(chunk []float32) {
						biasAct(chunk, chunk, in[2], o, k, k != nil && k.f32 != nil)
					})
				},
				func(y []float64, in [][]float64) {
					convForwardThen(g, o, y, in[0], in[1], func(chunk []float64) {
						biasAct(chunk, chunk, in[2], o, k, false)
					})
				})
		},
		diff: func(in gorgonia.Nodes, out, grad *gorgonia.Node) (gorgonia.Nodes, error) {
			dz, err := activationGrad(k, out, grad)
			if err != nil {
				return nil, err
			}
			dx, err := apply(convGradInputOp(g, o), dz, in[1])
			if err != nil {
				return nil, err
			}
			dk, err := apply(convGradKernelOp(g, o), in[0], dz)
			if err != nil {
				return nil, err
			}
			db, err := SumLeading(dz)
			return gorgonia.Nodes{dx, dk, db}, err
		},
	}, g.inShape(), g.kernelShape(o), tensor.Shape{o})
}
