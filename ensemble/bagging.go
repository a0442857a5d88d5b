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
// BaggingRegressor over any Learner (Keras models through KerasLearner,
// trees, other ensembles).
//
// Member i draws its features, then its samples, from a random stream
// that depends on Seed and i only, and its learner gets the seed
// Seed-and-i; members train in parallel on up to Workers goroutines, so a
// seeded ensemble gives the same predictions whatever Workers is.
//
// Members are trained on the rows they drew (a bootstrap sample repeats
// rows); scikit-learn gives learners that take sample weights the whole
// data with weights counting the draws instead, which gives trees the
// same splits but not always the same thresholds.
//
// If some members fail, Fit returns a *FitError naming them and keeps the
// others: Predict then uses the members that trained.
type Bagging struct {
	// New makes each member's learner; required.
	New Factory
	// Members is the number of learners; required, > 0 (scikit-learn's
	// n_estimators defaults to 10).
	Members int
	// Regression averages values; by default y holds class indices and
	// members vote.
	Regression bool
	// NoBootstrap draws samples without replacement (pasting); by default
	// they are drawn with replacement, as scikit-learn's bootstrap=True.
	NoBootstrap bool
	// MaxSamples is the number of samples each member draws: a fraction of
	// the data in (0, 1], or a whole count from 2 up to the number of
	// samples. 0 means 1.0, all of them.
	MaxSamples float64
	// MaxFeatures is the number of features each member sees (x must be
	// (n, features)): a fraction in (0, 1] (at least one feature) or a
	// whole count up to the number of features. 0 means all; they are
	// then not resampled unless BootstrapFeatures is set.
	MaxFeatures float64
	// BootstrapFeatures draws the features with replacement.
	BootstrapFeatures bool
	// OOBScore computes the out-of-bag score after Fit (see OutOfBag); it
	// needs bootstrap sampling.
	OOBScore bool
	// Voting is how classifiers combine: "soft" averages the members'
	// probabilities, "hard" counts their predicted classes, "" (the
	// default, as scikit-learn) averages probabilities of members that
	// give them and counts the votes of the others.
	Voting string
	// Workers is the number of members trained at once: 0 means 1 (as
	// scikit-learn's n_jobs=None), −1 means GOMAXPROCS.
	Workers int
	// Seed makes the ensemble repeatable; 0 is a seed like any other.
	Seed uint64
	// Progress receives one line per member trained; nil is silent.
	Progress io.Writer

	fit *bagFit
}

type bagMember struct {
	learner  Learner
	samples  []int
	features []int // nil: all, in order
}

type bagFit struct {
	members  []*bagMember // nil for members that failed
	classes  int
	features int // x.Shape()[1], for MaxFeatures; 0 if unused
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

// FitContext is Fit, stopping once ctx is done: members under way stop
// after their current step (Keras models) and no new member starts; the
// error then wraps ctx's, and the members already trained are kept.
func (b *Bagging) FitContext(ctx context.Context, x, y *tensor.Dense, sampleWeight []float64) error {
	b.fit = nil
	if b.Members < 1 {
		return errors.Wrapf(ErrConfig, "ensemble: Bagging needs Members ≥ 1, got %d", b.Members)
	}
	if b.New == nil {
		return errors.Wrap(ErrConfig, "ensemble: Bagging.New is nil")
	}
	if err := checkVoting("Bagging", b.Voting); err != nil {
		return err
	}
	if b.OOBScore && b.NoBootstrap {
		return errors.Wrap(ErrConfig, "ensemble: Bagging: the out-of-bag score needs bootstrap sampling (NoBootstrap is set)")
	}
	n, err := samples(x)
	if err != nil {
		return errors.WithMessage(err, "ensemble: Bagging")
	}
	var labels []int
	var values []float64
	k := 0
	if b.Regression {
		values, err = targets(y, n)
	} else {
		labels, k, err = classLabels(y, n)
	}
	if err != nil {
		return errors.WithMessage(err, "ensemble: Bagging")
	}
	w, err := checkWeights(sampleWeight, n)
	if err != nil {
		return errors.WithMessage(err, "ensemble: Bagging")
	}
	maxS, err := resolveCount("MaxSamples", b.MaxSamples, n, false)
	if err != nil {
		return err
	}
	d, maxF := 0, 0
	subspace := b.MaxFeatures != 0 || b.BootstrapFeatures
	if subspace {
		if x.Dims() != 2 {
			return errors.Wrapf(ErrInput, "ensemble: Bagging with MaxFeatures or BootstrapFeatures needs x of shape (n, features), got %v", x.Shape())
		}
		d = x.Shape()[1]
		if maxF, err = resolveCount("MaxFeatures", b.MaxFeatures, d, true); err != nil {
			return err
		}
	}

	fit := &bagFit{members: make([]*bagMember, b.Members), classes: k, features: d}
	oobParts := make([][][]float64, b.Members) // per member: (n, k or 1) rows, nil where in bag
	prog := &progress{w: b.Progress}
	errs := parallel(ctx, b.Members, b.Workers, func(i int) error {
		start := time.Now()
		rng := memberRand(b.Seed, i, 0)
		mem := &bagMember{}
		if subspace {
			mem.features = make([]int, maxF)
			if b.BootstrapFeatures {
				for j := range mem.features {
					mem.features[j] = rng.IntN(d)
				}
			} else {
				copy(mem.features, rng.Perm(d)[:maxF])
			}
		}
		mem.samples = make([]int, maxS)
		if b.NoBootstrap {
			copy(mem.samples, rng.Perm(n)[:maxS])
		} else {
			for j := range mem.samples {
				mem.samples[j] = rng.IntN(n)
			}
		}
		xi, err := mem.input(x, mem.samples)
		if err != nil {
			return err
		}
		var yi *tensor.Dense
		if b.Regression {
			v := make([]float64, maxS)
			for j, s := range mem.samples {
				v[j] = values[s]
			}
			yi = vec(v)
		} else {
			l := make([]int, maxS)
			for j, s := range mem.samples {
				l[j] = labels[s]
			}
			yi = labelTensor(l)
		}
		var wi []float64
		if w != nil {
			wi = make([]float64, maxS)
			sum := 0.0
			for j, s := range mem.samples {
				wi[j] = w[s]
				sum += w[s]
			}
			if sum == 0 {
				return errors.Wrap(ErrZeroWeights, "ensemble: every sample this member drew has weight 0")
			}
		}
		l, err := newLearner(b.New, memberSeed(b.Seed, i))
		if err != nil {
			return err
		}
		if err := fitLearner(ctx, l, xi, yi, wi); err != nil {
			return err
		}
		mem.learner = l
		if b.OOBScore {
			if oobParts[i], err = b.memberOOB(mem, x, n, k); err != nil {
				return errors.WithMessage(err, "out-of-bag prediction")
			}
		}
		fit.members[i] = mem
		prog.printf("bagging: member %d/%d trained on %d samples in %.2fs", i+1, b.Members, maxS, time.Since(start).Seconds())
		return nil
	})
	b.fit = fit
	fe := &FitError{}
	for i, err := range errs {
		if err == nil {
			fe.Trained++
			continue
		}
		fit.members[i] = nil
		fe.Failed = append(fe.Failed, &MemberError{Ensemble: "bagging", Member: i, Fold: -1, Err: err})
		prog.printf("bagging: member %d/%d failed: %v", i+1, b.Members, err)
	}
	if err := ctx.Err(); err != nil {
		return errors.Wrapf(err, "ensemble: Bagging stopped with %d of %d members trained", fe.Trained, b.Members)
	}
	if b.OOBScore && fe.Trained > 0 {
		fit.oob = b.oobScore(oobParts, labels, values, k)
	}
	if len(fe.Failed) > 0 {
		return fe
	}
	return nil
}

// input returns x's rows (all if rows is nil) and the member's features.
func (m *bagMember) input(x *tensor.Dense, rowIdx []int) (*tensor.Dense, error) {
	var err error
	if rowIdx != nil {
		if x, err = rows(x, rowIdx); err != nil {
			return nil, err
		}
	}
	if m.features != nil {
		return columns(x, m.features)
	}
	return x, nil
}

// memberOOB returns the member's predictions for the samples it did not
// draw: (n, k) votes or (n, 1) values, nil rows for samples in its bag.
func (b *Bagging) memberOOB(m *bagMember, x *tensor.Dense, n, k int) ([][]float64, error) {
	inBag := make([]bool, n)
	for _, s := range m.samples {
		inBag[s] = true
	}
	var out []int
	for i := 0; i < n; i++ {
		if !inBag[i] {
			out = append(out, i)
		}
	}
	parts := make([][]float64, n)
	if len(out) == 0 {
		return parts, nil
	}
	xo, err := m.input(x, out)
	if err != nil {
		return nil, err
	}
	var rowsOut [][]float64
	if b.Regression {
		p, err := m.learner.Predict(xo)
		if err != nil {
			return nil, err
		}
		v, err := predictions(p, len(out), "Predict")
		if err != nil {
			return nil, err
		}
		for _, f := range v {
			rowsOut = append(rowsOut, []float64{f})
		}
	} else if rowsOut, err = classVotes(m.learner, xo, len(out), k, b.Voting); err != nil {
		return nil, err
	}
	for j, i := range out {
		parts[i] = rowsOut[j]
	}
	return parts, nil
}

// oobScore combines the members' out-of-bag predictions as scikit-learn's
// _set_oob_score: summed votes (argmax; a sample never out of bag counts as
// class 0 and has a NaN decision row), or the mean value (0 for a sample
// never out of bag) scored by R².
func (b *Bagging) oobScore(parts [][][]float64, labels []int, values []float64, k int) *oobResult {
	n := len(labels) + len(values)
	width := k
	if b.Regression {
		width = 1
	}
	sum := zeros(n, width)
	count := make([]float64, n)
	for _, p := range parts {
		if p == nil {
			continue
		}
		for i, r := range p {
			if r != nil {
				addRows(sum[i:i+1], [][]float64{r}, 1)
				count[i]++
			}
		}
	}
	if b.Regression {
		pred := make([]float64, n)
		for i := range pred {
			pred[i] = sum[i][0] / math.Max(count[i], 1)
		}
		return &oobResult{score: r2(values, pred), decision: vec(pred)}
	}
	pred := argmaxRows(sum)
	truth := make([]float64, n)
	for i, l := range labels {
		truth[i] = float64(l)
	}
	dec := make([][]float64, n)
	for i, r := range sum {
		total := 0.0
		for _, v := range r {
			total += v
		}
		dec[i] = make([]float64, k)
		for j, v := range r {
			dec[i][j] = v / total // NaN when never out of bag, as scikit-learn
		}
	}
	return &oobResult{score: accuracy(truth, pred), decision: rowsTensor(dec, k)}
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

// Learners returns the members' learners in member order, nil for members
// that failed (nil before Fit).
func (b *Bagging) Learners() []Learner {
	if b.fit == nil {
		return nil
	}
	out := make([]Learner, len(b.fit.members))
	for i, m := range b.fit.members {
		if m != nil {
			out[i] = m.learner
		}
	}
	return out
}

// MemberSamples returns the rows member i trained on (repeated as drawn)
// and its features (nil for all), or nils if it did not train.
func (b *Bagging) MemberSamples(i int) (rows, features []int) {
	if b.fit == nil || i < 0 || i >= len(b.fit.members) || b.fit.members[i] == nil {
		return nil, nil
	}
	m := b.fit.members[i]
	return append([]int(nil), m.samples...), append([]int(nil), m.features...)
}

// trained returns the members that trained, or ErrNotFitted.
func (b *Bagging) trained() ([]*bagMember, error) {
	if b.fit == nil {
		return nil, errors.Wrap(ErrNotFitted, "ensemble: Bagging")
	}
	var ms []*bagMember
	for _, m := range b.fit.members {
		if m != nil {
			ms = append(ms, m)
		}
	}
	if len(ms) == 0 {
		return nil, errors.Wrap(ErrNotFitted, "ensemble: Bagging has no trained member")
	}
	return ms, nil
}

// memberOutputs runs every trained member on x in parallel: (n, k) votes
// or (n, 1) values each, in member order.
func (b *Bagging) memberOutputs(x *tensor.Dense) ([][][]float64, int, error) {
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
	outs := make([][][]float64, len(ms))
	errs := parallel(context.Background(), len(ms), b.Workers, func(i int) error {
		xi, err := ms[i].input(x, nil)
		if err != nil {
			return err
		}
		if !b.Regression {
			outs[i], err = classVotes(ms[i].learner, xi, n, b.fit.classes, b.Voting)
			return err
		}
		p, err := ms[i].learner.Predict(xi)
		if err != nil {
			return err
		}
		v, err := predictions(p, n, "Predict")
		outs[i] = [][]float64{v}
		return err
	})
	for i, err := range errs {
		if err != nil {
			return nil, 0, &MemberError{Ensemble: "bagging", Member: i, Fold: -1, Err: err}
		}
	}
	return outs, n, nil
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
	return rowsTensor(p, b.fit.classes), nil
}

func (b *Bagging) proba(x *tensor.Dense) ([][]float64, error) {
	outs, n, err := b.memberOutputs(x)
	if err != nil {
		return nil, err
	}
	sum := zeros(n, b.fit.classes)
	for _, o := range outs {
		addRows(sum, o, 1/float64(len(outs)))
	}
	return sum, nil
}

// Predict returns the most probable class (the smallest on ties) or the
// mean of the members' values, as a float64 tensor (n).
func (b *Bagging) Predict(x *tensor.Dense) (*tensor.Dense, error) {
	if !b.Regression {
		p, err := b.proba(x)
		if err != nil {
			return nil, err
		}
		return vec(argmaxRows(p)), nil
	}
	outs, n, err := b.memberOutputs(x)
	if err != nil {
		return nil, err
	}
	mean := make([]float64, n)
	for _, o := range outs {
		for i, v := range o[0] {
			mean[i] += v / float64(len(outs))
		}
	}
	return vec(mean), nil
}

// Score returns the accuracy (classification) or R² (regression) of the
// predictions of x against y.
func (b *Bagging) Score(x, y *tensor.Dense) (float64, error) {
	return score(b, x, y, b.Regression)
}
