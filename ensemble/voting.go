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
// to Workers goroutines. If some fail, Fit returns a *FitError naming them
// and the ensemble votes with the others.
type Voting struct {
	// Estimators make the learners; at least one.
	Estimators []Factory
	// Weights weigh the estimators' votes (nil: equally); one per
	// estimator, ≥ 0, not all zero.
	Weights []float64
	// Voting is "hard" (default) or "soft".
	Voting string
	// Regression averages values; by default y holds class indices.
	Regression bool
	// Workers is the number of estimators trained at once: 0 means 1, −1
	// means GOMAXPROCS.
	Workers int
	// Seed makes the ensemble repeatable.
	Seed uint64
	// Progress receives one line per estimator trained; nil is silent.
	Progress io.Writer

	learners []Learner // nil for failed estimators
	classes  int
	fitted   bool
}

var (
	_ Classifier     = (*Voting)(nil)
	_ ContextLearner = (*Voting)(nil)
)

// Clone returns an untrained copy with the given seed (a Factory).
func (v *Voting) Clone(seed uint64) (Learner, error) {
	return &Voting{Estimators: v.Estimators, Weights: v.Weights, Voting: v.Voting, Regression: v.Regression,
		Workers: v.Workers, Seed: seed, Progress: v.Progress}, nil
}

// Learners returns the trained estimators, nil for those that failed.
func (v *Voting) Learners() []Learner { return append([]Learner(nil), v.learners...) }

// Fit trains every estimator on x, y with optional sample weights.
func (v *Voting) Fit(x, y *tensor.Dense, sampleWeight []float64) error {
	return v.FitContext(context.Background(), x, y, sampleWeight)
}

func (v *Voting) check() error {
	if len(v.Estimators) == 0 {
		return errors.Wrap(ErrConfig, "ensemble: Voting has no Estimators")
	}
	if v.Voting != "" && v.Voting != votingHard && v.Voting != votingSoft {
		return errors.Wrapf(ErrConfig, "ensemble: Voting %q: want \"hard\" or \"soft\"", v.Voting)
	}
	if v.Weights != nil {
		if len(v.Weights) != len(v.Estimators) {
			return errors.Wrapf(ErrConfig, "ensemble: Voting has %d weights for %d estimators", len(v.Weights), len(v.Estimators))
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

// FitContext is Fit, stopping once ctx is done.
func (v *Voting) FitContext(ctx context.Context, x, y *tensor.Dense, sampleWeight []float64) error {
	v.learners, v.fitted = nil, false
	if err := v.check(); err != nil {
		return err
	}
	n, err := samples(x)
	if err != nil {
		return errors.WithMessage(err, "ensemble: Voting")
	}
	var yt *tensor.Dense
	if v.Regression {
		vals, err := targets(y, n)
		if err != nil {
			return errors.WithMessage(err, "ensemble: Voting")
		}
		yt = vec(vals)
	} else {
		labels, k, err := classLabels(y, n)
		if err != nil {
			return errors.WithMessage(err, "ensemble: Voting")
		}
		v.classes, yt = k, labelTensor(labels)
	}
	w, err := checkWeights(sampleWeight, n)
	if err != nil {
		return errors.WithMessage(err, "ensemble: Voting")
	}
	learners := make([]Learner, len(v.Estimators))
	prog := &progress{w: v.Progress}
	errs := parallel(ctx, len(v.Estimators), v.Workers, func(i int) error {
		start := time.Now()
		l, err := newLearner(v.Estimators[i], memberSeed(v.Seed, i))
		if err != nil {
			return err
		}
		if err := fitLearner(ctx, l, x, yt, w); err != nil {
			return err
		}
		learners[i] = l
		prog.printf("voting: estimator %d/%d trained in %.2fs", i+1, len(v.Estimators), time.Since(start).Seconds())
		return nil
	})
	v.learners, v.fitted = learners, true
	return collect(ctx, "voting", errs, learners)
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

// votes returns each trained estimator's output on x ((n, k) probabilities
// or one-hot votes, or (1, n) values) with its weight.
func (v *Voting) votes(x *tensor.Dense) ([][][]float64, []float64, int, error) {
	if !v.fitted {
		return nil, nil, 0, errors.Wrap(ErrNotFitted, "ensemble: Voting")
	}
	n, err := samples(x)
	if err != nil {
		return nil, nil, 0, errors.WithMessage(err, "ensemble: Voting")
	}
	var outs [][][]float64
	var ws []float64
	mode := votingHard
	if v.Voting == votingSoft {
		mode = votingSoft
	}
	for i, l := range v.learners {
		if l == nil {
			continue
		}
		var out [][]float64
		if v.Regression {
			p, err := l.Predict(x)
			var vals []float64
			if err == nil {
				vals, err = predictions(p, n, "Predict")
			}
			out = [][]float64{vals}
			if err != nil {
				return nil, nil, 0, &MemberError{Ensemble: "voting", Member: i, Fold: -1, Err: err}
			}
		} else if out, err = classVotes(l, x, n, v.classes, mode); err != nil {
			return nil, nil, 0, &MemberError{Ensemble: "voting", Member: i, Fold: -1, Err: err}
		}
		outs = append(outs, out)
		wi := 1.0
		if v.Weights != nil {
			wi = v.Weights[i]
		}
		ws = append(ws, wi)
	}
	if len(outs) == 0 {
		return nil, nil, 0, errors.Wrap(ErrNotFitted, "ensemble: Voting has no trained estimator")
	}
	return outs, ws, n, nil
}

// average returns Σ wᵢ·outᵢ / Σ wᵢ.
func average(outs [][][]float64, ws []float64) [][]float64 {
	total := 0.0
	for _, w := range ws {
		total += w
	}
	sum := zeros(len(outs[0]), len(outs[0][0]))
	for i, o := range outs {
		addRows(sum, o, ws[i]/total)
	}
	return sum
}

// Predict returns the weighted majority class (the smallest on ties), the
// class of largest mean probability, or the weighted mean value.
func (v *Voting) Predict(x *tensor.Dense) (*tensor.Dense, error) {
	outs, ws, _, err := v.votes(x)
	if err != nil {
		return nil, err
	}
	avg := average(outs, ws)
	if v.Regression {
		return vec(avg[0]), nil
	}
	return vec(argmaxRows(avg)), nil
}

// PredictProba returns the weighted mean class probabilities (soft voting
// only; hard voting returns ErrNoProba, as scikit-learn).
func (v *Voting) PredictProba(x *tensor.Dense) (*tensor.Dense, error) {
	if v.Regression || v.Voting != votingSoft {
		return nil, errors.Wrap(ErrNoProba, "ensemble: Voting gives probabilities with soft voting only")
	}
	outs, ws, _, err := v.votes(x)
	if err != nil {
		return nil, err
	}
	return rowsTensor(average(outs, ws), v.classes), nil
}

// Score returns the accuracy (classification) or R² (regression) on x, y.
func (v *Voting) Score(x, y *tensor.Dense) (float64, error) {
	return score(v, x, y, v.Regression)
}
