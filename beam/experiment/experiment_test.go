package experiment

import (
	"context"
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	beamlog "github.com/apache/beam/sdks/v2/go/pkg/beam/log"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/options/jobopts"
	"github.com/keragon/keragon/ensemble"
	"github.com/keragon/keragon/keras/datasets"
	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// The tests run pipelines on the Prism runner: in this process (loopback,
// Prism's default) and, in process_test.go, with the workers in a
// separate process. Every run is bounded by runTimeout.
const runTimeout = 3 * time.Minute

func TestMain(m *testing.M) {
	flag.Parse()
	beamlog.LogLevel = "warn" // Prism logs every job's stages at "info"
	if Init() {               // a worker process started by Prism (process_test.go)
		os.Exit(0)
	}
	if *jobopts.EnvironmentType == "" {
		// Prism's default, set here so that TestProcessWorkers can restore it.
		*jobopts.EnvironmentType = "loopback"
	}
	os.Exit(m.Run())
}

// testdata returns the absolute path of a file in testdata.
func testdata(t *testing.T, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// experiment decodes an experiment whose data paths name files in
// testdata.
func experiment(t *testing.T, js string) *Experiment {
	t.Helper()
	e, err := Read(strings.NewReader(js))
	if err != nil {
		t.Fatal(err)
	}
	e.Data.Train = testdata(t, e.Data.Train)
	if e.Data.Test != "" {
		e.Data.Test = testdata(t, e.Data.Test)
	}
	return e
}

// runBoth runs e on Beam (the current runner settings) and in process on
// 2 goroutines.
func runBoth(t *testing.T, e *Experiment) (beamRes, inRes *Result) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	beamRes, err := Run(ctx, e, t.TempDir())
	if err != nil {
		t.Fatalf("Beam run: %+v", err)
	}
	inRes, err = InProcess(ctx, e, 2)
	if err != nil {
		t.Fatalf("in-process run: %+v", err)
	}
	t.Logf("%s: %d jobs on Beam in %.2fs (workers %v), in process in %.2fs", e.Name, len(beamRes.Jobs), beamRes.Seconds, beamRes.Workers, inRes.Seconds)
	return beamRes, inRes
}

// sameBits reports whether a and b hold the same float64s, bit for bit.
func sameBits(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			return false
		}
	}
	return true
}

func flatten(rows [][]float64) []float64 {
	var out []float64
	for _, r := range rows {
		out = append(out, r...)
	}
	return out
}

func flat(t *testing.T, d *tensor.Dense) []float64 {
	t.Helper()
	v, ok := d.Data().([]float64)
	if !ok {
		t.Fatalf("%v holds %T, want float64", d.Shape(), d.Data())
	}
	return v
}

// checkTest compares the test predictions of a Beam and an in-process
// run bit for bit.
func checkTest(t *testing.T, name string, got, want *Result) {
	t.Helper()
	if got.Test == nil || want.Test == nil {
		t.Fatalf("%s: test results %v and %v", name, got.Test, want.Test)
	}
	if !sameBits(flatten(got.Test.Proba), flatten(want.Test.Proba)) || !sameBits(got.Test.Predictions, want.Test.Predictions) ||
		math.Float64bits(got.Test.Score) != math.Float64bits(want.Test.Score) {
		t.Errorf("%s: Beam and in-process test results differ: score %v vs %v, proba equal %v, predictions equal %v", name,
			got.Test.Score, want.Test.Score, sameBits(flatten(got.Test.Proba), flatten(want.Test.Proba)), sameBits(got.Test.Predictions, want.Test.Predictions))
	}
	if len(got.Test.Proba) == 0 && len(want.Test.Proba) == 0 && len(got.Test.Predictions) == 0 {
		t.Errorf("%s: no test predictions", name)
	}
}

// The ensembles the tests train on iris: random-forest-style bagging
// (each member sees 3 of 4 features, each split draws 2), soft voting and
// stacking; small, so that a test run takes seconds.
const (
	forestJSON = `{"name": "forest", "data": {"train": "iris_train.csv", "test": "iris_test.csv"}, "seed": 3,
		"ensemble": {"kind": "bagging", "params": {"members": 6, "max_features": 0.75,
			"learner": {"kind": "tree", "params": {"max_features": 2}}}}}`
	votingJSON = `{"name": "voting", "data": {"train": "iris_train.csv", "test": "iris_test.csv"}, "seed": 4,
		"ensemble": {"kind": "voting", "params": {"voting": "soft", "weights": [2, 1, 1], "estimators": [
			{"kind": "tree", "params": {"max_depth": 3, "max_features": 1}},
			{"kind": "logistic_regression"},
			{"kind": "mlp", "params": {"hidden": [8], "epochs": 15, "batch_size": 16, "learning_rate": 0.01}}]}}}`
	stackingJSON = `{"name": "stacking", "data": {"train": "iris_train.csv", "test": "iris_test.csv"}, "seed": 5,
		"ensemble": {"kind": "stacking", "params": {"cv": 3, "passthrough": true, "estimators": [
			{"kind": "tree", "params": {"max_depth": 2, "max_features": 1}}, {"kind": "linear_svc"}]}}}`
	cvJSON = `{"name": "mlp cv", "data": {"train": "iris_train.csv"}, "seed": 6, "folds": {"splits": 4, "shuffle": true, "seed": 2},
		"cross_validation": {"kind": "mlp", "params": {"hidden": [8], "epochs": 20, "batch_size": 16, "learning_rate": 0.01}}}`
	gridJSON = `{"name": "tree grid", "data": {"train": "iris_train.csv"}, "seed": 7, "folds": {"splits": 3},
		"grid_search": {"learner": {"kind": "tree", "params": {"max_features": 2}},
			"grid": {"max_depth": [1, 2, 3], "criterion": ["gini", "entropy"]}}}`
)

// TestEnsemblesBitIdentical: bagging (random-forest style), voting and
// stacking trained on Beam give the in-process ensemble's probabilities,
// predictions and scores bit for bit, and save a model that predicts
// them.
func TestEnsemblesBitIdentical(t *testing.T) {
	for _, js := range []string{forestJSON, votingJSON, stackingJSON} {
		e := experiment(t, js)
		got, want := runBoth(t, e)
		checkTest(t, e.Name, got, want)
		if len(got.Jobs) == 0 || len(got.Workers) == 0 || len(got.Failed) != 0 {
			t.Errorf("%s: jobs %v on workers %v, failed %v", e.Name, got.Jobs, got.Workers, got.Failed)
		}
		f, err := os.Open(got.Model)
		if err != nil {
			t.Fatalf("%s: the saved model: %v", e.Name, err)
		}
		model, err := ensemble.Load(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: loading the saved model: %v", e.Name, err)
		}
		xTest, _, _, err := datasets.CSV(e.Data.Test, -1)
		if err != nil {
			t.Fatal(err)
		}
		p, err := model.(ensemble.Classifier).PredictProba(xTest)
		if err != nil || !sameBits(flat(t, p), flatten(got.Test.Proba)) {
			t.Errorf("%s: the saved model's probabilities differ from the run's (%v)", e.Name, err)
		}
	}
}

// TestInProcessIsTheLibrary pins the reference: InProcess gives what the
// ensemble package gives when called directly.
func TestInProcessIsTheLibrary(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	e := experiment(t, forestJSON)
	got, err := InProcess(ctx, e, 1)
	if err != nil {
		t.Fatal(err)
	}
	x, y, _, err := datasets.CSV(e.Data.Train, -1)
	if err != nil {
		t.Fatal(err)
	}
	xTest, _, _, err := datasets.CSV(e.Data.Test, -1)
	if err != nil {
		t.Fatal(err)
	}
	tree := ensemble.Spec{Kind: "tree", Params: json.RawMessage(`{"max_features": 2}`)}
	bag := &ensemble.Bagging{Learner: &tree, Members: 6, MaxFeatures: 0.75, Seed: 3}
	if err := bag.Fit(x, y, nil); err != nil {
		t.Fatal(err)
	}
	p, err := bag.PredictProba(xTest)
	if err != nil || !sameBits(flat(t, p), flatten(got.Test.Proba)) {
		t.Errorf("InProcess bagging probabilities differ from Bagging.Fit's (%v)", err)
	}

	e = experiment(t, cvJSON)
	got, err = InProcess(ctx, e, 1)
	if err != nil {
		t.Fatal(err)
	}
	folds, err := datasets.StratifiedKFold(y, datasets.KFoldConfig{Splits: 4, Shuffle: true, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	mlp := ensemble.Spec{Kind: "mlp", Params: json.RawMessage(`{"hidden": [8], "epochs": 20, "batch_size": 16, "learning_rate": 0.01}`)}
	cv, err := ensemble.CrossValidate(ctx, mlp.New, x, y, folds, ensemble.CVConfig{Seed: 6})
	if err != nil || !sameBits(cv.Scores, got.CrossValidation.Scores) {
		t.Errorf("InProcess fold scores %v, CrossValidate %v (%v)", got.CrossValidation.Scores, cv, err)
	}
}

// TestCrossValidationBitIdentical: an MLP's fold scores on Beam are the
// in-process ones bit for bit.
func TestCrossValidationBitIdentical(t *testing.T) {
	got, want := runBoth(t, experiment(t, cvJSON))
	if got.CrossValidation == nil || !sameBits(got.CrossValidation.Scores, want.CrossValidation.Scores) ||
		math.Float64bits(got.CrossValidation.Mean()) != math.Float64bits(want.CrossValidation.Mean()) {
		t.Errorf("fold scores on Beam %+v, in process %+v", got.CrossValidation, want.CrossValidation)
	}
	if len(got.Jobs) != 4 {
		t.Errorf("%d jobs, want one per fold (4)", len(got.Jobs))
	}
}

// TestGridSearchBitIdentical: a grid's score table on Beam is the
// in-process one bit for bit, with the same best point.
func TestGridSearchBitIdentical(t *testing.T) {
	got, want := runBoth(t, experiment(t, gridJSON))
	g, w := got.GridSearch, want.GridSearch
	if g == nil || !sameBits(flatten(g.Scores), flatten(w.Scores)) || !sameBits(g.Mean, w.Mean) || !sameBits(g.Std, w.Std) ||
		g.Best != w.Best || string(got.BestParams) != string(want.BestParams) {
		t.Errorf("grid on Beam: means %v, best %s; in process: means %v, best %s", g.Mean, got.BestParams, w.Mean, want.BestParams)
	}
	if len(got.Jobs) != 6*3 {
		t.Errorf("%d jobs, want 6 points × 3 folds", len(got.Jobs))
	}
}

// TestFailingMembersNamed: a member that cannot train is named in the
// error (ensemble, member, fold, cause) and the run ends; a voting
// ensemble keeps the estimators that trained, as Fit does.
func TestFailingMembersNamed(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	grid := experiment(t, `{"data": {"train": "iris_train.csv"}, "folds": {"splits": 2},
		"grid_search": {"learner": {"kind": "tree"}, "grid": {"min_samples_split": [2, 1]}}}`)
	res, err := Run(ctx, grid, t.TempDir())
	var fe *ensemble.FitError
	if !errors.As(err, &fe) || len(fe.Failed) != 2 || !strings.Contains(err.Error(), "grid search member 1, fold 0: ensemble: Tree") ||
		!strings.Contains(err.Error(), "MinSamplesSplit 1") || res == nil || res.GridSearch != nil || len(res.Failed) != 2 {
		t.Errorf("a grid point that cannot train: %v (result %+v), want a FitError naming point 1 in folds 0 and 1", err, res)
	}
	voting := experiment(t, `{"data": {"train": "iris_train.csv", "test": "iris_test.csv"},
		"ensemble": {"kind": "voting", "params": {"estimators": [{"kind": "tree"}, {"kind": "tree", "params": {"min_samples_split": 1}}]}}}`)
	res, err = Run(ctx, voting, t.TempDir())
	if !errors.As(err, &fe) || len(fe.Failed) != 1 || fe.Trained != 1 || !strings.Contains(err.Error(), "voting member 1: ensemble: Tree") ||
		res == nil || res.Test == nil || res.Model == "" {
		t.Errorf("a voting estimator that cannot train: %v (result %+v), want a FitError naming estimator 1 and the other's predictions", err, res)
	}
}

// TestPipelineErrors: a bad experiment or unreadable data fails before
// the pipeline starts, and a pipeline that fails on a worker (here: its
// output cannot be written) fails the run instead of hanging.
func TestPipelineErrors(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	for _, c := range []struct{ js, want string }{
		{`{"data": {"train": "missing.csv"}, "cross_validation": {"kind": "tree"}}`, "missing.csv: no such file"},
		{`{"data": {"train": "iris_train.csv"}, "cross_validation": {"kind": "forest"}}`, `unknown learner kind "forest"`},
		{`{"data": {"train": "iris_train.csv"}, "ensemble": {"kind": "tree"}}`, `ensemble kind "tree": want "bagging", "voting" or "stacking"`},
		{`{"data": {"train": "iris_train.csv"}}`, "set exactly one of"},
	} {
		_, err := Run(ctx, experiment(t, c.js), t.TempDir())
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error mentioning %q", c.js, err, c.want)
		}
	}
	out := t.TempDir()
	if err := os.Mkdir(filepath.Join(out, ResultFile), 0o755); err != nil { // result.json cannot be written
		t.Fatal(err)
	}
	start := time.Now()
	_, err := Run(ctx, experiment(t, gridJSON), out)
	if err == nil || ctx.Err() != nil || !strings.Contains(err.Error(), "result.json") {
		t.Errorf("an output that cannot be written: %v after %v, want the run to fail naming result.json", err, time.Since(start))
	}
}
