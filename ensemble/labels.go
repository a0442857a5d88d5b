package ensemble

import (
	"math"
	"slices"
	"sort"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// Classification labels are treated as scikit-learn treats them: any
// finite numbers, the classes being the sorted distinct labels seen at
// Fit. A classifier's PredictProba has one column per class in that order
// and its Predict returns the labels themselves. Ensembles train their
// members on class indices 0, 1, …, K−1 (positions in their own classes),
// so a member that never saw some class still lines up: its columns go to
// the classes it reports, and the classes it did not see get 0.

// readLabels reads n classification labels: finite numbers.
func readLabels(y *tensor.Dense, n int) ([]float64, error) {
	v, err := labelVector(y, n)
	if err != nil {
		return nil, err
	}
	for i, f := range v {
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, errors.Wrapf(ErrLabels, "ensemble: label %v at sample %d is not a finite number", f, i)
		}
	}
	return v, nil
}

// uniqueSorted returns the sorted distinct values of v.
func uniqueSorted(v []float64) []float64 {
	out := append([]float64(nil), v...)
	slices.Sort(out)
	return slices.Compact(out)
}

// encode returns the position of every label among classes (sorted), or
// an error naming the first label that is not a class; rows, if not nil,
// are the caller's row numbers of the labels.
func encode(classes, labels []float64, rows []int) ([]int, error) {
	out := make([]int, len(labels))
	for i, l := range labels {
		j := sort.SearchFloat64s(classes, l)
		if j == len(classes) || classes[j] != l {
			r := i
			if rows != nil {
				r = rows[i]
			}
			return nil, errors.Wrapf(ErrLabels, "ensemble: label %v at sample %d is not one of the %d classes %v", l, r, len(classes), shortList(classes))
		}
		out[i] = j
	}
	return out, nil
}

// shortList returns v, or its first 10 values, for messages.
func shortList(v []float64) []float64 {
	if len(v) > 10 {
		return v[:10]
	}
	return v
}

// classLabels reads the labels of a classification ensemble: the sorted
// classes and each sample's class index. At least two classes must occur.
func classLabels(y *tensor.Dense, n int) (classes []float64, idx []int, err error) {
	v, err := readLabels(y, n)
	if err != nil {
		return nil, nil, err
	}
	classes = uniqueSorted(v)
	if len(classes) < 2 {
		return nil, nil, errors.Wrapf(ErrLabels, "ensemble: every label is %v: a classifier needs at least two classes", classes[0])
	}
	idx, err = encode(classes, v, nil)
	return classes, idx, err
}

// learnerClasses reads a single learner's labels: the sorted classes (one
// is enough) and each sample's class index.
func learnerClasses(y *tensor.Dense, n int) (classes []float64, idx []int, err error) {
	v, err := readLabels(y, n)
	if err != nil {
		return nil, nil, err
	}
	classes = uniqueSorted(v)
	idx, err = encode(classes, v, nil)
	return classes, idx, err
}

// classesOf returns the classes a learner reports (its ClassLabels method),
// or nil.
func classesOf(l Learner) []float64 {
	if c, ok := l.(interface{ ClassLabels() []float64 }); ok {
		return c.ClassLabels()
	}
	return nil
}

// memberColumns maps the c probability columns of a member trained on
// class indices to the ensemble's k classes: column j holds class
// cols[j]. A member that reports its classes is mapped by them; one that
// does not is taken to give classes 0, 1, …, c−1.
func memberColumns(l Learner, c, k int, what string) ([]int, error) {
	cols := make([]int, c)
	classes := classesOf(l)
	if classes != nil && len(classes) != c {
		return nil, errors.Errorf("ensemble: %s returned %d columns for the %d classes the learner reports", what, c, len(classes))
	}
	for j := range cols {
		cols[j] = j
		if classes != nil {
			v := classes[j]
			if v != math.Trunc(v) || v < 0 || v >= float64(k) {
				return nil, errors.Errorf("ensemble: the learner reports class %v, want a class index below %d", v, k)
			}
			cols[j] = int(v)
		}
		if cols[j] >= k {
			return nil, errors.Errorf("ensemble: %s returned %d columns, more than the ensemble's %d classes", what, c, k)
		}
	}
	return cols, nil
}

// decodeClasses turns class indices into labels.
func decodeClasses(classes []float64, idx []float64) []float64 {
	out := make([]float64, len(idx))
	for i, j := range idx {
		out[i] = classes[int(j)]
	}
	return out
}

// indexTensor makes class indices into a float64 tensor (n).
func indexTensor(idx []int) *tensor.Dense {
	v := make([]float64, len(idx))
	for i, j := range idx {
		v[i] = float64(j)
	}
	return vec(v)
}
