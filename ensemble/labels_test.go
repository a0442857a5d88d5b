package ensemble

import (
	"testing"

	"gorgonia.org/tensor"
)

// TestLabelsAsClasses: labels are classes, not indices — any numbers,
// sorted. Relabelling {0, 1, 2} as {−3, 7, 11.5} changes neither
// AdaBoost's estimator weights (K is the number of distinct labels, as in
// scikit-learn, not the largest label + 1) nor any ensemble's
// probabilities, and predictions come back as the labels given.
func TestLabelsAsClasses(t *testing.T) {
	x, y := blobs(t, 90, 3, 4)
	names := []float64{-3, 7, 11.5}
	v := flat(t, y)
	relabelled := make([]float64, len(v))
	for i, c := range v {
		relabelled[i] = names[int(c)]
	}
	for _, c := range []struct {
		name string
		new  func() Learner
	}{
		{"tree", func() Learner { return &Tree{MaxDepth: 3} }},
		{"adaboost", func() Learner { return &AdaBoost{Rounds: 10} }},
		{"bagging", func() Learner { return &Bagging{New: (&Tree{}).Clone, Members: 4, Seed: 1} }},
		{"gradient boosting", func() Learner { return &GradientBoosting{Rounds: 5} }},
		{"hist gradient boosting", func() Learner { return &HistGradientBoosting{MaxIter: 5, MinSamplesLeaf: 5} }},
		{"logistic regression", func() Learner { return &LogisticRegression{} }},
		{"voting", func() Learner {
			return &Voting{Estimators: []Factory{(&Tree{}).Clone, (&LogisticRegression{}).Clone}, Voting: "soft"}
		}},
		{"stacking", func() Learner { return &Stacking{Estimators: []Factory{(&Tree{MaxDepth: 2}).Clone}, CV: 3} }},
	} {
		a, b := c.new(), c.new()
		if err := a.Fit(x, y, nil); err != nil {
			t.Fatalf("%s: %+v", c.name, err)
		}
		if err := b.Fit(x, vec(relabelled), nil); err != nil {
			t.Fatalf("%s relabelled: %+v", c.name, err)
		}
		pa, _ := a.(Classifier).PredictProba(x)
		pb, _ := b.(Classifier).PredictProba(x)
		if !near(flat(t, pa), flat(t, pb), 0) {
			t.Errorf("%s: probabilities change with the labels' values", c.name)
		}
		pred, err := b.Predict(x)
		if err != nil {
			t.Fatal(err)
		}
		for i, p := range flat(t, pred) {
			if want := names[int(flat(t, mustPredict(t, a, x))[i])]; p != want {
				t.Fatalf("%s: sample %d predicted %v, want %v", c.name, i, p, want)
			}
		}
		if got := classesOf(b); len(got) != 3 || got[0] != -3 || got[2] != 11.5 {
			t.Errorf("%s: classes %v, want %v", c.name, got, names)
		}
		if ab, ok := a.(*AdaBoost); ok && !near(ab.EstimatorWeights(), b.(*AdaBoost).EstimatorWeights(), 0) {
			t.Errorf("adaboost weights %v and %v differ", ab.EstimatorWeights(), b.(*AdaBoost).EstimatorWeights())
		}
	}
}

func mustPredict(t *testing.T, l Learner, x *tensor.Dense) *tensor.Dense {
	t.Helper()
	p, err := l.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
