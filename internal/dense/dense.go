// Package dense checks and normalises the *tensor.Dense values that enter
// Keragon from users: every entry point (Fit, Evaluate, Predict, the
// ensemble learners, the data helpers) reads a tensor's backing slice
// directly, which is only right for a plain, contiguous, row-major tensor.
package dense

import (
	"math"

	"github.com/keragon/keragon/internal/vmath"
	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// Contiguous returns t itself when its backing slice holds exactly its
// elements in row-major order, and otherwise a contiguous copy: a view (a
// slice of rows or columns) or a lazily transposed tensor (t.T()) reads
// wrong through Data(). Masked tensors are refused. A nil t stays nil.
func Contiguous(t *tensor.Dense) (*tensor.Dense, error) {
	if t == nil || t.Shape().TotalSize() == 0 {
		return t, nil // nothing to read; callers report empty data themselves
	}
	if t.IsMasked() {
		return nil, errors.Errorf("tensor of shape %v is masked: masked tensors are not supported", t.Shape())
	}
	if t.IsMaterializable() || t.RequiresIterator() {
		c, ok := t.Materialize().(*tensor.Dense)
		if !ok || c == t {
			return nil, errors.Errorf("tensor of shape %v: cannot copy a view to a contiguous tensor", t.Shape())
		}
		t = c
	}
	if !t.IsScalar() && t.DataSize() != t.Shape().TotalSize() {
		return nil, errors.Errorf("tensor of shape %v has %d elements in its backing slice, want %d", t.Shape(), t.DataSize(), t.Shape().TotalSize())
	}
	return t, nil
}

// All applies Contiguous to every tensor of ts, returning a new slice when
// any of them changed (ts itself is never modified).
func All(ts []*tensor.Dense) ([]*tensor.Dense, error) {
	out := ts
	for i, t := range ts {
		c, err := Contiguous(t)
		if err != nil {
			return nil, errors.WithMessagef(err, "tensor %d", i)
		}
		if c != t {
			if &out[0] == &ts[0] {
				out = append([]*tensor.Dense(nil), ts...)
			}
			out[i] = c
		}
	}
	return out, nil
}

// FirstNonFinite returns the flat index of the first NaN or ±Inf in t's
// backing slice and that value, or -1 when every value is finite (or t is
// not float32 or float64).
func FirstNonFinite(t *tensor.Dense) (int, float64) {
	switch d := t.Data().(type) {
	case []float32:
		// A vector search: a training set's check looked at every value
		// through float64, a third of an MNIST MLP epoch.
		if i := vmath.FirstNonFinite32(d); i >= 0 {
			return i, float64(d[i])
		}
	case []float64:
		for i, v := range d {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return i, v
			}
		}
	}
	return -1, 0
}
