package ensemble

import (
	"context"
	"math"
	"sort"
	"sync"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// A MemberSpec is one member of an ensemble as data: which learner, with
// which seed, trained on which rows and features, predicting which rows.
// Bagging.Plan, Voting.Plan, Stacking.Plan and CVPlan turn an ensemble's
// configuration and data into member specs; TrainMember trains one from
// its spec and the data, wherever it runs; PredictMember gives what it
// contributes; SumOutputs combines contributions in member order. The
// in-process ensembles are these same pieces run on goroutines, so a
// member trained elsewhere from the same spec and data is the same
// member, and the combined result is the same bit for bit.
//
// Rows and Test count in the caller's data. A spec holds no Go func: it
// encodes to JSON and back unchanged.
type MemberSpec struct {
	// Ensemble names the ensemble: "bagging", "voting", "stacking" or
	// "cross_validation".
	Ensemble string `json:"ensemble"`
	// Index numbers the member (its position in member order).
	Index int `json:"index"`
	// Estimator is which of the ensemble's learners the member is (voting
	// and stacking estimators); 0 for bagging and cross-validation.
	Estimator int `json:"estimator"`
	// Seed is the seed the member's learner is made with.
	Seed uint64 `json:"seed"`
	// Rows are the rows the member trains on, repeated as drawn; nil means
	// all of them.
	Rows []int `json:"rows,omitempty"`
	// Drawn says Rows are a bagging draw: a built-in learner that takes
	// sample weights (all but KerasLearner, MLP and Pipeline) then trains
	// on every row with the number of times it was drawn as a weight (0
	// for rows not drawn), as scikit-learn's bagging does; others train
	// on the rows as drawn.
	Drawn bool `json:"drawn,omitempty"`
	// Features are the columns of x the member sees (x is (n, features));
	// nil means all, in order.
	Features []int `json:"features,omitempty"`
	// Fold is the cross-validation fold the member belongs to, −1 for
	// none.
	Fold int `json:"fold"`
	// Test are the rows the ensemble asks the member to predict once
	// trained: its fold's test rows, or its out-of-bag rows; nil for none.
	Test []int `json:"test,omitempty"`
	// Classes are the ensemble's classes, the sorted labels of y; the
	// member trains on class indices into them. Nil for regression.
	Classes []float64 `json:"classes,omitempty"`
}

// A MemberOutput is what a trained member contributes on some rows: per
// row, its class probabilities (or a one-hot vote) in the order of the
// ensemble's classes, or its one value (regression).
type MemberOutput struct {
	// Index is the member's MemberSpec.Index.
	Index int `json:"index"`
	// Rows are the caller's rows the values are for; nil means rows 0, 1,
	// … of the x predicted.
	Rows []int `json:"rows,omitempty"`
	// Values has one row per predicted row.
	Values [][]float64 `json:"values"`
}

// memberData is the data every member of one ensemble fit reads: the
// caller's x, y and weights checked once, the labels encoded, and the
// sorted columns trees share (made on first use).
type memberData struct {
	x, y    *tensor.Dense
	n       int
	w       []float64
	classes []float64
	idx     []int     // class index of every row (classification)
	values  []float64 // targets (regression)

	once sync.Once
	td   *treeData
	err  error
}

// newMemberData checks x, y and the weights; classes nil means y holds
// regression targets.
func newMemberData(x, y *tensor.Dense, w []float64, classes []float64) (*memberData, error) {
	n, err := samples(x)
	if err != nil {
		return nil, err
	}
	if err := checkFinite(x); err != nil {
		return nil, err
	}
	d := &memberData{x: x, y: y, n: n, classes: classes}
	if classes != nil {
		v, err := readLabels(y, n)
		if err != nil {
			return nil, err
		}
		if d.idx, err = encode(classes, v, nil); err != nil {
			return nil, err
		}
	} else if d.values, err = targets(y, n); err != nil {
		return nil, err
	}
	if d.w, err = checkWeights(w, n); err != nil {
		return nil, err
	}
	return d, nil
}

// checkFinite refuses NaN and infinite values in a float x, naming the
// caller's sample.
func checkFinite(x *tensor.Dense) error {
	if x.IsMaterializable() {
		if m, ok := x.Materialize().(*tensor.Dense); ok {
			x = m
		}
	}
	n := x.Shape()[0]
	check := func(i int, f float64) error {
		if math.IsNaN(f) || math.IsInf(f, 0) {
			per := x.Shape().TotalSize() / n
			return errors.Wrapf(ErrInput, "ensemble: x holds %v at sample %d, feature %d", f, i/per, i%per)
		}
		return nil
	}
	switch v := x.Data().(type) {
	case []float32:
		for i, f := range v {
			if err := check(i, float64(f)); err != nil {
				return err
			}
		}
	case []float64:
		for i, f := range v {
			if err := check(i, f); err != nil {
				return err
			}
		}
	}
	return nil
}

// trees returns the sorted columns of x, made once.
func (d *memberData) trees() (*treeData, error) {
	d.once.Do(func() { d.td, d.err = newTreeData(d.x, "ensemble") })
	return d.td, d.err
}

// target returns the member's y over rows (all if nil): class indices or
// targets, as a float64 tensor.
func (d *memberData) target(rows []int) *tensor.Dense {
	src := d.values
	if d.classes != nil {
		src = make([]float64, d.n)
		for i, c := range d.idx {
			src[i] = float64(c)
		}
	}
	if rows == nil {
		return vec(src)
	}
	out := make([]float64, len(rows))
	for i, r := range rows {
		out[i] = src[r]
	}
	return vec(out)
}

// weightsOf returns the weights of rows (nil if the caller gave none).
func (d *memberData) weightsOf(rows []int) ([]float64, error) {
	if d.w == nil {
		return nil, nil
	}
	if rows == nil {
		return d.w, nil
	}
	out := make([]float64, len(rows))
	sum := 0.0
	for i, r := range rows {
		out[i] = d.w[r]
		sum += d.w[r]
	}
	if sum == 0 {
		return nil, errors.Wrap(ErrZeroWeights, "ensemble: every row this member trains on has weight 0")
	}
	return out, nil
}

// weightedBootstrap is implemented by the built-in learners that take
// sample weights: a bagging member of theirs trains on every row with its
// draw count as a weight, as scikit-learn's bagging does.
type weightedBootstrap interface{ bootstrapByWeights() }

// checkSpec checks a spec against the data.
func (d *memberData) checkSpec(m MemberSpec) error {
	for _, r := range m.Rows {
		if r < 0 || r >= d.n {
			return errors.Wrapf(ErrConfig, "ensemble: member %d trains on row %d of %d", m.Index, r, d.n)
		}
	}
	for _, r := range m.Test {
		if r < 0 || r >= d.n {
			return errors.Wrapf(ErrConfig, "ensemble: member %d predicts row %d of %d", m.Index, r, d.n)
		}
	}
	if m.Features != nil {
		if d.x.Dims() != 2 {
			return errors.Wrapf(ErrInput, "ensemble: member %d sees features %v: x must be (n, features), got %v", m.Index, m.Features, d.x.Shape())
		}
		for _, f := range m.Features {
			if f < 0 || f >= d.x.Shape()[1] {
				return errors.Wrapf(ErrConfig, "ensemble: member %d sees feature %d of %d", m.Index, f, d.x.Shape()[1])
			}
		}
	}
	if (m.Classes == nil) != (d.classes == nil) || len(m.Classes) != len(d.classes) {
		return errors.Wrapf(ErrConfig, "ensemble: member %d has classes %v, the data %v", m.Index, m.Classes, d.classes)
	}
	if m.Rows != nil && len(m.Rows) == 0 {
		return errors.Wrapf(ErrConfig, "ensemble: member %d trains on no rows", m.Index)
	}
	return nil
}

// TrainMember makes the member's learner with newL(m.Seed) and trains it
// on its rows and features of x, y (the caller's whole data; y holds the
// labels or targets as given to the ensemble) with the caller's sample
// weights (nil for none), as the ensemble that planned m would. Errors
// about rows name the caller's rows.
func TrainMember(ctx context.Context, newL Factory, m MemberSpec, x, y *tensor.Dense, sampleWeight []float64) (Learner, error) {
	d, err := newMemberData(x, y, sampleWeight, m.Classes)
	if err != nil {
		return nil, err
	}
	return trainMember(ctx, newL, m, d)
}

func trainMember(ctx context.Context, newL Factory, m MemberSpec, d *memberData) (Learner, error) {
	if err := d.checkSpec(m); err != nil {
		return nil, err
	}
	l, err := newLearner(newL, m.Seed)
	if err != nil {
		return nil, err
	}
	if _, ok := l.(weightedBootstrap); ok && m.Drawn {
		counts := make([]float64, d.n)
		for _, r := range m.Rows {
			counts[r]++
		}
		sum := 0.0
		for r := range counts {
			if d.w != nil {
				counts[r] *= d.w[r]
			}
			sum += counts[r]
		}
		if sum == 0 {
			return nil, errors.Wrap(ErrZeroWeights, "ensemble: every row this member drew has weight 0")
		}
		if t, ok := l.(*Tree); ok {
			td, err := d.trees()
			if err != nil {
				return nil, err
			}
			if err := t.check(); err != nil {
				return nil, err
			}
			return l, t.fitData(ctx, td.columns(m.Features), d.target(nil), counts, splitterSeed(t.Seed))
		}
		xi, err := memberInput(d.x, nil, m.Features)
		if err != nil {
			return nil, err
		}
		return l, fitLearner(ctx, l, xi, d.target(nil), counts)
	}
	xi, err := memberInput(d.x, m.Rows, m.Features)
	if err != nil {
		return nil, err
	}
	w, err := d.weightsOf(m.Rows)
	if err != nil {
		return nil, err
	}
	return l, fitLearner(ctx, l, xi, d.target(m.Rows), w)
}

// memberInput returns x's rows (all if nil) and features (all if nil).
func memberInput(x *tensor.Dense, rowIdx, features []int) (*tensor.Dense, error) {
	var err error
	if rowIdx != nil {
		if x, err = rows(x, rowIdx); err != nil {
			return nil, err
		}
	}
	if features != nil {
		return columns(x, features)
	}
	return x, nil
}

// PredictMember returns what a trained member contributes for the rows of
// x (all of them if rows is nil): its class probabilities in the order of
// m.Classes, padded with 0 for classes it never saw — or, with voting
// "hard" or for a member that gives no probabilities, a one-hot vote for
// the class it predicts — or its predicted value (regression). voting is
// "soft", "hard" or "" (probabilities if the member gives them).
func PredictMember(l Learner, m MemberSpec, x *tensor.Dense, rows []int, voting string) (*MemberOutput, error) {
	if err := checkVoting("PredictMember", voting); err != nil {
		return nil, err
	}
	xi, err := memberInput(x, rows, m.Features)
	if err != nil {
		return nil, err
	}
	n, err := samples(xi)
	if err != nil {
		return nil, err
	}
	out := &MemberOutput{Index: m.Index, Rows: rows}
	if m.Classes != nil {
		out.Values, err = classVotes(l, xi, n, len(m.Classes), voting)
		return out, err
	}
	p, err := l.Predict(xi)
	if err != nil {
		return nil, err
	}
	v, err := predictions(p, n, "Predict")
	if err != nil {
		return nil, err
	}
	out.Values = make([][]float64, n)
	for i, f := range v {
		out.Values[i] = []float64{f}
	}
	return out, nil
}

// SumOutputs adds members' outputs row by row in member order (by Index,
// whatever order they arrive in), so that the sums are the same bit for
// bit however the members were scheduled. n is the number of rows of the
// data and width the length of each output row; count holds how many
// members gave each row. Two outputs with the same Index are an error.
func SumOutputs(outs []*MemberOutput, n, width int) (sum [][]float64, count []int, err error) {
	sorted := make([]*MemberOutput, 0, len(outs))
	for _, o := range outs {
		if o != nil {
			sorted = append(sorted, o)
		}
	}
	sort.SliceStable(sorted, func(a, b int) bool { return sorted[a].Index < sorted[b].Index })
	sum, count = zeros(n, width), make([]int, n)
	for j, o := range sorted {
		if j > 0 && sorted[j-1].Index == o.Index {
			return nil, nil, errors.Wrapf(ErrConfig, "ensemble: two outputs of member %d", o.Index)
		}
		if o.Rows != nil && len(o.Rows) != len(o.Values) {
			return nil, nil, errors.Wrapf(ErrInput, "ensemble: member %d gives %d values for %d rows", o.Index, len(o.Values), len(o.Rows))
		}
		if o.Rows == nil && len(o.Values) != n {
			return nil, nil, errors.Wrapf(ErrInput, "ensemble: member %d gives %d values for %d rows", o.Index, len(o.Values), n)
		}
		for i, v := range o.Values {
			r := i
			if o.Rows != nil {
				r = o.Rows[i]
			}
			if r < 0 || r >= n || len(v) != width {
				return nil, nil, errors.Wrapf(ErrInput, "ensemble: member %d gives %d values for row %d; want %d values for rows below %d", o.Index, len(v), r, width, n)
			}
			for c, f := range v {
				sum[r][c] += f
			}
			count[r]++
		}
	}
	return sum, count, nil
}
