package ensemble

import (
	"context"
	"io"
	"math"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// GradientBoosting fits an additive model stage by stage, each stage a
// regressor fitted to the negative gradient of the loss: scikit-learn's
// GradientBoostingRegressor (Loss "squared_error") and
// GradientBoostingClassifier (Loss "log_loss": one regressor per round for
// two classes, one per class per round for more, on the softmax's
// gradient).
//
// The raw prediction F starts at the loss's best constant (the weighted
// mean, or the log-odds / log class frequencies) and each round adds
// LearningRate·h(x). With the default learner, a regression Tree of depth
// 3 with the friedman_mse criterion, the leaves of h are then set as
// scikit-learn sets them: the mean residual for squared error, one Newton
// step Σw·r / Σw·p(1−p) for log-loss (times (K−1)/K for K > 2 classes).
// Any other regressor (an MLP regressor, say) adds its predictions of the
// negative gradient times the Newton step along them (Friedman's line
// search).
//
// Randomness is scikit-learn's for random_state = Seed: one numpy
// RandomState(Seed) gives, round after round, the Subsample mask (when
// Subsample < 1) and then each tree's splitter seed, so the trees equal
// scikit-learn's, ties included. The columns of x are sorted once per Fit
// and shared by every tree.
type GradientBoosting struct {
	// New makes the regressors; if nil, Learner describes them as data;
	// if both are nil, &Tree{Regression: true, Criterion: "friedman_mse",
	// MaxDepth: 3}, scikit-learn's default.
	New Factory `json:"-"`
	// Learner describes the regressors as a registered kind with JSON
	// parameters (used when New is nil).
	Learner *Spec `json:"learner,omitempty"`
	// Rounds is the number of boosting stages (default 100).
	Rounds int `json:"rounds,omitempty"`
	// LearningRate shrinks each stage (default 0.1).
	LearningRate float64 `json:"learning_rate,omitempty"`
	// Subsample is the fraction of the samples each round fits, in (0, 1]
	// (default 1).
	Subsample float64 `json:"subsample,omitempty"`
	// Regression boosts the squared error on numeric y; by default y holds
	// class labels and the loss is the log-loss.
	Regression bool `json:"regression,omitempty"`
	// Loss is "squared_error" (regression) or "log_loss"
	// (classification); "" picks the one that fits Regression.
	Loss string `json:"loss,omitempty"`
	// Seed makes the ensemble repeatable (subsampling, the learners'
	// seeds).
	Seed uint64 `json:"seed"`
	// Progress receives one line per round with the training loss; nil is
	// silent.
	Progress io.Writer `json:"-"`

	fit *gbFit
}

type gbFit struct {
	init      []float64   // initial raw prediction per column
	stages    [][]Learner // [round][column]
	steps     [][]float64 // line-search step of each stage learner (1 for trees)
	trainLoss []float64
	classes   []float64 // nil for regression
	cols      int       // raw prediction columns: 1, or classes for K > 2
	features  []int
	lr        float64
}

var (
	_ Classifier     = (*GradientBoosting)(nil)
	_ ContextLearner = (*GradientBoosting)(nil)
)

// Clone returns an untrained copy with the given seed (a Factory).
func (g *GradientBoosting) Clone(seed uint64) (Learner, error) {
	c := *g
	c.Seed, c.fit = seed, nil
	return &c, nil
}

// Fit boosts on x, y with optional sample weights.
func (g *GradientBoosting) Fit(x, y *tensor.Dense, sampleWeight []float64) error {
	return g.FitContext(context.Background(), x, y, sampleWeight)
}

// probEps is the clipping of scikit-learn's prior estimates
// (np.finfo(np.float32).eps).
const probEps = 1.1920928955078125e-07

// FitContext is Fit, stopping between rounds (or inside a learner that
// takes a context) once ctx is done; the rounds done are kept.
func (g *GradientBoosting) FitContext(ctx context.Context, x, y *tensor.Dense, sampleWeight []float64) error {
	g.fit = nil
	rounds, lr, sub := g.Rounds, g.LearningRate, g.Subsample
	if rounds == 0 {
		rounds = 100
	}
	if lr == 0 {
		lr = 0.1
	}
	if sub == 0 {
		sub = 1
	}
	switch {
	case rounds < 0:
		return errors.Wrapf(ErrConfig, "ensemble: GradientBoosting Rounds is %d, want > 0", g.Rounds)
	case !(lr > 0) || math.IsInf(lr, 0):
		return errors.Wrapf(ErrConfig, "ensemble: GradientBoosting LearningRate is %v, want > 0", g.LearningRate)
	case !(sub > 0 && sub <= 1):
		return errors.Wrapf(ErrConfig, "ensemble: GradientBoosting Subsample is %v, want a fraction in (0, 1]", g.Subsample)
	case g.Loss != "" && g.Loss != "squared_error" && g.Loss != "log_loss",
		g.Loss == "squared_error" && !g.Regression, g.Loss == "log_loss" && g.Regression:
		return errors.Wrapf(ErrConfig, "ensemble: GradientBoosting Loss %q: want \"squared_error\" with Regression or \"log_loss\" without", g.Loss)
	}
	newL, _ := factoryOf("GradientBoosting", g.New, g.Learner, (&Tree{Regression: true, Criterion: "friedman_mse", MaxDepth: 3}).Clone)
	n, err := samples(x)
	if err != nil {
		return errors.WithMessage(err, "ensemble: GradientBoosting")
	}
	var classes []float64
	var labels []int
	if !g.Regression {
		if classes, labels, err = classLabels(y, n); err != nil {
			return errors.WithMessage(err, "ensemble: GradientBoosting")
		}
	}
	data, err := newMemberData(x, y, sampleWeight, classes)
	if err != nil {
		return errors.WithMessage(err, "ensemble: GradientBoosting")
	}
	values := data.values
	w := data.w
	if w == nil {
		w = make([]float64, n)
		for i := range w {
			w[i] = 1
		}
	}
	k := len(classes)
	cols := 1
	if k > 2 {
		cols = k
	}
	fit := &gbFit{classes: classes, cols: cols, features: x.Shape()[1:].Clone(), lr: lr}
	fit.init = g.initRaw(values, labels, w, k)
	raw := make([][]float64, n)
	for i := range raw {
		raw[i] = append([]float64(nil), fit.init...)
	}
	g.fit = fit
	prog := &progress{w: g.Progress}
	nIn := n
	if sub < 1 {
		nIn = int(sub * float64(n))
	}
	rs := newRandomState(g.Seed)
	for m := 0; m < rounds; m++ {
		if err := ctx.Err(); err != nil {
			return errors.Wrapf(err, "ensemble: GradientBoosting stopped after %d rounds", len(fit.stages))
		}
		inBag := seqInts(n)
		if nIn < n {
			inBag = randomSampleMask(rs, n, nIn)
		}
		stage := make([]Learner, cols)
		steps := make([]float64, cols)
		grads := g.negGradient(raw, values, labels, k)
		rawStart := make([][]float64, n)
		for i, r := range raw {
			rawStart[i] = append([]float64(nil), r...)
		}
		for c := 0; c < cols; c++ {
			l, h, step, err := g.stage(ctx, newL, rs, data, grads, rawStart, inBag, w, labels, c, k)
			if err != nil {
				if len(fit.stages) == 0 {
					g.fit = nil
				}
				return &MemberError{Ensemble: "gradient boosting", Member: m, Fold: -1, Err: err}
			}
			for i := range raw {
				raw[i][c] += lr * step * h[i]
			}
			stage[c], steps[c] = l, step
		}
		fit.stages = append(fit.stages, stage)
		fit.steps = append(fit.steps, steps)
		loss := g.loss(raw, values, labels, w, inBag, k)
		fit.trainLoss = append(fit.trainLoss, loss)
		prog.printf("gradient boosting: round %d/%d training loss %.6f", m+1, rounds, loss)
	}
	return nil
}

// randomSampleMask is scikit-learn's _random_sample_mask: nIn of the n
// rows, each kept if u·(n−i) < the number still to keep, for uniform
// draws u of rs. It returns the rows kept, in order.
func randomSampleMask(rs *randomState, n, nIn int) []int {
	u := make([]float64, n)
	for i := range u {
		u[i] = rs.float64()
	}
	out := make([]int, 0, nIn)
	for i := range u {
		if u[i]*float64(n-i) < float64(nIn-len(out)) {
			out = append(out, i)
		}
	}
	return out
}

// stage fits column c's learner of one round to the negative gradient
// over the in-bag rows and returns it, its output on every row and its
// step. Its seed is the next randint(RAND_R_MAX) of rs: a Tree's splitter
// starts from it directly, as scikit-learn's trees of a gradient boosting
// share its RandomState.
func (g *GradientBoosting) stage(ctx context.Context, newL Factory, rs *randomState, d *memberData,
	grads, raw [][]float64, inBag []int, w []float64, labels []int, c, k int) (Learner, []float64, float64, error) {
	draw := uint32(rs.randint(randRMax))
	l, err := newLearner(newL, uint64(draw))
	if err != nil {
		return nil, nil, 0, err
	}
	n := d.n
	if t, ok := l.(*Tree); ok {
		if !t.Regression {
			return nil, nil, 0, errors.Wrap(ErrConfig, "ensemble: GradientBoosting's trees must be regression trees (Regression: true)")
		}
		td, err := d.trees()
		if err != nil {
			return nil, nil, 0, err
		}
		if err := t.check(); err != nil {
			return nil, nil, 0, err
		}
		r := make([]float64, n)
		wIn := make([]float64, n) // scikit-learn: weights times the in-bag mask
		for _, i := range inBag {
			r[i], wIn[i] = grads[i][c], w[i]
		}
		if err := t.fitData(ctx, td, vec(r), wIn, draw); err != nil {
			return nil, nil, 0, err
		}
		if !g.Regression {
			newtonLeaves(t, r, inBag, labels, w, c, k)
		}
		return t, t.columnPredictions(td), 1, nil
	}
	xIn, err := rows(d.x, inBag)
	if err != nil {
		return nil, nil, 0, err
	}
	r := make([]float64, len(inBag))
	wIn := make([]float64, len(inBag))
	for j, i := range inBag {
		r[j], wIn[j] = grads[i][c], w[i]
	}
	if err := fitLearner(ctx, l, xIn, vec(r), wIn); err != nil {
		return nil, nil, 0, err
	}
	p, err := l.Predict(d.x)
	if err != nil {
		return nil, nil, 0, err
	}
	h, err := predictions(p, n, "Predict")
	if err != nil {
		return nil, nil, 0, err
	}
	return l, h, lineSearch(h, grads, raw, inBag, w, c, k, g.Regression), nil
}

func seqInts(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

// initRaw is scikit-learn's initial estimator: the weighted mean, the
// log-odds of class 1, or the log of every class's weighted frequency.
func (g *GradientBoosting) initRaw(values []float64, labels []int, w []float64, k int) []float64 {
	sumW := 0.0
	for _, v := range w {
		sumW += v
	}
	if g.Regression {
		s := 0.0
		for i, v := range values {
			s += w[i] * v
		}
		return []float64{s / sumW}
	}
	freq := make([]float64, k)
	for i, l := range labels {
		freq[l] += w[i] / sumW
	}
	for c := range freq {
		freq[c] = math.Min(math.Max(freq[c], probEps), 1-probEps)
	}
	if k == 2 {
		return []float64{math.Log(freq[1] / (1 - freq[1]))}
	}
	out := make([]float64, k)
	for c, p := range freq {
		out[c] = math.Log(p)
	}
	return out
}

// probabilities of the raw predictions: sigmoid for one column, softmax
// for more.
func rawProba(r []float64) []float64 {
	if len(r) == 1 {
		p := 1 / (1 + math.Exp(-r[0]))
		return []float64{1 - p, p}
	}
	return softmax(r)
}

// negGradient returns −∂loss/∂raw for every sample and column.
func (g *GradientBoosting) negGradient(raw [][]float64, values []float64, labels []int, k int) [][]float64 {
	out := make([][]float64, len(raw))
	for i, r := range raw {
		switch {
		case g.Regression:
			out[i] = []float64{values[i] - r[0]}
		case k == 2:
			p := rawProba(r)[1]
			out[i] = []float64{float64(labels[i]) - p}
		default:
			p := softmax(r)
			out[i] = make([]float64, k)
			for c := range p {
				yc := 0.0
				if labels[i] == c {
					yc = 1
				}
				out[i][c] = yc - p[c]
			}
		}
	}
	return out
}

// newtonLeaves sets every leaf of t to one Newton step of the log-loss
// over the in-bag rows it holds, as scikit-learn's
// _update_terminal_region; resid holds every row's negative gradient.
func newtonLeaves(t *Tree, resid []float64, inBag, labels []int, w []float64, c, k int) {
	// Each leaf's sums are numpy sums over its rows in row order.
	num := make([][]float64, len(t.nodes))
	den := make([][]float64, len(t.nodes))
	for _, i := range inBag {
		leaf := t.trainLeaf[i]
		if leaf < 0 {
			continue // weight 0: in no leaf's sums
		}
		r := resid[i]
		yc := 0.0
		if (k == 2 && labels[i] == 1) || (k > 2 && labels[i] == c) {
			yc = 1
		}
		num[leaf] = append(num[leaf], w[i]*r)
		den[leaf] = append(den[leaf], w[i]*(yc-r)*(1-yc+r))
	}
	scale := 1.0
	if k > 2 {
		scale = float64(k-1) / float64(k)
	}
	for id := range t.nodes {
		if t.nodes[id].Left >= 0 {
			continue
		}
		v := 0.0
		if d := pairwiseSum(den[id]); math.Abs(d) >= 1e-150 {
			v = scale * pairwiseSum(num[id]) / d
		}
		t.nodes[id].Value = []float64{v}
	}
}

// lineSearch returns the Newton step γ along a learner's predictions h of
// column c's negative gradient r, over the in-bag samples (Friedman's line
// search): Σw·r·h / Σw·h² for squared error, Σw·r·h / Σw·p(1−p)·h² for
// the log-loss (times (K−1)/K for K > 2 classes). 0 if h vanishes.
func lineSearch(h []float64, grads, raw [][]float64, inBag []int, w []float64, c, k int, regression bool) float64 {
	num, den := 0.0, 0.0
	for _, i := range inBag {
		num += w[i] * grads[i][c] * h[i]
		hess := 1.0
		if !regression {
			var p float64
			if k == 2 {
				p = rawProba(raw[i])[1]
			} else {
				p = softmax(raw[i])[c]
			}
			hess = p * (1 - p)
		}
		den += w[i] * hess * h[i] * h[i]
	}
	if den < 1e-150 {
		return 0
	}
	if !regression && k > 2 {
		num *= float64(k-1) / float64(k)
	}
	return num / den
}

// loss returns the mean training loss over the in-bag samples: squared
// error, or the log-loss −log p(y).
func (g *GradientBoosting) loss(raw [][]float64, values []float64, labels []int, w []float64, inBag []int, k int) float64 {
	s, sw := 0.0, 0.0
	for _, i := range inBag {
		var l float64
		if g.Regression {
			d := values[i] - raw[i][0]
			l = d * d
		} else {
			l = -logProba(raw[i], labels[i])
		}
		s += w[i] * l
		sw += w[i]
	}
	return s / sw
}

// logProba is log p(class c) of raw predictions, computed stably.
func logProba(r []float64, c int) float64 {
	if len(r) == 1 {
		z := r[0]
		if c == 0 {
			z = -z
		}
		return -softplus(-z)
	}
	m := r[0]
	for _, v := range r {
		m = math.Max(m, v)
	}
	s := 0.0
	for _, v := range r {
		s += math.Exp(v - m)
	}
	return r[c] - m - math.Log(s)
}

// softplus is log(1 + exp(z)).
func softplus(z float64) float64 {
	if z > 0 {
		return z + math.Log1p(math.Exp(-z))
	}
	return math.Log1p(math.Exp(z))
}

// TrainLoss returns the training loss after each round (on the round's
// in-bag samples): mean squared error, or mean log-loss (scikit-learn's
// train_score_ reports twice the binary log-loss, its "deviance").
func (g *GradientBoosting) TrainLoss() []float64 {
	if g.fit == nil {
		return nil
	}
	return append([]float64(nil), g.fit.trainLoss...)
}

// staged calls yield with the raw predictions on x after each round.
func (g *GradientBoosting) staged(x *tensor.Dense, yield func(m int, raw [][]float64) bool) error {
	fit := g.fit
	if fit == nil || len(fit.stages) == 0 {
		return errors.Wrap(ErrNotFitted, "ensemble: GradientBoosting")
	}
	n, err := samples(x)
	if err != nil {
		return errors.WithMessage(err, "ensemble: GradientBoosting")
	}
	if !x.Shape()[1:].Eq(tensor.Shape(fit.features)) {
		return errors.Wrapf(ErrInput, "ensemble: GradientBoosting was fitted on samples of shape %v, x has shape %v", fit.features, x.Shape())
	}
	raw := make([][]float64, n)
	for i := range raw {
		raw[i] = append([]float64(nil), fit.init...)
	}
	for m, stage := range fit.stages {
		for c, l := range stage {
			p, err := l.Predict(x)
			var h []float64
			if err == nil {
				h, err = predictions(p, n, "Predict")
			}
			if err != nil {
				return &MemberError{Ensemble: "gradient boosting", Member: m, Fold: -1, Err: err}
			}
			for i := range raw {
				raw[i][c] += fit.lr * fit.steps[m][c] * h[i]
			}
		}
		if !yield(m, raw) {
			return nil
		}
	}
	return nil
}

func (g *GradientBoosting) decide(raw [][]float64) []float64 {
	out := make([]float64, len(raw))
	for i, r := range raw {
		switch {
		case g.Regression:
			out[i] = r[0]
		case len(r) == 1:
			out[i] = g.fit.classes[0]
			if r[0] > 0 {
				out[i] = g.fit.classes[1]
			}
		default:
			out[i] = g.fit.classes[argmax(r)]
		}
	}
	return out
}

// DecisionFunction returns the raw predictions: (n) log-odds of class 1
// for two classes, (n, classes) for more, or (n) values for regression.
func (g *GradientBoosting) DecisionFunction(x *tensor.Dense) (*tensor.Dense, error) {
	var last [][]float64
	if err := g.staged(x, func(_ int, raw [][]float64) bool { last = raw; return true }); err != nil {
		return nil, err
	}
	return decisionTensor(last), nil
}

// Predict returns the classes or values, as a float64 tensor (n).
func (g *GradientBoosting) Predict(x *tensor.Dense) (*tensor.Dense, error) {
	var last [][]float64
	if err := g.staged(x, func(_ int, raw [][]float64) bool { last = raw; return true }); err != nil {
		return nil, err
	}
	return vec(g.decide(last)), nil
}

// PredictProba returns the class probabilities, (n, classes).
func (g *GradientBoosting) PredictProba(x *tensor.Dense) (*tensor.Dense, error) {
	if g.Regression {
		return nil, errors.Wrap(ErrNoProba, "ensemble: a regression GradientBoosting")
	}
	var last [][]float64
	if err := g.staged(x, func(_ int, raw [][]float64) bool { last = raw; return true }); err != nil {
		return nil, err
	}
	probs := make([][]float64, len(last))
	for i, r := range last {
		probs[i] = rawProba(r)
	}
	return rowsTensor(probs, len(g.fit.classes)), nil
}

// StagedPredict returns the predictions after each round.
func (g *GradientBoosting) StagedPredict(x *tensor.Dense) ([]*tensor.Dense, error) {
	var out []*tensor.Dense
	err := g.staged(x, func(_ int, raw [][]float64) bool {
		out = append(out, vec(g.decide(raw)))
		return true
	})
	return out, err
}

// StagedScore returns the accuracy or R² on x, y after each round.
func (g *GradientBoosting) StagedScore(x, y *tensor.Dense) ([]float64, error) {
	preds, err := g.StagedPredict(x)
	if err != nil {
		return nil, err
	}
	return stagedScores(preds, y, g.Regression)
}

// Score returns the accuracy (classification) or R² (regression) on x, y.
func (g *GradientBoosting) Score(x, y *tensor.Dense) (float64, error) {
	return score(g, x, y, g.Regression)
}

// ClassLabels returns the class labels (nil for regression or before
// Fit), in the order of PredictProba's columns.
func (g *GradientBoosting) ClassLabels() []float64 {
	if g.fit == nil {
		return nil
	}
	return g.fit.classes
}
