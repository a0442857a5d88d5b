package ensemble

import (
	"context"
	"io"
	"math"
	"time"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// Voting trains several different learners on the same data and combines
// their predictions, as scikit-learn's VotingClassifier and VotingRegressor:
// by weighted majority of the predicted classes ("hard", the default), by
// the weighted mean of the class probabilities ("soft"), or by the
// weighted mean of the values (regression).
//
// Estimator i gets the seed Seed-and-i and they train in parallel on up
// to Workers goroutines; their outputs are summed in estimator order. If
// some fail, Fit returns a *FitError naming them and the ensemble votes
// with the others.
type Voting struct {
	// Estimators make the learners. If nil, EstimatorSpecs describe them
	// as data; at least one is required.
	Estimators []Factory `json:"-"`
	// EstimatorSpecs describe the learners as registered kinds with JSON
	// parameters (used when Estimators is nil).
	EstimatorSpecs []Spec `json:"estimators,omitempty"`
	// Weights weigh the estimators' votes (nil: equally); one per
	// estimator, ≥ 0, not all zero.
	Weights []float64 `json:"weights,omitempty"`
	// Voting is "hard" (default) or "soft".
	Voting string `json:"voting,omitempty"`
	// Regression averages values; by default y holds class labels.
	Regression bool `json:"regression,omitempty"`
	// Workers is the number of estimators trained at once: 0 means 1, −1
	// means GOMAXPROCS.
	Workers int `json:"workers,omitempty"`
	// Seed makes the ensemble repeatable.
	Seed uint64 `json:"seed"`
	// Progress receives one line per estimator trained; nil is silent.
	Progress io.Writer `json:"-"`

	specs    []MemberSpec
	learners []Learner // nil for failed estimators
	classes  []float64
	fitted   bool
}

var (
	_ Classifier     = (*Voting)(nil)
	_ ContextLearner = (*Voting)(nil)
)

// Clone returns an untrained copy with the given seed (a Factory).
func (v *Voting) Clone(seed uint64) (Learner, error) {
	return &Voting{Estimators: v.Estimators, EstimatorSpecs: v.EstimatorSpecs, Weights: v.Weights, Voting: v.Voting,
		Regression: v.Regression, Workers: v.Workers, Seed: seed, Progress: v.Progress}, nil
}

// Learners returns the trained estimators, nil for those that failed.
func (v *Voting) Learners() []Learner { return append([]Learner(nil), v.learners...) }

// Classes returns the class labels (nil for regression or before Fit).
func (v *Voting) ClassLabels() []float64 { return v.classes }

// Fit trains every estimator on x, y with optional sample weights.
func (v *Voting) Fit(x, y *tensor.Dense, sampleWeight []float64) error {
	return v.FitContext(context.Background(), x, y, sampleWeight)
}

// factories returns the estimators' factories.
func (v *Voting) factories() ([]Factory, error) {
	if v.Estimators != nil {
		return v.Estimators, nil
	}
	out := make([]Factory, len(v.EstimatorSpecs))
	for i, s := range v.EstimatorSpecs {
		out[i] = s.New
	}
	return out, nil
}

func (v *Voting) check() error {
	fs, _ := v.factories()
	if len(fs) == 0 {
		return errors.Wrap(ErrConfig, "ensemble: Voting has no Estimators")
	}
	if v.Voting != "" && v.Voting != votingHard && v.Voting != votingSoft {
		return errors.Wrapf(ErrConfig, "ensemble: Voting %q: want \"hard\" or \"soft\"", v.Voting)
	}
	if v.Weights != nil {
		if len(v.Weights) != len(fs) {
			return errors.Wrapf(ErrConfig, "ensemble: Voting has %d weights for %d estimators", len(v.Weights), len(fs))
		}
		sum := 0.0
		for _, w := range v.Weights {
			if !(w >= 0) || math.IsInf(w, 0) {
				return errors.Wrapf(ErrConfig, "ensemble: Voting weight %v: want a finite number ≥ 0", w)
			}
			sum += w
		}
		if sum == 0 {
			return errors.Wrap(ErrConfig, "ensemble: Voting weights are all zero")
		}
	}
	return nil
}

// Plan checks the configuration and the data and returns one member per
// estimator, trained on all the rows.
func (v *Voting) Plan(x, y *tensor.Dense) ([]MemberSpec, error) {
	if err := v.check(); err != nil {
		return nil, err
	}
	n, err := samples(x)
	if err != nil {
		return nil, errors.WithMessage(err, "ensemble: Voting")
	}
	var classes []float64
	if !v.Regression {
		if classes, _, err = classLabels(y, n); err != nil {
			return nil, errors.WithMessage(err, "ensemble: Voting")
		}
	}
	fs, _ := v.factories()
	specs := make([]MemberSpec, len(fs))
	for i := range specs {
		specs[i] = MemberSpec{Ensemble: "voting", Index: i, Estimator: i, Seed: memberSeed(v.Seed, i), Fold: -1, Classes: classes}
	}
	return specs, nil
}

// FitContext is Fit, stopping once ctx is done.
func (v *Voting) FitContext(ctx context.Context, x, y *tensor.Dense, sampleWeight []float64) error {
	v.specs, v.learners, v.classes, v.fitted = nil, nil, nil, false
	specs, err := v.Plan(x, y)
	if err != nil {
		return err
	}
	data, err := newMemberData(x, y, sampleWeight, specs[0].Classes)
	if err != nil {
		return errors.WithMessage(err, "ensemble: Voting")
	}
	fs, _ := v.factories()
	learners := make([]Learner, len(specs))
	prog := &progress{w: v.Progress}
	errs := parallel(ctx, len(specs), v.Workers, func(i int) error {
		start := time.Now()
		l, err := trainMember(ctx, fs[i], specs[i], data)
		if err != nil {
			return err
		}
		learners[i] = l
		prog.printf("voting: estimator %d/%d trained in %.2fs", i+1, len(specs), time.Since(start).Seconds())
		return nil
	})
	err = collect(ctx, "voting", errs, learners)
	if aerr := v.Assemble(specs, learners); err == nil {
		err = aerr
	}
	return err
}

// Assemble makes v a fitted ensemble of estimators trained elsewhere: the
// specs v.Plan returned and, in the same order, the learners TrainMember
// trained from them (nil for an estimator that failed; at least one must
// have trained).
func (v *Voting) Assemble(specs []MemberSpec, learners []Learner) error {
	v.specs, v.learners, v.classes, v.fitted = nil, nil, nil, false
	if err := v.check(); err != nil {
		return err
	}
	fs, _ := v.factories()
	if len(specs) != len(fs) || len(learners) != len(fs) {
		return errors.Wrapf(ErrConfig, "ensemble: Voting.Assemble: %d specs and %d learners for %d estimators", len(specs), len(learners), len(fs))
	}
	trained := 0
	for i, m := range specs {
		if m.Index != i || m.Estimator != i || m.Ensemble != "voting" || (m.Classes == nil) != v.Regression || len(m.Classes) != len(specs[0].Classes) {
			return errors.Wrapf(ErrConfig, "ensemble: Voting.Assemble: spec %d is %s member %d (estimator %d) with %d classes, want voting estimator %d like the others", i, m.Ensemble, m.Index, m.Estimator, len(m.Classes), i)
		}
		if learners[i] != nil {
			trained++
		}
	}
	if trained == 0 {
		return errors.Wrap(ErrNotFitted, "ensemble: Voting.Assemble: no estimator trained")
	}
	v.specs, v.learners, v.classes, v.fitted = append([]MemberSpec(nil), specs...), append([]Learner(nil), learners...), specs[0].Classes, true
	return nil
}

// collect turns member errors into a FitError (or ctx's error), clearing
// the failed members.
func collect(ctx context.Context, name string, errs []error, learners []Learner) error {
	fe := &FitError{}
	for i, err := range errs {
		if err != nil {
			learners[i] = nil
			fe.Failed = append(fe.Failed, &MemberError{Ensemble: name, Member: i, Fold: -1, Err: err})
		} else {
			fe.Trained++
		}
	}
	if err := ctx.Err(); err != nil {
		return errors.Wrapf(err, "ensemble: %s stopped with %d of %d members trained", name, fe.Trained, len(errs))
	}
	if len(fe.Failed) > 0 {
		return fe
	}
	return nil
}

// weighted returns Σ wᵢ·outᵢ over the trained estimators, summed in
// estimator order, and Σ wᵢ.
func (v *Voting) weighted(x *tensor.Dense) ([][]float64, float64, error) {
	if !v.fitted {
		return nil, 0, errors.Wrap(ErrNotFitted, "ensemble: Voting")
	}
	n, err := samples(x)
	if err != nil {
		return nil, 0, errors.WithMessage(err, "ensemble: Voting")
	}
	mode := votingHard
	if v.Voting == votingSoft {
		mode = votingSoft
	}
	var outs []*MemberOutput
	total := 0.0
	for i, l := range v.learners {
		if l == nil {
			continue
		}
		o, err := PredictMember(l, v.specs[i], x, nil, mode)
		if err != nil {
			return nil, 0, &MemberError{Ensemble: "voting", Member: i, Fold: -1, Err: err}
		}
		wi := 1.0
		if v.Weights != nil {
			wi = v.Weights[i]
		}
		for _, r := range o.Values {
			for j := range r {
				r[j] *= wi
			}
		}
		outs = append(outs, o)
		total += wi
	}
	if len(outs) == 0 {
		return nil, 0, errors.Wrap(ErrNotFitted, "ensemble: Voting has no trained estimator")
	}
	width := len(v.classes)
	if v.Regression {
		width = 1
	}
	sum, _, err := SumOutputs(outs, n, width)
	return sum, total, err
}

// Predict returns the weighted majority class (the smallest on ties), the
// class of largest mean probability, or the weighted mean value.
func (v *Voting) Predict(x *tensor.Dense) (*tensor.Dense, error) {
	sum, total, err := v.weighted(x)
	if err != nil {
		return nil, err
	}
	if v.Regression {
		out := make([]float64, len(sum))
		for i, r := range sum {
			out[i] = r[0] / total
		}
		return vec(out), nil
	}
	return vec(decodeClasses(v.classes, argmaxRows(sum))), nil
}

// PredictProba returns the weighted mean class probabilities (soft voting
// only; hard voting returns ErrNoProba, as scikit-learn).
func (v *Voting) PredictProba(x *tensor.Dense) (*tensor.Dense, error) {
	if v.Regression || v.Voting != votingSoft {
		return nil, errors.Wrap(ErrNoProba, "ensemble: Voting gives probabilities with soft voting only")
	}
	sum, total, err := v.weighted(x)
	if err != nil {
		return nil, err
	}
	for _, r := range sum {
		for j := range r {
			r[j] /= total
		}
	}
	return rowsTensor(sum, len(v.classes)), nil
}

// Score returns the accuracy (classification) or R² (regression) on x, y.
func (v *Voting) Score(x, y *tensor.Dense) (float64, error) {
	return score(v, x, y, v.Regression)
}
