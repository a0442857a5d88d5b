package ops

import (
	"fmt"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// ConvConfig configures Conv2D and DepthwiseConv2D. The zero value is
// Keras' default: strides 1, "valid" padding, no dilation.
type ConvConfig struct {
	// Strides along height and width; 0 means 1.
	Strides [2]int
	// Padding is Valid ("" too) or Same (TensorFlow's: output size
	// ceil(in/stride), the odd padding row and column at the bottom and
	// right). Case does not matter.
	Padding string
	// Dilation (Keras' dilation_rate) along height and width; 0 means 1.
	Dilation [2]int
	// OutputPadding is for Conv2DTranspose only: nil is Keras'
	// output_padding=None, else (height, width) rows and columns added
	// to the output (each less than its stride; see Conv2DTranspose).
	OutputPadding []int
}

// Conv1DConfig configures Conv1D. The zero value is Keras' default:
// stride 1, "valid" padding, no dilation.
type Conv1DConfig struct {
	Stride int // 0 means 1
	// Padding is Valid (""), Same or Causal (Keras' padding="causal": the
	// input is padded with (k−1)·dilation zeros at the start, so output t
	// sees inputs up to t·stride only).
	Padding  string
	Dilation int // 0 means 1
	// OutputPadding is for Conv1DTranspose only: nil is Keras'
	// output_padding=None, else one number, less than the stride.
	OutputPadding []int
}

// Conv2D is a 2-D convolution (a cross-correlation, as in every framework)
// of channel-last images with a kernel in Keras' layout:
//
//	x      (batch, height, width, in)
//	kernel (kh, kw, in, out)
//	result (batch, outHeight, outWidth, out)
//
// out[n, i, j, o] = Σ x[n, i·sh − pt + a·dh, j·sw − pl + b·dw, c]·kernel[a, b, c, o]
// over a, b, c, zeros outside x. No bias: add one with BiasAdd.
//
// It lays the input windows out as the rows of a matrix (im2col, the
// columns in (a, b, c) order, which is the kernel's own layout seen as a
// (kh·kw·in, out) matrix) and multiplies once with the BLAS of this build
// (internal/gemm, the one Gorgonia is given too). Both gradients are ops
// of this package too.
func Conv2D(x, kernel *gorgonia.Node, cfg ConvConfig) (*gorgonia.Node, error) {
	g, out, err := convGeom("Conv2D", x, kernel, 2, cfg.Strides, cfg.Dilation, cfg.Padding, false)
	if err != nil {
		return nil, err
	}
	return apply(convOp(g, out), x, kernel)
}

// Conv1D is a 1-D convolution of sequences with a kernel in Keras' layout:
//
//	x      (batch, steps, in)
//	kernel (k, in, out)
//	result (batch, outSteps, out)
//
// It is Conv2D on images of height 1, with the same kernels.
func Conv1D(x, kernel *gorgonia.Node, cfg Conv1DConfig) (*gorgonia.Node, error) {
	g, out, err := convGeom("Conv1D", x, kernel, 1, [2]int{1, cfg.Stride}, [2]int{1, cfg.Dilation}, cfg.Padding, false)
	if err != nil {
		return nil, err
	}
	return apply(convOp(g, out), x, kernel)
}

// convGeom checks x and kernel and resolves the geometry of a convolution
// with rank spatial axes. It returns the number of output channels.
// depthwise selects the kernel layout (kh, kw, in, multiplier).
func convGeom(name string, x, kernel *gorgonia.Node, rank int, strides, dilation [2]int, padding string, depthwise bool) (geom, int, error) {
	n, h, w, c, err := spatial(name, "input", x.Shape(), rank)
	if err != nil {
		return geom{}, 0, err
	}
	layout := "(kh, kw, in, out)"
	if rank == 1 {
		layout = "(k, in, out)"
	}
	if depthwise {
		layout = "(kh, kw, in, depth multiplier)"
	}
	ks := kernel.Shape()
	if rank == 1 && ks.Dims() == 3 {
		ks = tensor.Shape{1, ks[0], ks[1], ks[2]}
	}
	if kernel.Dims() != rank+2 || ks.TotalSize() == 0 || ks[2] != c {
		return geom{}, 0, errors.Errorf("ops: %s: kernel must be %s with in = %d (the input's channels), got shape %v", name, layout, c, kernel.Shape())
	}
	if x.Dtype() != kernel.Dtype() {
		return geom{}, 0, errors.Errorf("ops: %s: input is %v, kernel %v", name, x.Dtype(), kernel.Dtype())
	}
	padding = normPadding(padding)
	if padding == Causal && rank != 1 {
		return geom{}, 0, errors.Errorf("ops: %s: padding %q is for Conv1D only", name, padding)
	}
	g := geom{rank: rank, n: n, c: c, h: trivial()}
	if rank == 2 {
		if g.h, err = newWindow("height", h, ks[0], orOne(strides[0]), orOne(dilation[0]), padding); err != nil {
			return geom{}, 0, errors.WithMessagef(err, "ops: %s", name)
		}
	}
	if g.w, err = newWindow("width", w, ks[1], orOne(strides[1]), orOne(dilation[1]), padding); err != nil {
		return geom{}, 0, errors.WithMessagef(err, "ops: %s", name)
	}
	out := ks[3]
	if depthwise {
		out *= c
	}
	return g, out, nil
}

// kernelShape is the shape of a convolution kernel for g with o outputs.
func (g geom) kernelShape(o int) tensor.Shape {
	if g.rank == 1 {
		return tensor.Shape{g.w.k, g.c, o}
	}
	return tensor.Shape{g.h.k, g.w.k, g.c, o}
}

// convOp maps (x, kernel) to the convolution with o output channels.
func convOp(g geom, o int) *customOp {
	d := g.rank + 2
	return checked(&customOp{
		id:    fmt.Sprintf("Conv(%v,o%d)", g, o),
		arity: 2,
		typ:   fnType(d, d, d),
		shape: func([]tensor.Shape) (tensor.Shape, error) { return g.outShape(o), nil },
		do: func(out *tensor.Dense, in []*tensor.Dense) error {
			return dispatch(out, in,
				func(y []float32, in [][]float32) { convForward(g, o, y, in[0], in[1]) },
				func(y []float64, in [][]float64) { convForward(g, o, y, in[0], in[1]) })
		},
		diff: func(in gorgonia.Nodes, out, grad *gorgonia.Node) (gorgonia.Nodes, error) {
			dx, err := apply(convGradInputOp(g, o), grad, in[1])
			if err != nil {
				return nil, err
			}
			dk, err := apply(convGradKernelOp(g, o), in[0], grad)
			return gorgonia.Nodes{dx, dk}, err
		},
	}, g.inShape(), g.kernelShape(o))
}

// convGradInputOp maps (grad, kernel) to the gradient of the input:
// col2im(grad·kernelᵀ), Conv2DTranspose too. The three convolution ops
// are each other's derivatives, so all are differentiable any number of
// times: for upstream G (input-shaped) its gradients are Conv(G, kernel)
// and Conv'k(G, grad).
func convGradInputOp(g geom, o int) *customOp {
	d := g.rank + 2
	return checked(&customOp{
		id:    fmt.Sprintf("Conv'x(%v,o%d)", g, o),
		arity: 2,
		typ:   fnType(d, d, d),
		shape: func([]tensor.Shape) (tensor.Shape, error) { return g.inShape(), nil },
		do: func(out *tensor.Dense, in []*tensor.Dense) error {
			return dispatch(out, in,
				func(dx []float32, in [][]float32) { convGradInput(g, o, dx, in[0], in[1]) },
				func(dx []float64, in [][]float64) { convGradInput(g, o, dx, in[0], in[1]) })
		},
		diff: func(in gorgonia.Nodes, out, up *gorgonia.Node) (gorgonia.Nodes, error) {
			dg, err := apply(convOp(g, o), up, in[1])
			if err != nil {
				return nil, err
			}
			dk, err := apply(convGradKernelOp(g, o), up, in[0])
			return gorgonia.Nodes{dg, dk}, err
		},
	}, g.outShape(o), g.kernelShape(o))
}

// convGradKernelOp maps (x, grad) to the gradient of the kernel,
// im2col(x)ᵀ·grad. For upstream G (kernel-shaped) its gradients are
// Conv'x(grad, G) and Conv(x, G).
func convGradKernelOp(g geom, o int) *customOp {
	d := g.rank + 2
	return checked(&customOp{
		id:    fmt.Sprintf("Conv'k(%v,o%d)", g, o),
		arity: 2,
		typ:   fnType(d, d, d),
		shape: func([]tensor.Shape) (tensor.Shape, error) { return g.kernelShape(o), nil },
		do: func(out *tensor.Dense, in []*tensor.Dense) error {
			return dispatch(out, in,
				func(dk []float32, in [][]float32) { convGradKernel(g, o, dk, in[0], in[1]) },
				func(dk []float64, in [][]float64) { convGradKernel(g, o, dk, in[0], in[1]) })
		},
		diff: func(in gorgonia.Nodes, out, up *gorgonia.Node) (gorgonia.Nodes, error) {
			dx, err := apply(convGradInputOp(g, o), in[1], up)
			if err != nil {
				return nil, err
			}
			dg, err := apply(convOp(g, o), in[0], up)
			return gorgonia.Nodes{dx, dg}, err
		},
	}, g.inShape(), g.outShape(o))
}
