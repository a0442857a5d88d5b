package ensemble

import (
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// TestNewLearnersBadInput: every new learner and piece refuses bad
// configurations and data with an error that says what is wrong.
func TestNewLearnersBadInput(t *testing.T) {
	x, y := blobs(t, 40, 2, 1)
	one := vec(make([]float64, 40))
	nanX := f32(rowsOf(append([]float64{math.NaN()}, flat(t, x)[1:]...), 2))
	cases := []struct {
		name string
		err  func() error
		want error
		msg  string
	}{
		{"svc C", func() error { return (&LinearSVC{C: -1}).Fit(x, y, nil) }, ErrConfig, "C is -1"},
		{"svc loss", func() error { return (&LinearSVC{Loss: "log"}).Fit(x, y, nil) }, ErrConfig, `Loss "log"`},
		{"svc tol", func() error { return (&LinearSVC{Tol: math.NaN()}).Fit(x, y, nil) }, ErrConfig, "Tol is NaN"},
		{"svc one class", func() error { return (&LinearSVC{}).Fit(x, one, nil) }, ErrLabels, "at least 2 classes"},
		{"svc NaN", func() error { return (&LinearSVC{}).Fit(nanX, y, nil) }, ErrInput, "NaN at sample 0"},
		{"svc features", func() error {
			s := &LinearSVC{}
			if err := s.Fit(x, y, nil); err != nil {
				return err
			}
			_, err := s.Predict(column(ids(3)))
			return err
		}, ErrInput, "fitted on 2 features"},
		{"svc not fitted", func() error { _, err := (&LinearSVC{}).Predict(x); return err }, ErrNotFitted, "LinearSVC"},
		{"hgb bins", func() error { return (&HistGradientBoosting{MaxBins: 256}).Fit(x, y, nil) }, ErrConfig, "MaxBins is 256"},
		{"hgb leaves", func() error { return (&HistGradientBoosting{MaxLeafNodes: 1}).Fit(x, y, nil) }, ErrConfig, "MaxLeafNodes is 1"},
		{"hgb early stopping", func() error { return (&HistGradientBoosting{EarlyStopping: "yes"}).Fit(x, y, nil) }, ErrConfig, `EarlyStopping "yes"`},
		{"hgb fraction", func() error { return (&HistGradientBoosting{ValidationFraction: 1}).Fit(x, y, nil) }, ErrConfig, "ValidationFraction is 1"},
		{"hgb learning rate", func() error { return (&HistGradientBoosting{LearningRate: math.Inf(1)}).Fit(x, y, nil) }, ErrConfig, "LearningRate is +Inf"},
		{"hgb NaN", func() error { return (&HistGradientBoosting{}).Fit(nanX, y, nil) }, ErrInput, "NaN at sample 0"},
		{"hgb 3-D x", func() error {
			return (&HistGradientBoosting{}).Fit(tensor.New(tensor.WithShape(40, 1, 2), tensor.WithBacking(flat(t, x))), y, nil)
		}, ErrInput, "needs x of shape (n, features)"},
		{"hgb weights", func() error { return (&HistGradientBoosting{}).Fit(x, y, make([]float64, 40)) }, ErrZeroWeights, "sum to 0"},
		{"hgb proba of a regressor", func() error {
			h := &HistGradientBoosting{Regression: true, MaxIter: 1}
			if err := h.Fit(x, y, nil); err != nil {
				return err
			}
			_, err := h.PredictProba(x)
			return err
		}, ErrNoProba, "regression"},
		{"minmax range", func() error { return (&MinMaxScaler{Min: 2, Max: 1}).Fit(x) }, ErrConfig, "range [2, 1]"},
		{"scaler not fitted", func() error { _, err := (&StandardScaler{}).Transform(x); return err }, ErrNotFitted, "StandardScaler"},
		{"scaler features", func() error {
			s := &StandardScaler{}
			if err := s.Fit(x); err != nil {
				return err
			}
			_, err := s.Transform(column(ids(4)))
			return err
		}, ErrInput, "fitted on 2 features"},
		{"onehot no columns", func() error { return (&OneHotEncoder{}).Fit(x) }, ErrConfig, "no Columns"},
		{"onehot column", func() error { return (&OneHotEncoder{Columns: []int{2}}).Fit(x) }, ErrConfig, "column 2"},
		{"onehot repeated column", func() error { return (&OneHotEncoder{Columns: []int{0, 0}}).Fit(x) }, ErrConfig, "distinct"},
		{"onehot unknown category", func() error {
			e := &OneHotEncoder{Columns: []int{0}}
			if err := e.Fit(column([]float64{1, 2})); err != nil {
				return err
			}
			_, err := e.Transform(column([]float64{1, 3}))
			return err
		}, ErrInput, "sample 1 holds category 3 in column 0, not seen at Fit"},
		{"pipeline without learner", func() error { return (&Pipeline{}).Fit(x, y, nil) }, ErrConfig, "set New (a Factory) or Learner (a Spec)"},
		{"pipeline nil step", func() error {
			return (&Pipeline{Steps: []Transformer{nil}, New: (&Tree{}).Clone}).Fit(x, y, nil)
		}, ErrConfig, "step 0 is nil"},
		{"pipeline step error", func() error {
			return (&Pipeline{Steps: []Transformer{&MinMaxScaler{Min: 1, Max: 1}}, New: (&Tree{}).Clone}).Fit(x, y, nil)
		}, ErrConfig, "Pipeline step 0"},
		{"pipeline not fitted", func() error { _, err := (&Pipeline{}).Predict(x); return err }, ErrNotFitted, "Pipeline"},
		{"mlp hidden", func() error { return (&MLP{Hidden: []int{0}}).Fit(x, y, nil) }, ErrConfig, "Hidden [0]"},
		{"mlp learning rate", func() error { return (&MLP{LearningRate: -1}).Fit(x, y, nil) }, ErrConfig, "LearningRate -1"},
		{"mlp not fitted", func() error { _, err := (&MLP{}).Predict(x); return err }, ErrNotFitted, "MLP"},
		{"tree max features", func() error { return (&Tree{MaxFeatures: -1}).Fit(x, y, nil) }, ErrConfig, "MaxFeatures -1"},
		{"assemble mismatch", func() error { return (&Bagging{}).Assemble([]MemberSpec{{Ensemble: "bagging"}}, nil) }, ErrConfig, "1 specs and 0 learners"},
		{"assemble foreign spec", func() error {
			return (&Bagging{}).Assemble([]MemberSpec{{Ensemble: "voting", Classes: []float64{0, 1}}}, []Learner{&Tree{}})
		}, ErrConfig, "want bagging member 0"},
		{"predict member voting", func() error { _, err := PredictMember(&Tree{}, MemberSpec{}, x, nil, "maybe"); return err }, ErrConfig, `Voting "maybe"`},
		{"score member without test rows", func() error {
			_, err := ScoreMember(&Tree{}, MemberSpec{Classes: []float64{0, 1}}, x, y)
			return err
		}, ErrConfig, "no test rows"},
		{"register nil", func() error { return Register("x", nil) }, ErrConfig, `Register("x")`},
		{"sum outputs rows", func() error {
			_, _, err := SumOutputs([]*MemberOutput{{Index: 0, Rows: []int{5}, Values: [][]float64{{1}}}}, 3, 1)
			return err
		}, ErrInput, "row 5"},
	}
	for _, c := range cases {
		err := c.err()
		if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: %v, want %v containing %q", c.name, err, c.want, c.msg)
		}
	}
}

// TestHistGradientBoostingEarlyStopping: "auto" is off up to 10,000
// samples and on above; with it, boosting on labels that are pure noise
// stops once the validation loss stops improving, and the losses are
// recorded.
func TestHistGradientBoostingEarlyStopping(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	noise := func(n int) (*tensor.Dense, *tensor.Dense) {
		xv, yv := make([]float64, 2*n), make([]float64, n)
		for i := range xv {
			xv[i] = rng.NormFloat64()
		}
		for i := range yv {
			yv[i] = float64(rng.IntN(2))
		}
		return tensor.New(tensor.WithShape(n, 2), tensor.WithBacking(xv)), vec(yv)
	}
	x, y := noise(600)
	off := &HistGradientBoosting{MaxIter: 30}
	on := &HistGradientBoosting{MaxIter: 30, EarlyStopping: "on", Seed: 2}
	for _, h := range []*HistGradientBoosting{off, on} {
		if err := h.Fit(x, y, nil); err != nil {
			t.Fatal(err)
		}
	}
	if off.Rounds() != 30 || off.ValidationLoss() != nil {
		t.Errorf("auto below 10,000 samples: %d rounds, validation %v; want 30 and none", off.Rounds(), off.ValidationLoss())
	}
	v := on.ValidationLoss()
	if on.Rounds() >= 30 || len(v) != on.Rounds()+1 {
		t.Fatalf("early stopping on noise: %d rounds, %d validation losses; want fewer than 30 rounds and one loss more", on.Rounds(), len(v))
	}
	// Stopped because none of the last 10 rounds beat the one before them.
	ref := v[len(v)-11]
	for _, l := range v[len(v)-10:] {
		if -l > -ref+1e-7 {
			t.Errorf("stopped although loss %v improved on %v", l, ref)
		}
	}
	big, by := noise(10001)
	auto := &HistGradientBoosting{MaxIter: 2, MinSamplesLeaf: 2000}
	if err := auto.Fit(big, by, nil); err != nil {
		t.Fatal(err)
	}
	if len(auto.ValidationLoss()) != 3 {
		t.Errorf("auto above 10,000 samples: validation losses %v, want 3 (on)", auto.ValidationLoss())
	}
}

// TestBaggingOfEveryKind: bagging members of every kind made from specs
// train and predict all the ensemble's classes (weights-taking learners
// see the whole data with draw counts, the others the rows drawn).
func TestBaggingOfEveryKind(t *testing.T) {
	x, y := blobs(t, 90, 3, 2)
	for _, spec := range []Spec{
		{Kind: "tree"}, {Kind: "logistic_regression"}, {Kind: "linear_svc"},
		{Kind: "hist_gradient_boosting", Params: json.RawMessage(`{"max_iter": 3, "min_samples_leaf": 5}`)},
		{Kind: "mlp", Params: json.RawMessage(`{"hidden": [8], "epochs": 30, "batch_size": 16, "learning_rate": 0.05}`)},
		{Kind: "adaboost", Params: json.RawMessage(`{"rounds": 3}`)},
		{Kind: "pipeline", Params: json.RawMessage(`{"steps":[{"kind":"minmax_scaler"}],"learner":{"kind":"tree","params":{"max_depth":2}}}`)},
	} {
		b := &Bagging{Learner: &spec, Members: 3, Seed: 4}
		if err := b.FitContext(context.Background(), x, y, nil); err != nil {
			t.Fatalf("bagging of %s: %+v", spec.Kind, err)
		}
		p, err := b.PredictProba(x)
		if err != nil || p.Shape()[1] != 3 {
			t.Errorf("bagging of %s: probabilities %v (%v), want (90, 3)", spec.Kind, p.Shape(), err)
		}
		if acc, _ := b.Score(x, y); acc < 0.8 {
			t.Errorf("bagging of %s: training accuracy %v on well separated blobs", spec.Kind, acc)
		}
	}
}
