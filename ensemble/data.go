package ensemble

import (
	"math"

	"github.com/keragon/keragon/internal/dense"
	"github.com/keragon/keragon/keras/datasets"
	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// numbers reads a float or integer tensor as float64 (a copy), in
// row-major order whatever its memory layout.
func numbers(t *tensor.Dense) ([]float64, bool) {
	t, err := dense.Contiguous(t)
	if err != nil || t == nil {
		return nil, false
	}
	switch d := t.Data().(type) {
	case []float64:
		return append([]float64(nil), d...), true
	case []float32:
		out := make([]float64, len(d))
		for i, v := range d {
			out[i] = float64(v)
		}
		return out, true
	case []int:
		return convert(d), true
	case []int64:
		return convert(d), true
	case []int32:
		return convert(d), true
	case []uint8:
		return convert(d), true
	case float64:
		return []float64{d}, true
	case float32:
		return []float64{float64(d)}, true
	}
	return nil, false
}

func convert[T int | int64 | int32 | uint8](d []T) []float64 {
	out := make([]float64, len(d))
	for i, v := range d {
		out[i] = float64(v)
	}
	return out
}

// samples checks x and returns its sample count.
func samples(x *tensor.Dense) (int, error) {
	if x == nil {
		return 0, errors.Wrap(ErrInput, "ensemble: x is nil")
	}
	if x.Dims() == 0 || x.Shape()[0] == 0 {
		return 0, errors.Wrapf(ErrInput, "ensemble: x of shape %v has no samples", x.Shape())
	}
	return x.Shape()[0], nil
}

// labelVector reads labels or targets of shape (n) or (n, 1).
func labelVector(y *tensor.Dense, n int) ([]float64, error) {
	if y == nil {
		return nil, errors.Wrap(ErrLabels, "ensemble: y is nil")
	}
	s := y.Shape()
	if len(s) == 0 || len(s) > 2 || (len(s) == 2 && s[1] != 1) {
		return nil, errors.Wrapf(ErrLabels, "ensemble: y has shape %v, want (n) or (n, 1)", s)
	}
	if s[0] != n {
		return nil, errors.Wrapf(ErrLabels, "ensemble: y has %d samples, x has %d", s[0], n)
	}
	v, ok := numbers(y)
	if !ok {
		return nil, errors.Wrapf(ErrLabels, "ensemble: y holds %v, want float or integer numbers", y.Dtype())
	}
	return v, nil
}

// targets reads regression targets.
func targets(y *tensor.Dense, n int) ([]float64, error) {
	v, err := labelVector(y, n)
	if err != nil {
		return nil, err
	}
	for i, f := range v {
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, errors.Wrapf(ErrLabels, "ensemble: target %v at sample %d is not a finite number", f, i)
		}
	}
	return v, nil
}

// checkWeights validates sample weights; nil stays nil (uniform).
func checkWeights(w []float64, n int) ([]float64, error) {
	if w == nil {
		return nil, nil
	}
	if len(w) != n {
		return nil, errors.Wrapf(ErrInput, "ensemble: %d sample weights for %d samples", len(w), n)
	}
	sum := 0.0
	for i, v := range w {
		if !(v >= 0) || math.IsInf(v, 0) {
			return nil, errors.Wrapf(ErrInput, "ensemble: sample weight %v at sample %d is not a finite number ≥ 0", v, i)
		}
		sum += v
	}
	if sum == 0 {
		return nil, errors.Wrapf(ErrZeroWeights, "ensemble: the %d sample weights sum to 0", n)
	}
	return append([]float64(nil), w...), nil
}

// normalized returns n weights 1/n, or w scaled to sum 1.
func normalized(w []float64, n int) []float64 {
	out := make([]float64, n)
	if w == nil {
		for i := range out {
			out[i] = 1 / float64(n)
		}
		return out
	}
	sum := pairwiseSum(w)
	for i, v := range w {
		out[i] = v / sum
	}
	return out
}

// pairwiseSum is numpy's sum of a float64 vector (pairwise summation in
// blocks of 128 with eight accumulators), so that sums scikit-learn takes
// with numpy round alike here.
func pairwiseSum(v []float64) float64 {
	n := len(v)
	switch {
	case n < 8:
		s := 0.0 // numpy starts from -0.0; the sum of any value and it is that value
		for i, x := range v {
			if i == 0 {
				s = x
			} else {
				s += x
			}
		}
		return s
	case n <= 128:
		var r [8]float64
		copy(r[:], v[:8])
		i := 8
		for ; i < n-n%8; i += 8 {
			for j := range r {
				r[j] += v[i+j]
			}
		}
		s := (r[0] + r[1]) + (r[2] + r[3]) + ((r[4] + r[5]) + (r[6] + r[7]))
		for ; i < n; i++ {
			s += v[i]
		}
		return s
	}
	h := n / 2
	h -= h % 8
	return pairwiseSum(v[:h]) + pairwiseSum(v[h:])
}

// vec makes a float64 tensor (n).
func vec(v []float64) *tensor.Dense {
	return tensor.New(tensor.WithShape(len(v)), tensor.WithBacking(v))
}

// rowsTensor makes a float64 tensor (n, d) from rows.
func rowsTensor(rows [][]float64, d int) *tensor.Dense {
	data := make([]float64, 0, len(rows)*d)
	for _, r := range rows {
		data = append(data, r...)
	}
	return tensor.New(tensor.WithShape(len(rows), d), tensor.WithBacking(data))
}

// rows returns the samples of x at idx (a copy; indices may repeat).
func rows(x *tensor.Dense, idx []int) (*tensor.Dense, error) {
	out, err := datasets.Subset(x, idx)
	return out, errors.WithMessage(err, "ensemble")
}

// columns returns the features cols of a 2-D x (a copy, same dtype).
func columns(x *tensor.Dense, cols []int) (*tensor.Dense, error) {
	if x.Dims() != 2 {
		return nil, errors.Wrapf(ErrInput, "ensemble: choosing features needs x of shape (n, features), got %v", x.Shape())
	}
	n, d := x.Shape()[0], x.Shape()[1]
	if x.IsMaterializable() {
		if m, ok := x.Materialize().(*tensor.Dense); ok {
			x = m
		}
	}
	switch src := x.Data().(type) {
	case []float32:
		return tensor.New(tensor.WithShape(n, len(cols)), tensor.WithBacking(pickColumns(src, n, d, cols))), nil
	case []float64:
		return tensor.New(tensor.WithShape(n, len(cols)), tensor.WithBacking(pickColumns(src, n, d, cols))), nil
	}
	return nil, errors.Wrapf(ErrInput, "ensemble: x must be float32 or float64, got %v", x.Dtype())
}

func pickColumns[T float32 | float64](src []T, n, d int, cols []int) []T {
	out := make([]T, 0, n*len(cols))
	for i := 0; i < n; i++ {
		for _, c := range cols {
			out = append(out, src[i*d+c])
		}
	}
	return out
}

// matrix is x as float64 rows of d features (trailing axes flattened).
type matrix struct {
	data []float64
	n, d int
}

func (m matrix) row(i int) []float64 { return m.data[i*m.d : (i+1)*m.d] }

func matrixOf(x *tensor.Dense) (matrix, error) {
	n, err := samples(x)
	if err != nil {
		return matrix{}, err
	}
	if x.IsMaterializable() {
		if m, ok := x.Materialize().(*tensor.Dense); ok {
			x = m
		}
	}
	v, ok := numbers(x)
	if !ok {
		return matrix{}, errors.Wrapf(ErrInput, "ensemble: x holds %v, want float numbers", x.Dtype())
	}
	for i, f := range v {
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return matrix{}, errors.Wrapf(ErrInput, "ensemble: x holds %v at sample %d, feature %d", f, i/(len(v)/n), i%(len(v)/n))
		}
	}
	return matrix{data: v, n: n, d: len(v) / n}, nil
}

// predictions reads what a learner's Predict returned: n numbers.
func predictions(t *tensor.Dense, n int, what string) ([]float64, error) {
	if t == nil {
		return nil, errors.Errorf("ensemble: %s returned no tensor", what)
	}
	v, ok := numbers(t)
	if !ok || len(v) != n {
		return nil, errors.Errorf("ensemble: %s returned shape %v (%v), want %d numbers", what, t.Shape(), t.Dtype(), n)
	}
	return v, nil
}

// probaRows reads what a member's PredictProba returned as n rows over
// the ensemble's k classes: its columns go to the classes it reports
// (memberColumns) and the classes it never saw get 0.
func probaRows(l Learner, t *tensor.Dense, n, k int, what string) ([][]float64, error) {
	if t == nil {
		return nil, errors.Errorf("ensemble: %s returned no tensor", what)
	}
	v, ok := numbers(t)
	s := t.Shape()
	if !ok || len(s) != 2 || s[0] != n || s[1] < 1 {
		return nil, errors.Errorf("ensemble: %s returned shape %v (%v), want (%d, classes) probabilities", what, s, t.Dtype(), n)
	}
	c := s[1]
	cols, err := memberColumns(l, c, k, what)
	if err != nil {
		return nil, err
	}
	out := make([][]float64, n)
	for i := range out {
		out[i] = make([]float64, k)
		for j, col := range cols {
			out[i][col] = v[i*c+j]
		}
	}
	return out, nil
}

// argmax returns the index of the largest value, the first on ties (as
// numpy's argmax).
func argmax(v []float64) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}
