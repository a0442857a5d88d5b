package ensemble

import (
	"fmt"
	"strings"
	"testing"

	"github.com/keragon/keragon/keras/datasets"
	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// meanLearner predicts the mean of the targets it was fitted on.
func meanLearner(uint64) (Learner, error) {
	var m float64
	return LearnerFuncs{
		FitFunc: func(x, y *tensor.Dense, w []float64) error {
			v, _ := numbers(y)
			m = 0
			for _, f := range v {
				m += f / float64(len(v))
			}
			return nil
		},
		PredictFunc: func(x *tensor.Dense) (*tensor.Dense, error) {
			out := make([]float64, x.Shape()[0])
			for i := range out {
				out[i] = m
			}
			return vec(out), nil
		},
	}, nil
}

// identity predicts x's first feature; it fails when told to, on a fit
// whose first row is failOn.
func identity(failOn float64) Factory {
	return func(uint64) (Learner, error) {
		return LearnerFuncs{
			FitFunc: func(x, y *tensor.Dense, w []float64) error {
				if v, _ := numbers(x); v[0] == failOn {
					return errors.New("did not converge")
				}
				return nil
			},
			PredictFunc: func(x *tensor.Dense) (*tensor.Dense, error) {
				v, _ := numbers(x)
				return vec(v), nil
			},
		}, nil
	}
}

// capture is a final learner that records the stacked features it sees.
type capture struct {
	fitX, predictX [][]float64
}

func (c *capture) factory(uint64) (Learner, error) {
	rowsOf := func(x *tensor.Dense) [][]float64 {
		m, _ := matrixOf(x)
		var out [][]float64
		for i := 0; i < m.n; i++ {
			out = append(out, append([]float64(nil), m.row(i)...))
		}
		return out
	}
	return LearnerFuncs{
		FitFunc: func(x, y *tensor.Dense, w []float64) error { c.fitX = rowsOf(x); return nil },
		PredictFunc: func(x *tensor.Dense) (*tensor.Dense, error) {
			c.predictX = rowsOf(x)
			return vec(make([]float64, x.Shape()[0])), nil
		},
	}, nil
}

// TestStackingHandCase: the final learner is trained on out-of-fold
// predictions and predicts from the estimators refitted on all the data.
//
//	y = [1 2 3 10 20 30], folds test {0 1 2} then {3 4 5}: the mean
//	learner predicts 20 on the first fold (trained on rows 3–5) and 2 on
//	the second; the identity predicts x. At prediction time the mean
//	learner, refitted on all rows, predicts 11.
func TestStackingHandCase(t *testing.T) {
	x, y := column(ids(6)), vec([]float64{1, 2, 3, 10, 20, 30})
	folds := []datasets.Fold{{Train: []int{3, 4, 5}, Test: []int{0, 1, 2}}, {Train: []int{0, 1, 2}, Test: []int{3, 4, 5}}}
	for _, pass := range []bool{false, true} {
		c := &capture{}
		s := &Stacking{Estimators: []Factory{meanLearner, identity(-1)}, Final: c.factory, Folds: folds,
			Regression: true, Passthrough: pass, Workers: 3}
		if err := s.Fit(x, y, nil); err != nil {
			t.Fatalf("%+v", err)
		}
		want := [][]float64{{20, 0}, {20, 1}, {20, 2}, {2, 3}, {2, 4}, {2, 5}}
		if pass {
			for i := range want {
				want[i] = append(want[i], float64(i))
			}
		}
		if fmt.Sprint(c.fitX) != fmt.Sprint(want) {
			t.Errorf("passthrough %v: the final learner was fitted on %v, want %v", pass, c.fitX, want)
		}
		if _, err := s.Predict(column([]float64{7, 8})); err != nil {
			t.Fatal(err)
		}
		want = [][]float64{{11, 7}, {11, 8}}
		if pass {
			want = [][]float64{{11, 7, 7}, {11, 8, 8}}
		}
		if fmt.Sprint(c.predictX) != fmt.Sprint(want) {
			t.Errorf("passthrough %v: the final learner predicted from %v, want %v", pass, c.predictX, want)
		}
	}
}

// TestStackingProbabilities: a classifier's probabilities are stacked,
// without the first column for two classes.
func TestStackingProbabilities(t *testing.T) {
	x, y := column([]float64{1, 2, 3, 4, 5, 6}), vec([]float64{0, 1, 0, 1, 0, 1})
	proba := func(uint64) (Learner, error) {
		return LearnerFuncs{
			FitFunc: func(x, y *tensor.Dense, w []float64) error { return nil },
			PredictFunc: func(x *tensor.Dense) (*tensor.Dense, error) {
				return vec(make([]float64, x.Shape()[0])), nil
			},
			PredictProbaFunc: func(x *tensor.Dense) (*tensor.Dense, error) {
				v, _ := numbers(x)
				var rows [][]float64
				for _, f := range v {
					rows = append(rows, []float64{1 - f/10, f / 10})
				}
				return rowsTensor(rows, 2), nil
			},
		}, nil
	}
	for _, c := range []struct {
		method string
		want   [][]float64
	}{
		{"", [][]float64{{0.1, 1}, {0.2, 2}, {0.3, 3}, {0.4, 4}, {0.5, 5}, {0.6, 6}}},
		// identity gives no probabilities; "predict" stacks the classes 0.
		{"predict", [][]float64{{0, 1}, {0, 2}, {0, 3}, {0, 4}, {0, 5}, {0, 6}}},
	} {
		cp := &capture{}
		s := &Stacking{Estimators: []Factory{proba, identity(-1)}, Final: cp.factory, CV: 3, StackMethod: c.method}
		if err := s.Fit(x, y, nil); err != nil {
			t.Fatalf("%+v", err)
		}
		if fmt.Sprint(cp.fitX) != fmt.Sprint(c.want) {
			t.Errorf("StackMethod %q: final learner fitted on %v, want %v", c.method, cp.fitX, c.want)
		}
	}
	s := &Stacking{Estimators: []Factory{identity(-1)}, StackMethod: "predict_proba", CV: 3}
	var fe *FitError
	if err := s.Fit(x, y, nil); !errors.As(err, &fe) || !errors.Is(err, ErrNoProba) {
		t.Errorf("predict_proba of a learner without probabilities: %v, want a FitError wrapping ErrNoProba", err)
	}
}

// TestStackingFailure: an estimator failing in one fold fails the stack
// (never left out silently): the error names it and the fold, the final
// learner is not trained, and Predict says the stack is not fitted.
func TestStackingFailure(t *testing.T) {
	x, y := column(ids(6)), vec([]float64{1, 2, 3, 10, 20, 30})
	folds := []datasets.Fold{{Train: []int{3, 4, 5}, Test: []int{0, 1, 2}}, {Train: []int{0, 1, 2}, Test: []int{3, 4, 5}}}
	c := &capture{}
	s := &Stacking{Estimators: []Factory{meanLearner, identity(3)}, Final: c.factory, Folds: folds, Regression: true}
	err := s.Fit(x, y, nil)
	var fe *FitError
	if !errors.As(err, &fe) || len(fe.Failed) != 1 || fe.Failed[0].Member != 1 || fe.Failed[0].Fold != 0 ||
		!strings.Contains(err.Error(), "stacking member 1, fold 0: did not converge") {
		t.Fatalf("error %v, want a FitError naming member 1, fold 0", err)
	}
	if c.fitX != nil {
		t.Errorf("final learner fitted on %v, want no fit", c.fitX)
	}
	if _, err := s.Predict(x); !errors.Is(err, ErrNotFitted) {
		t.Errorf("Predict after a failure: %v, want ErrNotFitted", err)
	}
}

func TestStackingBadInput(t *testing.T) {
	x, y := column(ids(6)), vec([]float64{0, 1, 0, 1, 0, 1})
	for _, c := range []struct {
		name string
		s    *Stacking
		msg  string
	}{
		{"no estimators", &Stacking{}, "no Estimators"},
		{"method", &Stacking{Estimators: []Factory{meanLearner}, StackMethod: "decision_function"}, `StackMethod "decision_function"`},
		{"one fold", &Stacking{Estimators: []Factory{meanLearner}, Folds: []datasets.Fold{{Train: []int{0}, Test: []int{1}}}}, "1 folds: want at least 2"},
		{"sample tested twice", &Stacking{Estimators: []Factory{meanLearner}, Folds: []datasets.Fold{
			{Train: []int{0, 1, 2}, Test: []int{3, 4, 5, 0}}, {Train: []int{3, 4, 5}, Test: []int{0, 1, 2}}}}, "sample 0 is in 2 test folds"},
	} {
		if err := c.s.Fit(x, y, nil); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: error %v, want ErrConfig containing %q", c.name, err, c.msg)
		}
	}
}
