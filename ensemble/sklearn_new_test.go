package ensemble

import (
	"encoding/json"
	"os"
	"testing"

	"gorgonia.org/tensor"
)

// skNew is testdata/sklearn_new.json, written by testdata/sklearn_new.py
// with scikit-learn 1.2.1 on one thread.
type skNew struct {
	X              [][]float64
	Y2, Y3, Yr, Sw []float64
	Hgb            map[string][]json.RawMessage
	Svc            map[string]struct {
		Coef      [][]float64
		Intercept []float64
		Decision  json.RawMessage
		NIter     int `json:"n_iter"`
	}
	Standard, Minmax, Onehot [][]float64
	PipelineDecision         [][]float64 `json:"pipeline_decision"`
}

func loadNew(t *testing.T) (*skNew, *tensor.Dense, *tensor.Dense) {
	t.Helper()
	raw, err := os.ReadFile("testdata/sklearn_new.json")
	if err != nil {
		t.Fatal(err)
	}
	r := &skNew{}
	if err := json.Unmarshal(raw, r); err != nil {
		t.Fatal(err)
	}
	return r, f32(r.X[:300]), f32(r.X[300:])
}

func rawRows(t *testing.T, rows []json.RawMessage) []float64 {
	t.Helper()
	var out []float64
	for _, r := range rows {
		var v []float64
		if err := json.Unmarshal(r, &v); err == nil {
			out = append(out, v...)
			continue
		}
		var f float64
		if err := json.Unmarshal(r, &f); err != nil {
			t.Fatal(err)
		}
		out = append(out, f)
	}
	return out
}

// TestHistGradientBoostingMatchesSklearn: same bins, same trees, same
// probabilities and predictions as scikit-learn, for two and three
// classes, regression, weights, L2 regularisation, leaf and depth limits.
func TestHistGradientBoostingMatchesSklearn(t *testing.T) {
	r, x, xt := loadNew(t)
	cases := []struct {
		name string
		h    *HistGradientBoosting
		y    []float64
		w    bool
	}{
		{"hgb2", &HistGradientBoosting{}, r.Y2, false},
		{"hgb3", &HistGradientBoosting{MaxIter: 30, L2Regularization: 1, MaxLeafNodes: 15}, r.Y3, false},
		{"hgb3_weighted", &HistGradientBoosting{MaxIter: 20, MaxDepth: 3, MinSamplesLeaf: 10}, r.Y3, true},
		{"hgbr", &HistGradientBoosting{Regression: true, MaxIter: 40, MaxBins: 64}, r.Yr, false},
		{"hgbr_weighted", &HistGradientBoosting{Regression: true, MaxIter: 25, LearningRate: 0.3}, r.Yr, true},
	}
	for _, c := range cases {
		var w []float64
		if c.w {
			w = r.Sw[:300]
		}
		if err := c.h.Fit(x, vec(c.y[:300]), w); err != nil {
			t.Fatalf("%s: %+v", c.name, err)
		}
		var got *tensor.Dense
		var err error
		if c.h.Regression {
			got, err = c.h.Predict(xt)
		} else {
			got, err = c.h.PredictProba(xt)
		}
		if err != nil {
			t.Fatal(err)
		}
		closeTo(t, c.name, flat(t, got), rawRows(t, r.Hgb[c.name]), 1e-9)
	}
}

// TestLinearSVCMatchesSklearn: liblinear's solution, coordinate order
// included, for two and three classes, the hinge loss with weights, and
// no intercept.
func TestLinearSVCMatchesSklearn(t *testing.T) {
	r, x, xt := loadNew(t)
	cases := []struct {
		name string
		s    *LinearSVC
		y    []float64
		w    bool
	}{
		{"binary", &LinearSVC{Seed: 0}, r.Y2, false},
		{"three", &LinearSVC{C: 0.1, Seed: 3}, r.Y3, false},
		{"hinge_weighted", &LinearSVC{Loss: "hinge", C: 2, Seed: 1, MaxIter: 5000}, r.Y2, true},
		{"no_intercept", &LinearSVC{NoIntercept: true, Seed: 2}, r.Y3, false},
	}
	for _, c := range cases {
		var w []float64
		if c.w {
			w = r.Sw[:300]
		}
		if err := c.s.Fit(x, vec(c.y[:300]), w); err != nil {
			t.Fatalf("%s: %+v", c.name, err)
		}
		want := r.Svc[c.name]
		closeTo(t, c.name+" coef", flatRows(c.s.Coef()), flatRows(want.Coef), 1e-9)
		wantB := want.Intercept
		if c.s.NoIntercept { // scikit-learn reports one 0.0
			wantB = make([]float64, len(want.Coef))
		}
		closeTo(t, c.name+" intercept", c.s.Intercept(), wantB, 1e-9)
		d, err := c.s.DecisionFunction(xt)
		if err != nil {
			t.Fatal(err)
		}
		closeTo(t, c.name+" decision", flat(t, d), decision(t, want.Decision), 1e-9)
		if it := c.s.Iterations(); maxInt(it) != want.NIter {
			t.Errorf("%s: %v iterations, scikit-learn %d", c.name, it, want.NIter)
		}
	}
}

func maxInt(v []int) int {
	m := 0
	for _, x := range v {
		m = max(m, x)
	}
	return m
}

// TestPreprocessingMatchesSklearn: the scalers, the one-hot encoder (in a
// ColumnTransformer with the other columns passed through) and a pipeline
// of a scaler and LinearSVC.
func TestPreprocessingMatchesSklearn(t *testing.T) {
	r, x, xt := loadNew(t)
	for _, c := range []struct {
		name string
		tr   Transformer
		want [][]float64
	}{
		{"StandardScaler", &StandardScaler{}, r.Standard},
		{"MinMaxScaler", &MinMaxScaler{Min: -1, Max: 2}, r.Minmax},
		{"OneHotEncoder", &OneHotEncoder{Columns: []int{4, 3}, IgnoreUnknown: true}, r.Onehot},
	} {
		if err := c.tr.Fit(x); err != nil {
			t.Fatalf("%s: %+v", c.name, err)
		}
		got, err := c.tr.Transform(xt)
		if err != nil {
			t.Fatal(err)
		}
		if s := got.Shape(); s[0] != len(c.want) || s[1] != len(c.want[0]) {
			t.Fatalf("%s: shape %v, scikit-learn (%d, %d)", c.name, s, len(c.want), len(c.want[0]))
		}
		closeTo(t, c.name, flat(t, got), flatRows(c.want), 1e-12)
	}
	p := &Pipeline{Steps: []Transformer{&StandardScaler{}}, New: (&LinearSVC{}).Clone}
	if err := p.Fit(x, vec(r.Y3[:300]), nil); err != nil {
		t.Fatal(err)
	}
	xs, err := p.Transform(xt)
	if err != nil {
		t.Fatal(err)
	}
	d, err := p.FinalLearner().(*LinearSVC).DecisionFunction(xs)
	if err != nil {
		t.Fatal(err)
	}
	closeTo(t, "pipeline decision", flat(t, d), flatRows(r.PipelineDecision), 1e-9)
}
