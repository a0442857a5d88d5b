package ensemble

import (
	"encoding/json"
	"os"
	"testing"

	"gorgonia.org/tensor"
)

// skTies is testdata/sklearn_ties.json, written by testdata/sklearn_ties.py
// with scikit-learn 1.2.1: trees and tree ensembles on 300 digits, whose
// integer pixels make many splits tie exactly.
type skTies struct {
	X     [][]float64
	Y, Yr []float64
	Trees []struct {
		Params struct {
			RandomState     uint64 `json:"random_state"`
			Criterion       string
			MaxDepth        int `json:"max_depth"`
			MaxFeatures     int `json:"max_features"`
			MinSamplesLeaf  int `json:"min_samples_leaf"`
			MinSamplesSplit int `json:"min_samples_split"`
		}
		Regression bool
		Tree       struct {
			Feature   []int
			Threshold []float64
			Samples   []int
		}
	}
	Bagging struct {
		Proba    [][]float64
		OOBScore float64 `json:"oob_score"`
		Features [][]int
	}
	Pasting           struct{ Proba [][]float64 }
	BaggingRegression struct{ Pred []float64 } `json:"bagging_regression"`
	Adaboost          struct {
		EstimatorWeights []float64 `json:"estimator_weights"`
		Decision         [][]float64
	}
	AdaboostR2 struct {
		EstimatorWeights []float64 `json:"estimator_weights"`
		Pred             []float64
	} `json:"adaboost_r2"`
}

func loadTies(t *testing.T) (r *skTies, xTr, yTr, yrTr, xTe *tensor.Dense) {
	t.Helper()
	raw, err := os.ReadFile("testdata/sklearn_ties.json")
	if err != nil {
		t.Fatal(err)
	}
	r = &skTies{}
	if err := json.Unmarshal(raw, r); err != nil {
		t.Fatal(err)
	}
	return r, f32(r.X[:240]), vec(r.Y[:240]), vec(r.Yr), f32(r.X[240:])
}

// TestTreesTieLikeSklearn: with the same seed, every node of the tree —
// feature, threshold, samples — is scikit-learn's, on data where many
// splits are equally good.
func TestTreesTieLikeSklearn(t *testing.T) {
	r, x, y, yr, _ := loadTies(t)
	for i, c := range r.Trees {
		p := c.Params
		tree := &Tree{Regression: c.Regression, Criterion: p.Criterion, MaxDepth: p.MaxDepth, MaxFeatures: p.MaxFeatures,
			MinSamplesLeaf: p.MinSamplesLeaf, MinSamplesSplit: p.MinSamplesSplit, Seed: p.RandomState}
		target := y
		if c.Regression {
			target = yr
		}
		if err := tree.Fit(x, target, nil); err != nil {
			t.Fatalf("tree %d: %+v", i, err)
		}
		nodes := tree.Nodes()
		if len(nodes) != len(c.Tree.Feature) {
			t.Errorf("tree %d (%+v): %d nodes, scikit-learn %d", i, p, len(nodes), len(c.Tree.Feature))
		}
		for j := 0; j < min(len(nodes), len(c.Tree.Feature)); j++ {
			n := nodes[j]
			f, thr := n.Feature, n.Threshold
			if n.Left < 0 {
				f, thr = -2, -2
			}
			if f != c.Tree.Feature[j] || thr != c.Tree.Threshold[j] || n.Samples != c.Tree.Samples[j] {
				t.Errorf("tree %d (%+v) node %d: feature %d ≤ %v over %d samples, scikit-learn feature %d ≤ %v over %d",
					i, p, j, f, thr, n.Samples, c.Tree.Feature[j], c.Tree.Threshold[j], c.Tree.Samples[j])
				break
			}
		}
	}
}

// TestTreeEnsemblesTieLikeSklearn: bagging and AdaBoost draw
// scikit-learn's seeds, rows and features for the same seed, so their
// trees and predictions are scikit-learn's. (Gradient boosting draws alike
// too, but its real-valued residuals let rounding break mathematical ties,
// and the rounding depends on scikit-learn's row order: see
// TestGradientBoostingMatchesSklearn for data without such ties.)
func TestTreeEnsemblesTieLikeSklearn(t *testing.T) {
	r, x, y, yr, xt := loadTies(t)
	proba := func(c Classifier) []float64 {
		p, err := c.PredictProba(xt)
		if err != nil {
			t.Fatal(err)
		}
		return flat(t, p)
	}
	predict := func(l Learner) []float64 {
		p, err := l.Predict(xt)
		if err != nil {
			t.Fatal(err)
		}
		return flat(t, p)
	}
	fit := func(name string, l Learner, y *tensor.Dense) {
		if err := l.Fit(x, y, nil); err != nil {
			t.Fatalf("%s: %+v", name, err)
		}
	}
	tree := (&Tree{}).Clone
	b := &Bagging{New: tree, Members: 7, MaxSamples: 0.7, MaxFeatures: 0.5, OOBScore: true, Seed: 5, Workers: 3}
	fit("bagging", b, y)
	closeTo(t, "bagging proba", proba(b), flatRows(r.Bagging.Proba), 1e-12)
	if oob, _, err := b.OutOfBag(); err != nil || oob != r.Bagging.OOBScore {
		t.Errorf("bagging out-of-bag score %v (%v), scikit-learn %v", oob, err, r.Bagging.OOBScore)
	}
	for i, want := range r.Bagging.Features {
		if _, got := b.MemberSamples(i); !equalInts(got, want) {
			t.Errorf("bagging member %d features %v, scikit-learn %v", i, got, want)
		}
	}
	p := &Bagging{New: tree, Members: 5, MaxSamples: 0.5, NoBootstrap: true, Seed: 2}
	fit("pasting", p, y)
	closeTo(t, "pasting proba", proba(p), flatRows(r.Pasting.Proba), 1e-12)
	br := &Bagging{New: (&Tree{Regression: true}).Clone, Members: 6, BootstrapFeatures: true, MaxFeatures: 20, Regression: true, Seed: 8}
	fit("bagging regression", br, vec(r.Yr[:240]))
	closeTo(t, "bagging regression", predict(br), r.BaggingRegression.Pred, 1e-12)

	a := &AdaBoost{New: (&Tree{MaxDepth: 2}).Clone, Rounds: 15, Seed: 3}
	fit("adaboost", a, y)
	closeTo(t, "adaboost weights", a.EstimatorWeights(), r.Adaboost.EstimatorWeights, 1e-9)
	d, err := a.DecisionFunction(xt)
	if err != nil {
		t.Fatal(err)
	}
	closeTo(t, "adaboost decision", flat(t, d), flatRows(r.Adaboost.Decision), 1e-9)
	ar := &AdaBoost{Regression: true, Rounds: 10, Seed: 4}
	fit("adaboost.R2", ar, yr)
	closeTo(t, "adaboost.R2 weights", ar.EstimatorWeights(), r.AdaboostR2.EstimatorWeights, 1e-9)
	closeTo(t, "adaboost.R2", predict(ar), r.AdaboostR2.Pred, 1e-12)

}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
