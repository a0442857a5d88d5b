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
// 3, the leaves of h are then set as scikit-learn sets them: the mean
// residual for squared error, one Newton step Σw·r / Σw·p(1−p) for
// log-loss (times (K−1)/K for K > 2 classes). Any other regressor (a
// KerasLearner with Classes 0, say) adds its predictions of the negative
// gradient times the Newton step along them (Friedman's line search). Subsample < 1 fits each round on that fraction of
// the rows, drawn without replacement from a stream of (Seed, round).
type GradientBoosting struct {
	// New makes the regressors; nil means &Tree{Regression: true,
	// MaxDepth: 3}, scikit-learn's default.
	New Factory
	// Rounds is the number of boosting stages (default 100).
	Rounds int
	// LearningRate shrinks each stage (default 0.1).
	LearningRate float64
	// Subsample is the fraction of the samples each round fits, in (0, 1]
	// (default 1).
	Subsample float64
	// Regression boosts the squared error on numeric y; by default y holds
	// class indices and the loss is the log-loss.
	Regression bool
	// Loss is "squared_error" (regression) or "log_loss"
	// (classification); "" picks the one that fits Regression.
	Loss string
	// Seed makes the ensemble repeatable (subsampling, the learners'
	// seeds).
	Seed uint64
	// Progress receives one line per round with the training loss; nil is
	// silent.
	Progress io.Writer

	fit *gbFit
}

type gbFit struct {
	init      []float64   // initial raw prediction per column
	stages    [][]Learner // [round][column]
	steps     [][]float64 // line-search step of each stage learner (1 for trees)
	trainLoss []float64
	classes   int
	cols      int // raw prediction columns: 1, or classes for K > 2
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
	newL := g.New
	if newL == nil {
		newL = (&Tree{Regression: true, MaxDepth: 3}).Clone
	}
	n, err := samples(x)
	if err != nil {
		return errors.WithMessage(err, "ensemble: GradientBoosting")
	}
	var labels []int
	var values []float64
	k := 0
	if g.Regression {
		values, err = targets(y, n)
	} else {
		labels, k, err = classLabels(y, n)
	}
	if err != nil {
		return errors.WithMessage(err, "ensemble: GradientBoosting")
	}
	w, err := checkWeights(sampleWeight, n)
	if err != nil {
		return errors.WithMessage(err, "ensemble: GradientBoosting")
	}
	if w == nil {
		w = make([]float64, n)
		for i := range w {
			w[i] = 1
		}
	}
	cols := 1
	if k > 2 {
		cols = k
	}
	fit := &gbFit{classes: k, cols: cols, features: x.Shape()[1:].Clone(), lr: lr}
	fit.init = g.initRaw(values, labels, w, k)
	raw := make([][]float64, n)
	for i := range raw {
		raw[i] = append([]float64(nil), fit.init...)
	}
	g.fit = fit
	prog := &progress{w: g.Progress}
	nIn := n
	if sub < 1 {
		nIn = max(1, int(sub*float64(n)))
	}
	for m := 0; m < rounds; m++ {
		if err := ctx.Err(); err != nil {
			return errors.Wrapf(err, "ensemble: GradientBoosting stopped after %d rounds", len(fit.stages))
		}
		inBag := seqInts(n)
		if nIn < n {
			inBag = memberRand(g.Seed, m, 0).Perm(n)[:nIn]
		}
		xIn, err := rows(x, inBag)
		if err != nil {
			return err
		}
		wIn := make([]float64, nIn)
		for j, i := range inBag {
			wIn[j] = w[i]
		}
		stage := make([]Learner, cols)
		steps := make([]float64, cols)
		grads := g.negGradient(raw, values, labels, k)
		rawStart := make([][]float64, n)
		for i, r := range raw {
			rawStart[i] = append([]float64(nil), r...)
		}
		for c := 0; c < cols; c++ {
			r := make([]float64, nIn)
			for j, i := range inBag {
				r[j] = grads[i][c]
			}
			l, err := newLearner(newL, memberSeed(g.Seed, m*cols+c))
			if err == nil {
				err = fitLearner(ctx, l, xIn, vec(r), wIn)
			}
			if err == nil {
				if t, ok := l.(*Tree); ok && !g.Regression {
					err = newtonLeaves(t, xIn, r, inBag, labels, wIn, c, k)
				}
			}
			var p *tensor.Dense
			if err == nil {
				p, err = l.Predict(x)
			}
			var h []float64
			if err == nil {
				h, err = predictions(p, n, "Predict")
			}
			if err != nil {
				if len(fit.stages) == 0 {
					g.fit = nil
				}
				return &MemberError{Ensemble: "gradient boosting", Member: m, Fold: -1, Err: err}
			}
			steps[c] = 1
			if _, isTree := l.(*Tree); !isTree {
				steps[c] = lineSearch(h, grads, rawStart, inBag, w, c, k, g.Regression)
			}
			for i := range raw {
				raw[i][c] += lr * steps[c] * h[i]
			}
			stage[c] = l
		}
		fit.stages = append(fit.stages, stage)
		fit.steps = append(fit.steps, steps)
		loss := g.loss(raw, values, labels, w, inBag, k)
		fit.trainLoss = append(fit.trainLoss, loss)
		prog.printf("gradient boosting: round %d/%d training loss %.6f", m+1, rounds, loss)
	}
	return nil
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
// over the in-bag samples it holds, as scikit-learn's
// _update_terminal_region.
func newtonLeaves(t *Tree, xIn *tensor.Dense, resid []float64, inBag, labels []int, wIn []float64, c, k int) error {
	leaves, _, err := t.leaves(xIn)
	if err != nil {
		return err
	}
	num := make([]float64, len(t.nodes))
	den := make([]float64, len(t.nodes))
	for j, leaf := range leaves {
		i := inBag[j]
		r := resid[j]
		yc := 0.0
		if (k == 2 && labels[i] == 1) || (k > 2 && labels[i] == c) {
			yc = 1
		}
		num[leaf] += wIn[j] * r
		den[leaf] += wIn[j] * (yc - r) * (1 - yc + r)
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
		if math.Abs(den[id]) >= 1e-150 {
			v = scale * num[id] / den[id]
		}
		t.nodes[id].Value = []float64{v}
	}
	return nil
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
			if r[0] > 0 {
				out[i] = 1
			}
		default:
			out[i] = float64(argmax(r))
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
	return rowsTensor(probs, g.fit.classes), nil
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
