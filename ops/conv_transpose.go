package ops

import (
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
)

// Conv2DTranspose is the transposed convolution of Keras'
// Conv2DTranspose: the gradient of Conv2D with respect to its input, used
// to upsample.
//
//	x      (batch, height, width, in)
//	kernel (kh, kw, filters, in), Keras' layout for this layer
//	result (batch, outHeight, outWidth, filters)
//
// Without OutputPadding, outHeight = height·sh + max(kh' − sh, 0) with
// Valid padding, kh' = (kh−1)·dh + 1 being the dilated kernel, and
// height·sh with Same. With OutputPadding (oh, ow), Keras'
// deconv_output_length: outHeight = (height−1)·sh + kh' − 2·pad + oh,
// pad being kh'/2 for Same and 0 for Valid; each oh < sh. Either way it is
// exactly the input gradient of Conv2D(result, kernel, cfg) (TensorFlow's
// conv_transpose for that output size), so it shares Conv2D's kernels. No
// bias: add one with BiasAdd.
func Conv2DTranspose(x, kernel *gorgonia.Node, cfg ConvConfig) (*gorgonia.Node, error) {
	g, o, err := transposeGeom("Conv2DTranspose", x, kernel, 2, cfg.Strides, cfg.Dilation, cfg.Padding, cfg.OutputPadding)
	if err != nil {
		return nil, err
	}
	return apply(convGradInputOp(g, o), x, kernel)
}

// Conv1DTranspose is Conv2DTranspose for sequences: x (batch, steps, in),
// kernel (k, filters, in), result (batch, outSteps, filters). Padding is
// Valid or Same.
func Conv1DTranspose(x, kernel *gorgonia.Node, cfg Conv1DConfig) (*gorgonia.Node, error) {
	var op []int
	if cfg.OutputPadding != nil {
		if len(cfg.OutputPadding) != 1 {
			return nil, errors.Errorf("ops: Conv1DTranspose: output padding %v must be one number", cfg.OutputPadding)
		}
		op = []int{0, cfg.OutputPadding[0]}
	}
	g, o, err := transposeGeom("Conv1DTranspose", x, kernel, 1, [2]int{1, cfg.Stride}, [2]int{1, cfg.Dilation}, cfg.Padding, op)
	if err != nil {
		return nil, err
	}
	return apply(convGradInputOp(g, o), x, kernel)
}

// transposeGeom returns the geometry of the convolution whose input
// gradient the transposed convolution is: its input has the transposed
// convolution's output size and filters channels, its output x's size and
// o = x's channels.
func transposeGeom(name string, x, kernel *gorgonia.Node, rank int, strides, dilation [2]int, padding string, outPad []int) (geom, int, error) {
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
	if outPad != nil && len(outPad) != 2 {
		return geom{}, 0, errors.Errorf("ops: %s: output padding %v must be (height, width)", name, outPad)
	}
	pad := func(i int) int {
		if outPad == nil {
			return -1
		}
		return outPad[i]
	}
	g := geom{rank: rank, n: n, c: ks[rank], h: trivial()}
	if rank == 2 {
		if g.h, err = transposedWindow("height", h, ks[0], orOne(strides[0]), orOne(dilation[0]), padding, pad(0)); err != nil {
			return geom{}, 0, errors.WithMessagef(err, "ops: %s", name)
		}
	}
	if g.w, err = transposedWindow("width", w, ks[rank-1], orOne(strides[1]), orOne(dilation[1]), padding, pad(1)); err != nil {
		return geom{}, 0, errors.WithMessagef(err, "ops: %s", name)
	}
	return g, c, nil
}

// transposedWindow returns the window of the convolution that maps the
// transposed convolution's output back to in. The output's size is Keras'
// deconv_output_length: without output padding (outPad < 0) in·stride,
// plus max(span − stride, 0) for Valid; with it, (in−1)·stride + span −
// 2·pad + outPad, pad being span/2 for Same and 0 for Valid.
func transposedWindow(axis string, in, k, stride, dilation int, padding string, outPad int) (window, error) {
	if in < 1 || k < 1 || stride < 1 || dilation < 1 {
		return window{}, errors.Errorf("%s: input %d, kernel %d, stride %d and dilation %d must all be positive", axis, in, k, stride, dilation)
	}
	span := (k-1)*dilation + 1
	size := in * stride
	switch {
	case outPad >= stride:
		return window{}, errors.Errorf("%s: output padding %d must be less than the stride %d", axis, outPad, stride)
	case outPad >= 0:
		pad := 0
		if padding == Same {
			pad = span / 2
		}
		size = (in-1)*stride + span - 2*pad + outPad
		if size < 1 {
			return window{}, errors.Errorf("%s: output padding %d leaves an output of %d", axis, outPad, size)
		}
	case padding == Valid:
		size += max(span-stride, 0)
	}
	w, err := newWindow(axis, size, k, stride, dilation, padding)
	if err == nil && w.out != in {
		if outPad >= 0 {
			return w, errors.Errorf("%s: with output padding %d the output has %d, which the %s convolution maps to %d, not %d", axis, outPad, size, padding, w.out, in)
		}
		err = errors.Errorf("%s: internal error: output %d maps back to %d, not %d", axis, size, w.out, in)
	}
	return w, err
}
