package datasets

import (
	"github.com/keragon/keragon/internal/dense"
	"math"
	"reflect"
	"sort"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// A Fold is one round of cross-validation: the rows to train on and the
// rows to test on, both in increasing order.
type Fold struct {
	Train, Test []int
}

// KFoldConfig configures KFold and StratifiedKFold; the zero value of a
// field means scikit-learn's default.
type KFoldConfig struct {
	// Splits is the number of folds, at least 2 (default 5).
	Splits int
	// Shuffle shuffles the rows (KFold) or each class's fold assignment
	// (StratifiedKFold) before splitting; by default the order is kept,
	// as in scikit-learn.
	Shuffle bool
	// Seed makes the shuffle repeatable.
	Seed int64
}

func (c KFoldConfig) splits(n int, name string) (int, error) {
	k := c.Splits
	if k == 0 {
		k = 5
	}
	if k < 2 {
		return 0, errors.Errorf("datasets: %s needs at least 2 splits, got %d", name, c.Splits)
	}
	if n < k {
		return 0, errors.Errorf("datasets: %s: cannot make %d folds of %d samples", name, k, n)
	}
	return k, nil
}

// KFold splits n samples into Splits folds as scikit-learn's
// model_selection.KFold: the test sets are consecutive runs of the
// (shuffled, if asked) rows, the first n%Splits one row longer than the
// others, and every row is in exactly one test set.
func KFold(n int, cfg KFoldConfig) ([]Fold, error) {
	k, err := cfg.splits(n, "KFold")
	if err != nil {
		return nil, err
	}
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	if cfg.Shuffle {
		order = newRand(cfg.Seed).Perm(n)
	}
	fold := make([]int, n) // fold[row] is the fold testing row
	start := 0
	for f := 0; f < k; f++ {
		size := n / k
		if f < n%k {
			size++
		}
		for _, row := range order[start : start+size] {
			fold[row] = f
		}
		start += size
	}
	return foldsOf(fold, k), nil
}

// StratifiedKFold splits the samples labelled y into Splits folds that keep
// the class proportions, with scikit-learn's StratifiedKFold algorithm:
// classes numbered by first appearance in y, each fold's share of every
// class allocated round robin over the sorted labels, and the rows of a
// class given to the folds in blocks, in row order (or in a shuffled order
// with Shuffle). Without Shuffle the folds are those scikit-learn makes.
// y is (n) or (n, 1) of any numeric type; equal values are one class.
func StratifiedKFold(y *tensor.Dense, cfg KFoldConfig) ([]Fold, error) {
	labels, err := labelValues(y, "StratifiedKFold")
	if err != nil {
		return nil, err
	}
	n := len(labels)
	k, err := cfg.splits(n, "StratifiedKFold")
	if err != nil {
		return nil, err
	}
	// Encode classes in order of first appearance.
	code := map[float64]int{}
	enc := make([]int, n)
	var counts []int
	for i, v := range labels {
		c, ok := code[v]
		if !ok {
			c = len(code)
			code[v] = c
			counts = append(counts, 0)
		}
		enc[i] = c
		counts[c]++
	}
	tooMany := true
	for _, c := range counts {
		if c >= k {
			tooMany = false
		}
	}
	if tooMany {
		return nil, errors.Errorf("datasets: StratifiedKFold: %d splits is more than the number of members of every class (%v)", k, counts)
	}
	// allocation[f][c]: how many rows of class c fold f tests, from a
	// round robin over the sorted class codes (sklearn's y_order[i::k]).
	sorted := append([]int(nil), enc...)
	sort.Ints(sorted)
	alloc := make([][]int, k)
	for f := range alloc {
		alloc[f] = make([]int, len(counts))
		for i := f; i < n; i += k {
			alloc[f][sorted[i]]++
		}
	}
	rng := newRand(cfg.Seed)
	fold := make([]int, n)
	for c := range counts {
		var blocks []int // fold of each row of class c, in row order
		for f := 0; f < k; f++ {
			for j := 0; j < alloc[f][c]; j++ {
				blocks = append(blocks, f)
			}
		}
		if cfg.Shuffle {
			rng.Shuffle(len(blocks), func(i, j int) { blocks[i], blocks[j] = blocks[j], blocks[i] })
		}
		j := 0
		for i, e := range enc {
			if e == c {
				fold[i] = blocks[j]
				j++
			}
		}
	}
	return foldsOf(fold, k), nil
}

// foldsOf turns a test-fold number per row into folds.
func foldsOf(fold []int, k int) []Fold {
	folds := make([]Fold, k)
	for row, f := range fold {
		for g := range folds {
			if g == f {
				folds[g].Test = append(folds[g].Test, row)
			} else {
				folds[g].Train = append(folds[g].Train, row)
			}
		}
	}
	return folds
}

// SplitConfig configures TrainTestSplit; the zero value of a field means
// scikit-learn's default.
type SplitConfig struct {
	// TestSize is the fraction of the samples held out, in (0, 1)
	// (default 0.25); the test set has ⌈TestSize·n⌉ of them.
	TestSize float64
	// Stratify keeps the class proportions of y in both parts (as
	// train_test_split(stratify=y)).
	Stratify bool
	// NoShuffle takes the last samples as the test set, in order.
	NoShuffle bool
	// Seed makes the split repeatable.
	Seed int64
}

// TrainTestSplit splits x and y (samples on the first axis) into a random
// training and test part, as scikit-learn's train_test_split, and returns
// them in the order MNIST does. The parts are copies.
func TrainTestSplit(x, y *tensor.Dense, cfg SplitConfig) (xTrain, yTrain, xTest, yTest *tensor.Dense, err error) {
	train, test, err := SplitIndices(y, cfg)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	if x == nil || x.Dims() == 0 || x.Shape()[0] != len(train)+len(test) {
		var shape tensor.Shape
		if x != nil {
			shape = x.Shape()
		}
		return nil, nil, nil, nil, errors.Errorf("datasets: TrainTestSplit: x has shape %v, want %d samples as y", shape, len(train)+len(test))
	}
	if xTrain, err = Subset(x, train); err == nil {
		if xTest, err = Subset(x, test); err == nil {
			if yTrain, err = Subset(y, train); err == nil {
				yTest, err = Subset(y, test)
			}
		}
	}
	if err != nil {
		return nil, nil, nil, nil, errors.WithMessage(err, "datasets: TrainTestSplit")
	}
	return xTrain, yTrain, xTest, yTest, nil
}

// SplitIndices returns the rows TrainTestSplit would put in each part, in
// the order it would put them.
func SplitIndices(y *tensor.Dense, cfg SplitConfig) (train, test []int, err error) {
	size := cfg.TestSize
	if size == 0 {
		size = 0.25
	}
	if !(size > 0 && size < 1) {
		return nil, nil, errors.Errorf("datasets: TrainTestSplit TestSize must be a fraction in (0, 1), got %v", cfg.TestSize)
	}
	if y == nil || y.Dims() == 0 {
		return nil, nil, errors.New("datasets: TrainTestSplit needs y with a sample axis")
	}
	n := y.Shape()[0]
	nTest := int(math.Ceil(size * float64(n)))
	if nTest < 1 || nTest >= n {
		return nil, nil, errors.Errorf("datasets: TrainTestSplit: TestSize %v of %d samples leaves %d for testing and %d for training", size, n, nTest, n-nTest)
	}
	if cfg.NoShuffle {
		if cfg.Stratify {
			return nil, nil, errors.New("datasets: TrainTestSplit cannot stratify without shuffling (as scikit-learn)")
		}
		return seq(0, n-nTest), seq(n-nTest, n), nil
	}
	rng := newRand(cfg.Seed)
	if !cfg.Stratify {
		perm := rng.Perm(n)
		return perm[nTest:], perm[:nTest], nil
	}
	labels, err := labelValues(y, "TrainTestSplit")
	if err != nil {
		return nil, nil, err
	}
	var classes []float64
	rows := map[float64][]int{}
	for i, v := range labels {
		if _, ok := rows[v]; !ok {
			classes = append(classes, v)
		}
		rows[v] = append(rows[v], i)
	}
	sort.Float64s(classes)
	// Test rows per class: the largest-remainder rounding of its share
	// (scikit-learn's _approximate_mode, ties to the smaller class value).
	want := make([]int, len(classes))
	rem := make([]float64, len(classes))
	left := nTest
	for c, v := range classes {
		exact := float64(nTest) * float64(len(rows[v])) / float64(n)
		want[c] = int(math.Floor(exact))
		rem[c] = exact - float64(want[c])
		left -= want[c]
	}
	byRem := seq(0, len(classes))
	sort.SliceStable(byRem, func(i, j int) bool { return rem[byRem[i]] > rem[byRem[j]] })
	for _, c := range byRem[:left] {
		want[c]++
	}
	for c, v := range classes {
		r := rows[v]
		if len(r) < 2 || want[c] >= len(r) {
			return nil, nil, errors.Errorf("datasets: TrainTestSplit: class %v has %d samples, too few to stratify a test share of %v", v, len(r), size)
		}
		rng.Shuffle(len(r), func(i, j int) { r[i], r[j] = r[j], r[i] })
		test = append(test, r[:want[c]]...)
		train = append(train, r[want[c]:]...)
	}
	rng.Shuffle(len(train), func(i, j int) { train[i], train[j] = train[j], train[i] })
	rng.Shuffle(len(test), func(i, j int) { test[i], test[j] = test[j], test[i] })
	return train, test, nil
}

func seq(a, b int) []int {
	s := make([]int, b-a)
	for i := range s {
		s[i] = a + i
	}
	return s
}

// labelValues reads labels of shape (n) or (n, 1) as float64.
func labelValues(y *tensor.Dense, name string) ([]float64, error) {
	if y == nil {
		return nil, errors.Errorf("datasets: %s of nil labels", name)
	}
	shape := y.Shape()
	if len(shape) == 0 || len(shape) > 2 || (len(shape) == 2 && shape[1] != 1) {
		return nil, errors.Errorf("datasets: %s takes labels of shape (n) or (n, 1), got %v", name, shape)
	}
	y, err := dense.Contiguous(y)
	if err != nil {
		return nil, errors.WithMessagef(err, "datasets: %s", name)
	}
	n := shape[0]
	out := make([]float64, n)
	switch d := y.Data().(type) {
	case []float32:
		for i := range out {
			out[i] = float64(d[i])
		}
	case []float64:
		copy(out, d)
	case []int:
		for i := range out {
			out[i] = float64(d[i])
		}
	case []int32:
		for i := range out {
			out[i] = float64(d[i])
		}
	case []int64:
		for i := range out {
			out[i] = float64(d[i])
		}
	case []uint8:
		for i := range out {
			out[i] = float64(d[i])
		}
	default:
		return nil, errors.Errorf("datasets: %s takes float or integer labels, got %v", name, y.Dtype())
	}
	for i, v := range out {
		if math.IsNaN(v) {
			return nil, errors.Errorf("datasets: %s: label %d is NaN", name, i)
		}
	}
	return out, nil
}

// Subset returns a copy of the samples of x (rows of the first axis) at
// the given indices, in that order; an index may repeat (a bootstrap
// sample). It works for any element type and shape.
func Subset(x *tensor.Dense, rows []int) (*tensor.Dense, error) {
	if x == nil {
		return nil, errors.New("datasets: Subset of a nil tensor")
	}
	if x.IsMaterializable() {
		m, ok := x.Materialize().(*tensor.Dense)
		if !ok {
			return nil, errors.Errorf("datasets: Subset cannot copy the view of shape %v", x.Shape())
		}
		x = m
	}
	shape := x.Shape().Clone()
	if len(shape) == 0 {
		return nil, errors.Errorf("datasets: Subset needs a tensor with a sample axis, got shape %v", shape)
	}
	n := shape[0]
	row := 1
	for _, s := range shape[1:] {
		row *= s
	}
	src := reflect.ValueOf(x.Data())
	if src.Kind() != reflect.Slice || src.Len() < n*row {
		return nil, errors.Errorf("datasets: Subset: tensor of shape %v holds %T", shape, x.Data())
	}
	dst := reflect.MakeSlice(src.Type(), len(rows)*row, len(rows)*row)
	for i, r := range rows {
		if r < 0 || r >= n {
			return nil, errors.Errorf("datasets: Subset: index %d (position %d) is out of range for %d samples", r, i, n)
		}
		reflect.Copy(dst.Slice(i*row, (i+1)*row), src.Slice(r*row, (r+1)*row))
	}
	shape[0] = len(rows)
	if len(rows) == 0 {
		return nil, errors.Errorf("datasets: Subset of no rows of a tensor of shape %v", x.Shape())
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(dst.Interface())), nil
}
