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
	// Regression scores by R²; by default y holds class labels and the
	// score is the accuracy.
	Regression bool `json:"regression,omitempty"`
	// SampleWeight, if not nil, weighs the training samples of every fold.
	SampleWeight []float64 `json:"-"`
	// Seed: fold f's learner gets the seed Seed-and-f.
	Seed uint64 `json:"seed"`
	// Workers is the number of folds run at once: 0 means 1, −1 means
	// GOMAXPROCS.
	Workers int `json:"workers,omitempty"`
}

// CVResult holds one figure per fold, in fold order.
type CVResult struct {
	// Scores are the test accuracies or R²s.
	Scores []float64 `json:"scores"`
	// FitSeconds are the wall-clock times of the fits.
	FitSeconds []float64 `json:"fit_seconds"`
}

// Mean returns the mean score (summed in fold order).
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

// CVPlan checks the folds and the labels and returns one member per fold:
// trained on the fold's training rows, scored on its test rows, with the
// seed Seed-and-f. For classification the member trains on class indices
// into the sorted labels of y (Classes).
func CVPlan(folds []datasets.Fold, y *tensor.Dense, cfg CVConfig) ([]MemberSpec, error) {
	if y == nil || y.Dims() == 0 {
		return nil, errors.Wrap(ErrLabels, "ensemble: CrossValidate: y is nil or a scalar")
	}
	n := y.Shape()[0]
	var classes []float64
	var err error
	if cfg.Regression {
		_, err = targets(y, n)
	} else {
		classes, _, err = classLabels(y, n)
	}
	if err != nil {
		return nil, errors.WithMessage(err, "ensemble: CrossValidate")
	}
	if err := checkFolds(folds, n); err != nil {
		return nil, err
	}
	specs := make([]MemberSpec, len(folds))
	for f, fold := range folds {
		specs[f] = MemberSpec{Ensemble: "cross_validation", Index: f, Seed: memberSeed(cfg.Seed, f),
			Rows: fold.Train, Fold: f, Test: fold.Test, Classes: classes}
	}
	return specs, nil
}

// ScoreMember returns a trained member's accuracy (classification) or R²
// (regression) on its Test rows of x, y: the score of one fold.
func ScoreMember(l Learner, m MemberSpec, x, y *tensor.Dense) (float64, error) {
	d, err := newMemberData(x, y, nil, m.Classes)
	if err != nil {
		return 0, err
	}
	return scoreMember(l, m, d)
}

func scoreMember(l Learner, m MemberSpec, d *memberData) (float64, error) {
	if len(m.Test) == 0 {
		return 0, errors.Wrapf(ErrConfig, "ensemble: member %d has no test rows to be scored on", m.Index)
	}
	if err := d.checkSpec(m); err != nil {
		return 0, err
	}
	xTe, err := memberInput(d.x, m.Test, m.Features)
	if err != nil {
		return 0, err
	}
	return score(l, xTe, d.target(m.Test), m.Classes == nil)
}

// CrossValidate fits a new learner on each fold's training rows and
// scores it on the fold's test rows, as scikit-learn's cross_validate:
// CVPlan, then TrainMember and ScoreMember for every fold, in parallel on
// up to cfg.Workers goroutines. Make the folds with datasets.KFold or
// datasets.StratifiedKFold. A classifier trains on class indices into the
// sorted labels of y.
func CrossValidate(ctx context.Context, newL Factory, x, y *tensor.Dense, folds []datasets.Fold, cfg CVConfig) (*CVResult, error) {
	n, err := samples(x)
	if err != nil {
		return nil, errors.WithMessage(err, "ensemble: CrossValidate")
	}
	if y != nil && y.Dims() > 0 && y.Shape()[0] != n {
		return nil, errors.Wrapf(ErrLabels, "ensemble: CrossValidate: y has %d samples, x has %d", y.Shape()[0], n)
	}
	specs, err := CVPlan(folds, y, cfg)
	if err != nil {
		return nil, err
	}
	data, err := newMemberData(x, y, cfg.SampleWeight, specs[0].Classes)
	if err != nil {
		return nil, errors.WithMessage(err, "ensemble: CrossValidate")
	}
	res := &CVResult{Scores: make([]float64, len(folds)), FitSeconds: make([]float64, len(folds))}
	errs := parallel(ctx, len(specs), cfg.Workers, func(f int) error {
		start := time.Now()
		l, err := trainMember(ctx, newL, specs[f], data)
		if err != nil {
			return err
		}
		res.FitSeconds[f] = time.Since(start).Seconds()
		res.Scores[f], err = scoreMember(l, specs[f], data)
		return err
	})
	for f, err := range errs {
		if err != nil {
			return nil, &MemberError{Ensemble: "cross-validation", Member: 0, Fold: f, Err: err}
		}
	}
	return res, nil
}
