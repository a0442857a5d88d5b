package ensemble

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// TestSaveLoadEveryLearner: every built-in learner, fitted, saved and
// loaded, predicts bit for bit what it predicted, and its configuration
// survives (Describe of the loaded learner equals Describe of the
// original where there is one).
func TestSaveLoadEveryLearner(t *testing.T) {
	x, y := blobs(t, 80, 3, 2)
	yv, _ := numbers(y)
	yr := make([]float64, len(yv))
	for i, v := range yv {
		yr[i] = 2*v + 0.5
	}
	tree := func() *Spec { return &Spec{Kind: "tree", Params: json.RawMessage(`{"max_depth": 2}`)} }
	mlp := &MLP{Hidden: []int{6}, Epochs: 5, BatchSize: 16}
	cases := []struct {
		name string
		l    Learner
		y    *tensor.Dense
	}{
		{"tree", &Tree{MaxDepth: 3, Seed: 4}, y},
		{"regression tree", &Tree{Regression: true, Criterion: "friedman_mse"}, vec(yr)},
		{"logistic regression", &LogisticRegression{C: 0.5}, y},
		{"ridge", &Ridge{Alphas: []float64{0.1, 1}}, vec(yr)},
		{"linear svc", &LinearSVC{Seed: 1}, y},
		{"hist gradient boosting", &HistGradientBoosting{MaxIter: 5, MinSamplesLeaf: 5}, y},
		{"hist gradient boosting regression", &HistGradientBoosting{Regression: true, MaxIter: 5, MinSamplesLeaf: 5}, vec(yr)},
		{"mlp", mlp, y},
		{"keras", &KerasLearner{New: smallMLP(3), Classes: 3}, y},
		{"bagging with a spec", &Bagging{Learner: tree(), Members: 3, OOBScore: true, Seed: 2}, y},
		{"bagging with a Go func", &Bagging{New: (&Tree{}).Clone, Members: 2, MaxFeatures: 1}, y},
		{"bagging regression", &Bagging{Learner: &Spec{Kind: "tree", Params: json.RawMessage(`{"regression": true}`)}, Members: 2, Regression: true, OOBScore: true}, vec(yr)},
		{"adaboost", &AdaBoost{Rounds: 4}, y},
		{"adaboost.R2", &AdaBoost{Rounds: 3, Regression: true}, vec(yr)},
		{"gradient boosting", &GradientBoosting{Rounds: 3}, y},
		{"gradient boosting of an MLP", &GradientBoosting{Rounds: 2, Regression: true, New: (&MLP{Regression: true, Hidden: []int{4}, Epochs: 2}).Clone}, vec(yr)},
		{"voting", &Voting{EstimatorSpecs: []Spec{*tree(), {Kind: "logistic_regression"}}, Voting: "soft", Weights: []float64{1, 2}}, y},
		{"stacking", &Stacking{EstimatorSpecs: []Spec{*tree(), {Kind: "linear_svc"}}, CV: 3, Passthrough: true}, y},
		{"pipeline", &Pipeline{Steps: []Transformer{&MinMaxScaler{}, &StandardScaler{NoMean: true}, &OneHotEncoder{Columns: []int{1}, IgnoreUnknown: true}},
			Learner: &Spec{Kind: "linear_svc"}}, y},
	}
	for _, c := range cases {
		if err := c.l.Fit(x, c.y, nil); err != nil {
			t.Fatalf("%s: %+v", c.name, err)
		}
		var buf bytes.Buffer
		if err := Save(&buf, c.l); err != nil {
			t.Fatalf("%s: Save: %+v", c.name, err)
		}
		l, err := Load(bytes.NewReader(buf.Bytes()))
		if err != nil {
			t.Fatalf("%s: Load: %+v", c.name, err)
		}
		want, err := c.l.Predict(x)
		if err != nil {
			t.Fatal(err)
		}
		got, err := l.Predict(x)
		if err != nil {
			t.Fatalf("%s: Predict after Load: %+v", c.name, err)
		}
		if !near(flat(t, got), flat(t, want), 0) {
			t.Errorf("%s: predictions differ after Save and Load", c.name)
		}
		if pc, ok := c.l.(Classifier); ok {
			if wp, err := pc.PredictProba(x); err == nil {
				gp, err := l.(Classifier).PredictProba(x)
				if err != nil || !near(flat(t, gp), flat(t, wp), 0) {
					t.Errorf("%s: probabilities differ after Save and Load (%v)", c.name, err)
				}
			}
		}
		if s1, err := Describe(c.l); err == nil {
			s2, err := Describe(l)
			if err != nil || s1.Kind != s2.Kind || string(s1.Params) != string(s2.Params) {
				t.Errorf("%s: Describe %s %s before, %s %s (%v) after Load", c.name, s1.Kind, s1.Params, s2.Kind, s2.Params, err)
			}
		}
		var again bytes.Buffer
		if err := Save(&again, l); err != nil || again.String() != buf.String() {
			t.Errorf("%s: saving the loaded learner gives other bytes (%v)", c.name, err)
		}
	}
}

// TestSpecRoundTrip: Describe then Spec.New makes a learner of the same
// configuration, seeded by New's argument; unknown kinds and parameters
// and Go funcs are refused.
func TestSpecRoundTrip(t *testing.T) {
	b := &Bagging{Learner: &Spec{Kind: "pipeline", Params: json.RawMessage(
		`{"steps":[{"kind":"standard_scaler"}],"learner":{"kind":"hist_gradient_boosting","params":{"max_iter":3}}}`)},
		Members: 2, MaxSamples: 0.5}
	s, err := Describe(b)
	if err != nil {
		t.Fatal(err)
	}
	l, err := s.New(9)
	if err != nil {
		t.Fatalf("%+v", err)
	}
	if c := l.(*Bagging); c.Seed != 9 || c.Members != 2 || c.MaxSamples != 0.5 || c.Learner == nil {
		t.Errorf("Spec.New(9) of %s: %+v", s.Params, c)
	}
	x, y := blobs(t, 60, 2, 2)
	if err := l.Fit(x, y, nil); err != nil {
		t.Fatalf("fitting a bagging of pipelines made from a spec: %+v", err)
	}
	for _, c := range []struct {
		name string
		spec Spec
		msg  string
	}{
		{"unknown kind", Spec{Kind: "random_forest"}, `unknown learner kind "random_forest"`},
		{"unknown parameter", Spec{Kind: "tree", Params: json.RawMessage(`{"depth": 3}`)}, `unknown field "depth"`},
		{"bad JSON", Spec{Kind: "tree", Params: json.RawMessage(`{"max_depth": `)}, "parameters"},
		{"unknown step", Spec{Kind: "pipeline", Params: json.RawMessage(`{"steps":[{"kind":"pca"}]}`)}, `unknown transformer kind "pca"`},
	} {
		if _, err := c.spec.New(1); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: %v, want ErrConfig containing %q", c.name, err, c.msg)
		}
	}
	for _, l := range []Learner{
		&Bagging{New: (&Tree{}).Clone}, &KerasLearner{}, &Voting{Estimators: []Factory{(&Tree{}).Clone}},
		&Pipeline{New: (&Tree{}).Clone}, LearnerFuncs{},
	} {
		if _, err := Describe(l); !errors.Is(err, ErrConfig) {
			t.Errorf("Describe(%T with Go funcs): %v, want ErrConfig", l, err)
		}
	}
	if err := Register("tree", func(json.RawMessage, uint64) (Learner, error) { return &Tree{}, nil }); !errors.Is(err, ErrConfig) {
		t.Errorf("registering \"tree\" again: %v, want ErrConfig", err)
	}
}

// TestLoadRefusesBadFiles: Load names what is wrong and never returns a
// learner that would misbehave.
func TestLoadRefusesBadFiles(t *testing.T) {
	x, y := blobs(t, 40, 2, 2)
	tr := &Tree{MaxDepth: 2}
	if err := tr.Fit(x, y, nil); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := Save(&buf, tr); err != nil {
		t.Fatal(err)
	}
	good := buf.String()
	nest := `{"format":"keragon.ensemble","version":1,"kind":"mlp","params":{},"state":{"classes":[0,1],"keras":%s}}`
	deep := good
	for i := 0; i < maxSaveDepth+2; i++ {
		deep = strings.Replace(nest, "%s", deep, 1)
	}
	for _, c := range []struct {
		name, file, msg string
	}{
		{"not JSON", "hello", "invalid character"},
		{"other format", `{"format":"onnx","version":1,"kind":"tree"}`, `format "onnx"`},
		{"newer version", `{"format":"keragon.ensemble","version":2,"kind":"tree"}`, "version 2"},
		{"unknown kind", `{"format":"keragon.ensemble","version":1,"kind":"forest"}`, `unknown saved kind "forest"`},
		{"unknown field", strings.Replace(good, `"kind"`, `"extra":1,"kind"`, 1), `unknown field "extra"`},
		{"cycle", strings.Replace(good, `"left":1`, `"left":0`, 1), "children 0"},
		{"feature out of range", strings.Replace(good, `"features":2`, `"features":1`, 1), "feature"},
		{"value length", strings.Replace(good, `"classes":[0,1]`, `"classes":[0,1,2]`, 1), "values, want 3"},
		{"unsorted classes", strings.Replace(good, `"classes":[0,1]`, `"classes":[1,0]`, 1), "not sorted"},
		{"nested too deep", deep, "nested more than"},
	} {
		_, err := Load(strings.NewReader(c.file))
		if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: %v, want ErrFormat containing %q", c.name, err, c.msg)
		}
	}
	if err := Save(&buf, LearnerFuncs{}); !errors.Is(err, ErrConfig) {
		t.Errorf("saving a LearnerFuncs: %v, want ErrConfig", err)
	}
	if err := Save(&buf, &Bagging{New: func(uint64) (Learner, error) {
		return LearnerFuncs{FitFunc: func(x, y *tensor.Dense, w []float64) error { return nil },
			PredictFunc: func(x *tensor.Dense) (*tensor.Dense, error) { return vec(make([]float64, x.Shape()[0])), nil }}, nil
	}, Members: 1}); err != nil {
		t.Errorf("saving an unfitted bagging: %v", err)
	}
}
