package ensemble

import (
	"context"
	"math"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// LinearSVC is a linear support vector classifier solved exactly, as
// scikit-learn's LinearSVC: liblinear's dual coordinate descent (Hsieh et
// al., ICML 2008) on the L2-regularised squared hinge loss (or hinge
// loss), one class against the rest for more than two classes. It
// minimises ½‖w‖² + C·Σᵢ sᵢ·loss(yᵢ·(w·xᵢ + b)) with sᵢ the sample
// weights; C multiplies a sum, not a mean, so its meaning does not depend
// on the number of samples. The intercept b is the weight of a constant
// feature InterceptScaling and is penalised like the others, as in
// liblinear.
//
// The coordinates are visited in the random order liblinear draws from
// scikit-learn's generator seeded from Seed (random_state), so with the
// same seed and data the solution is scikit-learn's.
//
// It gives no probabilities: ensembles count its votes (hard voting) and
// stacking stacks its predicted class. keras.NewLinearSVM is the
// gradient-trained model of the course; this is the solver for
// ensembles. x is (n, features).
type LinearSVC struct {
	// C is the inverse of the regularisation strength (default 1).
	C float64 `json:"c,omitempty"`
	// Loss is "squared_hinge" (the default) or "hinge".
	Loss string `json:"loss,omitempty"`
	// Tol is the stopping tolerance on the projected gradient (default
	// 1e-4).
	Tol float64 `json:"tol,omitempty"`
	// MaxIter bounds the passes over the data (default 1000).
	MaxIter int `json:"max_iter,omitempty"`
	// NoIntercept fits no intercept.
	NoIntercept bool `json:"no_intercept,omitempty"`
	// InterceptScaling is the constant feature whose weight is the
	// intercept (default 1).
	InterceptScaling float64 `json:"intercept_scaling,omitempty"`
	// Seed orders the coordinates, as scikit-learn's random_state.
	Seed uint64 `json:"seed,omitempty"`

	coef      [][]float64 // per score column (one for two classes)
	intercept []float64
	classes   []float64
	features  int
	iters     []int
}

var (
	_ Learner        = (*LinearSVC)(nil)
	_ ContextLearner = (*LinearSVC)(nil)
)

// Clone returns an untrained copy with the given seed (a Factory).
func (s *LinearSVC) Clone(seed uint64) (Learner, error) {
	c := LinearSVC{C: s.C, Loss: s.Loss, Tol: s.Tol, MaxIter: s.MaxIter, NoIntercept: s.NoIntercept,
		InterceptScaling: s.InterceptScaling, Seed: seed}
	return &c, nil
}

// ClassLabels returns the classes seen at Fit (nil before).
func (s *LinearSVC) ClassLabels() []float64 { return s.classes }

// Coef returns the weights per score column (one column for two classes,
// whose positive side is the second class; one per class otherwise).
func (s *LinearSVC) Coef() [][]float64 { return s.coef }

// Intercept returns the intercept of every score column.
func (s *LinearSVC) Intercept() []float64 { return s.intercept }

// Iterations returns the passes each column's solver made.
func (s *LinearSVC) Iterations() []int { return s.iters }

// Fit solves the problem on x, y with optional sample weights.
func (s *LinearSVC) Fit(x, y *tensor.Dense, sampleWeight []float64) error {
	return s.FitContext(context.Background(), x, y, sampleWeight)
}

// FitContext is Fit, stopping with ctx's error once ctx is done.
func (s *LinearSVC) FitContext(ctx context.Context, x, y *tensor.Dense, sampleWeight []float64) error {
	s.coef, s.intercept, s.classes, s.iters = nil, nil, nil, nil
	c, tol, iters, scale := s.C, s.Tol, s.MaxIter, s.InterceptScaling
	if c == 0 {
		c = 1
	}
	if tol == 0 {
		tol = 1e-4
	}
	if iters == 0 {
		iters = 1000
	}
	if scale == 0 {
		scale = 1
	}
	switch {
	case !(c > 0) || math.IsInf(c, 0):
		return errors.Wrapf(ErrConfig, "ensemble: LinearSVC C is %v, want > 0", s.C)
	case !(tol > 0) || math.IsInf(tol, 0):
		return errors.Wrapf(ErrConfig, "ensemble: LinearSVC Tol is %v, want > 0", s.Tol)
	case iters < 0:
		return errors.Wrapf(ErrConfig, "ensemble: LinearSVC MaxIter is %d, want > 0", s.MaxIter)
	case !(scale > 0) || math.IsInf(scale, 0):
		return errors.Wrapf(ErrConfig, "ensemble: LinearSVC InterceptScaling is %v, want > 0", s.InterceptScaling)
	case s.Loss != "" && s.Loss != "squared_hinge" && s.Loss != "hinge":
		return errors.Wrapf(ErrConfig, "ensemble: LinearSVC Loss %q: want \"squared_hinge\" or \"hinge\"", s.Loss)
	}
	m, err := matrixOf(x)
	if err != nil {
		return errors.WithMessage(err, "ensemble: LinearSVC")
	}
	classes, labels, err := learnerClasses(y, m.n)
	if err != nil {
		return errors.WithMessage(err, "ensemble: LinearSVC")
	}
	if len(classes) < 2 {
		return errors.Wrapf(ErrLabels, "ensemble: LinearSVC needs samples of at least 2 classes, y holds only %v", classes[0])
	}
	w, err := checkWeights(sampleWeight, m.n)
	if err != nil {
		return errors.WithMessage(err, "ensemble: LinearSVC")
	}
	p := newSVCProblem(m, labels, w, len(classes), !s.NoIntercept, scale)
	rs := newMT19937(uint32(newRandomState(s.Seed).randint(maxInt32)))
	hinge := s.Loss == "hinge"
	cols := len(classes)
	if cols == 2 {
		cols = 1
	}
	for col := 0; col < cols; col++ {
		pos := col
		if cols == 1 {
			pos = 1
		}
		wv, it, err := p.solve(ctx, rs, pos, c, tol, iters, hinge)
		if err != nil {
			s.coef, s.intercept = nil, nil
			return err
		}
		b := 0.0
		if !s.NoIntercept {
			b = scale * wv[m.d]
		}
		s.coef = append(s.coef, wv[:m.d])
		s.intercept = append(s.intercept, b)
		s.iters = append(s.iters, it)
	}
	s.classes, s.features = classes, m.d
	return nil
}

// svcProblem is the data as liblinear holds it: rows grouped by class
// (in row order within each class), each a sparse list of its non-zero
// features plus the bias feature.
type svcProblem struct {
	start []int // row i's entries are idx[start[i]:start[i+1]]
	idx   []int32
	val   []float64
	dense []float64 // when most entries are non-zero: row i is dense[i·size:(i+1)·size]
	class []int
	w     []float64 // sample weights (nil: 1)
	size  int       // weight vector length (features + bias)
}

func newSVCProblem(m matrix, labels []int, w []float64, k int, bias bool, scale float64) *svcProblem {
	p := &svcProblem{size: m.d, start: []int{0}}
	if bias {
		p.size++
	}
	for c := 0; c < k; c++ {
		for i, l := range labels {
			if l != c || (w != nil && w[i] <= 0) { // liblinear drops rows of weight 0
				continue
			}
			for j, v := range m.row(i) {
				if v != 0 {
					p.idx, p.val = append(p.idx, int32(j)), append(p.val, v)
				}
			}
			if bias {
				p.idx, p.val = append(p.idx, int32(m.d)), append(p.val, scale)
			}
			p.start = append(p.start, len(p.idx))
			p.class = append(p.class, c)
			if w != nil {
				p.w = append(p.w, w[i])
			}
		}
	}
	if nnz := len(p.idx); nnz*2 >= len(p.class)*p.size {
		// Mostly non-zero: store rows densely. Adding the products of the
		// zeros changes no sum (x + 0 = x), so the solution is the same
		// bit for bit, without the indirection.
		p.dense = make([]float64, len(p.class)*p.size)
		for i := range p.class {
			row := p.dense[i*p.size : (i+1)*p.size]
			for k := p.start[i]; k < p.start[i+1]; k++ {
				row[p.idx[k]] = p.val[k]
			}
		}
	}
	return p
}

// solve is liblinear's solve_l2r_l1l2_svc for class pos against the
// others, with scikit-learn's bounded_rand_int on rs.
func (p *svcProblem) solve(ctx context.Context, rs *randomState, pos int, c, eps float64, maxIter int, hinge bool) ([]float64, int, error) {
	l := len(p.class)
	w := make([]float64, p.size)
	alpha := make([]float64, l)
	y := make([]float64, l)
	qd := make([]float64, l)
	diag := make([]float64, l)
	upper := make([]float64, l)
	index := make([]int, l)
	for i := 0; i < l; i++ {
		y[i] = -1
		if p.class[i] == pos {
			y[i] = 1
		}
		ci := c
		if p.w != nil {
			ci = p.w[i] * c
		}
		diag[i], upper[i] = 0.5/ci, math.Inf(1)
		if hinge {
			diag[i], upper[i] = 0, ci
		}
		qd[i] = diag[i]
		for _, v := range p.val[p.start[i]:p.start[i+1]] {
			qd[i] += v * v
		}
		index[i] = i
	}
	pgMaxOld, pgMinOld := math.Inf(1), math.Inf(-1)
	active := l
	iter := 0
	for iter < maxIter {
		if err := ctx.Err(); err != nil {
			return nil, 0, errors.WithStack(err)
		}
		pgMaxNew, pgMinNew := math.Inf(-1), math.Inf(1)
		for i := 0; i < active; i++ {
			j := i + int(rs.boundedRand(uint32(active-i)))
			index[i], index[j] = index[j], index[i]
		}
		for s := 0; s < active; s++ {
			i := index[s]
			idx := p.idx[p.start[i]:p.start[i+1]]
			val := p.val[p.start[i]:p.start[i+1]]
			val = val[:len(idx)]
			var row []float64
			g := 0.0
			if p.dense != nil {
				row = p.dense[i*p.size : (i+1)*p.size]
				g = dotInOrder(w, row)
			} else {
				g = sparseDot(w, idx, val)
			}
			g = g*y[i] - 1
			ub := upper[i]
			g += alpha[i] * diag[i]
			pg := 0.0
			switch {
			case alpha[i] == 0:
				if g > pgMaxOld {
					active--
					index[s], index[active] = index[active], index[s]
					s--
					continue
				} else if g < 0 {
					pg = g
				}
			case alpha[i] == ub:
				if g < pgMinOld {
					active--
					index[s], index[active] = index[active], index[s]
					s--
					continue
				} else if g > 0 {
					pg = g
				}
			default:
				pg = g
			}
			if pg > pgMaxNew {
				pgMaxNew = pg
			}
			if pg < pgMinNew {
				pgMinNew = pg
			}
			if pg > 1e-12 || pg < -1e-12 {
				old := alpha[i]
				a := alpha[i] - g/qd[i]
				if a < 0 {
					a = 0
				}
				if a > ub {
					a = ub
				}
				alpha[i] = a
				d := (a - old) * y[i]
				if row != nil {
					axpy(d, row, w)
				} else {
					for k, j := range idx {
						w[j] += d * val[k]
					}
				}
			}
		}
		iter++
		if pgMaxNew-pgMinNew <= eps {
			if active == l {
				break
			}
			active = l
			pgMaxOld, pgMinOld = math.Inf(1), math.Inf(-1)
			continue
		}
		pgMaxOld, pgMinOld = pgMaxNew, pgMinNew
		if pgMaxOld <= 0 {
			pgMaxOld = math.Inf(1)
		}
		if pgMinOld >= 0 {
			pgMinOld = math.Inf(-1)
		}
	}
	return w, iter, nil
}

// DecisionFunction returns the scores w·x + b: (n) for two classes
// (positive for the second class), (n, classes) otherwise.
func (s *LinearSVC) DecisionFunction(x *tensor.Dense) (*tensor.Dense, error) {
	d, err := s.scores(x)
	if err != nil {
		return nil, err
	}
	return decisionTensor(d), nil
}

func (s *LinearSVC) scores(x *tensor.Dense) ([][]float64, error) {
	if s.coef == nil {
		return nil, errors.Wrap(ErrNotFitted, "ensemble: LinearSVC")
	}
	m, err := matrixOf(x)
	if err != nil {
		return nil, errors.WithMessage(err, "ensemble: LinearSVC")
	}
	if m.d != s.features {
		return nil, errors.Wrapf(ErrInput, "ensemble: LinearSVC fitted on %d features, x has shape %v", s.features, x.Shape())
	}
	out := make([][]float64, m.n)
	for i := range out {
		out[i] = make([]float64, len(s.coef))
		for c, w := range s.coef {
			v := 0.0
			for j, xv := range m.row(i) {
				v += w[j] * xv
			}
			out[i][c] = v + s.intercept[c]
		}
	}
	return out, nil
}

// Predict returns the class of largest score (for two classes, the second
// if its score is positive), as a float64 tensor (n).
func (s *LinearSVC) Predict(x *tensor.Dense) (*tensor.Dense, error) {
	d, err := s.scores(x)
	if err != nil {
		return nil, err
	}
	out := make([]float64, len(d))
	for i, r := range d {
		if len(r) == 1 {
			out[i] = s.classes[0]
			if r[0] > 0 {
				out[i] = s.classes[1]
			}
		} else {
			out[i] = s.classes[argmax(r)]
		}
	}
	return vec(out), nil
}

// Score returns the accuracy on x, y.
func (s *LinearSVC) Score(x, y *tensor.Dense) (float64, error) {
	return score(s, x, y, false)
}

// dotInOrder is Σ w[k]·x[k] summed in index order (liblinear's order, so
// that the sums round alike), unrolled.
func dotInOrder(w, x []float64) float64 {
	x = x[:len(w)]
	g := 0.0
	k := 0
	for ; k+4 <= len(x); k += 4 {
		g += w[k] * x[k]
		g += w[k+1] * x[k+1]
		g += w[k+2] * x[k+2]
		g += w[k+3] * x[k+3]
	}
	for ; k < len(x); k++ {
		g += w[k] * x[k]
	}
	return g
}

// axpy adds d·x to w.
func axpy(d float64, x, w []float64) {
	x = x[:len(w)]
	k := 0
	for ; k+4 <= len(x); k += 4 {
		w[k] += d * x[k]
		w[k+1] += d * x[k+1]
		w[k+2] += d * x[k+2]
		w[k+3] += d * x[k+3]
	}
	for ; k < len(x); k++ {
		w[k] += d * x[k]
	}
}

// sparseDot is Σ w[idx[k]]·val[k] in order, unrolled.
func sparseDot(w []float64, idx []int32, val []float64) float64 {
	val = val[:len(idx)]
	g := 0.0
	k := 0
	for ; k+4 <= len(idx); k += 4 {
		g += w[idx[k]] * val[k]
		g += w[idx[k+1]] * val[k+1]
		g += w[idx[k+2]] * val[k+2]
		g += w[idx[k+3]] * val[k+3]
	}
	for ; k < len(idx); k++ {
		g += w[idx[k]] * val[k]
	}
	return g
}
