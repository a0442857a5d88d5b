package keras

import (
	"github.com/keragon/keragon/graph"
	"github.com/keragon/keragon/ops"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
)

// SeparableConv2D is a depthwise separable 2-D convolution, as
// keras.layers.SeparableConv2D: a depthwise convolution (each input
// channel with its own DepthMultiplier filters, as DepthwiseConv2D) then
// a pointwise 1×1 convolution mixing the channels into Filters outputs,
// then the bias and the activation. Far fewer weights than a Conv2D of
// the same size (Xception, MobileNet).
//
// Input shape: (batch, height, width, channels). Output shape: (batch,
// newHeight, newWidth, Filters), as a Conv2D with the same kernel,
// strides, padding and dilation. Weights: depthwise_kernel (kh, kw,
// channels, DepthMultiplier), pointwise_kernel (1, 1,
// channels·DepthMultiplier, Filters), bias (Filters).
type SeparableConv2D struct {
	Name string `json:"name,omitempty"`
	// Filters is the number of output channels; required.
	Filters int `json:"filters"`
	// KernelSize is (kh, kw), or one number for a square kernel; required.
	KernelSize []int `json:"kernel_size"`
	// Strides defaults to 1 in both directions.
	Strides []int `json:"strides,omitempty"`
	// Padding is "valid" (the default) or "same".
	Padding string `json:"padding,omitempty"`
	// DilationRate defaults to 1.
	DilationRate []int `json:"dilation_rate,omitempty"`
	// DepthMultiplier defaults to 1.
	DepthMultiplier int `json:"depth_multiplier,omitempty"`
	// Activation is a name; "" means linear.
	Activation string `json:"activation,omitempty"`
	// NoBias drops the bias (Keras' use_bias=False).
	NoBias bool `json:"no_bias,omitempty"`
	// DepthwiseInitializer and PointwiseInitializer default to
	// "glorot_uniform", BiasInitializer to "zeros".
	DepthwiseInitializer string    `json:"depthwise_initializer,omitempty"`
	PointwiseInitializer string    `json:"pointwise_initializer,omitempty"`
	BiasInitializer      string    `json:"bias_initializer,omitempty"`
	DepthwiseRegularizer *ops.L1L2 `json:"depthwise_regularizer,omitempty"`
	PointwiseRegularizer *ops.L1L2 `json:"pointwise_regularizer,omitempty"`
	BiasRegularizer      *ops.L1L2 `json:"bias_regularizer,omitempty"`

	Base
	depthwise, pointwise, bias *graph.Weight
}

func init() { Register("SeparableConv2D", func() Layer { return &SeparableConv2D{} }) }

func (l *SeparableConv2D) multiplier() int { return max(l.DepthMultiplier, 1) }

// OutputShape implements Layer.
func (l *SeparableConv2D) OutputShape(in []Shape) (Shape, error) {
	if l.Filters <= 0 || l.DepthMultiplier < 0 {
		return nil, errors.Errorf("keras: SeparableConv2D needs a positive Filters and a depth multiplier >= 0, got %d and %d", l.Filters, l.DepthMultiplier)
	}
	g, err := geometry2D("SeparableConv2D", l.KernelSize, l.Strides, l.DilationRate)
	if err != nil {
		return nil, err
	}
	if _, err := ops.Activation(l.Activation); err != nil {
		return nil, err
	}
	hw, err := spatial2D("SeparableConv2D", in, g, l.Padding)
	if err != nil {
		return nil, err
	}
	if err := checkBuilt("SeparableConv2D", l.depthwise, 2, in[0][2]); err != nil {
		return nil, err
	}
	return Shape{hw[0], hw[1], l.Filters}, nil
}

// Build implements Layer.
func (l *SeparableConv2D) Build(in []Shape) error {
	g, err := geometry2D("SeparableConv2D", l.KernelSize, l.Strides, l.DilationRate)
	if err != nil {
		return err
	}
	c, m := in[0][2], l.multiplier()
	di, err := initializer(l.DepthwiseInitializer, "glorot_uniform")
	if err != nil {
		return err
	}
	pi, err := initializer(l.PointwiseInitializer, "glorot_uniform")
	if err != nil {
		return err
	}
	l.depthwise = l.AddWeight("depthwise_kernel", []int{g.kernel[0], g.kernel[1], c, m}, di, true)
	l.pointwise = l.AddWeight("pointwise_kernel", []int{1, 1, c * m, l.Filters}, pi, true)
	if !l.NoBias {
		bi, err := initializer(l.BiasInitializer, "zeros")
		if err != nil {
			return err
		}
		l.bias = l.AddWeight("bias", []int{l.Filters}, bi, true)
	}
	return nil
}

// Call implements Layer.
func (l *SeparableConv2D) Call(ctx *graph.Context, in []*gorgonia.Node) (*gorgonia.Node, error) {
	g, err := geometry2D("SeparableConv2D", l.KernelSize, l.Strides, l.DilationRate)
	if err != nil {
		return nil, err
	}
	dk, err := ctx.Param(l.depthwise)
	if err != nil {
		return nil, err
	}
	if err := regularize(ctx, l.DepthwiseRegularizer, dk); err != nil {
		return nil, err
	}
	h, err := ops.DepthwiseConv2D(in[0], dk, ops.ConvConfig{
		Strides: [2]int{g.strides[0], g.strides[1]}, Padding: l.Padding,
		Dilation: [2]int{g.dilation[0], g.dilation[1]},
	})
	if err != nil {
		return nil, err
	}
	return convCall(ctx, l.pointwise, l.bias, l.PointwiseRegularizer, l.BiasRegularizer, l.Activation,
		func(k, b *gorgonia.Node, act string) (*gorgonia.Node, error) {
			return ops.Conv2DBiasActivation(h, k, b, ops.ConvConfig{}, act)
		})
}
