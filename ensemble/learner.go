package ensemble

import (
	"context"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// A Learner is a model an ensemble trains and asks for predictions.
//
// x holds the samples on its first axis (n, features) — trees need it 2-D,
// Keras models take any shape their input has — as float32 or float64. y
// holds n class indices 0, 1, … for a classifier, or n numbers for a
// regressor, as a float or integer tensor of shape (n) or (n, 1).
// sampleWeight is nil (every sample counts 1) or n non-negative weights.
// Predict returns n class indices or n values as a float64 tensor (n).
//
// A Learner is used by one goroutine at a time; ensembles train each
// member in its own goroutine on a Learner of its own.
type Learner interface {
	Fit(x, y *tensor.Dense, sampleWeight []float64) error
	Predict(x *tensor.Dense) (*tensor.Dense, error)
}

// A Classifier is a Learner that also gives class probabilities: a float64
// tensor (n, classes) whose rows sum to 1. Classes the learner never saw
// at Fit may be missing on the right; ensembles count them as 0. A
// classifier that cannot give probabilities after all returns an error
// wrapping ErrNoProba.
type Classifier interface {
	Learner
	PredictProba(x *tensor.Dense) (*tensor.Dense, error)
}

// A ContextLearner can be cancelled during Fit. Ensembles pass their
// context to learners that implement it (KerasLearner and the ensembles
// themselves do).
type ContextLearner interface {
	Learner
	FitContext(ctx context.Context, x, y *tensor.Dense, sampleWeight []float64) error
}

// A Factory makes a new, untrained learner whose randomness (initial
// weights, shuffling, dropout, …) comes from seed only. Ensembles call it
// once per member with a seed derived from their own Seed and the member's
// number, so a seeded ensemble is repeatable whatever its Workers.
//
// The built-in learners and ensembles have a Clone method that is a
// Factory: New: (&ensemble.Tree{MaxDepth: 1}).Clone.
type Factory func(seed uint64) (Learner, error)

// LearnerFuncs turns functions into a Learner, as http.HandlerFunc turns a
// function into a Handler, so that a notebook can define a learner without
// declaring a type. FitFunc and PredictFunc are required; a nil
// PredictProbaFunc makes PredictProba return ErrNoProba.
type LearnerFuncs struct {
	FitFunc          func(x, y *tensor.Dense, sampleWeight []float64) error
	PredictFunc      func(x *tensor.Dense) (*tensor.Dense, error)
	PredictProbaFunc func(x *tensor.Dense) (*tensor.Dense, error)
}

var _ Classifier = LearnerFuncs{}

// Fit calls FitFunc.
func (l LearnerFuncs) Fit(x, y *tensor.Dense, sampleWeight []float64) error {
	if l.FitFunc == nil {
		return errors.Wrap(ErrConfig, "ensemble: LearnerFuncs has no FitFunc")
	}
	return l.FitFunc(x, y, sampleWeight)
}

// Predict calls PredictFunc.
func (l LearnerFuncs) Predict(x *tensor.Dense) (*tensor.Dense, error) {
	if l.PredictFunc == nil {
		return nil, errors.Wrap(ErrConfig, "ensemble: LearnerFuncs has no PredictFunc")
	}
	return l.PredictFunc(x)
}

// PredictProba calls PredictProbaFunc, or returns ErrNoProba without one.
func (l LearnerFuncs) PredictProba(x *tensor.Dense) (*tensor.Dense, error) {
	if l.PredictProbaFunc == nil {
		return nil, errors.Wrap(ErrNoProba, "ensemble: LearnerFuncs has no PredictProbaFunc")
	}
	return l.PredictProbaFunc(x)
}

// fitLearner fits l, with ctx when l takes one.
func fitLearner(ctx context.Context, l Learner, x, y *tensor.Dense, w []float64) error {
	if err := ctx.Err(); err != nil {
		return errors.WithStack(err)
	}
	if cl, ok := l.(ContextLearner); ok {
		return cl.FitContext(ctx, x, y, w)
	}
	return l.Fit(x, y, w)
}

// newLearner calls f, turning a nil learner or a panic into an error.
func newLearner(f Factory, seed uint64) (l Learner, err error) {
	if f == nil {
		return nil, errors.Wrap(ErrConfig, "ensemble: no learner factory (New is nil)")
	}
	defer func() {
		if r := recover(); r != nil {
			err = errors.Errorf("ensemble: the learner factory panicked: %v", r)
		}
	}()
	l, err = f(seed)
	if err != nil {
		return nil, err
	}
	if l == nil {
		return nil, errors.New("ensemble: the learner factory returned a nil learner")
	}
	return l, nil
}
