package experiment

import (
	"bytes"
	"context"
	"encoding/json"
	"sort"

	"github.com/keragon/keragon/ensemble"
	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// A Result is the outcome of an experiment, as the pipeline writes it to
// result.json in the output directory.
type Result struct {
	Name string `json:"name,omitempty"`
	// Kind is KindEnsemble, KindCrossValidation or KindGridSearch.
	Kind string `json:"kind"`
	// RunID ties the result to the run that wrote it.
	RunID string `json:"run_id,omitempty"`
	// Jobs reports every job of a Beam run, in job order.
	Jobs []Job `json:"jobs,omitempty"`
	// Workers are the worker processes (host:pid) that ran the jobs.
	Workers []string `json:"workers,omitempty"`
	// Failed lists the jobs that failed, in job order.
	Failed []Failure `json:"failed,omitempty"`

	// Classes are the ensemble's classes (KindEnsemble, classification).
	Classes []float64 `json:"classes,omitempty"`
	// Model is where the fitted ensemble was saved (ensemble.Save's form),
	// if it was.
	Model string `json:"model,omitempty"`
	// Test holds the fitted ensemble's predictions on data.test.
	Test *Test `json:"test,omitempty"`
	// CrossValidation holds the fold scores (KindCrossValidation).
	CrossValidation *ensemble.CVResult `json:"cross_validation,omitempty"`
	// GridSearch holds the score table (KindGridSearch) and BestParams
	// the best point's values of the grid's parameters.
	GridSearch *ensemble.GridResult `json:"grid_search,omitempty"`
	BestParams json.RawMessage      `json:"best_params,omitempty"`

	// ReadSeconds is the time the finishing worker took to read the
	// data, and Seconds the wall-clock time of the whole run (set by Run
	// and InProcess).
	ReadSeconds float64 `json:"read_seconds,omitempty"`
	Seconds     float64 `json:"seconds,omitempty"`
}

// A Job reports one job: its member (index, estimator or grid point,
// fold), how long it trained and where, and its error if it failed.
type Job struct {
	Index     int     `json:"index"`
	Estimator int     `json:"estimator"`
	Fold      int     `json:"fold"`
	Seconds   float64 `json:"seconds"`
	Worker    string  `json:"worker"`
	Error     string  `json:"error,omitempty"`
}

// A Failure names a failed job as ensemble.MemberError does: the
// ensemble, the member (bagging member, voting or stacking estimator,
// grid point; 0 for cross-validation) and the fold (−1 for none).
type Failure struct {
	Ensemble string `json:"ensemble"`
	Member   int    `json:"member"`
	Fold     int    `json:"fold"`
	Error    string `json:"error"`
}

// Test is what the fitted ensemble gives on the test data.
type Test struct {
	// Score is the accuracy or R².
	Score float64 `json:"score"`
	// Predictions are the predicted labels or values.
	Predictions []float64 `json:"predictions"`
	// Proba are the class probabilities (classifiers that give them).
	Proba [][]float64 `json:"proba,omitempty"`
}

// Err returns an *ensemble.FitError naming every failed job, or nil.
func (r *Result) Err() error {
	if len(r.Failed) == 0 {
		return nil
	}
	fe := &ensemble.FitError{Trained: len(r.Jobs) - len(r.Failed)}
	if len(r.Jobs) == 0 {
		fe.Trained = 0
	}
	for _, f := range r.Failed {
		fe.Failed = append(fe.Failed, &ensemble.MemberError{Ensemble: f.Ensemble, Member: f.Member, Fold: f.Fold, Err: errors.New(f.Error)})
	}
	return fe
}

// failure names job m's failure.
func (p *plan) failure(m ensemble.MemberSpec, msg string) Failure {
	f := Failure{Ensemble: m.Ensemble, Member: m.Estimator, Fold: m.Fold, Error: msg}
	switch m.Ensemble {
	case "bagging":
		f.Member = m.Index
	case "cross_validation":
		f.Ensemble, f.Member = "cross-validation", 0
	case "grid_search":
		f.Ensemble = "grid search"
	}
	return f
}

// finish combines the jobs' results as the in-process ensembles do: it
// assembles the ensemble (and returns it), or gathers the fold scores,
// or makes the grid's score table.
func (p *plan) finish(ctx context.Context, results []JobResult) (*Result, ensemble.Learner, error) {
	res := &Result{Name: p.e.Name, Kind: p.kind, Jobs: make([]Job, len(p.specs)), ReadSeconds: p.readSeconds}
	seen := make([]bool, len(p.specs))
	byIndex := make([]*JobResult, len(p.specs))
	workers := map[string]bool{}
	for i := range results {
		r := &results[i]
		if r.Index < 0 || r.Index >= len(p.specs) || seen[r.Index] {
			return nil, nil, errors.Errorf("experiment: job %d reported twice or unknown (%d jobs)", r.Index, len(p.specs))
		}
		seen[r.Index], byIndex[r.Index] = true, r
		workers[r.Worker] = true
	}
	for i, ok := range seen {
		if !ok {
			return nil, nil, errors.Errorf("experiment: job %d of %d never reported", i, len(p.specs))
		}
	}
	for w := range workers {
		res.Workers = append(res.Workers, w)
	}
	sort.Strings(res.Workers)
	for i, m := range p.specs {
		r := byIndex[i]
		res.Jobs[i] = Job{Index: i, Estimator: m.Estimator, Fold: m.Fold, Seconds: r.Seconds, Worker: r.Worker, Error: r.Error}
		if r.Error != "" {
			res.Failed = append(res.Failed, p.failure(m, r.Error))
		}
	}
	switch p.kind {
	case KindCrossValidation:
		if len(res.Failed) == 0 {
			cv := &ensemble.CVResult{Scores: make([]float64, len(p.folds)), FitSeconds: make([]float64, len(p.folds))}
			for i, m := range p.specs {
				cv.Scores[m.Fold], cv.FitSeconds[m.Fold] = byIndex[i].Score, byIndex[i].Seconds
			}
			res.CrossValidation = cv
		}
		return res, nil, nil
	case KindGridSearch:
		if len(res.Failed) == 0 {
			scores, secs := make([]float64, len(p.specs)), make([]float64, len(p.specs))
			for i := range p.specs {
				scores[i], secs[i] = byIndex[i].Score, byIndex[i].Seconds
			}
			g, err := p.grid.Results(p.specs, scores, secs)
			if err != nil {
				return nil, nil, errors.WithMessage(err, "experiment")
			}
			res.GridSearch, res.BestParams = g, g.Params[g.Best]
		}
		return res, nil, nil
	}
	learners := make([]ensemble.Learner, len(p.specs))
	for i, r := range byIndex {
		if r.Error != "" {
			continue
		}
		l, err := ensemble.Load(bytes.NewReader(r.Model))
		if err != nil {
			return nil, nil, errors.WithMessagef(err, "experiment: loading member %d", i)
		}
		learners[i] = l
	}
	ens, err := newEnsemble(p.e) // a fresh one: the plan is shared
	if err != nil {
		return nil, nil, err
	}
	switch v := ens.(type) {
	case *ensemble.Bagging:
		if len(res.Failed) < len(p.specs) {
			err = v.Assemble(p.specs, learners)
		}
	case *ensemble.Voting:
		if len(res.Failed) < len(p.specs) {
			err = v.Assemble(p.specs, learners)
		}
	case *ensemble.Stacking:
		if len(res.Failed) == 0 {
			err = v.Assemble(ctx, p.x, p.y, nil, p.specs, learners)
		}
	}
	if err != nil {
		return nil, nil, errors.WithMessage(err, "experiment: assembling the ensemble")
	}
	if len(res.Failed) == len(p.specs) || (len(res.Failed) > 0 && p.specs[0].Ensemble == "stacking") {
		return res, nil, nil
	}
	if err := p.describe(res, ens); err != nil {
		return nil, nil, err
	}
	return res, ens, nil
}

// describe fills in what a fitted ensemble gives: its classes and its
// predictions on the test data.
func (p *plan) describe(res *Result, l ensemble.Learner) error {
	if c, ok := l.(interface{ ClassLabels() []float64 }); ok {
		res.Classes = c.ClassLabels()
	}
	if p.xTest == nil {
		return nil
	}
	t := &Test{}
	if c, ok := l.(ensemble.Classifier); ok && res.Classes != nil {
		proba, err := c.PredictProba(p.xTest)
		switch {
		case err == nil:
			t.Proba = rowsOf(proba)
		case !errors.Is(err, ensemble.ErrNoProba):
			return errors.WithMessage(err, "experiment: test probabilities")
		}
	}
	pred, err := l.Predict(p.xTest)
	if err != nil {
		return errors.WithMessage(err, "experiment: test predictions")
	}
	t.Predictions = rowsOf(pred)[0]
	if s, ok := l.(interface {
		Score(x, y *tensor.Dense) (float64, error)
	}); ok {
		if t.Score, err = s.Score(p.xTest, p.yTest); err != nil {
			return errors.WithMessage(err, "experiment: test score")
		}
	}
	res.Test = t
	return nil
}

// rowsOf returns a float64 tensor's rows ((n) as one row).
func rowsOf(d *tensor.Dense) [][]float64 {
	v := d.Data().([]float64)
	if d.Dims() == 1 {
		return [][]float64{append([]float64(nil), v...)}
	}
	w := d.Shape()[1]
	out := make([][]float64, len(v)/w)
	for i := range out {
		out[i] = append([]float64(nil), v[i*w:(i+1)*w]...)
	}
	return out
}
