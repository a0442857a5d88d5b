package ensemble

import (
	"context"
	"io"
	"math"
	"sort"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// AdaBoost trains learners one after another, each on the samples its
// predecessors got wrong, and combines them by weighted vote (SAMME,
// scikit-learn's AdaBoostClassifier(algorithm="SAMME")) or weighted median
// (AdaBoost.R2 of Drucker 1997, scikit-learn's AdaBoostRegressor).
//
// Classification (SAMME): with sample weights w summing to 1, round m fits
// a learner, measures its weighted error e = Σ w·[wrong], and gives it the
// weight α = LearningRate·(log((1−e)/e) + log(K−1)) for K classes; the
// weights of the samples it got wrong are multiplied by exp(α) and all
// renormalised. A round with e = 0 gets α = 1 and ends boosting; a round
// with e ≥ 1 − 1/K is discarded and ends it. The learner sees the weights
// (Sampling "weights", the default), or a sample of n rows drawn with
// those probabilities (Sampling "resample", used automatically for a
// learner whose Fit returns ErrNoSampleWeight).
//
// Regression (R2): round m draws n rows with probabilities w (Sampling
// "resample", the default) and fits a learner, whose losses
// L = |y − ŷ| / max |y − ŷ| (Loss "linear"; squared for "square",
// 1 − exp(−L) for "exponential") give its error ē = Σ w·L; β = ē/(1−ē),
// its weight is LearningRate·log(1/β) and the sample weights are
// multiplied by β^(LearningRate·(1−L)). Rounds stop when ē = 0 or a round
// has ē ≥ 0.5 (that round is discarded unless it is the only one).
// Prediction is the weighted median of the learners' predictions.
type AdaBoost struct {
	// New makes each round's learner; if nil, Learner describes it as
	// data; if both are nil, a decision stump for classification and a
	// regression tree of depth 3 for regression (scikit-learn's
	// defaults).
	New Factory `json:"-"`
	// Learner describes the rounds' learner as a registered kind with
	// JSON parameters (used when New is nil).
	Learner *Spec `json:"learner,omitempty"`
	// Rounds is the number of learners at most (default 50).
	Rounds int `json:"rounds,omitempty"`
	// LearningRate shrinks each learner's weight (default 1).
	LearningRate float64 `json:"learning_rate,omitempty"`
	// Regression runs AdaBoost.R2; by default y holds class labels.
	Regression bool `json:"regression,omitempty"`
	// Loss is AdaBoost.R2's loss: "linear" (default), "square" or
	// "exponential".
	Loss string `json:"loss,omitempty"`
	// Sampling is how a learner sees the sample weights: "weights" (the
	// default for classification) passes them to its Fit, "resample" (the
	// default for regression) fits it on n rows drawn with probabilities
	// proportional to them.
	Sampling string `json:"sampling,omitempty"`
	// Seed makes the ensemble repeatable: round m's learner gets the m-th
	// of numpy's RandomState(Seed).randint(2³¹−1) draws and resampling
	// draws from the same stream, as scikit-learn's random_state.
	Seed uint64 `json:"seed"`
	// Progress receives one line per round; nil is silent.
	Progress io.Writer `json:"-"`

	fit *boostFit
}

type boostFit struct {
	learners      []Learner
	weights       []float64 // estimator weights
	errors        []float64 // estimator errors
	sampleWeights [][]float64
	classes       []float64 // nil for regression
	features      []int     // trailing shape of x
}

var (
	_ Classifier     = (*AdaBoost)(nil)
	_ ContextLearner = (*AdaBoost)(nil)
)

// Clone returns an untrained copy with the given seed (a Factory).
func (a *AdaBoost) Clone(seed uint64) (Learner, error) {
	c := *a
	c.Seed, c.fit = seed, nil
	return &c, nil
}

// Fit boosts on x, y with optional initial sample weights.
func (a *AdaBoost) Fit(x, y *tensor.Dense, sampleWeight []float64) error {
	return a.FitContext(context.Background(), x, y, sampleWeight)
}

func (a *AdaBoost) settings() (rounds int, lr float64, sampling string, err error) {
	rounds, lr, sampling = a.Rounds, a.LearningRate, a.Sampling
	if rounds == 0 {
		rounds = 50
	}
	if lr == 0 {
		lr = 1
	}
	if sampling == "" {
		sampling = "weights"
		if a.Regression {
			sampling = "resample"
		}
	}
	switch {
	case rounds < 0:
		err = errors.Wrapf(ErrConfig, "ensemble: AdaBoost Rounds is %d, want > 0", a.Rounds)
	case !(lr > 0) || math.IsInf(lr, 0):
		err = errors.Wrapf(ErrConfig, "ensemble: AdaBoost LearningRate is %v, want > 0", a.LearningRate)
	case sampling != "weights" && sampling != "resample":
		err = errors.Wrapf(ErrConfig, "ensemble: AdaBoost Sampling %q: want \"weights\" or \"resample\"", a.Sampling)
	case a.Regression && a.Loss != "" && a.Loss != "linear" && a.Loss != "square" && a.Loss != "exponential":
		err = errors.Wrapf(ErrConfig, "ensemble: AdaBoost Loss %q: want \"linear\", \"square\" or \"exponential\"", a.Loss)
	case !a.Regression && a.Loss != "":
		err = errors.Wrapf(ErrConfig, "ensemble: AdaBoost Loss %q is for regression only", a.Loss)
	}
	return
}

// FitContext is Fit, stopping between rounds (or inside a learner that
// takes a context) once ctx is done; the rounds done are kept.
func (a *AdaBoost) FitContext(ctx context.Context, x, y *tensor.Dense, sampleWeight []float64) error {
	a.fit = nil
	rounds, lr, sampling, err := a.settings()
	if err != nil {
		return err
	}
	def := Stump().Clone
	if a.Regression {
		def = (&Tree{Regression: true, MaxDepth: 3}).Clone
	}
	newL, _ := factoryOf("AdaBoost", a.New, a.Learner, def)
	n, err := samples(x)
	if err != nil {
		return errors.WithMessage(err, "ensemble: AdaBoost")
	}
	var classes []float64
	var labels []int
	if !a.Regression {
		if classes, labels, err = classLabels(y, n); err != nil {
			return errors.WithMessage(err, "ensemble: AdaBoost")
		}
	}
	data, err := newMemberData(x, y, sampleWeight, classes)
	if err != nil {
		return errors.WithMessage(err, "ensemble: AdaBoost")
	}
	w := normalized(data.w, n)
	zero := make([]bool, n)
	for i, v := range w {
		zero[i] = v == 0
	}
	k := len(classes)
	fit := &boostFit{classes: classes, features: x.Shape()[1:].Clone()}
	a.fit = fit
	prog := &progress{w: a.Progress}
	yt := data.target(nil)
	rs := newRandomState(a.Seed)
	for m := 0; m < rounds; m++ {
		if err := ctx.Err(); err != nil {
			return errors.Wrapf(err, "ensemble: AdaBoost stopped after %d rounds", len(fit.learners))
		}
		// scikit-learn keeps weights away from 0 (issue #20320), except
		// those that were 0 from the start.
		for i := range w {
			if zero[i] {
				w[i] = 0
			} else if w[i] < epsilon {
				w[i] = epsilon
			}
		}
		l, pred, err := a.round(ctx, newL, rs, data, yt, w, sampling)
		if err != nil {
			if len(fit.learners) == 0 {
				a.fit = nil
			}
			return &MemberError{Ensemble: "adaboost", Member: m, Fold: -1, Err: err}
		}
		var next []float64
		var alpha, e float64
		if a.Regression {
			next, alpha, e = a.boostR2(w, data.values, pred, lr, m == rounds-1)
		} else {
			next, alpha, e = boostSAMME(w, labels, pred, k, lr, m == rounds-1)
		}
		if next == nil && alpha < 0 { // discarded
			prog.printf("adaboost: round %d/%d error %.4f: no better than chance, stopping", m+1, rounds, e)
			if len(fit.learners) == 0 {
				if !a.Regression {
					a.fit = nil
					return errors.Wrapf(ErrWorseThanRandom, "ensemble: AdaBoost's first learner has error %v ≥ %v", e, 1-1/float64(k))
				}
				// scikit-learn keeps a regressor's only learner (weight 0).
				fit.learners, fit.weights, fit.errors = append(fit.learners, l), append(fit.weights, 0), append(fit.errors, e)
				fit.sampleWeights = append(fit.sampleWeights, append([]float64(nil), w...))
			}
			break
		}
		fit.learners = append(fit.learners, l)
		fit.weights = append(fit.weights, alpha)
		fit.errors = append(fit.errors, e)
		fit.sampleWeights = append(fit.sampleWeights, append([]float64(nil), w...))
		prog.printf("adaboost: round %d/%d error %.4f weight %.4f", m+1, rounds, e, alpha)
		if e == 0 {
			break
		}
		sum := pairwiseSum(next)
		if math.IsNaN(sum) || math.IsInf(sum, 0) || sum <= 0 {
			break
		}
		for i := range next {
			next[i] /= sum
		}
		w = next
	}
	return nil
}

// round fits one round's learner on the weighted data and returns its
// predictions on all of x (class indices or values). Its seed is the next
// randint(2³¹−1) of rs, as scikit-learn's _make_estimator draws it; a
// resampled round then draws its rows from rs (numpy's choice with p).
func (a *AdaBoost) round(ctx context.Context, newL Factory, rs *randomState, d *memberData, y *tensor.Dense, w []float64, sampling string) (Learner, []float64, error) {
	l, err := newLearner(newL, uint64(rs.randint(maxInt32)))
	if err != nil {
		return nil, nil, err
	}
	if sampling == "weights" {
		if t, ok := l.(*Tree); ok {
			td, err := d.trees()
			if err == nil {
				err = t.check()
			}
			if err == nil {
				err = t.fitData(ctx, td, y, w, splitterSeed(t.Seed))
			}
			if err != nil {
				return nil, nil, err
			}
		} else {
			err = fitLearner(ctx, l, d.x, y, w)
			if errors.Is(err, ErrNoSampleWeight) {
				sampling = "resample"
			} else if err != nil {
				return nil, nil, err
			}
		}
	}
	if sampling == "resample" {
		idx := weightedDraw(rs, w, len(w))
		xr, err := rows(d.x, idx)
		if err != nil {
			return nil, nil, err
		}
		yr, err := rows(y, idx)
		if err != nil {
			return nil, nil, err
		}
		if err := fitLearner(ctx, l, xr, yr, nil); err != nil {
			return nil, nil, err
		}
	}
	var pred []float64
	if t, ok := l.(*Tree); ok && sampling == "weights" {
		pred = t.trainPredictions(d.n)
	}
	if pred == nil {
		p, err := l.Predict(d.x)
		if err != nil {
			return nil, nil, err
		}
		if pred, err = predictions(p, len(w), "Predict"); err != nil {
			return nil, nil, err
		}
	}
	return l, pred, nil
}

// weightedDraw draws n indices with replacement, with probabilities w,
// as numpy's RandomState.choice(n, n, p=w): the cumulative sums
// normalised by the last, searched for uniform draws (side "right").
func weightedDraw(rs *randomState, w []float64, n int) []int {
	cdf := make([]float64, len(w))
	sum := 0.0
	for i, v := range w {
		sum += v
		cdf[i] = sum
	}
	for i := range cdf {
		cdf[i] /= sum
	}
	out := make([]int, n)
	for i := range out {
		u := rs.float64()
		out[i] = sort.Search(len(cdf), func(j int) bool { return cdf[j] > u })
		if out[i] == len(cdf) {
			out[i] = len(cdf) - 1
		}
	}
	return out
}

// boostSAMME is scikit-learn's _boost_discrete: the new sample weights
// (unnormalised; nil on the last round), the estimator weight α and error
// e. A learner no better than chance gives (nil, −1, e).
func boostSAMME(w []float64, labels []int, pred []float64, k int, lr float64, last bool) ([]float64, float64, float64) {
	wrong := make([]float64, len(w))
	for i, p := range pred {
		if p != float64(labels[i]) {
			wrong[i] = w[i]
		}
	}
	e := pairwiseSum(wrong) / pairwiseSum(w) // numpy's average
	if e <= 0 {
		return w, 1, 0
	}
	if e >= 1-1/float64(k) {
		return nil, -1, e
	}
	alpha := lr * (math.Log((1-e)/e) + math.Log(float64(k)-1))
	if last {
		return w, alpha, e
	}
	next := make([]float64, len(w))
	for i, p := range pred {
		// exp(log w + α·[wrong]) for every sample, as scikit-learn.
		l := math.Log(w[i])
		if p != float64(labels[i]) && w[i] > 0 {
			l += alpha
		}
		next[i] = math.Exp(l)
	}
	return next, alpha, e
}

// boostR2 is scikit-learn's AdaBoostRegressor._boost after the fit.
func (a *AdaBoost) boostR2(w, y, pred []float64, lr float64, last bool) ([]float64, float64, float64) {
	loss := make([]float64, len(y))
	maxErr := 0.0
	for i := range y {
		if w[i] > 0 {
			loss[i] = math.Abs(pred[i] - y[i])
			maxErr = math.Max(maxErr, loss[i])
		}
	}
	var terms []float64
	for i := range loss {
		if w[i] <= 0 {
			continue
		}
		if maxErr != 0 {
			loss[i] /= maxErr
		}
		switch a.Loss {
		case "square":
			loss[i] *= loss[i]
		case "exponential":
			loss[i] = 1 - math.Exp(-loss[i])
		}
		terms = append(terms, w[i]*loss[i])
	}
	e := pairwiseSum(terms)
	if e <= 0 {
		return w, 1, 0
	}
	if e >= 0.5 {
		return nil, -1, e
	}
	beta := e / (1 - e)
	alpha := lr * math.Log(1/beta)
	if last {
		return w, alpha, e
	}
	next := make([]float64, len(w))
	for i := range w {
		next[i] = w[i]
		if w[i] > 0 {
			next[i] = w[i] * math.Pow(beta, (1-loss[i])*lr)
		}
	}
	return next, alpha, e
}

func (a *AdaBoost) fitted() (*boostFit, error) {
	if a.fit == nil || len(a.fit.learners) == 0 {
		return nil, errors.Wrap(ErrNotFitted, "ensemble: AdaBoost")
	}
	return a.fit, nil
}

// EstimatorWeights returns each round's learner weight α (nil before Fit).
func (a *AdaBoost) EstimatorWeights() []float64 {
	if a.fit == nil {
		return nil
	}
	return append([]float64(nil), a.fit.weights...)
}

// EstimatorErrors returns each round's weighted error (nil before Fit).
func (a *AdaBoost) EstimatorErrors() []float64 {
	if a.fit == nil {
		return nil
	}
	return append([]float64(nil), a.fit.errors...)
}

// SampleWeights returns the normalised sample weights round m's learner
// was trained with (or resampled by).
func (a *AdaBoost) SampleWeights(m int) []float64 {
	if a.fit == nil || m < 0 || m >= len(a.fit.sampleWeights) {
		return nil
	}
	return append([]float64(nil), a.fit.sampleWeights[m]...)
}

// Learners returns the rounds' learners.
func (a *AdaBoost) Learners() []Learner {
	if a.fit == nil {
		return nil
	}
	return append([]Learner(nil), a.fit.learners...)
}

// staged calls yield after each round with the ensemble's output so far on
// x: SAMME's decision rows (n, K) (for K = 2, one column: the score of
// class 1) or R2's weighted medians (n, 1). final computes the decision as
// scikit-learn's decision_function does (normalised by the sum of all the
// estimator weights) rather than as its staged_decision_function.
func (a *AdaBoost) staged(x *tensor.Dense, final bool, yield func(m int, out [][]float64) bool) error {
	fit, err := a.fitted()
	if err != nil {
		return err
	}
	n, err := samples(x)
	if err != nil {
		return errors.WithMessage(err, "ensemble: AdaBoost")
	}
	if !x.Shape()[1:].Eq(tensor.Shape(fit.features)) {
		return errors.Wrapf(ErrInput, "ensemble: AdaBoost was fitted on samples of shape %v, x has shape %v", fit.features, x.Shape())
	}
	preds := make([][]float64, len(fit.learners))
	for m, l := range fit.learners {
		p, err := l.Predict(x)
		if err != nil {
			return &MemberError{Ensemble: "adaboost", Member: m, Fold: -1, Err: err}
		}
		if preds[m], err = predictions(p, n, "Predict"); err != nil {
			return &MemberError{Ensemble: "adaboost", Member: m, Fold: -1, Err: err}
		}
	}
	if a.Regression {
		for m := range preds {
			if !yield(m, weightedMedian(preds[:m+1], fit.weights[:m+1], n)) {
				return nil
			}
		}
		return nil
	}
	k := len(fit.classes)
	sum := zeros(n, k)
	norm := 0.0
	for m, p := range preds {
		norm += fit.weights[m]
		for i, c := range p {
			if c >= 0 && int(c) < k {
				sum[i][int(c)] += fit.weights[m]
			}
		}
		if final && m < len(preds)-1 {
			continue
		}
		if final {
			norm = pairwiseSum(fit.weights)
		}
		out := make([][]float64, n)
		for i, r := range sum {
			if k == 2 {
				out[i] = []float64{-(r[0] / norm) + r[1]/norm}
				continue
			}
			out[i] = make([]float64, k)
			for j, v := range r {
				out[i][j] = v / norm
			}
		}
		if !yield(m, out) {
			return nil
		}
	}
	return nil
}

// weightedMedian is scikit-learn's _get_median_predict: for each sample,
// the prediction of the learner at which the cumulative weight of the
// learners sorted by prediction reaches half the total.
func weightedMedian(preds [][]float64, weights []float64, n int) [][]float64 {
	out := make([][]float64, n)
	order := make([]int, len(preds))
	for i := 0; i < n; i++ {
		for m := range order {
			order[m] = m
		}
		sort.SliceStable(order, func(a, b int) bool { return preds[order[a]][i] < preds[order[b]][i] })
		total := 0.0
		for _, m := range order {
			total += weights[m]
		}
		cum, pick := 0.0, order[len(order)-1]
		for _, m := range order {
			cum += weights[m]
			if cum >= 0.5*total {
				pick = m
				break
			}
		}
		out[i] = []float64{preds[pick][i]}
	}
	return out
}

// DecisionFunction returns SAMME's decision (n, classes), or (n) for two
// classes (positive for class 1), as scikit-learn's decision_function.
func (a *AdaBoost) DecisionFunction(x *tensor.Dense) (*tensor.Dense, error) {
	if a.Regression {
		return nil, errors.Wrap(ErrConfig, "ensemble: DecisionFunction of a regression AdaBoost")
	}
	var last [][]float64
	if err := a.staged(x, true, func(_ int, out [][]float64) bool { last = out; return true }); err != nil {
		return nil, err
	}
	return decisionTensor(last), nil
}

func decisionTensor(rows [][]float64) *tensor.Dense {
	if len(rows[0]) == 1 {
		v := make([]float64, len(rows))
		for i, r := range rows {
			v[i] = r[0]
		}
		return vec(v)
	}
	return rowsTensor(rows, len(rows[0]))
}

// decide turns a decision (or a median) into predictions.
func (a *AdaBoost) decide(out [][]float64) []float64 {
	if a.Regression {
		v := make([]float64, len(out))
		for i, r := range out {
			v[i] = r[0]
		}
		return v
	}
	if len(out[0]) == 1 {
		v := make([]float64, len(out))
		for i, r := range out {
			v[i] = a.fit.classes[0]
			if r[0] > 0 {
				v[i] = a.fit.classes[1]
			}
		}
		return v
	}
	return decodeClasses(a.fit.classes, argmaxRows(out))
}

// Predict returns the weighted vote (SAMME) or the weighted median (R2), as
// a float64 tensor (n).
func (a *AdaBoost) Predict(x *tensor.Dense) (*tensor.Dense, error) {
	var last [][]float64
	if err := a.staged(x, true, func(_ int, out [][]float64) bool { last = out; return true }); err != nil {
		return nil, err
	}
	return vec(a.decide(last)), nil
}

// PredictProba returns class probabilities from SAMME's decision d, as
// scikit-learn: softmax(d/(K−1)), or softmax([−d, d]/2) for two classes.
func (a *AdaBoost) PredictProba(x *tensor.Dense) (*tensor.Dense, error) {
	if a.Regression {
		return nil, errors.Wrap(ErrNoProba, "ensemble: a regression AdaBoost")
	}
	var last [][]float64
	if err := a.staged(x, true, func(_ int, out [][]float64) bool { last = out; return true }); err != nil {
		return nil, err
	}
	k := len(a.fit.classes)
	probs := make([][]float64, len(last))
	for i, r := range last {
		if k == 2 {
			probs[i] = softmax([]float64{-r[0] / 2, r[0] / 2})
			continue
		}
		d := make([]float64, k)
		for j, v := range r {
			d[j] = v / float64(k-1)
		}
		probs[i] = softmax(d)
	}
	return rowsTensor(probs, k), nil
}

// StagedPredict returns the predictions after each round, as
// scikit-learn's staged_predict.
func (a *AdaBoost) StagedPredict(x *tensor.Dense) ([]*tensor.Dense, error) {
	var out []*tensor.Dense
	err := a.staged(x, false, func(_ int, d [][]float64) bool {
		out = append(out, vec(a.decide(d)))
		return true
	})
	return out, err
}

// StagedScore returns the accuracy or R² on x, y after each round, as
// scikit-learn's staged_score.
func (a *AdaBoost) StagedScore(x, y *tensor.Dense) ([]float64, error) {
	preds, err := a.StagedPredict(x)
	if err != nil {
		return nil, err
	}
	return stagedScores(preds, y, a.Regression)
}

func stagedScores(preds []*tensor.Dense, y *tensor.Dense, regression bool) ([]float64, error) {
	out := make([]float64, len(preds))
	for i, p := range preds {
		var err error
		if regression {
			out[i], err = R2(y, p)
		} else {
			out[i], err = Accuracy(y, p)
		}
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Score returns the accuracy (classification) or R² (regression) on x, y.
func (a *AdaBoost) Score(x, y *tensor.Dense) (float64, error) {
	return score(a, x, y, a.Regression)
}

// softmax of v, stably.
func softmax(v []float64) []float64 {
	m := v[0]
	for _, x := range v {
		m = math.Max(m, x)
	}
	out := make([]float64, len(v))
	sum := 0.0
	for i, x := range v {
		out[i] = math.Exp(x - m)
		sum += out[i]
	}
	for i := range out {
		out[i] /= sum
	}
	return out
}

// ClassLabels returns the class labels (nil for regression or before
// Fit), in the order of PredictProba's columns.
func (a *AdaBoost) ClassLabels() []float64 {
	if a.fit == nil {
		return nil
	}
	return a.fit.classes
}
