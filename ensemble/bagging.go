package ensemble

import (
	"context"
	"io"
	"math"
	"time"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// Bagging trains Members learners, each on a random sample of the data,
// and averages their predictions: scikit-learn's BaggingClassifier and
// BaggingRegressor over any Learner (Keras models through KerasLearner or
// MLP, trees, other ensembles).
//
// The draws are scikit-learn's for random_state = Seed: member i's seed
// is the i-th of numpy's RandomState(Seed).randint(2³¹−1) draws, its
// features and then its rows are drawn from RandomState(that seed), and
// its learner gets the first randint(2³¹−1) of another RandomState(that
// seed). A learner that takes sample weights (the built-in ones but
// KerasLearner, MLP and Pipeline) trains on every row weighted by its
// draw count, as scikit-learn does; others train on the rows as drawn.
// So bagging trees with a seed grows the trees scikit-learn grows with
// that random_state. Members train in parallel on up to Workers
// goroutines and are summed in member order, so a seeded ensemble gives
// the same predictions whatever Workers is.
//
// Plan, TrainMember and Assemble are the same steps as data, for training
// members elsewhere. If some members fail, Fit returns a *FitError naming
// them and keeps the others: Predict then uses the members that trained.
type Bagging struct {
	// New makes each member's learner. If nil, Learner describes it as
	// data; one of them is required.
	New Factory `json:"-"`
	// Learner describes the members' learner as a registered kind with
	// JSON parameters (used when New is nil).
	Learner *Spec `json:"learner,omitempty"`
	// Members is the number of learners; required, > 0 (scikit-learn's
	// n_estimators defaults to 10).
	Members int `json:"members"`
	// Regression averages values; by default y holds class labels and
	// members vote.
	Regression bool `json:"regression,omitempty"`
	// NoBootstrap draws samples without replacement (pasting); by default
	// they are drawn with replacement, as scikit-learn's bootstrap=True.
	NoBootstrap bool `json:"no_bootstrap,omitempty"`
	// MaxSamples is the number of samples each member draws: a fraction of
	// the data in (0, 1], or a whole count from 2 up to the number of
	// samples. 0 means 1.0, all of them.
	MaxSamples float64 `json:"max_samples,omitempty"`
	// MaxFeatures is the number of features each member sees (x must be
	// (n, features)): a fraction in (0, 1] (at least one feature) or a
	// whole count up to the number of features. 0 means all; they are
	// then not resampled unless BootstrapFeatures is set.
	MaxFeatures float64 `json:"max_features,omitempty"`
	// BootstrapFeatures draws the features with replacement.
	BootstrapFeatures bool `json:"bootstrap_features,omitempty"`
	// OOBScore computes the out-of-bag score after Fit (see OutOfBag); it
	// needs bootstrap sampling.
	OOBScore bool `json:"oob_score,omitempty"`
	// Voting is how classifiers combine: "soft" averages the members'
	// probabilities, "hard" counts their predicted classes, "" (the
	// default, as scikit-learn) averages probabilities of members that
	// give them and counts the votes of the others.
	Voting string `json:"voting,omitempty"`
	// Workers is the number of members trained at once: 0 means 1 (as
	// scikit-learn's n_jobs=None), −1 means GOMAXPROCS.
	Workers int `json:"workers,omitempty"`
	// Seed makes the ensemble repeatable; 0 is a seed like any other.
	Seed uint64 `json:"seed"`
	// Progress receives one line per member trained; nil is silent.
	Progress io.Writer `json:"-"`

	fit *bagFit
}

type bagFit struct {
	specs    []MemberSpec
	learners []Learner // nil for members that failed
	classes  []float64
	features int // x.Shape()[1] when members see some features; 0 if unused
	oob      *oobResult
}

type oobResult struct {
	score    float64
	decision *tensor.Dense
}

var (
	_ Classifier     = (*Bagging)(nil)
	_ ContextLearner = (*Bagging)(nil)
)

// Clone returns an untrained copy with the given seed (a Factory).
func (b *Bagging) Clone(seed uint64) (Learner, error) {
	c := *b
	c.Seed, c.fit = seed, nil
	return &c, nil
}

// Fit trains the members on x, y with optional sample weights.
func (b *Bagging) Fit(x, y *tensor.Dense, sampleWeight []float64) error {
	return b.FitContext(context.Background(), x, y, sampleWeight)
}

// resolveCount turns a MaxSamples or MaxFeatures value into a count.
func resolveCount(name string, v float64, total int, atLeastOne bool) (int, error) {
	switch {
	case v == 0:
		return total, nil
	case math.IsNaN(v) || math.IsInf(v, 0) || v < 0:
		return 0, errors.Wrapf(ErrConfig, "ensemble: Bagging %s is %v: want a fraction in (0, 1] or a whole count up to %d", name, v, total)
	case v <= 1:
		c := int(v * float64(total))
		if c < 1 && atLeastOne {
			c = 1
		}
		if c < 1 {
			return 0, errors.Wrapf(ErrConfig, "ensemble: Bagging %s %v of %d is no sample", name, v, total)
		}
		return c, nil
	case v != math.Trunc(v):
		return 0, errors.Wrapf(ErrConfig, "ensemble: Bagging %s is %v: outside (0, 1] and not a whole count", name, v)
	case v > float64(total):
		return 0, errors.Wrapf(ErrConfig, "ensemble: Bagging %s is %v, above the %d available", name, v, total)
	}
	return int(v), nil
}

func (b *Bagging) factory() (Factory, error) {
	return factoryOf("Bagging", b.New, b.Learner, nil)
}

// Plan checks the configuration and the data and returns the members
// Fit trains: member i's seed, the rows it draws (and, with OOBScore, the
// rows it did not draw, to predict), the features it sees, and the
// classes of y.
func (b *Bagging) Plan(x, y *tensor.Dense) ([]MemberSpec, error) {
	specs, _, err := b.plan(x, y)
	return specs, err
}

func (b *Bagging) plan(x, y *tensor.Dense) ([]MemberSpec, []float64, error) {
	if b.Members < 1 {
		return nil, nil, errors.Wrapf(ErrConfig, "ensemble: Bagging needs Members ≥ 1, got %d", b.Members)
	}
	if err := checkVoting("Bagging", b.Voting); err != nil {
		return nil, nil, err
	}
	if b.OOBScore && b.NoBootstrap {
		return nil, nil, errors.Wrap(ErrConfig, "ensemble: Bagging: the out-of-bag score needs bootstrap sampling (NoBootstrap is set)")
	}
	n, err := samples(x)
	if err != nil {
		return nil, nil, errors.WithMessage(err, "ensemble: Bagging")
	}
	var classes []float64
	if !b.Regression {
		if classes, _, err = classLabels(y, n); err != nil {
			return nil, nil, errors.WithMessage(err, "ensemble: Bagging")
		}
	}
	maxS, err := resolveCount("MaxSamples", b.MaxSamples, n, false)
	if err != nil {
		return nil, nil, err
	}
	d, maxF := 0, 0
	subspace := b.MaxFeatures != 0 || b.BootstrapFeatures
	if subspace {
		if x.Dims() != 2 {
			return nil, nil, errors.Wrapf(ErrInput, "ensemble: Bagging with MaxFeatures or BootstrapFeatures needs x of shape (n, features), got %v", x.Shape())
		}
		d = x.Shape()[1]
		if maxF, err = resolveCount("MaxFeatures", b.MaxFeatures, d, true); err != nil {
			return nil, nil, err
		}
	}
	seeds := newRandomState(b.Seed)
	specs := make([]MemberSpec, b.Members)
	for i := range specs {
		s := uint64(seeds.randint(maxInt32))
		m := MemberSpec{Ensemble: "bagging", Index: i, Seed: uint64(newRandomState(s).randint(maxInt32)),
			Drawn: true, Fold: -1, Classes: classes}
		rs := newRandomState(s)
		if subspace {
			if b.BootstrapFeatures {
				m.Features = make([]int, maxF)
				for j := range m.Features {
					m.Features[j] = int(rs.randint(int64(d)))
				}
			} else {
				m.Features = sampleWithoutReplacement(rs, d, maxF)
			}
		}
		if b.NoBootstrap {
			m.Rows = sampleWithoutReplacement(rs, n, maxS)
		} else {
			m.Rows = make([]int, maxS)
			for j := range m.Rows {
				m.Rows[j] = int(rs.randint(int64(n)))
			}
		}
		if b.OOBScore {
			m.Test = outOfBag(m.Rows, n)
		}
		specs[i] = m
	}
	return specs, classes, nil
}

// sampleWithoutReplacement is scikit-learn's sample_without_replacement
// (method "auto") on a numpy RandomState.
func sampleWithoutReplacement(rs *randomState, population, k int) []int {
	ratio := float64(k) / float64(population)
	out := make([]int, k)
	switch {
	case ratio > 0.01 && ratio < 0.99:
		perm := seqInts(population)
		for i := population - 1; i > 0; i-- {
			j := int(rs.randint(int64(i) + 1))
			perm[i], perm[j] = perm[j], perm[i]
		}
		copy(out, perm)
	case ratio < 0.2:
		seen := map[int]bool{}
		for i := range out {
			j := int(rs.randint(int64(population)))
			for seen[j] {
				j = int(rs.randint(int64(population)))
			}
			seen[j] = true
			out[i] = j
		}
	default:
		for i := range out {
			out[i] = i
		}
		for i := k; i < population; i++ {
			if j := int(rs.randint(int64(i) + 1)); j < k {
				out[j] = i
			}
		}
	}
	return out
}

// outOfBag returns the rows of 0..n−1 not in rows, in order.
func outOfBag(rows []int, n int) []int {
	in := make([]bool, n)
	for _, r := range rows {
		in[r] = true
	}
	out := []int{}
	for r, ok := range in {
		if !ok {
			out = append(out, r)
		}
	}
	return out
}

// FitContext is Fit, stopping once ctx is done: members under way stop
// after their current step (Keras models) and no new member starts; the
// error then wraps ctx's, and the members already trained are kept.
func (b *Bagging) FitContext(ctx context.Context, x, y *tensor.Dense, sampleWeight []float64) error {
	b.fit = nil
	newL, err := b.factory()
	if err != nil {
		return err
	}
	specs, classes, err := b.plan(x, y)
	if err != nil {
		return err
	}
	data, err := newMemberData(x, y, sampleWeight, classes)
	if err != nil {
		return errors.WithMessage(err, "ensemble: Bagging")
	}
	learners := make([]Learner, len(specs))
	oob := make([]*MemberOutput, len(specs))
	prog := &progress{w: b.Progress}
	errs := parallel(ctx, len(specs), b.Workers, func(i int) error {
		start := time.Now()
		l, err := trainMember(ctx, newL, specs[i], data)
		if err != nil {
			return err
		}
		if b.OOBScore {
			if oob[i], err = PredictMember(l, specs[i], x, specs[i].Test, b.Voting); err != nil {
				return errors.WithMessage(err, "out-of-bag prediction")
			}
		}
		learners[i] = l
		prog.printf("bagging: member %d/%d trained on %d samples in %.2fs", i+1, len(specs), len(specs[i].Rows), time.Since(start).Seconds())
		return nil
	})
	fe := &FitError{}
	for i, err := range errs {
		if err == nil {
			fe.Trained++
			continue
		}
		learners[i], oob[i] = nil, nil
		fe.Failed = append(fe.Failed, &MemberError{Ensemble: "bagging", Member: i, Fold: -1, Err: err})
		prog.printf("bagging: member %d/%d failed: %v", i+1, len(specs), err)
	}
	b.fit = &bagFit{specs: specs, learners: learners, classes: classes}
	if specs[0].Features != nil {
		b.fit.features = x.Shape()[1]
	}
	if err := ctx.Err(); err != nil {
		return errors.Wrapf(err, "ensemble: Bagging stopped with %d of %d members trained", fe.Trained, len(specs))
	}
	if b.OOBScore && fe.Trained > 0 {
		if b.fit.oob, err = oobScore(oob, data, classes); err != nil {
			return err
		}
	}
	if len(fe.Failed) > 0 {
		return fe
	}
	return nil
}

// Assemble makes b a fitted ensemble of members trained elsewhere: the
// specs b.Plan returned and, in the same order, the learners TrainMember
// trained from them (nil for a member that failed). It computes no
// out-of-bag score.
func (b *Bagging) Assemble(specs []MemberSpec, learners []Learner) error {
	b.fit = nil
	if len(specs) == 0 || len(specs) != len(learners) {
		return errors.Wrapf(ErrConfig, "ensemble: Bagging.Assemble: %d specs and %d learners", len(specs), len(learners))
	}
	fit := &bagFit{specs: append([]MemberSpec(nil), specs...), learners: append([]Learner(nil), learners...), classes: specs[0].Classes}
	for i, m := range specs {
		if m.Index != i || m.Ensemble != "bagging" || (m.Classes == nil) != b.Regression || len(m.Classes) != len(fit.classes) {
			return errors.Wrapf(ErrConfig, "ensemble: Bagging.Assemble: spec %d is %s member %d with %d classes, want bagging member %d like the others", i, m.Ensemble, m.Index, len(m.Classes), i)
		}
		if (m.Features == nil) != (specs[0].Features == nil) {
			return errors.Wrapf(ErrConfig, "ensemble: Bagging.Assemble: member %d sees features %v, member 0 %v", i, m.Features, specs[0].Features)
		}
	}
	b.fit = fit
	for _, m := range specs {
		for _, f := range m.Features {
			b.fit.features = max(b.fit.features, f+1)
		}
	}
	if _, err := b.trained(); err != nil {
		b.fit = nil
		return err
	}
	return nil
}

// oobScore combines the members' out-of-bag predictions as scikit-learn's
// _set_oob_score: summed votes in member order (argmax; a sample never
// out of bag counts as class 0 and has a NaN decision row), or the mean
// value (0 for a sample never out of bag) scored by R².
func oobScore(outs []*MemberOutput, d *memberData, classes []float64) (*oobResult, error) {
	width := len(classes)
	if classes == nil {
		width = 1
	}
	sum, count, err := SumOutputs(outs, d.n, width)
	if err != nil {
		return nil, err
	}
	if classes == nil {
		pred := make([]float64, d.n)
		for i := range pred {
			pred[i] = sum[i][0] / math.Max(float64(count[i]), 1)
		}
		return &oobResult{score: r2(d.values, pred), decision: vec(pred)}, nil
	}
	truth := make([]float64, d.n)
	for i, c := range d.idx {
		truth[i] = float64(c)
	}
	dec := make([][]float64, d.n)
	for i, r := range sum {
		total := 0.0
		for _, v := range r {
			total += v
		}
		dec[i] = make([]float64, width)
		for j, v := range r {
			dec[i][j] = v / total // NaN when never out of bag, as scikit-learn
		}
	}
	return &oobResult{score: accuracy(truth, argmaxRows(sum)), decision: rowsTensor(dec, width)}, nil
}

// OutOfBag returns the out-of-bag score (accuracy or R²) and decision
// (n, classes) class frequencies, or (n) mean predictions, computed by Fit
// with OOBScore, as scikit-learn's oob_score_ and oob_decision_function_
// (oob_prediction_ for regression).
func (b *Bagging) OutOfBag() (score float64, decision *tensor.Dense, err error) {
	if b.fit == nil || b.fit.oob == nil {
		return 0, nil, errors.Wrap(ErrNotFitted, "ensemble: Bagging has no out-of-bag score (set OOBScore and Fit)")
	}
	return b.fit.oob.score, b.fit.oob.decision, nil
}

// Classes returns the class labels (nil for regression or before Fit), in
// the order of PredictProba's columns.
func (b *Bagging) ClassLabels() []float64 {
	if b.fit == nil {
		return nil
	}
	return b.fit.classes
}

// Learners returns the members' learners in member order, nil for members
// that failed (nil before Fit).
func (b *Bagging) Learners() []Learner {
	if b.fit == nil {
		return nil
	}
	return append([]Learner(nil), b.fit.learners...)
}

// MemberSamples returns the rows member i drew (repeated as drawn) and
// its features (nil for all), or nils if it did not train.
func (b *Bagging) MemberSamples(i int) (rows, features []int) {
	if b.fit == nil || i < 0 || i >= len(b.fit.learners) || b.fit.learners[i] == nil {
		return nil, nil
	}
	m := b.fit.specs[i]
	return append([]int(nil), m.Rows...), append([]int(nil), m.Features...)
}

// trained returns the indices of the members that trained, or
// ErrNotFitted.
func (b *Bagging) trained() ([]int, error) {
	if b.fit == nil {
		return nil, errors.Wrap(ErrNotFitted, "ensemble: Bagging")
	}
	var ms []int
	for i, l := range b.fit.learners {
		if l != nil {
			ms = append(ms, i)
		}
	}
	if len(ms) == 0 {
		return nil, errors.Wrap(ErrNotFitted, "ensemble: Bagging has no trained member")
	}
	return ms, nil
}

// sum runs every trained member on x in parallel and adds their outputs
// in member order; it returns the sums and the number of members.
func (b *Bagging) sum(x *tensor.Dense) ([][]float64, int, error) {
	ms, err := b.trained()
	if err != nil {
		return nil, 0, err
	}
	n, err := samples(x)
	if err != nil {
		return nil, 0, errors.WithMessage(err, "ensemble: Bagging")
	}
	if b.fit.features > 0 && (x.Dims() != 2 || x.Shape()[1] != b.fit.features) {
		return nil, 0, errors.Wrapf(ErrInput, "ensemble: Bagging was fitted on %d features, x has shape %v", b.fit.features, x.Shape())
	}
	outs := make([]*MemberOutput, len(ms))
	errs := parallel(context.Background(), len(ms), b.Workers, func(j int) error {
		i := ms[j]
		var err error
		outs[j], err = PredictMember(b.fit.learners[i], b.fit.specs[i], x, nil, b.Voting)
		return err
	})
	for j, err := range errs {
		if err != nil {
			return nil, 0, &MemberError{Ensemble: "bagging", Member: ms[j], Fold: -1, Err: err}
		}
	}
	width := len(b.fit.classes)
	if b.Regression {
		width = 1
	}
	sum, _, err := SumOutputs(outs, n, width)
	return sum, len(ms), err
}

// PredictProba returns the members' mean class probabilities (or vote
// fractions), (n, classes).
func (b *Bagging) PredictProba(x *tensor.Dense) (*tensor.Dense, error) {
	if b.Regression {
		return nil, errors.Wrap(ErrNoProba, "ensemble: a regression Bagging")
	}
	p, err := b.proba(x)
	if err != nil {
		return nil, err
	}
	return rowsTensor(p, len(b.fit.classes)), nil
}

func (b *Bagging) proba(x *tensor.Dense) ([][]float64, error) {
	sum, m, err := b.sum(x)
	if err != nil {
		return nil, err
	}
	for _, r := range sum {
		for j := range r {
			r[j] /= float64(m)
		}
	}
	return sum, nil
}

// Predict returns the most probable class (the smallest on ties) or the
// mean of the members' values, as a float64 tensor (n).
func (b *Bagging) Predict(x *tensor.Dense) (*tensor.Dense, error) {
	p, err := b.proba(x)
	if err != nil {
		return nil, err
	}
	if b.Regression {
		out := make([]float64, len(p))
		for i, r := range p {
			out[i] = r[0]
		}
		return vec(out), nil
	}
	return vec(decodeClasses(b.fit.classes, argmaxRows(p))), nil
}

// Score returns the accuracy (classification) or R² (regression) of the
// predictions of x against y.
func (b *Bagging) Score(x, y *tensor.Dense) (float64, error) {
	return score(b, x, y, b.Regression)
}
