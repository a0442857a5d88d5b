package ops

import (
	"fmt"
	"strings"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// Padding modes, as Keras spells them. The zero value "" means Valid.
const (
	Valid  = "valid"  // no padding: windows lie wholly inside the input
	Same   = "same"   // output size ceil(in/stride), TensorFlow's padding
	Causal = "causal" // Conv1D only: pad (k−1)·dilation on the left
)

// window is a sliding window along one spatial axis: input size, kernel
// size, stride, dilation, the padding before and after, and the output
// size. Output position o reads input positions o·stride − before +
// t·dilation for t in [0, k).
type window struct {
	in, k, stride, dilation int
	before, after, out      int
}

// newWindow resolves a padding mode along one axis. For "same" it follows
// TensorFlow: out = ceil(in/stride), total padding max((out−1)·stride +
// (k−1)·dilation + 1 − in, 0), the odd one at the end (bottom, right).
func newWindow(axis string, in, k, stride, dilation int, padding string) (window, error) {
	w := window{in: in, k: k, stride: stride, dilation: dilation}
	if in < 1 || k < 1 || stride < 1 || dilation < 1 {
		return w, errors.Errorf("%s: input %d, kernel %d, stride %d and dilation %d must all be positive", axis, in, k, stride, dilation)
	}
	span := (k-1)*dilation + 1
	switch padding {
	case Valid:
	case Same:
		w.out = (in + stride - 1) / stride
		total := max((w.out-1)*stride+span-in, 0)
		w.before, w.after = total/2, total-total/2
	case Causal:
		w.before = span - 1
	default:
		return w, errors.Errorf("unknown padding %q (want %q or %q)", padding, Valid, Same)
	}
	if padded := in + w.before + w.after; padded < span {
		return w, errors.Errorf("%s: kernel spans %d (size %d, dilation %d), more than the input's %d", axis, span, k, dilation, padded)
	}
	w.out = (in+w.before+w.after-span)/stride + 1
	return w, nil
}

// trivial is the window of a missing axis (Conv1D's height).
func trivial() window { return window{in: 1, k: 1, stride: 1, dilation: 1, out: 1} }

// first returns the input position read by tap 0 of output o.
func (w window) first(o int) int { return o*w.stride - w.before }

// taps returns the range [t0, t1) of taps of output o that read inside the
// input (the others read padding).
func (w window) taps(o int) (t0, t1 int) {
	p := w.first(o)
	t0, t1 = 0, w.k
	for t0 < t1 && p+t0*w.dilation < 0 {
		t0++
	}
	for t1 > t0 && p+(t1-1)*w.dilation >= w.in {
		t1--
	}
	return t0, t1
}

func (w window) String() string {
	return fmt.Sprintf("%d/k%ds%dd%dp%d,%d", w.in, w.k, w.stride, w.dilation, w.before, w.after)
}

// geom is the geometry of a windowed op on channel-last data: batch n,
// channels c, windows along height and width. rank is the number of
// spatial axes the tensors have: 2 (NHWC) or 1 (NLC, with a trivial
// height).
type geom struct {
	rank int
	n, c int
	h, w window
}

func (g geom) String() string {
	return fmt.Sprintf("%dD,n%d,c%d,h%v,w%v", g.rank, g.n, g.c, g.h, g.w)
}

// inShape and outShape are the shapes of the input and of an output with
// c channels.
func (g geom) inShape() tensor.Shape { return g.shape(g.h.in, g.w.in, g.c) }
func (g geom) outShape(c int) tensor.Shape {
	return g.shape(g.h.out, g.w.out, c)
}

func (g geom) shape(h, w, c int) tensor.Shape {
	if g.rank == 1 {
		return tensor.Shape{g.n, w, c}
	}
	return tensor.Shape{g.n, h, w, c}
}

// outPixels is the number of output positions per image.
func (g geom) outPixels() int { return g.h.out * g.w.out }

// spatial reads (n, h, w, c) from a shape of the given rank (1: NLC, 2:
// NHWC); name and what describe the tensor in errors.
func spatial(name, what string, s tensor.Shape, rank int) (n, h, w, c int, err error) {
	if s.Dims() != rank+2 {
		layout := map[int]string{1: "(batch, steps, channels)", 2: "(batch, height, width, channels)"}[rank]
		return 0, 0, 0, 0, errors.Errorf("ops: %s: %s must be %s, got shape %v", name, what, layout, s)
	}
	for _, d := range s {
		if d < 1 {
			return 0, 0, 0, 0, errors.Errorf("ops: %s: %s has an empty axis: shape %v", name, what, s)
		}
	}
	if rank == 1 {
		return s[0], 1, s[1], s[2], nil
	}
	return s[0], s[1], s[2], s[3], nil
}

// normPadding lower-cases a padding mode; "" means Valid.
func normPadding(p string) string {
	if p == "" {
		return Valid
	}
	return strings.ToLower(p)
}

// orOne returns v, or 1 when v is 0 (the zero value of a stride or a
// dilation means 1).
func orOne(v int) int {
	if v == 0 {
		return 1
	}
	return v
}

// ConvOutputLength is the output size along one spatial axis of a
// convolution or pooling op, as Keras' conv_output_length: in is the
// input size, kernel the window size, stride and dilation as in
// ConvConfig (0 meaning 1; pools have dilation 1) and padding Valid, Same
// or Causal. Layers use it to report output shapes before building nodes.
func ConvOutputLength(in, kernel, stride, dilation int, padding string) (int, error) {
	w, err := newWindow("axis", in, kernel, orOne(stride), orOne(dilation), normPadding(padding))
	if err != nil {
		return 0, errors.WithMessage(err, "ops: ConvOutputLength")
	}
	return w.out, nil
}

// checked makes op's kernel refuse inputs of other shapes than those it
// was built for (its kernels index by the built geometry), with an error
// rather than a panic.
func checked(op *customOp, want ...tensor.Shape) *customOp {
	do := op.do
	op.do = func(out *tensor.Dense, in []*tensor.Dense) error {
		for i, w := range want {
			if !in[i].Shape().Eq(w) {
				return errors.Errorf("ops: %s: input %d has shape %v, want %v", op.id, i, in[i].Shape(), w)
			}
		}
		return do(out, in)
	}
	return op
}
