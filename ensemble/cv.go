package ensemble

import (
	"context"
	"time"

	"github.com/keragon/keragon/keras/datasets"
	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// CVConfig configures CrossValidate.
type CVConfig struct {
	// Regression scores by R²; by default by accuracy.
	Regression bool
	// SampleWeight, if not nil, weighs the training samples of every fold.
	SampleWeight []float64
	// Seed: fold f's learner gets the seed Seed-and-f.
	Seed uint64
	// Workers is the number of folds run at once: 0 means 1, −1 means
	// GOMAXPROCS.
	Workers int
}

// CVResult holds one figure per fold.
type CVResult struct {
	// Scores are the test accuracies or R²s.
	Scores []float64
	// FitSeconds are the wall-clock times of the fits.
	FitSeconds []float64
}

// Mean returns the mean score.
func (r *CVResult) Mean() float64 { return mean(r.Scores) }

// MeanFitSeconds returns the mean fit time.
func (r *CVResult) MeanFitSeconds() float64 { return mean(r.FitSeconds) }

func mean(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

// CrossValidate fits a new learner on each fold's training rows and
// scores it on the fold's test rows, as scikit-learn's cross_validate.
// Make the folds with datasets.KFold or datasets.StratifiedKFold.
func CrossValidate(ctx context.Context, newL Factory, x, y *tensor.Dense, folds []datasets.Fold, cfg CVConfig) (*CVResult, error) {
	n, err := samples(x)
	if err != nil {
		return nil, errors.WithMessage(err, "ensemble: CrossValidate")
	}
	if _, err := labelVector(y, n); err != nil {
		return nil, errors.WithMessage(err, "ensemble: CrossValidate")
	}
	if err := checkFolds(folds, n); err != nil {
		return nil, err
	}
	w, err := checkWeights(cfg.SampleWeight, n)
	if err != nil {
		return nil, err
	}
	res := &CVResult{Scores: make([]float64, len(folds)), FitSeconds: make([]float64, len(folds))}
	errs := parallel(ctx, len(folds), cfg.Workers, func(f int) error {
		fold := folds[f]
		xTr, err := rows(x, fold.Train)
		if err != nil {
			return err
		}
		yTr, err := rows(y, fold.Train)
		if err != nil {
			return err
		}
		var wTr []float64
		if w != nil {
			wTr = make([]float64, len(fold.Train))
			for i, r := range fold.Train {
				wTr[i] = w[r]
			}
		}
		l, err := newLearner(newL, memberSeed(cfg.Seed, f))
		if err != nil {
			return err
		}
		start := time.Now()
		if err := fitLearner(ctx, l, xTr, yTr, wTr); err != nil {
			return err
		}
		res.FitSeconds[f] = time.Since(start).Seconds()
		xTe, err := rows(x, fold.Test)
		if err != nil {
			return err
		}
		yTe, err := rows(y, fold.Test)
		if err != nil {
			return err
		}
		res.Scores[f], err = score(l, xTe, yTe, cfg.Regression)
		return err
	})
	for f, err := range errs {
		if err != nil {
			return nil, &MemberError{Ensemble: "cross-validation", Member: 0, Fold: f, Err: err}
		}
	}
	return res, nil
}
