package ops

import (
	"fmt"
	"math"
	"sort"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Ops of Keras' preprocessing layers: standardisation with fixed
// statistics, bucketing, value lookups and categorical encodings. Only
// Standardize has a gradient; the others work on ids and bins.

// Standardize is Keras' Normalization layer: with mean and variance
// vectors laid along axis of x (broadcast over the other axes),
//
//	y = (x − mean) / max(sqrt(variance), epsilon)
//
// or, with invert, y = mean + x·max(sqrt(variance), epsilon). Keras'
// epsilon is 1e-7. The gradient flows to x only: the statistics are
// fixed (adapted on data, not trained).
func Standardize(x, mean, variance *gorgonia.Node, axis int, epsilon float64, invert bool) (*gorgonia.Node, error) {
	xs := x.Shape()
	if axis < 0 || axis >= xs.Dims() {
		return nil, errors.Errorf("ops: Standardize: axis %d of a tensor of shape %v", axis, xs)
	}
	for _, s := range []*gorgonia.Node{mean, variance} {
		if s.Dims() != 1 || s.Shape()[0] != xs[axis] {
			return nil, errors.Errorf("ops: Standardize: statistics of shape %v for axis %d of %v; want (%d)", s.Shape(), axis, xs, xs[axis])
		}
		if s.Dtype() != x.Dtype() {
			return nil, errors.Errorf("ops: Standardize: statistics are %v, x is %v", s.Dtype(), x.Dtype())
		}
	}
	d := xs.Dims()
	op := &customOp{
		id:     fmt.Sprintf("Standardize(%d,%v,%v,%d)", axis, epsilon, invert, d),
		arity:  3,
		typ:    fnType(d, 1, 1, d),
		noDiff: []int{1, 2},
		do: func(out *tensor.Dense, in []*tensor.Dense) error {
			o, n, i := axisSplit(in[0].Shape(), axis)
			return dispatch(out, in,
				func(y []float32, x [][]float32) { standardize(y, x[0], x[1], x[2], o, n, i, epsilon, invert, false) },
				func(y []float64, x [][]float64) { standardize(y, x[0], x[1], x[2], o, n, i, epsilon, invert, false) })
		},
	}
	op.diff = func(in gorgonia.Nodes, _, g *gorgonia.Node) (gorgonia.Nodes, error) {
		// y is affine in x: dx = g·scale, scale = 1/s (or s with invert).
		gop := &customOp{
			id:    fmt.Sprintf("StandardizeGrad(%d,%v,%v,%d)", axis, epsilon, invert, d),
			arity: 3,
			typ:   fnType(d, 1, 1, d),
			do: func(out *tensor.Dense, in []*tensor.Dense) error {
				o, n, i := axisSplit(in[0].Shape(), axis)
				return dispatch(out, in,
					func(y []float32, x [][]float32) { standardize(y, x[0], x[1], x[2], o, n, i, epsilon, invert, true) },
					func(y []float64, x [][]float64) { standardize(y, x[0], x[1], x[2], o, n, i, epsilon, invert, true) })
			},
		}
		gx, err := apply(gop, g, in[1], in[2])
		return gorgonia.Nodes{gx, nil, nil}, err
	}
	return apply(op, x, mean, variance)
}

// standardize applies the layer (or, with grad, only its scale) along the
// middle axis of (outer, n, inner).
func standardize[T float](out, x, mean, variance []T, outer, n, inner int, eps float64, invert, grad bool) {
	for o := 0; o < outer; o++ {
		for k := 0; k < n; k++ {
			s := max(math.Sqrt(float64(variance[k])), eps)
			m := float64(mean[k])
			base := (o*n + k) * inner
			for i := 0; i < inner; i++ {
				v := float64(x[base+i])
				switch {
				case grad && invert:
					v *= s
				case grad:
					v /= s
				case invert:
					v = m + v*s
				default:
					v = (v - m) / s
				}
				out[base+i] = T(v)
			}
		}
	}
}

// Bucketize replaces each value of x by the number of boundaries at or
// below it, as Keras' Discretization (TensorFlow's Bucketize): with
// boundaries [0, 1, 2], −1 → 0, 0 → 1, 0.5 → 1, 2.5 → 3. boundaries must
// be sorted. No gradient.
func Bucketize(x *gorgonia.Node, boundaries []float64) (*gorgonia.Node, error) {
	if !sort.Float64sAreSorted(boundaries) {
		return nil, errors.Errorf("ops: Bucketize: boundaries %v are not sorted", boundaries)
	}
	b := append([]float64(nil), boundaries...)
	return MapValues(x, fmt.Sprintf("Bucketize%v", b), func(v float64) (float64, error) {
		return float64(sort.Search(len(b), func(i int) bool { return b[i] > v })), nil
	})
}

// MapValues applies f to every value of x: Keras' lookup layers map
// values to vocabulary indices with it. id must name f and everything f
// depends on (Gorgonia merges nodes whose ops have the same id and
// inputs). An error of f fails the run. No gradient.
func MapValues(x *gorgonia.Node, id string, f func(float64) (float64, error)) (*gorgonia.Node, error) {
	d := x.Dims()
	op := &customOp{
		id:    "MapValues(" + id + ")",
		arity: 1,
		typ:   fnType(d, d),
		do: func(out *tensor.Dense, in []*tensor.Dense) error {
			var err error
			e := dispatch(out, in,
				func(y []float32, x [][]float32) { err = mapValues(y, x[0], f) },
				func(y []float64, x [][]float64) { err = mapValues(y, x[0], f) })
			if e != nil {
				return e
			}
			return errors.WithMessage(err, "ops: "+id)
		},
	}
	return apply(op, x)
}

func mapValues[T float](out, x []T, f func(float64) (float64, error)) error {
	for i, v := range x {
		y, err := f(float64(v))
		if err != nil {
			return err
		}
		out[i] = T(y)
	}
	return nil
}

// Encoding modes of CategoryEncode, Keras' output_mode values.
const (
	OneHot   = "one_hot"
	MultiHot = "multi_hot"
	Count    = "count"
)

// CategoryEncode turns integer ids in [0, depth) into vectors, as Keras'
// CategoryEncoding (and the lookup layers' other output modes):
//
//   - OneHot: one vector per id: x (batch, …) gives (batch, …, depth),
//     except that a last axis of size 1 is replaced (x (batch, 1) gives
//     (batch, depth));
//   - MultiHot: for each sample, 1 at every id present: (batch, k)
//     gives (batch, depth);
//   - Count: as MultiHot, counting each id's occurrences.
//
// x of shape (batch) is taken as (batch, 1). An id outside [0, depth) is
// an error of the run, unless skipNegative lets negative ids (a lookup's
// mask token) encode to nothing. No gradient.
func CategoryEncode(x *gorgonia.Node, depth int, mode string, skipNegative bool) (*gorgonia.Node, error) {
	if depth < 1 {
		return nil, errors.Errorf("ops: CategoryEncode: depth %d must be positive", depth)
	}
	out, err := CategoryEncodeShape(x.Shape(), depth, mode)
	if err != nil {
		return nil, err
	}
	k := x.Shape().TotalSize() / max(out.TotalSize()/depth, 1)
	if mode == OneHot {
		k = 1
	}
	op := &customOp{
		id:    fmt.Sprintf("CategoryEncode(%s,%d,%v)%v", mode, depth, skipNegative, out),
		arity: 1,
		typ:   fnType(x.Dims(), out.Dims()),
		shape: func([]tensor.Shape) (tensor.Shape, error) { return out.Clone(), nil },
		do: func(o *tensor.Dense, in []*tensor.Dense) error {
			var err error
			e := dispatch(o, in,
				func(y []float32, x [][]float32) { err = categoryEncode(y, x[0], depth, k, mode, skipNegative) },
				func(y []float64, x [][]float64) { err = categoryEncode(y, x[0], depth, k, mode, skipNegative) })
			if e != nil {
				return e
			}
			return err
		},
	}
	return apply(op, x)
}

// CategoryEncodeShape is the shape CategoryEncode gives for ids of shape
// s (batch axis included).
func CategoryEncodeShape(s tensor.Shape, depth int, mode string) (tensor.Shape, error) {
	if s.Dims() == 0 {
		return nil, errors.New("ops: CategoryEncode needs ids with a batch axis")
	}
	lead := s.Clone()
	switch mode {
	case OneHot:
		if s.Dims() > 1 && s[s.Dims()-1] == 1 {
			lead = lead[:s.Dims()-1]
		}
	case MultiHot, Count:
		if s.Dims() > 2 {
			return nil, errors.Errorf("ops: CategoryEncode %s takes ids of shape (batch) or (batch, k), got %v", mode, s)
		}
		if s.Dims() > 1 {
			lead = lead[:s.Dims()-1]
		}
	default:
		return nil, errors.Errorf("ops: CategoryEncode: unknown mode %q (want %q, %q or %q)", mode, OneHot, MultiHot, Count)
	}
	return append(lead, depth), nil
}

// categoryEncode writes one depth-vector per group of k ids.
func categoryEncode[T float](out, x []T, depth, k int, mode string, skipNegative bool) error {
	clear(out)
	for i, v := range x {
		id := float64(v)
		if skipNegative && id < 0 {
			continue
		}
		if id != math.Trunc(id) || id < 0 || id >= float64(depth) {
			return errors.Errorf("ops: CategoryEncode: id %v at position %d is not an integer in [0, %d)", id, i, depth)
		}
		j := (i/k)*depth + int(id)
		if mode == Count {
			out[j]++
		} else {
			out[j] = 1
		}
	}
	return nil
}
