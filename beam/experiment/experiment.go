package experiment

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/keragon/keragon/ensemble"
	"github.com/pkg/errors"
)

// An Experiment is what an experiment file holds: the data, a seed, and
// one of an ensemble to train, a learner to cross-validate or a grid of
// a learner's parameters to cross-validate.
//
//	{"name": "iris trees",
//	 "data": {"train": "gs://bucket/iris.csv"},
//	 "seed": 1,
//	 "grid_search": {"learner": {"kind": "tree"},
//	                 "grid": {"max_depth": [1, 2, 3], "criterion": ["gini", "entropy"]}}}
type Experiment struct {
	// Name labels the results; optional.
	Name string `json:"name,omitempty"`
	// Data says where the workers read the data.
	Data Data `json:"data"`
	// Seed makes the experiment repeatable: the ensemble's seed, or the
	// seed of every fold's learner (fold f's seed derives from it as in
	// ensemble.CrossValidate).
	Seed uint64 `json:"seed"`
	// Ensemble is an ensemble to train: a Spec of kind "bagging" (random
	// forests included: bagging of trees with max_features), "voting" or
	// "stacking", whose members are the jobs. Its learners must be Specs,
	// not Go funcs.
	Ensemble *ensemble.Spec `json:"ensemble,omitempty"`
	// CrossValidation is a learner to cross-validate on Folds: each fold
	// is a job.
	CrossValidation *ensemble.Spec `json:"cross_validation,omitempty"`
	// GridSearch is a learner and a grid of its parameters to
	// cross-validate on Folds: each (grid point, fold) pair is a job.
	GridSearch *Grid `json:"grid_search,omitempty"`
	// Folds are the cross-validation folds of CrossValidation and
	// GridSearch; the zero value means scikit-learn's cv=5.
	Folds Folds `json:"folds,omitzero"`
	// Regression scores CrossValidation and GridSearch by R² on numeric
	// targets; by default the label column holds classes and the score is
	// the accuracy. (An ensemble says it in its own parameters.)
	Regression bool `json:"regression,omitempty"`
	// WorkerJobs is the number of jobs a worker process trains at once:
	// 0 means one per processor (GOMAXPROCS). Runners hand a worker
	// several bundles at once (Prism up to 8, whatever the cores); this
	// keeps them from oversubscribing its processors.
	WorkerJobs int `json:"worker_jobs,omitempty"`
}

// Data locates the data: CSV files of numbers with one label column, as
// keras/datasets.CSV reads them, at paths the workers can read through
// Beam's file systems (a local path, gs://…, s3://…).
type Data struct {
	// Train is the data the jobs train (and cross-validate) on; required.
	Train string `json:"train"`
	// Test, optional, is data the trained ensemble is scored on and
	// predicts (ensembles only).
	Test string `json:"test,omitempty"`
	// LabelColumn is the label's column, counting from 0 (negative counts
	// from the end); nil means the last column.
	LabelColumn *int `json:"label_column,omitempty"`
}

// Folds configures cross-validation folds, as scikit-learn's
// StratifiedKFold (classification) and KFold (regression).
type Folds struct {
	// Splits is the number of folds (0 means 5).
	Splits int `json:"splits,omitempty"`
	// Shuffle shuffles the rows before splitting, with Seed; by default
	// the order is kept.
	Shuffle bool  `json:"shuffle,omitempty"`
	Seed    int64 `json:"seed,omitempty"`
}

// Grid is a grid search: a learner and the values of its parameters to
// try (see ensemble.GridSearch).
type Grid struct {
	// Learner is the learner to tune; its parameters must be a JSON
	// object.
	Learner ensemble.Spec `json:"learner"`
	// Grid maps parameter names to their values: {"max_depth": [1, 2]}.
	Grid map[string][]json.RawMessage `json:"grid"`
}

// Kinds of experiments, as Kind returns them.
const (
	KindEnsemble        = "ensemble"
	KindCrossValidation = "cross_validation"
	KindGridSearch      = "grid_search"
)

// Kind returns KindEnsemble, KindCrossValidation or KindGridSearch, or
// "" unless exactly one of Ensemble, CrossValidation and GridSearch is
// set.
func (e *Experiment) Kind() string {
	kind, n := "", 0
	if e.Ensemble != nil {
		kind, n = KindEnsemble, n+1
	}
	if e.CrossValidation != nil {
		kind, n = KindCrossValidation, n+1
	}
	if e.GridSearch != nil {
		kind, n = KindGridSearch, n+1
	}
	if n != 1 {
		return ""
	}
	return kind
}

// Check checks what can be checked without the data: one kind of
// experiment, a train path, known learner kinds, a valid grid.
func (e *Experiment) Check() error {
	kind := e.Kind()
	switch {
	case kind == "":
		return errors.New("experiment: set exactly one of ensemble, cross_validation and grid_search")
	case e.Data.Train == "":
		return errors.New("experiment: data.train is empty: give the path of a CSV file")
	case e.Data.Test != "" && kind != KindEnsemble:
		return errors.Errorf("experiment: data.test %q is for ensembles; %s scores on the folds' test rows", e.Data.Test, kind)
	case e.Folds.Splits < 0 || e.Folds.Splits == 1:
		return errors.Errorf("experiment: folds.splits is %d: want at least 2 (0 means 5)", e.Folds.Splits)
	case e.WorkerJobs < 0:
		return errors.Errorf("experiment: worker_jobs is %d: want ≥ 0 (0 means one per processor)", e.WorkerJobs)
	}
	var err error
	switch kind {
	case KindEnsemble:
		_, err = newEnsemble(e)
	case KindCrossValidation:
		_, err = e.CrossValidation.New(e.Seed)
	case KindGridSearch:
		_, _, err = e.grid().Points()
	}
	return errors.WithMessage(err, "experiment")
}

// grid returns the grid search of the experiment (without folds).
func (e *Experiment) grid() *ensemble.GridSearch {
	return &ensemble.GridSearch{Learner: e.GridSearch.Learner, Grid: e.GridSearch.Grid, Regression: e.Regression, Seed: e.Seed}
}

// Read reads an experiment as JSON, refusing unknown fields.
func Read(r io.Reader) (*Experiment, error) {
	raw, err := io.ReadAll(r)
	if err != nil {
		return nil, errors.Wrap(err, "experiment: reading")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var e Experiment
	if err := dec.Decode(&e); err != nil {
		return nil, errors.Wrap(err, "experiment: decoding")
	}
	if dec.More() {
		return nil, errors.New("experiment: trailing data after the experiment")
	}
	return &e, nil
}

// ReadFile reads an experiment file. Relative local data paths are
// resolved against the file's directory.
func ReadFile(path string) (*Experiment, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, errors.Wrap(err, "experiment")
	}
	defer f.Close()
	e, err := Read(f)
	if err != nil {
		return nil, errors.WithMessagef(err, "%s", path)
	}
	dir, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, errors.Wrap(err, "experiment")
	}
	for _, p := range []*string{&e.Data.Train, &e.Data.Test} {
		if *p != "" && !strings.Contains(*p, "://") && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
	return e, nil
}

// encode returns the experiment as JSON (what the pipeline carries).
func (e *Experiment) encode() (string, error) {
	raw, err := json.Marshal(e)
	return string(raw), errors.Wrap(err, "experiment: encoding")
}

// decode is encode's inverse.
func decode(s string) (*Experiment, error) {
	return Read(strings.NewReader(s))
}
