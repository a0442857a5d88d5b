package experiment

import (
	"context"
	"time"

	"github.com/keragon/keragon/ensemble"
	"github.com/pkg/errors"
)

// InProcess runs the experiment without Beam, with Keragon's in-process
// ensembles on up to workers goroutines (−1: one per processor): Fit,
// ensemble.CrossValidate or ensemble.GridSearch.Search on the same data,
// folds and seeds. It gives the result Run gives, bit for bit (the
// scores, probabilities and predictions; Jobs and the times aside), and
// is the reference the pipelines are tested and timed against.
func InProcess(ctx context.Context, e *Experiment, workers int) (*Result, error) {
	start := time.Now()
	enc, err := e.encode()
	if err != nil {
		return nil, err
	}
	p, err := planOf(ctx, enc)
	if err != nil {
		return nil, err
	}
	res := &Result{Name: e.Name, Kind: p.kind, ReadSeconds: p.readSeconds}
	var runErr error
	switch p.kind {
	case KindCrossValidation:
		res.CrossValidation, runErr = ensemble.CrossValidate(ctx, e.CrossValidation.New, p.x, p.y, p.folds,
			ensemble.CVConfig{Regression: e.Regression, Seed: e.Seed, Workers: workers})
	case KindGridSearch:
		g := e.grid()
		g.Folds, g.Workers = p.folds, workers
		if res.GridSearch, runErr = g.Search(ctx, p.x, p.y, nil); runErr == nil {
			res.BestParams = res.GridSearch.Params[res.GridSearch.Best]
		}
	case KindEnsemble:
		ens, err := newEnsemble(e)
		if err != nil {
			return nil, err
		}
		switch v := ens.(type) {
		case *ensemble.Bagging:
			v.Workers = workers
		case *ensemble.Voting:
			v.Workers = workers
		case *ensemble.Stacking:
			v.Workers = workers
		}
		runErr = ens.Fit(p.x, p.y, nil)
		var fe *ensemble.FitError
		if runErr == nil || (errors.As(runErr, &fe) && fe.Trained > 0 && p.specs[0].Ensemble != "stacking") {
			if err := p.describe(res, ens); err != nil {
				return nil, err
			}
		}
	}
	res.Seconds = time.Since(start).Seconds()
	return res, runErr
}
