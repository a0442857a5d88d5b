package ensemble

import (
	"math"

	"github.com/pkg/errors"
	"gonum.org/v1/gonum/mat"
	"gorgonia.org/tensor"
)

// LogisticRegression is L2-regularised logistic regression, scikit-learn's
// LogisticRegression() (binary for two classes, multinomial for more),
// fitted to convergence with Newton's method: it minimises
// C·Σ wᵢ·(−log p(yᵢ|xᵢ)) + ½‖W‖² (the intercepts are not penalised).
// It is Stacking's default final classifier. x is (n, features).
type LogisticRegression struct {
	// C is the inverse of the regularisation strength (default 1).
	C float64 `json:"c,omitempty"`
	// MaxIter bounds the Newton iterations (default 100).
	MaxIter int `json:"max_iter,omitempty"`

	coef     [][]float64 // per score column: intercept, then weights
	classes  []float64
	features int
}

var _ Classifier = (*LogisticRegression)(nil)

// Clone returns an untrained copy (a Factory; the seed is unused).
func (r *LogisticRegression) Clone(uint64) (Learner, error) {
	return &LogisticRegression{C: r.C, MaxIter: r.MaxIter}, nil
}

// Classes returns the class labels seen at Fit, in the order of
// PredictProba's columns (nil before Fit).
func (r *LogisticRegression) ClassLabels() []float64 { return r.classes }

// Coef returns, per score column (one for two classes, one per class
// otherwise), the intercept followed by the feature weights.
func (r *LogisticRegression) Coef() [][]float64 { return r.coef }

// Fit fits the model on x, y with optional sample weights.
func (r *LogisticRegression) Fit(x, y *tensor.Dense, sampleWeight []float64) error {
	r.coef = nil
	c, iters := r.C, r.MaxIter
	if c == 0 {
		c = 1
	}
	if iters == 0 {
		iters = 100
	}
	if !(c > 0) || math.IsInf(c, 0) || iters < 0 {
		return errors.Wrapf(ErrConfig, "ensemble: LogisticRegression C %v, MaxIter %d: want C > 0 and MaxIter ≥ 0", r.C, r.MaxIter)
	}
	m, err := matrixOf(x)
	if err != nil {
		return errors.WithMessage(err, "ensemble: LogisticRegression")
	}
	classes, labels, err := learnerClasses(y, m.n)
	if err != nil {
		return errors.WithMessage(err, "ensemble: LogisticRegression")
	}
	k := len(classes)
	if k < 2 {
		return errors.Wrapf(ErrLabels, "ensemble: LogisticRegression needs samples of at least 2 classes, y holds only %v", classes[0])
	}
	w, err := checkWeights(sampleWeight, m.n)
	if err != nil {
		return errors.WithMessage(err, "ensemble: LogisticRegression")
	}
	theta, err := newtonLogistic(m, labels, w, c, k, iters)
	if err != nil {
		return err
	}
	d1 := m.d + 1
	r.coef = make([][]float64, len(theta)/d1)
	for col := range r.coef {
		r.coef[col] = theta[col*d1 : (col+1)*d1]
	}
	r.classes, r.features = classes, m.d
	return nil
}

func (r *LogisticRegression) scores(x *tensor.Dense) ([][]float64, error) {
	if r.coef == nil {
		return nil, errors.Wrap(ErrNotFitted, "ensemble: LogisticRegression")
	}
	m, err := matrixOf(x)
	if err != nil {
		return nil, errors.WithMessage(err, "ensemble: LogisticRegression")
	}
	if m.d != r.features {
		return nil, errors.Wrapf(ErrInput, "ensemble: LogisticRegression fitted on %d features, x has shape %v", r.features, x.Shape())
	}
	out := make([][]float64, m.n)
	for i := range out {
		row := m.row(i)
		out[i] = make([]float64, len(r.coef))
		for col, t := range r.coef {
			s := t[0]
			for j, v := range row {
				s += t[j+1] * v
			}
			out[i][col] = s
		}
	}
	return out, nil
}

// PredictProba returns the class probabilities, (n, classes).
func (r *LogisticRegression) PredictProba(x *tensor.Dense) (*tensor.Dense, error) {
	s, err := r.scores(x)
	if err != nil {
		return nil, err
	}
	for i := range s {
		s[i] = rawProba(s[i])
	}
	return rowsTensor(s, len(r.classes)), nil
}

// Predict returns the most probable class, as a float64 tensor (n).
func (r *LogisticRegression) Predict(x *tensor.Dense) (*tensor.Dense, error) {
	s, err := r.scores(x)
	if err != nil {
		return nil, err
	}
	out := make([]float64, len(s))
	for i, v := range s {
		if len(v) == 1 {
			out[i] = r.classes[0]
			if v[0] > 0 {
				out[i] = r.classes[1]
			}
		} else {
			out[i] = r.classes[argmax(v)]
		}
	}
	return vec(out), nil
}

// Ridge is linear least squares with an L2 penalty Alpha·‖w‖² on the
// weights (not the intercept), scikit-learn's Ridge; with Alphas it picks
// the penalty with the smallest leave-one-out squared error, computed in
// closed form, as scikit-learn's RidgeCV. Stacking's default final
// regressor is Ridge{Alphas: {0.1, 1, 10}} (RidgeCV's defaults).
// x is (n, features).
type Ridge struct {
	// Alpha is the penalty (default 1); ignored when Alphas is set.
	Alpha float64 `json:"alpha,omitempty"`
	// Alphas are the candidate penalties for leave-one-out selection.
	Alphas []float64 `json:"alphas,omitempty"`

	coef     []float64 // intercept, then weights
	alpha    float64
	features int
}

var _ Learner = (*Ridge)(nil)

// Clone returns an untrained copy (a Factory; the seed is unused).
func (r *Ridge) Clone(uint64) (Learner, error) {
	return &Ridge{Alpha: r.Alpha, Alphas: append([]float64(nil), r.Alphas...)}, nil
}

// Coef returns the intercept followed by the weights.
func (r *Ridge) Coef() []float64 { return r.coef }

// ChosenAlpha returns the penalty used by the last Fit.
func (r *Ridge) ChosenAlpha() float64 { return r.alpha }

// Fit solves the penalised least squares on x, y with optional sample
// weights.
func (r *Ridge) Fit(x, y *tensor.Dense, sampleWeight []float64) error {
	r.coef = nil
	alphas := r.Alphas
	if len(alphas) == 0 {
		a := r.Alpha
		if a == 0 {
			a = 1
		}
		alphas = []float64{a}
	}
	for _, a := range alphas {
		if !(a >= 0) || math.IsInf(a, 0) {
			return errors.Wrapf(ErrConfig, "ensemble: Ridge penalty %v: want a finite number ≥ 0", a)
		}
	}
	m, err := matrixOf(x)
	if err != nil {
		return errors.WithMessage(err, "ensemble: Ridge")
	}
	yv, err := targets(y, m.n)
	if err != nil {
		return errors.WithMessage(err, "ensemble: Ridge")
	}
	w, err := checkWeights(sampleWeight, m.n)
	if err != nil {
		return errors.WithMessage(err, "ensemble: Ridge")
	}
	d1 := m.d + 1
	z := mat.NewDense(m.n, d1, nil) // √w·[1, x]
	yz := mat.NewVecDense(m.n, nil)
	for i := 0; i < m.n; i++ {
		s := 1.0
		if w != nil {
			s = math.Sqrt(w[i])
		}
		z.Set(i, 0, s)
		for j, v := range m.row(i) {
			z.Set(i, j+1, s*v)
		}
		yz.SetVec(i, s*yv[i])
	}
	var ztz mat.Dense
	ztz.Mul(z.T(), z)
	var zty mat.VecDense
	zty.MulVec(z.T(), yz)
	bestErr := math.Inf(1)
	for _, a := range alphas {
		var lhs mat.Dense
		lhs.CloneFrom(&ztz)
		for j := 1; j < d1; j++ {
			lhs.Set(j, j, lhs.At(j, j)+a)
		}
		var inv mat.Dense
		if err := inv.Inverse(&lhs); err != nil {
			if len(alphas) == 1 {
				return errors.Wrapf(err, "ensemble: Ridge with penalty %v", a)
			}
			continue
		}
		var beta mat.VecDense
		beta.MulVec(&inv, &zty)
		loo := 0.0
		if len(alphas) > 1 {
			var zinv mat.Dense
			zinv.Mul(z, &inv)
			for i := 0; i < m.n; i++ {
				h := mat.Dot(zinv.RowView(i), z.RowView(i))
				res := yz.AtVec(i) - mat.Dot(z.RowView(i), &beta)
				if h < 1 {
					res /= 1 - h
				}
				loo += res * res
			}
		}
		if loo < bestErr {
			bestErr = loo
			r.coef = append([]float64(nil), beta.RawVector().Data...)
			r.alpha = a
		}
	}
	if r.coef == nil {
		return errors.New("ensemble: Ridge: the penalised system is singular for every penalty")
	}
	r.features = m.d
	return nil
}

// Predict returns the fitted values, as a float64 tensor (n).
func (r *Ridge) Predict(x *tensor.Dense) (*tensor.Dense, error) {
	if r.coef == nil {
		return nil, errors.Wrap(ErrNotFitted, "ensemble: Ridge")
	}
	m, err := matrixOf(x)
	if err != nil {
		return nil, errors.WithMessage(err, "ensemble: Ridge")
	}
	if m.d != r.features {
		return nil, errors.Wrapf(ErrInput, "ensemble: Ridge fitted on %d features, x has shape %v", r.features, x.Shape())
	}
	out := make([]float64, m.n)
	for i := range out {
		s := r.coef[0]
		for j, v := range m.row(i) {
			s += r.coef[j+1] * v
		}
		out[i] = s
	}
	return vec(out), nil
}

// newtonLogistic minimises the logistic regression objective with Newton
// steps and a backtracking line search. theta holds, per score column, the
// intercept then the weights.
func newtonLogistic(m matrix, labels []int, w []float64, c float64, k, iters int) ([]float64, error) {
	cols := k
	if k == 2 {
		cols = 1
	}
	d1 := m.d + 1
	p := cols * d1
	z := func(i int) []float64 { return append([]float64{1}, m.row(i)...) }
	// objective returns f and, when grad is not nil, fills grad and hess.
	objective := func(theta, grad []float64, hess *mat.SymDense) float64 {
		if grad != nil {
			for i := range grad {
				grad[i] = 0
			}
			hess.Zero()
		}
		f := 0.0
		scores := make([]float64, cols)
		for i := 0; i < m.n; i++ {
			wi := c
			if w != nil {
				wi *= w[i]
			}
			zi := z(i)
			for col := range scores {
				s := 0.0
				for j, v := range zi {
					s += theta[col*d1+j] * v
				}
				scores[col] = s
			}
			var prob []float64
			if cols == 1 {
				yi := float64(labels[i])
				f += wi * (softplus(scores[0]) - yi*scores[0])
				prob = []float64{1 / (1 + math.Exp(-scores[0]))}
			} else {
				f -= wi * logProba(scores, labels[i])
				prob = softmax(scores)
			}
			if grad == nil || wi == 0 {
				continue
			}
			for a := 0; a < cols; a++ {
				ya := 0.0
				if (cols == 1 && labels[i] == 1) || (cols > 1 && labels[i] == a) {
					ya = 1
				}
				ga := wi * (prob[a] - ya)
				for j, v := range zi {
					grad[a*d1+j] += ga * v
				}
				for b := a; b < cols; b++ {
					h := prob[a] * (1 - prob[a])
					if b != a {
						h = -prob[a] * prob[b]
					}
					h *= wi
					for j, v := range zi {
						for l, u := range zi {
							if a*d1+j <= b*d1+l {
								hess.SetSym(a*d1+j, b*d1+l, hess.At(a*d1+j, b*d1+l)+h*v*u)
							}
						}
					}
				}
			}
		}
		for col := 0; col < cols; col++ {
			for j := 1; j < d1; j++ {
				v := theta[col*d1+j]
				f += 0.5 * v * v
				if grad != nil {
					grad[col*d1+j] += v
					hess.SetSym(col*d1+j, col*d1+j, hess.At(col*d1+j, col*d1+j)+1)
				}
			}
			if grad != nil {
				// The softmax is unchanged when every intercept moves alike:
				// a tiny curvature makes the Newton system solvable.
				hess.SetSym(col*d1, col*d1, hess.At(col*d1, col*d1)+1e-9)
			}
		}
		return f
	}
	theta := make([]float64, p)
	grad := make([]float64, p)
	hess := mat.NewSymDense(p, nil)
	f := objective(theta, grad, hess)
	for it := 0; it < iters; it++ {
		gmax := 0.0
		for _, g := range grad {
			gmax = math.Max(gmax, math.Abs(g))
		}
		if gmax < 1e-10*math.Max(1, math.Abs(f)) {
			break
		}
		var chol mat.Cholesky
		var step mat.VecDense
		g := mat.NewVecDense(p, append([]float64(nil), grad...))
		if chol.Factorize(hess) {
			if err := chol.SolveVecTo(&step, g); err != nil {
				return nil, errors.Wrap(err, "ensemble: LogisticRegression Newton step")
			}
		} else {
			step.CopyVec(g) // gradient descent step
		}
		slope := mat.Dot(&step, g)
		next := make([]float64, p)
		t := 1.0
		var fn float64
		for ls := 0; ls < 60; ls++ {
			for i := range next {
				next[i] = theta[i] - t*step.AtVec(i)
			}
			fn = objective(next, nil, nil)
			if fn <= f-1e-4*t*slope {
				break
			}
			t /= 2
		}
		if !(fn < f) {
			break
		}
		theta = next
		f = objective(theta, grad, hess)
	}
	return theta, nil
}

// Score returns the accuracy on x, y.
func (r *LogisticRegression) Score(x, y *tensor.Dense) (float64, error) {
	return score(r, x, y, false)
}

// Score returns R² on x, y.
func (r *Ridge) Score(x, y *tensor.Dense) (float64, error) {
	return score(r, x, y, true)
}
