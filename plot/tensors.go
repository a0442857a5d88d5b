package plot

import (
	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// values returns t's elements in row-major order as float64.
func values(t *tensor.Dense) ([]float64, error) {
	if t == nil {
		return nil, errors.New("plot: nil tensor")
	}
	if t.RequiresIterator() {
		m, ok := t.Materialize().(*tensor.Dense)
		if !ok {
			return nil, errors.Errorf("plot: cannot read a %T view", t.Materialize())
		}
		t = m
	}
	switch d := t.Data().(type) {
	case []float32:
		out := make([]float64, len(d))
		for i, v := range d {
			out[i] = float64(v)
		}
		return out, nil
	case []float64:
		return append([]float64(nil), d...), nil
	case float32:
		return []float64{float64(d)}, nil
	case float64:
		return []float64{d}, nil
	}
	return nil, errors.Errorf("plot: tensors of %v are not supported (float32 or float64)", t.Dtype())
}

// Units returns the columns of a Dense kernel of shape (h·w, units) as units
// images of h×w pixels, shape (units, h, w): what each unit of a Dense layer
// fed with flattened h×w images responds to. The result is a new float64
// tensor.
func Units(kernel *tensor.Dense, h, w int) (*tensor.Dense, error) {
	v, err := values(kernel)
	if err != nil {
		return nil, errors.WithMessage(err, "Units")
	}
	s := kernel.Shape()
	if len(s) != 2 || h <= 0 || w <= 0 || s[0] != h*w {
		return nil, errors.Errorf("plot: Units needs a kernel of shape (%d·%d, units), got %v", h, w, s)
	}
	units := s[1]
	out := make([]float64, len(v))
	for u := 0; u < units; u++ {
		for p := 0; p < h*w; p++ {
			out[u*h*w+p] = v[p*units+u]
		}
	}
	return tensor.New(tensor.WithShape(units, h, w), tensor.WithBacking(out)), nil
}

// Filters returns the filters of a convolution kernel as images: a Conv2D
// kernel (kh, kw, in, filters) gives filters·in images of kh×kw, filter by
// filter (the in channels of filter 0 first); a Conv1D kernel (k, in,
// filters) gives filters·in images of 1×k. Draw them with Images{Cols: in}
// to see one filter per row. The result is a new float64 tensor.
func Filters(kernel *tensor.Dense) (*tensor.Dense, error) {
	v, err := values(kernel)
	if err != nil {
		return nil, errors.WithMessage(err, "Filters")
	}
	s := kernel.Shape()
	var kh, kw, in, f int
	switch len(s) {
	case 4:
		kh, kw, in, f = s[0], s[1], s[2], s[3]
	case 3:
		kh, kw, in, f = 1, s[0], s[1], s[2]
	default:
		return nil, errors.Errorf("plot: Filters needs a kernel of shape (kh, kw, in, filters) or (k, in, filters), got %v", s)
	}
	out := make([]float64, len(v))
	for fi := 0; fi < f; fi++ {
		for c := 0; c < in; c++ {
			img := (fi*in + c) * kh * kw
			for y := 0; y < kh; y++ {
				for x := 0; x < kw; x++ {
					out[img+y*kw+x] = v[((y*kw+x)*in+c)*f+fi]
				}
			}
		}
	}
	return tensor.New(tensor.WithShape(f*in, kh, kw), tensor.WithBacking(out)), nil
}

// Channels returns the channels of one sample of a channels-last batch as
// images: (n, h, w, c) gives (c, h, w), the feature maps of a convolution
// layer's output; (n, steps, c) gives (c, 1, steps). The result is a new
// float64 tensor.
func Channels(batch *tensor.Dense, sample int) (*tensor.Dense, error) {
	v, err := values(batch)
	if err != nil {
		return nil, errors.WithMessage(err, "Channels")
	}
	s := batch.Shape()
	var n, h, w, c int
	switch len(s) {
	case 4:
		n, h, w, c = s[0], s[1], s[2], s[3]
	case 3:
		n, h, w, c = s[0], 1, s[1], s[2]
	default:
		return nil, errors.Errorf("plot: Channels needs a batch of shape (n, h, w, c) or (n, steps, c), got %v", s)
	}
	if sample < 0 || sample >= n {
		return nil, errors.Errorf("plot: Channels: sample %d is outside the batch of %d", sample, n)
	}
	base := sample * h * w * c
	out := make([]float64, h*w*c)
	for ch := 0; ch < c; ch++ {
		for p := 0; p < h*w; p++ {
			out[ch*h*w+p] = v[base+p*c+ch]
		}
	}
	return tensor.New(tensor.WithShape(c, h, w), tensor.WithBacking(out)), nil
}
