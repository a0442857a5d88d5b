package ensemble

import (
	"context"
	"io"
	"math"

	"github.com/keragon/keragon/keras/datasets"
	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// HistGradientBoosting is gradient boosting over histograms, scikit-learn's
// HistGradientBoostingClassifier and HistGradientBoostingRegressor: every
// feature is binned once into at most MaxBins bins (quantiles, or the
// distinct values when there are few), and each round grows trees
// leaf-wise, the leaf of largest gain first, up to MaxLeafNodes leaves,
// from histograms of the gradients and hessians of the loss: half squared
// error (regression), log-loss (two classes, one tree a round) or
// multinomial log-loss (one tree per class a round). Leaves hold the
// Newton step −G/(H + L2Regularization), shrunk by LearningRate.
//
// Early stopping, "auto" by default, is on above 10,000 samples: a
// ValidationFraction of the rows (stratified for classification) is held
// out, and boosting stops when the validation loss has not improved by
// more than Tol for NIterNoChange rounds. Without early stopping the
// trees equal scikit-learn's for the same data; the held-out rows are
// drawn from Seed with this package's own generator (not numpy's).
//
// x is (n, features), float32 or float64; missing values (NaN) are
// refused.
type HistGradientBoosting struct {
	// Regression boosts the squared error on numeric y; by default y holds
	// class labels and the loss is the log-loss.
	Regression bool `json:"regression,omitempty"`
	// LearningRate shrinks every leaf (default 0.1).
	LearningRate float64 `json:"learning_rate,omitempty"`
	// MaxIter is the number of boosting rounds (default 100).
	MaxIter int `json:"max_iter,omitempty"`
	// MaxLeafNodes bounds each tree's leaves (default 31; −1 for no
	// bound).
	MaxLeafNodes int `json:"max_leaf_nodes,omitempty"`
	// MaxDepth bounds each tree's depth; 0 means no bound.
	MaxDepth int `json:"max_depth,omitempty"`
	// MinSamplesLeaf is the fewest samples a leaf keeps (default 20).
	MinSamplesLeaf int `json:"min_samples_leaf,omitempty"`
	// L2Regularization is added to the hessian sum of every leaf (default
	// 0).
	L2Regularization float64 `json:"l2_regularization,omitempty"`
	// MaxBins is the number of bins per feature, at most 255 (default
	// 255).
	MaxBins int `json:"max_bins,omitempty"`
	// EarlyStopping is "auto" (or "", the default: on above 10,000
	// samples), "on" or "off".
	EarlyStopping string `json:"early_stopping,omitempty"`
	// ValidationFraction is the share of rows held out for early stopping
	// (default 0.1).
	ValidationFraction float64 `json:"validation_fraction,omitempty"`
	// NIterNoChange is the number of rounds without improvement that stops
	// boosting (default 10).
	NIterNoChange int `json:"n_iter_no_change,omitempty"`
	// Tol is the improvement of the validation loss that counts (default
	// 1e-7).
	Tol float64 `json:"tol,omitempty"`
	// Seed draws the held-out rows.
	Seed uint64 `json:"seed,omitempty"`
	// Progress receives one line per round; nil is silent.
	Progress io.Writer `json:"-"`

	fit *hgbFit
}

type hgbFit struct {
	baseline   []float64
	trees      [][][]hgbTreeNode // [round][column]
	classes    []float64
	features   int
	validation []float64 // validation loss after each round (early stopping)
}

var (
	_ Classifier     = (*HistGradientBoosting)(nil)
	_ ContextLearner = (*HistGradientBoosting)(nil)
)

// Clone returns an untrained copy with the given seed (a Factory).
func (h *HistGradientBoosting) Clone(seed uint64) (Learner, error) {
	c := *h
	c.Seed, c.fit = seed, nil
	return &c, nil
}

// ClassLabels returns the classes seen at Fit (nil for regression or
// before Fit).
func (h *HistGradientBoosting) ClassLabels() []float64 {
	if h.fit == nil {
		return nil
	}
	return h.fit.classes
}

// Rounds returns the number of boosting rounds made (fewer than MaxIter
// after early stopping).
func (h *HistGradientBoosting) Rounds() int {
	if h.fit == nil {
		return 0
	}
	return len(h.fit.trees)
}

// ValidationLoss returns the validation loss before the first round and
// after each round, when early stopping was on.
func (h *HistGradientBoosting) ValidationLoss() []float64 {
	if h.fit == nil {
		return nil
	}
	return append([]float64(nil), h.fit.validation...)
}

type hgbSettings struct {
	lr                                     float64
	iters, leaves, minLeaf, bins, noChange int
	l2, valFrac, tol                       float64
	early                                  string
}

func (h *HistGradientBoosting) settings() (hgbSettings, error) {
	s := hgbSettings{lr: h.LearningRate, iters: h.MaxIter, leaves: h.MaxLeafNodes, minLeaf: h.MinSamplesLeaf, bins: h.MaxBins,
		noChange: h.NIterNoChange, l2: h.L2Regularization, valFrac: h.ValidationFraction, tol: h.Tol, early: h.EarlyStopping}
	if s.lr == 0 {
		s.lr = 0.1
	}
	if s.iters == 0 {
		s.iters = 100
	}
	if s.leaves == 0 {
		s.leaves = 31
	}
	if s.minLeaf == 0 {
		s.minLeaf = 20
	}
	if s.bins == 0 {
		s.bins = 255
	}
	if s.noChange == 0 {
		s.noChange = 10
	}
	if s.valFrac == 0 {
		s.valFrac = 0.1
	}
	if s.tol == 0 {
		s.tol = 1e-7
	}
	if s.early == "" {
		s.early = "auto"
	}
	switch {
	case !(s.lr > 0) || math.IsInf(s.lr, 0):
		return s, errors.Wrapf(ErrConfig, "ensemble: HistGradientBoosting LearningRate is %v, want > 0", h.LearningRate)
	case s.iters < 0 || s.minLeaf < 0 || h.MaxDepth < 0 || s.noChange < 0:
		return s, errors.Wrapf(ErrConfig, "ensemble: HistGradientBoosting MaxIter %d, MinSamplesLeaf %d, MaxDepth %d, NIterNoChange %d: want ≥ 0",
			h.MaxIter, h.MinSamplesLeaf, h.MaxDepth, h.NIterNoChange)
	case s.leaves < -1 || s.leaves == 1:
		return s, errors.Wrapf(ErrConfig, "ensemble: HistGradientBoosting MaxLeafNodes is %d, want ≥ 2 or −1 (no bound)", h.MaxLeafNodes)
	case s.bins < 2 || s.bins > 255:
		return s, errors.Wrapf(ErrConfig, "ensemble: HistGradientBoosting MaxBins is %d, want 2 to 255", h.MaxBins)
	case !(s.l2 >= 0) || math.IsInf(s.l2, 0):
		return s, errors.Wrapf(ErrConfig, "ensemble: HistGradientBoosting L2Regularization is %v, want ≥ 0", h.L2Regularization)
	case !(s.valFrac > 0 && s.valFrac < 1):
		return s, errors.Wrapf(ErrConfig, "ensemble: HistGradientBoosting ValidationFraction is %v, want a fraction in (0, 1)", h.ValidationFraction)
	case !(s.tol >= 0) || math.IsInf(s.tol, 0):
		return s, errors.Wrapf(ErrConfig, "ensemble: HistGradientBoosting Tol is %v, want ≥ 0", h.Tol)
	case s.early != "auto" && s.early != "on" && s.early != "off":
		return s, errors.Wrapf(ErrConfig, "ensemble: HistGradientBoosting EarlyStopping %q: want \"auto\", \"on\" or \"off\"", h.EarlyStopping)
	}
	if s.leaves < 0 {
		s.leaves = 0
	}
	return s, nil
}

// Fit boosts on x, y with optional sample weights.
func (h *HistGradientBoosting) Fit(x, y *tensor.Dense, sampleWeight []float64) error {
	return h.FitContext(context.Background(), x, y, sampleWeight)
}

// FitContext is Fit, stopping between trees once ctx is done (the rounds
// done are kept).
func (h *HistGradientBoosting) FitContext(ctx context.Context, x, y *tensor.Dense, sampleWeight []float64) error {
	h.fit = nil
	s, err := h.settings()
	if err != nil {
		return err
	}
	m, err := matrixOf(x)
	if err != nil {
		return errors.WithMessage(err, "ensemble: HistGradientBoosting")
	}
	if x.Dims() != 2 {
		return errors.Wrapf(ErrInput, "ensemble: HistGradientBoosting needs x of shape (n, features), got %v", x.Shape())
	}
	var classes []float64
	var target []float64 // class indices or targets
	if h.Regression {
		if target, err = targets(y, m.n); err != nil {
			return errors.WithMessage(err, "ensemble: HistGradientBoosting")
		}
	} else {
		var idx []int
		if classes, idx, err = learnerClasses(y, m.n); err != nil {
			return errors.WithMessage(err, "ensemble: HistGradientBoosting")
		}
		if len(classes) < 2 {
			return errors.Wrapf(ErrLabels, "ensemble: HistGradientBoosting needs samples of at least 2 classes, y holds only %v", classes[0])
		}
		target = make([]float64, m.n)
		for i, c := range idx {
			target[i] = float64(c)
		}
	}
	w, err := checkWeights(sampleWeight, m.n)
	if err != nil {
		return errors.WithMessage(err, "ensemble: HistGradientBoosting")
	}
	early := s.early == "on" || (s.early == "auto" && m.n > 10000)
	train := seqInts(m.n)
	var val []int
	if early {
		cfg := datasets.SplitConfig{TestSize: s.valFrac, Seed: int64(h.Seed)}
		if !h.Regression {
			cfg.Stratify = true
		}
		if train, val, err = datasets.SplitIndices(vec(target), cfg); err != nil {
			return errors.Wrap(ErrConfig, "ensemble: HistGradientBoosting validation split: "+err.Error())
		}
	}
	b := &hgbBoost{s: s, maxDepth: h.MaxDepth, k: len(classes), regression: h.Regression}
	fit, err := b.run(ctx, m, target, w, train, val, &progress{w: h.Progress})
	if fit != nil {
		fit.classes = classes
		h.fit = fit
	}
	return err
}

// hgbBoost is one Fit.
type hgbBoost struct {
	s          hgbSettings
	maxDepth   int
	k          int // classes; 0 for regression
	regression bool
}

func (b *hgbBoost) cols() int {
	if b.k > 2 {
		return b.k
	}
	return 1
}

func (b *hgbBoost) run(ctx context.Context, m matrix, target, w []float64, train, val []int, prog *progress) (*hgbFit, error) {
	n, d, K := len(train), m.d, b.cols()
	cols := make([][]float64, d)
	for f := range cols {
		cols[f] = make([]float64, n)
		for j, i := range train {
			cols[f][j] = m.data[i*d+f]
		}
	}
	bm := fitBins(cols, b.s.bins)
	binned := bm.transform(cols)
	nBins := make([]int, d)
	for f, t := range bm.thresholds {
		nBins[f] = len(t) + 1
	}
	y := make([]float64, n)
	var wt []float64
	for j, i := range train {
		y[j] = target[i]
	}
	if w != nil {
		wt = make([]float64, n)
		for j, i := range train {
			wt[j] = w[i]
		}
	}
	fit := &hgbFit{baseline: b.baseline(y, wt), features: d}
	raw := make([][]float64, K) // raw[k][row]
	for k := range raw {
		raw[k] = make([]float64, n)
		for i := range raw[k] {
			raw[k][i] = fit.baseline[k]
		}
	}
	var rawVal [][]float64
	var yVal, wVal []float64
	var scores []float64
	if val != nil {
		rawVal = make([][]float64, K)
		for k := range rawVal {
			rawVal[k] = make([]float64, len(val))
			for i := range rawVal[k] {
				rawVal[k][i] = fit.baseline[k]
			}
		}
		for _, i := range val {
			yVal = append(yVal, target[i])
			if w != nil {
				wVal = append(wVal, w[i])
			}
		}
		l := b.loss(rawVal, yVal, wVal)
		fit.validation = append(fit.validation, l)
		scores = append(scores, -l)
	}
	constHess := b.regression && wt == nil
	grad := make([][]float32, K)
	hess := make([][]float32, K)
	for k := range grad {
		grad[k] = make([]float32, n)
		if constHess {
			hess[k] = []float32{1}
		} else {
			hess[k] = make([]float32, n)
		}
	}
	for it := 0; it < b.s.iters; it++ {
		if err := ctx.Err(); err != nil {
			return fit, errors.Wrapf(err, "ensemble: HistGradientBoosting stopped after %d rounds", len(fit.trees))
		}
		b.gradients(raw, y, wt, grad, hess, constHess)
		round := make([][]hgbTreeNode, K)
		for k := 0; k < K; k++ {
			gr := &hgbGrower{bins: binned, nBins: nBins, grad: grad[k], hess: hess[k], constHess: constHess,
				maxLeaves: b.s.leaves, maxDepth: b.maxDepth, minLeaf: b.s.minLeaf, l2: b.s.l2}
			gr.grow()
			nodes, values := gr.tree(bm.thresholds, b.s.lr)
			round[k] = nodes
			for i, v := range values {
				raw[k][i] += v
			}
			for j, i := range val {
				rawVal[k][j] += predictTree(nodes, m.row(i))
			}
		}
		fit.trees = append(fit.trees, round)
		if val == nil {
			prog.printf("hist gradient boosting: round %d/%d", it+1, b.s.iters)
			continue
		}
		l := b.loss(rawVal, yVal, wVal)
		fit.validation = append(fit.validation, l)
		scores = append(scores, -l)
		prog.printf("hist gradient boosting: round %d/%d validation loss %.6f", it+1, b.s.iters, l)
		if b.shouldStop(scores) {
			break
		}
	}
	return fit, nil
}

// baseline is the loss's fit_intercept_only: the (weighted) mean, the
// log-odds of the class-1 share, or the centred logs of the class shares.
func (b *hgbBoost) baseline(y, w []float64) []float64 {
	avg := func(f func(float64) float64) float64 {
		v := make([]float64, len(y))
		for i, t := range y {
			v[i] = f(t)
			if w != nil {
				v[i] *= w[i]
			}
		}
		if w == nil {
			return pairwiseSum(v) / float64(len(y))
		}
		return pairwiseSum(v) / pairwiseSum(w)
	}
	const eps = 2.220446049250313e-16
	switch {
	case b.regression:
		return []float64{avg(func(t float64) float64 { return t })}
	case b.k == 2:
		p := avg(func(t float64) float64 { return t })
		p = math.Min(math.Max(p, 10*eps), 1-10*eps)
		return []float64{math.Log(p / (1 - p))}
	}
	logs := make([]float64, b.k)
	for c := range logs {
		p := avg(func(t float64) float64 {
			if t == float64(c) {
				return 1
			}
			return 0
		})
		p = math.Min(math.Max(p, eps), 1-eps)
		logs[c] = math.Log(p)
	}
	// log(p / gmean(p)), gmean = exp(mean(log p))
	gm := math.Exp(pairwiseSum(logs) / float64(b.k))
	out := make([]float64, b.k)
	for c := range out {
		out[c] = math.Log(math.Exp(logs[c]) / gm)
	}
	return out
}

// gradients fills the float32 gradients and hessians of the loss at raw.
func (b *hgbBoost) gradients(raw [][]float64, y, w []float64, grad, hess [][]float32, constHess bool) {
	n := len(y)
	switch {
	case b.regression:
		for i := 0; i < n; i++ {
			g := raw[0][i] - y[i]
			if w != nil {
				grad[0][i], hess[0][i] = float32(w[i]*g), float32(w[i])
			} else {
				grad[0][i] = float32(g)
			}
		}
	case b.k == 2:
		for i := 0; i < n; i++ {
			e := math.Exp(-raw[0][i])
			g := ((1 - y[i]) - y[i]*e) / (1 + e)
			h := e / ((1 + e) * (1 + e))
			if w != nil {
				g, h = w[i]*g, w[i]*h
			}
			grad[0][i], hess[0][i] = float32(g), float32(h)
		}
	default:
		p := make([]float64, b.k)
		for i := 0; i < n; i++ {
			mx := raw[0][i]
			for k := 1; k < b.k; k++ {
				if mx < raw[k][i] {
					mx = raw[k][i]
				}
			}
			sum := 0.0
			for k := range p {
				p[k] = math.Exp(raw[k][i] - mx)
				sum += p[k]
			}
			for k := range p {
				p[k] /= sum
				yk := 0.0
				if y[i] == float64(k) {
					yk = 1
				}
				g, h := p[k]-yk, p[k]*(1-p[k])
				if w != nil {
					g, h = g*w[i], h*w[i]
				}
				grad[k][i], hess[k][i] = float32(g), float32(h)
			}
		}
	}
}

// loss is the mean (weighted) loss at raw: half squared error, or the
// binomial or multinomial log-loss.
func (b *hgbBoost) loss(raw [][]float64, y, w []float64) float64 {
	v := make([]float64, len(y))
	for i := range y {
		switch {
		case b.regression:
			d := raw[0][i] - y[i]
			v[i] = 0.5 * d * d
		case b.k == 2:
			v[i] = softplus(raw[0][i]) - y[i]*raw[0][i]
		default:
			r := make([]float64, b.k)
			for k := range r {
				r[k] = raw[k][i]
			}
			v[i] = -logProba(r, int(y[i]))
		}
		if w != nil {
			v[i] *= w[i]
		}
	}
	if w == nil {
		return pairwiseSum(v) / float64(len(v))
	}
	return pairwiseSum(v) / pairwiseSum(w)
}

// shouldStop is scikit-learn's _should_stop on scores (−loss): stop when
// none of the last NIterNoChange scores beats the one before them by Tol.
func (b *hgbBoost) shouldStop(scores []float64) bool {
	ref := b.s.noChange + 1
	if len(scores) < ref {
		return false
	}
	base := scores[len(scores)-ref] + b.s.tol
	for _, s := range scores[len(scores)-ref+1:] {
		if s > base {
			return false
		}
	}
	return true
}

// raw returns the raw predictions of x: (n, columns).
func (h *HistGradientBoosting) raw(x *tensor.Dense) ([][]float64, error) {
	if h.fit == nil {
		return nil, errors.Wrap(ErrNotFitted, "ensemble: HistGradientBoosting")
	}
	m, err := matrixOf(x)
	if err != nil {
		return nil, errors.WithMessage(err, "ensemble: HistGradientBoosting")
	}
	if m.d != h.fit.features {
		return nil, errors.Wrapf(ErrInput, "ensemble: HistGradientBoosting fitted on %d features, x has shape %v", h.fit.features, x.Shape())
	}
	out := make([][]float64, m.n)
	for i := range out {
		out[i] = append([]float64(nil), h.fit.baseline...)
		row := m.row(i)
		for _, round := range h.fit.trees {
			for k, t := range round {
				out[i][k] += predictTree(t, row)
			}
		}
	}
	return out, nil
}

// DecisionFunction returns the raw predictions: (n) for regression and two
// classes (the log-odds of the second class), (n, classes) otherwise.
func (h *HistGradientBoosting) DecisionFunction(x *tensor.Dense) (*tensor.Dense, error) {
	r, err := h.raw(x)
	if err != nil {
		return nil, err
	}
	return decisionTensor(r), nil
}

// PredictProba returns the class probabilities, (n, classes).
func (h *HistGradientBoosting) PredictProba(x *tensor.Dense) (*tensor.Dense, error) {
	if h.Regression {
		return nil, errors.Wrap(ErrNoProba, "ensemble: a regression HistGradientBoosting")
	}
	r, err := h.raw(x)
	if err != nil {
		return nil, err
	}
	for i, v := range r {
		if len(v) == 1 {
			p := 1 / (1 + math.Exp(-v[0]))
			r[i] = []float64{1 - p, p}
			continue
		}
		mx := v[0]
		for _, a := range v {
			mx = math.Max(mx, a)
		}
		sum := 0.0
		for k := range v {
			v[k] = math.Exp(v[k] - mx)
			sum += v[k]
		}
		for k := range v {
			v[k] /= sum
		}
	}
	return rowsTensor(r, len(h.fit.classes)), nil
}

// Predict returns the class of largest probability or the value, as a
// float64 tensor (n).
func (h *HistGradientBoosting) Predict(x *tensor.Dense) (*tensor.Dense, error) {
	if h.Regression {
		r, err := h.raw(x)
		if err != nil {
			return nil, err
		}
		out := make([]float64, len(r))
		for i, v := range r {
			out[i] = v[0]
		}
		return vec(out), nil
	}
	p, err := h.PredictProba(x)
	if err != nil {
		return nil, err
	}
	v := flatten(p)
	k := len(h.fit.classes)
	out := make([]float64, len(v)/k)
	for i := range out {
		out[i] = h.fit.classes[argmax(v[i*k:(i+1)*k])]
	}
	return vec(out), nil
}

// flatten returns a float64 tensor's data.
func flatten(t *tensor.Dense) []float64 {
	v, _ := numbers(t)
	return v
}

// Score returns the accuracy (classification) or R² (regression) on x, y.
func (h *HistGradientBoosting) Score(x, y *tensor.Dense) (float64, error) {
	return score(h, x, y, h.Regression)
}
