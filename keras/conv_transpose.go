package keras

import (
	"strings"

	"github.com/keragon/keragon/graph"
	"github.com/keragon/keragon/ops"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
)

// Conv2DTranspose is a transposed convolution, as keras.layers.
// Conv2DTranspose (channels last): the gradient of a Conv2D with respect
// to its input, used to upsample (decoders, segmentation).
//
// Input shape: (batch, height, width, channels). Output shape: (batch,
// newHeight, newWidth, Filters), Keras' deconv_output_length along each
// axis: without OutputPadding in·stride for "same" and in·stride +
// max(k' − stride, 0) for "valid" (k' the dilated kernel size); with it,
// (in−1)·stride + k' − 2·pad + outputPadding, pad = k'/2 for "same" and 0
// for "valid". Weights: kernel (kh, kw, Filters, channels), bias (Filters).
type Conv2DTranspose struct {
	Name string `json:"name,omitempty"`
	// Filters is the number of output channels; required.
	Filters int `json:"filters"`
	// KernelSize is (kh, kw), or one number for a square kernel; required.
	KernelSize []int `json:"kernel_size"`
	// Strides defaults to 1 in both directions.
	Strides []int `json:"strides,omitempty"`
	// Padding is "valid" (the default) or "same".
	Padding string `json:"padding,omitempty"`
	// OutputPadding is the extra rows and columns of the output, one number
	// for both or (height, width), each less than its stride; nil is
	// Keras' output_padding=None (a different size from 0: see above).
	OutputPadding []int `json:"output_padding,omitempty"`
	// DilationRate defaults to 1.
	DilationRate []int `json:"dilation_rate,omitempty"`
	// Activation is a name; "" means linear.
	Activation string `json:"activation,omitempty"`
	// NoBias drops the bias (Keras' use_bias=False).
	NoBias            bool      `json:"no_bias,omitempty"`
	KernelInitializer string    `json:"kernel_initializer,omitempty"`
	BiasInitializer   string    `json:"bias_initializer,omitempty"`
	KernelRegularizer *ops.L1L2 `json:"kernel_regularizer,omitempty"`
	BiasRegularizer   *ops.L1L2 `json:"bias_regularizer,omitempty"`

	Base
	kernel, bias *graph.Weight
}

func init() { Register("Conv2DTranspose", func() Layer { return &Conv2DTranspose{} }) }

// deconvLength is Keras' deconv_output_length; outPad < 0 means None.
func deconvLength(class string, in, k, stride, dilation int, padding string, outPad int) (int, error) {
	span := (k-1)*dilation + 1
	switch strings.ToLower(padding) {
	case "", "valid":
		padding = "valid"
	case "same":
		padding = "same"
	default:
		return 0, errors.Errorf("keras: %s padding %q (want \"valid\" or \"same\")", class, padding)
	}
	if outPad < 0 {
		if padding == "valid" {
			return in*stride + max(span-stride, 0), nil
		}
		return in * stride, nil
	}
	if outPad >= stride {
		return 0, errors.Errorf("keras: %s output padding %d must be less than the stride %d", class, outPad, stride)
	}
	pad := 0
	if padding == "same" {
		pad = span / 2
	}
	n := (in-1)*stride + span - 2*pad + outPad
	if n < 1 {
		return 0, errors.Errorf("keras: %s output padding %d leaves an output of %d", class, outPad, n)
	}
	return n, nil
}

// outputPadding reads OutputPadding for n axes: nil stays nil.
func outputPadding(class string, v []int, n int) ([]int, error) {
	if v == nil {
		return nil, nil
	}
	out := v
	if len(v) == 1 && n > 1 {
		out = []int{v[0], v[0]}
	}
	if len(out) != n {
		return nil, errors.Errorf("keras: %s output padding %v must be %d number(s)", class, v, n)
	}
	for _, p := range out {
		if p < 0 {
			return nil, errors.Errorf("keras: %s output padding %v must not be negative", class, v)
		}
	}
	return append([]int(nil), out...), nil
}

func (l *Conv2DTranspose) settings() (convGeometry, []int, error) {
	g, err := geometry2D("Conv2DTranspose", l.KernelSize, l.Strides, l.DilationRate)
	if err != nil {
		return g, nil, err
	}
	op, err := outputPadding("Conv2DTranspose", l.OutputPadding, 2)
	return g, op, err
}

// OutputShape implements Layer.
func (l *Conv2DTranspose) OutputShape(in []Shape) (Shape, error) {
	s, err := single("Conv2DTranspose", in)
	if err != nil {
		return nil, err
	}
	if len(s) != 3 {
		return nil, errors.Errorf("keras: Conv2DTranspose takes (height, width, channels) samples, got %v", s)
	}
	if l.Filters <= 0 {
		return nil, errors.Errorf("keras: Conv2DTranspose needs a positive Filters, got %d", l.Filters)
	}
	g, op, err := l.settings()
	if err != nil {
		return nil, err
	}
	if _, err := ops.Activation(l.Activation); err != nil {
		return nil, err
	}
	if err := checkBuilt("Conv2DTranspose", l.kernel, 3, s[2]); err != nil {
		return nil, err
	}
	out := Shape{0, 0, l.Filters}
	for i := 0; i < 2; i++ {
		p := -1
		if op != nil {
			p = op[i]
		}
		if out[i], err = deconvLength("Conv2DTranspose", s[i], g.kernel[i], g.strides[i], g.dilation[i], l.Padding, p); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Build implements Layer.
func (l *Conv2DTranspose) Build(in []Shape) error {
	g, _, err := l.settings()
	if err != nil {
		return err
	}
	return buildConvWeights(&l.Base, &l.kernel, &l.bias, []int{g.kernel[0], g.kernel[1], l.Filters, in[0][2]},
		l.Filters, l.NoBias, l.KernelInitializer, l.BiasInitializer)
}

// Call implements Layer.
func (l *Conv2DTranspose) Call(ctx *graph.Context, in []*gorgonia.Node) (*gorgonia.Node, error) {
	g, op, err := l.settings()
	if err != nil {
		return nil, err
	}
	return convCall(ctx, l.kernel, l.bias, l.KernelRegularizer, l.BiasRegularizer, l.Activation,
		func(k, b *gorgonia.Node, act string) (*gorgonia.Node, error) {
			y, err := ops.Conv2DTranspose(in[0], k, ops.ConvConfig{
				Strides: [2]int{g.strides[0], g.strides[1]}, Padding: l.Padding,
				Dilation: [2]int{g.dilation[0], g.dilation[1]}, OutputPadding: op,
			})
			if err != nil {
				return nil, err
			}
			return ops.BiasActivation(y, b, act)
		})
}

// Conv1DTranspose is Conv2DTranspose for sequences, as keras.layers.
// Conv1DTranspose: input (batch, steps, channels), output (batch,
// newSteps, Filters); kernel (k, Filters, channels), bias (Filters).
type Conv1DTranspose struct {
	Name string `json:"name,omitempty"`
	// Filters is the number of output channels; required.
	Filters int `json:"filters"`
	// KernelSize is the window length; required.
	KernelSize int `json:"kernel_size"`
	// Strides defaults to 1.
	Strides int `json:"strides,omitempty"`
	// Padding is "valid" (the default) or "same".
	Padding string `json:"padding,omitempty"`
	// OutputPadding is nil (Keras' None) or one number, less than Strides.
	OutputPadding     []int     `json:"output_padding,omitempty"`
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

func init() { Register("Conv1DTranspose", func() Layer { return &Conv1DTranspose{} }) }

func (l *Conv1DTranspose) settings() (k, s, d int, op []int, err error) {
	k, s, d = l.KernelSize, max(l.Strides, 1), max(l.DilationRate, 1)
	if k <= 0 || l.Strides < 0 || l.DilationRate < 0 {
		return 0, 0, 0, nil, errors.Errorf("keras: Conv1DTranspose needs a positive KernelSize and non-negative strides and dilation, got %d, %d, %d", l.KernelSize, l.Strides, l.DilationRate)
	}
	op, err = outputPadding("Conv1DTranspose", l.OutputPadding, 1)
	return k, s, d, op, err
}

// OutputShape implements Layer.
func (l *Conv1DTranspose) OutputShape(in []Shape) (Shape, error) {
	s, err := single("Conv1DTranspose", in)
	if err != nil {
		return nil, err
	}
	if len(s) != 2 {
		return nil, errors.Errorf("keras: Conv1DTranspose takes (steps, channels) samples, got %v", s)
	}
	if l.Filters <= 0 {
		return nil, errors.Errorf("keras: Conv1DTranspose needs a positive Filters, got %d", l.Filters)
	}
	k, st, d, op, err := l.settings()
	if err != nil {
		return nil, err
	}
	if _, err := ops.Activation(l.Activation); err != nil {
		return nil, err
	}
	if err := checkBuilt("Conv1DTranspose", l.kernel, 2, s[1]); err != nil {
		return nil, err
	}
	p := -1
	if op != nil {
		p = op[0]
	}
	n, err := deconvLength("Conv1DTranspose", s[0], k, st, d, l.Padding, p)
	if err != nil {
		return nil, err
	}
	return Shape{n, l.Filters}, nil
}

// Build implements Layer.
func (l *Conv1DTranspose) Build(in []Shape) error {
	return buildConvWeights(&l.Base, &l.kernel, &l.bias, []int{l.KernelSize, l.Filters, in[0][1]},
		l.Filters, l.NoBias, l.KernelInitializer, l.BiasInitializer)
}

// Call implements Layer.
func (l *Conv1DTranspose) Call(ctx *graph.Context, in []*gorgonia.Node) (*gorgonia.Node, error) {
	_, s, d, op, err := l.settings()
	if err != nil {
		return nil, err
	}
	return convCall(ctx, l.kernel, l.bias, l.KernelRegularizer, l.BiasRegularizer, l.Activation,
		func(k, b *gorgonia.Node, act string) (*gorgonia.Node, error) {
			y, err := ops.Conv1DTranspose(in[0], k, ops.Conv1DConfig{Stride: s, Padding: l.Padding, Dilation: d, OutputPadding: op})
			if err != nil {
				return nil, err
			}
			return ops.BiasActivation(y, b, act)
		})
}
