package keras

import (
	"strings"

	"github.com/keragon/keragon/graph"
	"github.com/keragon/keragon/ops"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
)

// Conv2D is a 2-D convolution layer, as keras.layers.Conv2D with
// data_format="channels_last": images are NHWC at the API and inside the
// op (Keragon's kernels work in NHWC; nothing is transposed).
//
// Input shape: (batch, height, width, channels).
// Output shape: (batch, newHeight, newWidth, Filters).
// Weights: kernel (kh, kw, channels, Filters), bias (Filters).
type Conv2D struct {
	Name string `json:"name,omitempty"`
	// Filters is the number of output channels; required, > 0.
	Filters int `json:"filters"`
	// KernelSize is (kh, kw), or one number for a square kernel; required.
	KernelSize []int `json:"kernel_size"`
	// Strides defaults to 1 in both directions.
	Strides []int `json:"strides,omitempty"`
	// Padding is "valid" (the default) or "same".
	Padding string `json:"padding,omitempty"`
	// DilationRate defaults to 1.
	DilationRate []int `json:"dilation_rate,omitempty"`
	// Activation is a name; "" means linear.
	Activation string `json:"activation,omitempty"`
	// NoBias drops the bias (Keras' use_bias=False).
	NoBias bool `json:"no_bias,omitempty"`
	// KernelInitializer defaults to "glorot_uniform", BiasInitializer to
	// "zeros".
	KernelInitializer string    `json:"kernel_initializer,omitempty"`
	BiasInitializer   string    `json:"bias_initializer,omitempty"`
	KernelRegularizer *ops.L1L2 `json:"kernel_regularizer,omitempty"`
	BiasRegularizer   *ops.L1L2 `json:"bias_regularizer,omitempty"`

	Base
	kernel, bias *graph.Weight
}

func init() { Register("Conv2D", func() Layer { return &Conv2D{} }) }

type convGeometry struct{ kernel, strides, dilation []int }

func (l *Conv2D) geometry() (convGeometry, error) {
	return geometry2D("Conv2D", l.KernelSize, l.Strides, l.DilationRate)
}

// geometry2D reads the kernel size, strides and dilation of a 2-D
// convolution layer of the given class.
func geometry2D(class string, kernel, strides, dilation []int) (convGeometry, error) {
	k, err := pair(class+" kernel_size", kernel, 2, 0)
	if err == nil && len(kernel) == 0 {
		err = errors.Errorf("keras: %s needs a KernelSize", class)
	}
	if err != nil {
		return convGeometry{}, err
	}
	s, err := pair(class+" strides", strides, 2, 1)
	if err != nil {
		return convGeometry{}, err
	}
	d, err := pair(class+" dilation_rate", dilation, 2, 1)
	if err != nil {
		return convGeometry{}, err
	}
	return convGeometry{k, s, d}, nil
}

// spatial2D checks an image input and returns the output height and width
// of a 2-D convolution layer of the given class.
func spatial2D(class string, in []Shape, g convGeometry, padding string) (Shape, error) {
	s, err := single(class, in)
	if err != nil {
		return nil, err
	}
	if len(s) != 3 {
		return nil, errors.Errorf("keras: %s takes (height, width, channels) samples, got %v", class, s)
	}
	if strings.EqualFold(padding, "causal") {
		return nil, errors.Errorf("keras: %s does not support \"causal\" padding (Conv1D does)", class)
	}
	h, err := convOut(s[0], g.kernel[0], g.strides[0], g.dilation[0], padding)
	if err != nil {
		return nil, errors.WithMessage(err, class)
	}
	w, err := convOut(s[1], g.kernel[1], g.strides[1], g.dilation[1], padding)
	if err != nil {
		return nil, errors.WithMessage(err, class)
	}
	return Shape{h, w}, nil
}

// OutputShape implements Layer.
func (l *Conv2D) OutputShape(in []Shape) (Shape, error) {
	if l.Filters <= 0 {
		return nil, errors.Errorf("keras: Conv2D needs a positive Filters, got %d", l.Filters)
	}
	g, err := l.geometry()
	if err != nil {
		return nil, err
	}
	if _, err := ops.Activation(l.Activation); err != nil {
		return nil, err
	}
	hw, err := spatial2D("Conv2D", in, g, l.Padding)
	if err != nil {
		return nil, err
	}
	if err := checkBuilt("Conv2D", l.kernel, 2, in[0][2]); err != nil {
		return nil, err
	}
	return Shape{hw[0], hw[1], l.Filters}, nil
}

// Build implements Layer.
func (l *Conv2D) Build(in []Shape) error {
	g, err := l.geometry()
	if err != nil {
		return err
	}
	return buildConvWeights(&l.Base, &l.kernel, &l.bias, []int{g.kernel[0], g.kernel[1], in[0][2], l.Filters},
		l.Filters, l.NoBias, l.KernelInitializer, l.BiasInitializer)
}

func buildConvWeights(b *Base, kernel, bias **graph.Weight, kshape []int, filters int, noBias bool, kinit, binit string) error {
	ki, err := initializer(kinit, "glorot_uniform")
	if err != nil {
		return err
	}
	*kernel = b.AddWeight("kernel", kshape, ki, true)
	if !noBias {
		bi, err := initializer(binit, "zeros")
		if err != nil {
			return err
		}
		*bias = b.AddWeight("bias", []int{filters}, bi, true)
	}
	return nil
}

// Call implements Layer.
func (l *Conv2D) Call(ctx *graph.Context, in []*gorgonia.Node) (*gorgonia.Node, error) {
	g, err := l.geometry()
	if err != nil {
		return nil, err
	}
	return convCall(ctx, l.kernel, l.bias, l.KernelRegularizer, l.BiasRegularizer, l.Activation,
		func(k, b *gorgonia.Node, act string) (*gorgonia.Node, error) {
			return ops.Conv2DBiasActivation(in[0], k, b, ops.ConvConfig{
				Strides: [2]int{g.strides[0], g.strides[1]}, Padding: l.Padding,
				Dilation: [2]int{g.dilation[0], g.dilation[1]},
			}, act)
		})
}

// convCall runs conv with the kernel, the bias (nil without one) and the
// activation, and adds the regularisers.
func convCall(ctx *graph.Context, kernel, bias *graph.Weight, kreg, breg *ops.L1L2, act string,
	conv func(k, b *gorgonia.Node, act string) (*gorgonia.Node, error)) (*gorgonia.Node, error) {
	k, err := ctx.Param(kernel)
	if err != nil {
		return nil, err
	}
	var b *gorgonia.Node
	if bias != nil {
		if b, err = ctx.Param(bias); err != nil {
			return nil, err
		}
	}
	y, err := conv(k, b, act)
	if err != nil {
		return nil, err
	}
	if err := regularize(ctx, kreg, k); err != nil {
		return nil, err
	}
	if b != nil {
		if err := regularize(ctx, breg, b); err != nil {
			return nil, err
		}
	}
	return y, nil
}

// Conv1D is a 1-D convolution layer over sequences, as keras.layers.Conv1D
// (channels last).
//
// Input shape: (batch, steps, channels). Output shape: (batch, newSteps,
// Filters). Weights: kernel (k, channels, Filters), bias (Filters).
type Conv1D struct {
	Name string `json:"name,omitempty"`
	// Filters is the number of output channels; required.
	Filters int `json:"filters"`
	// KernelSize is the window length; required.
	KernelSize int `json:"kernel_size"`
	// Strides defaults to 1.
	Strides int `json:"strides,omitempty"`
	// Padding is "valid" (default), "same" or "causal".
	Padding string `json:"padding,omitempty"`
	// DilationRate defaults to 1.
	DilationRate      int       `json:"dilation_rate,omitempty"`
	Activation        string    `json:"activation,omitempty"`
	NoBias            bool      `json:"no_bias,omitempty"`
	KernelInitializer string    `json:"kernel_initializer,omitempty"`
	BiasInitializer   string    `json:"bias_initializer,omitempty"`
	KernelRegularizer *ops.L1L2 `json:"kernel_regularizer,omitempty"`
	BiasRegularizer   *ops.L1L2 `json:"bias_regularizer,omitempty"`

	Base
	kernel, bias *graph.Weight
}

func init() { Register("Conv1D", func() Layer { return &Conv1D{} }) }

func (l *Conv1D) geometry() (k, s, d int, err error) {
	k, s, d = l.KernelSize, max(l.Strides, 1), max(l.DilationRate, 1)
	if k <= 0 || l.Strides < 0 || l.DilationRate < 0 {
		return 0, 0, 0, errors.Errorf("keras: Conv1D needs a positive KernelSize and non-negative strides and dilation, got %d, %d, %d", l.KernelSize, l.Strides, l.DilationRate)
	}
	return k, s, d, nil
}

// OutputShape implements Layer.
func (l *Conv1D) OutputShape(in []Shape) (Shape, error) {
	s, err := single("Conv1D", in)
	if err != nil {
		return nil, err
	}
	if len(s) != 2 {
		return nil, errors.Errorf("keras: Conv1D takes (steps, channels) samples, got %v", s)
	}
	if l.Filters <= 0 {
		return nil, errors.Errorf("keras: Conv1D needs a positive Filters, got %d", l.Filters)
	}
	k, st, d, err := l.geometry()
	if err != nil {
		return nil, err
	}
	if _, err := ops.Activation(l.Activation); err != nil {
		return nil, err
	}
	if err := checkBuilt("Conv1D", l.kernel, 1, s[1]); err != nil {
		return nil, err
	}
	n, err := convOut(s[0], k, st, d, l.Padding)
	if err != nil {
		return nil, err
	}
	return Shape{n, l.Filters}, nil
}

// Build implements Layer.
func (l *Conv1D) Build(in []Shape) error {
	return buildConvWeights(&l.Base, &l.kernel, &l.bias, []int{l.KernelSize, in[0][1], l.Filters},
		l.Filters, l.NoBias, l.KernelInitializer, l.BiasInitializer)
}

// Call implements Layer.
func (l *Conv1D) Call(ctx *graph.Context, in []*gorgonia.Node) (*gorgonia.Node, error) {
	_, s, d, err := l.geometry()
	if err != nil {
		return nil, err
	}
	return convCall(ctx, l.kernel, l.bias, l.KernelRegularizer, l.BiasRegularizer, l.Activation,
		func(k, b *gorgonia.Node, act string) (*gorgonia.Node, error) {
			return ops.Conv1DBiasActivation(in[0], k, b, ops.Conv1DConfig{Stride: s, Padding: l.Padding, Dilation: d}, act)
		})
}

// DepthwiseConv2D convolves each input channel with its own
// DepthMultiplier filters, as keras.layers.DepthwiseConv2D.
//
// Input shape: (batch, height, width, channels). Output shape: (batch,
// newHeight, newWidth, channels·DepthMultiplier). Weights: kernel
// (kh, kw, channels, DepthMultiplier), bias (channels·DepthMultiplier).
type DepthwiseConv2D struct {
	Name string `json:"name,omitempty"`
	// KernelSize is (kh, kw) or one number; required.
	KernelSize []int `json:"kernel_size"`
	// DepthMultiplier defaults to 1.
	DepthMultiplier   int       `json:"depth_multiplier,omitempty"`
	Strides           []int     `json:"strides,omitempty"`
	Padding           string    `json:"padding,omitempty"`
	DilationRate      []int     `json:"dilation_rate,omitempty"`
	Activation        string    `json:"activation,omitempty"`
	NoBias            bool      `json:"no_bias,omitempty"`
	KernelInitializer string    `json:"depthwise_initializer,omitempty"`
	BiasInitializer   string    `json:"bias_initializer,omitempty"`
	KernelRegularizer *ops.L1L2 `json:"depthwise_regularizer,omitempty"`
	BiasRegularizer   *ops.L1L2 `json:"bias_regularizer,omitempty"`

	Base
	kernel, bias *graph.Weight
}

func init() { Register("DepthwiseConv2D", func() Layer { return &DepthwiseConv2D{} }) }

func (l *DepthwiseConv2D) geometry() (convGeometry, error) {
	return geometry2D("DepthwiseConv2D", l.KernelSize, l.Strides, l.DilationRate)
}

func (l *DepthwiseConv2D) multiplier() int { return max(l.DepthMultiplier, 1) }

// OutputShape implements Layer.
func (l *DepthwiseConv2D) OutputShape(in []Shape) (Shape, error) {
	if l.DepthMultiplier < 0 {
		return nil, errors.Errorf("keras: DepthwiseConv2D depth multiplier must be positive, got %d", l.DepthMultiplier)
	}
	g, err := l.geometry()
	if err != nil {
		return nil, err
	}
	if _, err := ops.Activation(l.Activation); err != nil {
		return nil, err
	}
	hw, err := spatial2D("DepthwiseConv2D", in, g, l.Padding)
	if err != nil {
		return nil, err
	}
	if err := checkBuilt("DepthwiseConv2D", l.kernel, 2, in[0][2]); err != nil {
		return nil, err
	}
	return Shape{hw[0], hw[1], in[0][2] * l.multiplier()}, nil
}

// Build implements Layer.
func (l *DepthwiseConv2D) Build(in []Shape) error {
	g, err := l.geometry()
	if err != nil {
		return err
	}
	c := in[0][2]
	return buildConvWeights(&l.Base, &l.kernel, &l.bias, []int{g.kernel[0], g.kernel[1], c, l.multiplier()},
		c*l.multiplier(), l.NoBias, l.KernelInitializer, l.BiasInitializer)
}

// Call implements Layer.
func (l *DepthwiseConv2D) Call(ctx *graph.Context, in []*gorgonia.Node) (*gorgonia.Node, error) {
	g, err := l.geometry()
	if err != nil {
		return nil, err
	}
	return convCall(ctx, l.kernel, l.bias, l.KernelRegularizer, l.BiasRegularizer, l.Activation,
		func(k, b *gorgonia.Node, act string) (*gorgonia.Node, error) {
			y, err := ops.DepthwiseConv2D(in[0], k, ops.ConvConfig{
				Strides: [2]int{g.strides[0], g.strides[1]}, Padding: l.Padding,
				Dilation: [2]int{g.dilation[0], g.dilation[1]},
			})
			if err != nil {
				return nil, err
			}
			// The bias and the activation in one pass.
			return ops.BiasActivation(y, b, act)
		})
}
