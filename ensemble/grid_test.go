package ensemble

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/keragon/keragon/keras/datasets"
	"github.com/pkg/errors"
)

func rawValues(vs ...string) []json.RawMessage {
	out := make([]json.RawMessage, len(vs))
	for i, v := range vs {
		out[i] = json.RawMessage(v)
	}
	return out
}

// TestGridSearchPoints: points come in scikit-learn's ParameterGrid order
// (names sorted, the last varying fastest) over the learner's own
// parameters.
func TestGridSearchPoints(t *testing.T) {
	g := &GridSearch{
		Learner: Spec{Kind: "tree", Params: json.RawMessage(`{"min_samples_leaf": 2, "max_depth": 9}`)},
		Grid:    map[string][]json.RawMessage{"max_depth": rawValues("1", "3"), "criterion": rawValues(`"gini"`, `"entropy"`)},
	}
	learners, params, err := g.Points()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`{"criterion":"gini","max_depth":1}`, `{"criterion":"gini","max_depth":3}`,
		`{"criterion":"entropy","max_depth":1}`, `{"criterion":"entropy","max_depth":3}`,
	}
	wantFull := []string{
		`{"criterion":"gini","max_depth":1,"min_samples_leaf":2}`, `{"criterion":"gini","max_depth":3,"min_samples_leaf":2}`,
		`{"criterion":"entropy","max_depth":1,"min_samples_leaf":2}`, `{"criterion":"entropy","max_depth":3,"min_samples_leaf":2}`,
	}
	if len(params) != len(want) {
		t.Fatalf("%d points, want %d", len(params), len(want))
	}
	for i := range want {
		if string(params[i]) != want[i] || string(learners[i].Params) != wantFull[i] || learners[i].Kind != "tree" {
			t.Errorf("point %d: params %s, learner %s %s; want %s and tree %s", i, params[i], learners[i].Kind, learners[i].Params, want[i], wantFull[i])
		}
	}
}

// TestGridSearchIsCrossValidate: every point's scores are CrossValidate's
// for its learner, bit for bit, on 1 and 3 workers; the jobs planned,
// trained one by one from specs that went through JSON and combined in a
// shuffled order give the same result.
func TestGridSearchIsCrossValidate(t *testing.T) {
	x, y := blobs(t, 90, 3, 5)
	g := &GridSearch{
		Learner: Spec{Kind: "tree", Params: json.RawMessage(`{"max_features": 1}`)},
		Grid:    map[string][]json.RawMessage{"max_depth": rawValues("1", "2", "0"), "min_samples_leaf": rawValues("1", "8")},
		CV:      3, Seed: 7,
	}
	res, err := g.Search(context.Background(), x, y, nil)
	if err != nil {
		t.Fatalf("%+v", err)
	}
	g3 := *g
	g3.Workers = 3
	res3, err := g3.Search(context.Background(), x, y, nil)
	if err != nil {
		t.Fatal(err)
	}
	folds, err := datasets.StratifiedKFold(y, datasets.KFoldConfig{Splits: 3})
	if err != nil {
		t.Fatal(err)
	}
	for p, l := range res.Learners {
		cv, err := CrossValidate(context.Background(), l.New, x, y, folds, CVConfig{Seed: 7})
		if err != nil {
			t.Fatal(err)
		}
		if !near(res.Scores[p], cv.Scores, 0) || !near(res3.Scores[p], cv.Scores, 0) || res.Mean[p] != cv.Mean() {
			t.Errorf("point %d %s: scores %v (3 workers %v), mean %v; CrossValidate %v, mean %v", p, res.Params[p], res.Scores[p], res3.Scores[p], res.Mean[p], cv.Scores, cv.Mean())
		}
	}
	// Members as data, in any order.
	specs, err := g.Plan(x, y)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(specs)
	var travelled []MemberSpec
	if err := json.Unmarshal(raw, &travelled); err != nil {
		t.Fatal(err)
	}
	order := rand.New(rand.NewPCG(3, 4)).Perm(len(travelled))
	var got []MemberSpec
	var scores []float64
	for _, j := range order {
		m := travelled[j]
		l, err := TrainMember(context.Background(), res.Learners[m.Estimator].New, m, x, y, nil)
		if err != nil {
			t.Fatal(err)
		}
		s, err := ScoreMember(l, m, x, y)
		if err != nil {
			t.Fatal(err)
		}
		got, scores = append(got, m), append(scores, s)
	}
	pieces, err := g.Results(got, scores, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !near(flatRows(pieces.Scores), flatRows(res.Scores), 0) || !near(pieces.Mean, res.Mean, 0) || pieces.Best != res.Best {
		t.Errorf("jobs run one by one: scores %v best %d; Search %v best %d", pieces.Scores, pieces.Best, res.Scores, res.Best)
	}
	if _, err := g.Results(append(got[1:], got[1]), scores, nil); !errors.Is(err, ErrConfig) {
		t.Errorf("a job twice and one missing: %v, want ErrConfig", err)
	}
}

// TestGridResultsHandCase: means, population deviations and scikit-learn's
// ranks (equal means share the smaller rank; the best is the first of
// them), worked by hand.
func TestGridResultsHandCase(t *testing.T) {
	g := &GridSearch{Learner: Spec{Kind: "ridge"}, Grid: map[string][]json.RawMessage{"alpha": rawValues("0.1", "1", "10")}}
	specs := make([]MemberSpec, 6)
	for j := range specs {
		specs[j] = MemberSpec{Ensemble: "grid_search", Index: j, Estimator: j / 2, Fold: j % 2}
	}
	// Point 0: 0.5, 0.7; point 1: 0.9, 0.5; point 2: 0.4, 0.6.
	res, err := g.Results(specs, []float64{0.5, 0.7, 0.9, 0.5, 0.4, 0.6}, nil)
	if err != nil {
		t.Fatal(err)
	}
	wantMean := []float64{0.6, 0.7, 0.5}
	wantStd := []float64{0.1, 0.2, 0.1}
	wantRank := []int{2, 1, 3}
	for p := range wantMean {
		if math.Abs(res.Mean[p]-wantMean[p]) > 1e-15 || math.Abs(res.Std[p]-wantStd[p]) > 1e-15 || res.Rank[p] != wantRank[p] {
			t.Errorf("point %d: mean %v std %v rank %d, want %v %v %d", p, res.Mean[p], res.Std[p], res.Rank[p], wantMean[p], wantStd[p], wantRank[p])
		}
	}
	if res.Best != 1 || string(res.Params[1]) != `{"alpha":1}` {
		t.Errorf("best %d %s, want 1 {\"alpha\":1}", res.Best, res.Params[1])
	}
	// Ties: points 0 and 2 share rank 1 and the first of them is best.
	res, err = g.Results(specs, []float64{0.5, 0.5, 0.4, 0.4, 0.5, 0.5}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Rank[0] != 1 || res.Rank[1] != 3 || res.Rank[2] != 1 || res.Best != 0 {
		t.Errorf("tied means: ranks %v, best %d; want [1 3 1], 0", res.Rank, res.Best)
	}
	var table bytes.Buffer
	if err := res.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(table.String()), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "rank") || !strings.Contains(lines[1], `{"alpha":0.1}`) ||
		!strings.Contains(lines[1], "0.5000 0.5000") || !strings.Contains(lines[3], `{"alpha":1}`) {
		t.Errorf("table:\n%s\nwant a header, then the points best first with their fold scores", table.String())
	}
}

// TestGridSearchErrors: bad grids are refused before any training, and a
// failing job is named by its point and fold.
func TestGridSearchErrors(t *testing.T) {
	x, y := blobs(t, 60, 2, 3)
	tree := Spec{Kind: "tree"}
	for _, c := range []struct {
		name string
		g    *GridSearch
		want string
	}{
		{"empty grid", &GridSearch{Learner: tree}, "empty Grid"},
		{"no values", &GridSearch{Learner: tree, Grid: map[string][]json.RawMessage{"max_depth": nil}}, `"max_depth" has no values`},
		{"not JSON", &GridSearch{Learner: tree, Grid: map[string][]json.RawMessage{"max_depth": rawValues("{")}}, "is not JSON"},
		{"unknown parameter", &GridSearch{Learner: tree, Grid: map[string][]json.RawMessage{"depth": rawValues("1")}}, `point 0 {"depth":1}`},
		{"params not an object", &GridSearch{Learner: Spec{Kind: "tree", Params: json.RawMessage(`[1]`)}, Grid: map[string][]json.RawMessage{"max_depth": rawValues("1")}}, "want a JSON object"},
		{"unknown kind", &GridSearch{Learner: Spec{Kind: "forest"}, Grid: map[string][]json.RawMessage{"max_depth": rawValues("1")}}, `unknown learner kind "forest"`},
	} {
		_, err := c.g.Search(context.Background(), x, y, nil)
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want ErrConfig mentioning %q", c.name, err, c.want)
		}
	}
	// min_samples_split 1 passes the spec check and fails at Fit, in every fold.
	g := &GridSearch{Learner: tree, Grid: map[string][]json.RawMessage{"min_samples_split": rawValues("2", "1")}, CV: 2}
	_, err := g.Search(context.Background(), x, y, nil)
	var fe *FitError
	if !errors.As(err, &fe) || len(fe.Failed) != 2 || fe.Trained != 2 || fe.Failed[0].Member != 1 || fe.Failed[1].Fold != 1 ||
		!strings.Contains(err.Error(), "grid search member 1, fold 0") || !errors.Is(err, ErrConfig) {
		t.Errorf("a failing point: %v, want a FitError naming point 1 in folds 0 and 1", err)
	}
}
