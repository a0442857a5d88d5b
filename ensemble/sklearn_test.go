package ensemble

import (
	"encoding/json"
	"math"
	"os"
	"testing"

	"gorgonia.org/tensor"
)

// skRef is testdata/sklearn_ensembles.json, written by
// testdata/sklearn_ensembles.py with Debian's scikit-learn 1.2.1.
type skRef struct {
	X, Xt              [][]float64
	Y3, Y2             []float64
	Yr, Sw             []float64
	Tree3Proba         [][]float64 `json:"tree3_proba"`
	Tree3WeightedProba [][]float64 `json:"tree3_weighted_proba"`
	Tree3EntropyProba  [][]float64 `json:"tree3_entropy_proba"`
	TreerWeightedPred  []float64   `json:"treer_weighted_pred"`
	Ada2, Ada3         skAda
	Gb2, Gb3           struct{ Proba, Decision json.RawMessage }
	Logreg2, Logreg3   struct{ Proba [][]float64 }
	Gbr                struct {
		Pred       []float64
		TrainScore []float64 `json:"train_score"`
	}
	Ridge          skRidge
	Ridgecv        skRidge
	RidgecvSmall   skRidge     `json:"ridgecv_small"`
	Stack3Proba    [][]float64 `json:"stack3_proba"`
	Stack2Proba    [][]float64 `json:"stack2_proba"`
	Vote3SoftProba [][]float64 `json:"vote3_soft_proba"`
}

type skAda struct {
	EstimatorWeights []float64 `json:"estimator_weights"`
	EstimatorErrors  []float64 `json:"estimator_errors"`
	Decision         json.RawMessage
	Proba            [][]float64
	StagedTrainScore []float64 `json:"staged_train_score"`
}

type skRidge struct {
	Alpha, Intercept float64
	Coef, Y          []float64
}

func loadSK(t *testing.T) *skRef {
	t.Helper()
	raw, err := os.ReadFile("testdata/sklearn_ensembles.json")
	if err != nil {
		t.Fatal(err)
	}
	var r skRef
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatal(err)
	}
	return &r
}

// f32 makes rows a float32 tensor (the reference features are float32
// numbers).
func f32(rows [][]float64) *tensor.Dense {
	d := len(rows[0])
	v := make([]float32, 0, len(rows)*d)
	for _, r := range rows {
		for _, x := range r {
			v = append(v, float32(x))
		}
	}
	return tensor.New(tensor.WithShape(len(rows), d), tensor.WithBacking(v))
}

func flat(t *testing.T, d *tensor.Dense) []float64 {
	t.Helper()
	v, ok := numbers(d)
	if !ok {
		t.Fatalf("tensor of %v", d.Dtype())
	}
	return v
}

func flatRows(rows [][]float64) []float64 {
	var out []float64
	for _, r := range rows {
		out = append(out, r...)
	}
	return out
}

// decision reads a decision function, (n) or (n, k).
func decision(t *testing.T, raw json.RawMessage) []float64 {
	t.Helper()
	var rows [][]float64
	if err := json.Unmarshal(raw, &rows); err == nil {
		return flatRows(rows)
	}
	var v []float64
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func closeTo(t *testing.T, name string, got, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d values, want %d", name, len(got), len(want))
		return
	}
	for i := range got {
		if math.Abs(got[i]-want[i]) > tol*math.Max(1, math.Abs(want[i])) {
			t.Errorf("%s[%d] = %.12g, want %.12g (scikit-learn)", name, i, got[i], want[i])
			return
		}
	}
}

func TestTreesMatchSklearn(t *testing.T) {
	r := loadSK(t)
	x, xt := f32(r.X), f32(r.Xt)
	cases := []struct {
		name string
		tree *Tree
		y    []float64
		w    []float64
		want []float64
	}{
		{"gini depth 3", &Tree{MaxDepth: 3}, r.Y3, nil, flatRows(r.Tree3Proba)},
		{"gini depth 3 weighted", &Tree{MaxDepth: 3}, r.Y3, r.Sw, flatRows(r.Tree3WeightedProba)},
		{"entropy depth 2 leaf 5", &Tree{Criterion: "entropy", MaxDepth: 2, MinSamplesLeaf: 5}, r.Y3, nil, flatRows(r.Tree3EntropyProba)},
		{"regression depth 3 weighted", &Tree{Regression: true, MaxDepth: 3}, r.Yr, r.Sw, r.TreerWeightedPred},
	}
	for _, c := range cases {
		if err := c.tree.Fit(x, vec(c.y), c.w); err != nil {
			t.Fatalf("%s: %+v", c.name, err)
		}
		var got *tensor.Dense
		var err error
		if c.tree.Regression {
			got, err = c.tree.Predict(xt)
		} else {
			got, err = c.tree.PredictProba(xt)
		}
		if err != nil {
			t.Fatalf("%s: %+v", c.name, err)
		}
		closeTo(t, c.name, flat(t, got), c.want, 1e-12)
	}
}

func TestAdaBoostMatchesSklearn(t *testing.T) {
	r := loadSK(t)
	x, xt := f32(r.X), f32(r.Xt)
	for _, c := range []struct {
		name string
		y    []float64
		ref  skAda
	}{{"binary", r.Y2, r.Ada2}, {"3 classes", r.Y3, r.Ada3}} {
		a := &AdaBoost{New: Stump().Clone, Rounds: 10, LearningRate: 0.5}
		if err := a.Fit(x, vec(c.y), nil); err != nil {
			t.Fatalf("%s: %+v", c.name, err)
		}
		closeTo(t, c.name+" estimator weights", a.EstimatorWeights(), c.ref.EstimatorWeights, 1e-9)
		closeTo(t, c.name+" estimator errors", a.EstimatorErrors(), c.ref.EstimatorErrors, 1e-9)
		d, err := a.DecisionFunction(xt)
		if err != nil {
			t.Fatal(err)
		}
		closeTo(t, c.name+" decision", flat(t, d), decision(t, c.ref.Decision), 1e-9)
		p, err := a.PredictProba(xt)
		if err != nil {
			t.Fatal(err)
		}
		closeTo(t, c.name+" proba", flat(t, p), flatRows(c.ref.Proba), 1e-9)
		staged, err := a.StagedScore(x, vec(c.y))
		if err != nil {
			t.Fatal(err)
		}
		closeTo(t, c.name+" staged score", staged, c.ref.StagedTrainScore, 1e-12)
	}
}

func TestGradientBoostingMatchesSklearn(t *testing.T) {
	r := loadSK(t)
	x, xt := f32(r.X), f32(r.Xt)
	tree2 := (&Tree{Regression: true, MaxDepth: 2}).Clone
	for _, c := range []struct {
		name string
		y    []float64
		ref  struct{ Proba, Decision json.RawMessage }
	}{{"binary", r.Y2, r.Gb2}, {"3 classes", r.Y3, r.Gb3}} {
		g := &GradientBoosting{New: tree2, Rounds: 20, LearningRate: 0.2}
		if err := g.Fit(x, vec(c.y), r.Sw); err != nil {
			t.Fatalf("%s: %+v", c.name, err)
		}
		p, err := g.PredictProba(xt)
		if err != nil {
			t.Fatal(err)
		}
		closeTo(t, c.name+" proba", flat(t, p), decision(t, c.ref.Proba), 1e-9)
		d, err := g.DecisionFunction(xt)
		if err != nil {
			t.Fatal(err)
		}
		if c.name == "binary" {
			// scikit-learn's multi-class raw scores differ from these by a
			// constant per sample (the initial log-priors are not centred
			// alike); the probabilities above match.
			closeTo(t, c.name+" decision", flat(t, d), decision(t, c.ref.Decision), 1e-9)
		}
	}
	g := &GradientBoosting{New: tree2, Rounds: 20, LearningRate: 0.2, Regression: true}
	if err := g.Fit(x, vec(r.Yr), nil); err != nil {
		t.Fatal(err)
	}
	p, err := g.Predict(xt)
	if err != nil {
		t.Fatal(err)
	}
	closeTo(t, "regression prediction", flat(t, p), r.Gbr.Pred, 1e-9)
	closeTo(t, "regression training loss", g.TrainLoss(), r.Gbr.TrainScore, 1e-9)
}

func TestLinearMatchesSklearn(t *testing.T) {
	r := loadSK(t)
	x, xt := f32(r.X), f32(r.Xt)
	for _, c := range []struct {
		name string
		y    []float64
		want [][]float64
	}{{"binary", r.Y2, r.Logreg2.Proba}, {"3 classes", r.Y3, r.Logreg3.Proba}} {
		lr := &LogisticRegression{C: 0.5}
		if err := lr.Fit(x, vec(c.y), r.Sw); err != nil {
			t.Fatalf("%s: %+v", c.name, err)
		}
		p, err := lr.PredictProba(xt)
		if err != nil {
			t.Fatal(err)
		}
		closeTo(t, "logistic regression "+c.name, flat(t, p), flatRows(c.want), 1e-7)
	}
	for _, c := range []struct {
		name  string
		ridge *Ridge
		x     [][]float64
		y, w  []float64
		want  skRidge
	}{
		{"Ridge alpha 2 weighted", &Ridge{Alpha: 2}, r.X, r.Yr, r.Sw, r.Ridge},
		{"RidgeCV", &Ridge{Alphas: []float64{0.1, 1, 10}}, r.X, r.Yr, nil, r.Ridgecv},
		{"RidgeCV noise", &Ridge{Alphas: []float64{0.1, 1, 10}}, r.X[:12], r.RidgecvSmall.Y, nil, r.RidgecvSmall},
	} {
		if err := c.ridge.Fit(f32(c.x), vec(c.y), c.w); err != nil {
			t.Fatalf("%s: %+v", c.name, err)
		}
		closeTo(t, c.name+" coefficients", c.ridge.Coef(), append([]float64{c.want.Intercept}, c.want.Coef...), 1e-9)
		if c.want.Alpha != 0 && c.ridge.ChosenAlpha() != c.want.Alpha {
			t.Errorf("%s: chose penalty %v, scikit-learn %v", c.name, c.ridge.ChosenAlpha(), c.want.Alpha)
		}
	}
}

func TestStackingVotingMatchSklearn(t *testing.T) {
	r := loadSK(t)
	x, xt := f32(r.X), f32(r.Xt)
	lr := func(c float64) Factory { return (&LogisticRegression{C: c}).Clone }
	for _, c := range []struct {
		name string
		y    []float64
		want [][]float64
	}{{"binary", r.Y2, r.Stack2Proba}, {"3 classes", r.Y3, r.Stack3Proba}} {
		s := &Stacking{Estimators: []Factory{lr(1), lr(0.01)}, Final: lr(1), Workers: 2}
		if err := s.Fit(x, vec(c.y), nil); err != nil {
			t.Fatalf("%s: %+v", c.name, err)
		}
		p, err := s.PredictProba(xt)
		if err != nil {
			t.Fatal(err)
		}
		closeTo(t, "stacking "+c.name, flat(t, p), flatRows(c.want), 1e-6)
	}
	v := &Voting{Estimators: []Factory{lr(1), lr(0.01)}, Voting: "soft", Weights: []float64{1, 3}}
	if err := v.Fit(x, vec(r.Y3), nil); err != nil {
		t.Fatal(err)
	}
	p, err := v.PredictProba(xt)
	if err != nil {
		t.Fatal(err)
	}
	closeTo(t, "soft voting", flat(t, p), flatRows(r.Vote3SoftProba), 1e-7)
}
