package keras

import (
	"github.com/keragon/keragon/graph"
	"github.com/keragon/keragon/ops"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Dense is a fully connected layer: activation(x·kernel + bias), as
// keras.layers.Dense. The kernel has shape (input features, Units), Keras'
// layout; inputs of rank > 2 are multiplied on their last axis.
//
// Input shape: (batch, ..., features). Output shape: (batch, ..., Units).
type Dense struct {
	Name string `json:"name,omitempty"`
	// Units is the output size; required, > 0.
	Units int `json:"units"`
	// Activation is a name ("relu", "softmax"); "" means linear.
	Activation string `json:"activation,omitempty"`
	// NoBias drops the bias (Keras' use_bias=False).
	NoBias bool `json:"no_bias,omitempty"`
	// KernelInitializer defaults to "glorot_uniform".
	KernelInitializer string `json:"kernel_initializer,omitempty"`
	// BiasInitializer defaults to "zeros".
	BiasInitializer string `json:"bias_initializer,omitempty"`
	// KernelRegularizer and BiasRegularizer add penalties to the loss.
	KernelRegularizer *ops.L1L2 `json:"kernel_regularizer,omitempty"`
	BiasRegularizer   *ops.L1L2 `json:"bias_regularizer,omitempty"`

	Base
	kernel, bias *graph.Weight
}

var _ Layer = (*Dense)(nil)

func init() { Register("Dense", func() Layer { return &Dense{} }) }

// OutputShape implements Layer.
func (l *Dense) OutputShape(in []Shape) (Shape, error) {
	s, err := single("Dense", in)
	if err != nil {
		return nil, err
	}
	if l.Units <= 0 {
		return nil, errors.Errorf("keras: Dense needs a positive Units, got %d", l.Units)
	}
	if len(s) == 0 {
		return nil, errors.New("keras: Dense needs inputs with a feature axis")
	}
	if _, err := ops.Activation(l.Activation); err != nil {
		return nil, err
	}
	if err := checkBuilt("Dense", l.kernel, 0, s[len(s)-1]); err != nil {
		return nil, err
	}
	out := append(Shape(nil), s...)
	out[len(out)-1] = l.Units
	return out, nil
}

// Build implements Layer.
func (l *Dense) Build(in []Shape) error {
	s := in[0]
	ki, err := initializer(l.KernelInitializer, "glorot_uniform")
	if err != nil {
		return err
	}
	l.kernel = l.AddWeight("kernel", []int{s[len(s)-1], l.Units}, ki, true)
	if !l.NoBias {
		bi, err := initializer(l.BiasInitializer, "zeros")
		if err != nil {
			return err
		}
		l.bias = l.AddWeight("bias", []int{l.Units}, bi, true)
	}
	return nil
}

// Call implements Layer.
func (l *Dense) Call(ctx *graph.Context, in []*gorgonia.Node) (*gorgonia.Node, error) {
	k, err := ctx.Param(l.kernel)
	if err != nil {
		return nil, err
	}
	x := in[0]
	shape := x.Shape()
	if x.Dims() != 2 {
		if x, err = gorgonia.Reshape(x, tensor.Shape{shape.TotalSize() / shape[len(shape)-1], shape[len(shape)-1]}); err != nil {
			return nil, errors.Wrap(err, "keras: Dense")
		}
	}
	var b *gorgonia.Node
	if l.bias != nil {
		if b, err = ctx.Param(l.bias); err != nil {
			return nil, err
		}
	}
	// One fused op: the product, the bias and the activation (see
	// ops.Dense), with an output buffer kept across steps.
	y, err := ops.Dense(x, k, b, l.Activation)
	if err != nil {
		return nil, errors.WithMessage(err, "keras: Dense")
	}
	if len(shape) != 2 {
		out := shape.Clone()
		out[len(out)-1] = l.Units
		if y, err = gorgonia.Reshape(y, out); err != nil {
			return nil, errors.Wrap(err, "keras: Dense")
		}
	}
	if err := regularize(ctx, l.KernelRegularizer, k); err != nil {
		return nil, err
	}
	if b != nil {
		if err := regularize(ctx, l.BiasRegularizer, b); err != nil {
			return nil, err
		}
	}
	return y, nil
}

// PassesMask implements MaskPasser: the output keeps the input's mask.
func (l *Dense) PassesMask() bool { return true }
