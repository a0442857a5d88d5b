package ensemble

import (
	"fmt"
	"strings"

	"github.com/pkg/errors"
)

var (
	// ErrConfig is returned (wrapped) when a configuration field is out of
	// range: zero members, MaxSamples outside (0, 1] and not a whole count
	// of samples, an unknown loss name, ….
	ErrConfig = errors.New("ensemble: invalid configuration")

	// ErrLabels is returned (wrapped) when classification labels are not
	// class indices (whole numbers 0, 1, …, held in a float or integer
	// tensor of shape (n) or (n, 1)), or regression targets are not finite
	// numbers.
	ErrLabels = errors.New("ensemble: bad labels")

	// ErrInput is returned (wrapped) when the samples do not fit: a nil
	// tensor, a count differing from the labels', another number of
	// features than at Fit.
	ErrInput = errors.New("ensemble: bad input")

	// ErrZeroWeights is returned (wrapped) when every sample weight is zero.
	ErrZeroWeights = errors.New("ensemble: all sample weights are zero")

	// ErrNotFitted is returned (wrapped) by Predict and the like before a
	// successful Fit.
	ErrNotFitted = errors.New("ensemble: not fitted")

	// ErrNoProba is returned (wrapped) by PredictProba of a learner that
	// gives no probabilities (hard voting, a model of decision scores).
	// Ensembles then count its votes instead.
	ErrNoProba = errors.New("ensemble: no class probabilities")

	// ErrNoSampleWeight is returned (wrapped) by the Fit of a learner that
	// cannot weight its samples; AdaBoost then trains it on a weighted
	// resample instead.
	ErrNoSampleWeight = errors.New("ensemble: sample weights not supported")

	// ErrWorseThanRandom is returned (wrapped) by AdaBoost when its first
	// learner does no better than chance (error ≥ 1 − 1/classes, or ≥ 0.5
	// for regression), so no ensemble can be built.
	ErrWorseThanRandom = errors.New("ensemble: learner no better than chance")
)

// A MemberError is the failure of one member of an ensemble (a bagging
// member, a voting or stacking estimator, a boosting round).
type MemberError struct {
	// Ensemble names the ensemble ("bagging", "stacking", …).
	Ensemble string
	// Member counts from 0. For stacking, Fold is the cross-validation
	// fold (−1 for the fit on all the data).
	Member, Fold int
	// Err is the member's error.
	Err error
}

func (e *MemberError) Error() string {
	if e.Fold >= 0 {
		return fmt.Sprintf("ensemble: %s member %d, fold %d: %v", e.Ensemble, e.Member, e.Fold, e.Err)
	}
	return fmt.Sprintf("ensemble: %s member %d: %v", e.Ensemble, e.Member, e.Err)
}

// Unwrap returns the member's error.
func (e *MemberError) Unwrap() error { return e.Err }

// A FitError lists the members that failed while the others trained. The
// ensemble keeps the members that trained and predicts with them.
type FitError struct {
	// Members failed, in member order.
	Failed []*MemberError
	// Trained is the number of members that trained.
	Trained int
}

func (e *FitError) Error() string {
	msgs := make([]string, len(e.Failed))
	for i, m := range e.Failed {
		msgs[i] = m.Error()
	}
	return fmt.Sprintf("ensemble: %d of %d members failed (the %d others trained): %s",
		len(e.Failed), len(e.Failed)+e.Trained, e.Trained, strings.Join(msgs, "; "))
}

// Unwrap returns the members' errors, for errors.Is and errors.As.
func (e *FitError) Unwrap() []error {
	out := make([]error, len(e.Failed))
	for i, m := range e.Failed {
		out[i] = m
	}
	return out
}
