package ops

import (
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
)

// Conv2DTranspose is the transposed convolution of Keras'
// Conv2DTranspose (without output_padding): the gradient of Conv2D with
// respect to its input, used to upsample.
//
//	x      (batch, height, width, in)
//	kernel (kh, kw, filters, in), Keras' layout for this layer
//	result (batch, outHeight, outWidth, filters)
//
// With Valid padding outHeight = height·sh + max(kh' − sh, 0), kh' =
// (kh−1)·dh + 1 being the dilated kernel; with Same, height·sh. It is
// exactly the input gradient of Conv2D(result, kernel, cfg), so it shares
// Conv2D's kernels. No bias: add one with BiasAdd.
func Conv2DTranspose(x, kernel *gorgonia.Node, cfg ConvConfig) (*gorgonia.Node, error) {
	g, o, err := transposeGeom("Conv2DTranspose", x, kernel, 2, cfg.Strides, cfg.Dilation, cfg.Padding)
	if err != nil {
		return nil, err
	}
	return apply(convGradInputOp(g, o), x, kernel)
}

// Conv1DTranspose is Conv2DTranspose for sequences: x (batch, steps, in),
// kernel (k, filters, in), result (batch, outSteps, filters). Padding is
// Valid or Same.
func Conv1DTranspose(x, kernel *gorgonia.Node, cfg Conv1DConfig) (*gorgonia.Node, error) {
	g, o, err := transposeGeom("Conv1DTranspose", x, kernel, 1, [2]int{1, cfg.Stride}, [2]int{1, cfg.Dilation}, cfg.Padding)
	if err != nil {
		return nil, err
	}
	return apply(convGradInputOp(g, o), x, kernel)
}

// transposeGeom returns the geometry of the convolution whose input
// gradient the transposed convolution is: its input has the transposed
// convolution's output size and filters channels, its output x's size and
// o = x's channels.
func transposeGeom(name string, x, kernel *gorgonia.Node, rank int, strides, dilation [2]int, padding string) (geom, int, error) {
	n, h, w, c, err := spatial(name, "input", x.Shape(), rank)
	if err != nil {
		return geom{}, 0, err
	}
	ks := kernel.Shape()
	layout := map[int]string{1: "(k, filters, in)", 2: "(kh, kw, filters, in)"}[rank]
	if kernel.Dims() != rank+2 || ks.TotalSize() == 0 || ks[rank+1] != c {
		return geom{}, 0, errors.Errorf("ops: %s: kernel must be %s with in = %d (the input's channels), got shape %v", name, layout, c, ks)
	}
	if x.Dtype() != kernel.Dtype() {
		return geom{}, 0, errors.Errorf("ops: %s: input is %v, kernel %v", name, x.Dtype(), kernel.Dtype())
	}
	padding = normPadding(padding)
	if padding != Valid && padding != Same {
		return geom{}, 0, errors.Errorf("ops: %s: unknown padding %q (want %q or %q)", name, padding, Valid, Same)
	}
	g := geom{rank: rank, n: n, c: ks[rank], h: trivial()}
	if rank == 2 {
		if g.h, err = transposedWindow("height", h, ks[0], orOne(strides[0]), orOne(dilation[0]), padding); err != nil {
			return geom{}, 0, errors.WithMessagef(err, "ops: %s", name)
		}
	}
	if g.w, err = transposedWindow("width", w, ks[rank-1], orOne(strides[1]), orOne(dilation[1]), padding); err != nil {
		return geom{}, 0, errors.WithMessagef(err, "ops: %s", name)
	}
	return g, c, nil
}

// transposedWindow returns the window of the convolution that maps the
// transposed convolution's output (size in·stride, plus max(span −
// stride, 0) for Valid, as Keras' deconv_output_length) back to in.
func transposedWindow(axis string, in, k, stride, dilation int, padding string) (window, error) {
	if in < 1 || k < 1 || stride < 1 || dilation < 1 {
		return window{}, errors.Errorf("%s: input %d, kernel %d, stride %d and dilation %d must all be positive", axis, in, k, stride, dilation)
	}
	size := in * stride
	if padding == Valid {
		size += max((k-1)*dilation+1-stride, 0)
	}
	w, err := newWindow(axis, size, k, stride, dilation, padding)
	if err == nil && w.out != in {
		err = errors.Errorf("%s: internal error: output %d maps back to %d, not %d", axis, size, w.out, in)
	}
	return w, err
}
