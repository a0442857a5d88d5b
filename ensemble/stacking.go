package ensemble

import (
	"context"
	"io"
	"time"

	"github.com/keragon/keragon/keras/datasets"
	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// Stacking trains a final learner on the cross-validated predictions of
// several learners, as scikit-learn's StackingClassifier and
// StackingRegressor: each estimator is fitted on every fold's training
// rows and predicts its test rows, giving out-of-fold predictions for all
// the samples; the final learner is fitted on those; and each estimator is
// fitted once more on all the data to feed the final learner at
// prediction time.
//
// A classifier's estimator contributes its class probabilities (without
// the first column for two classes, as scikit-learn) or, without them,
// its predicted class; a regressor's its prediction. With the defaults
// the folds are scikit-learn's cv=5: StratifiedKFold for classification
// and KFold for regression, unshuffled.
//
// Job (estimator e, fold f) gets the seed Seed-and-(e, f), and the jobs
// run in parallel on up to Workers goroutines. An estimator that fails in
// any fold is left out of the stack: Fit returns a *FitError naming it
// (and the fold) and the final learner is trained on the others.
type Stacking struct {
	// Estimators make the base learners; at least one.
	Estimators []Factory
	// Final makes the final learner; nil means LogisticRegression for
	// classification and Ridge with Alphas {0.1, 1, 10} for regression
	// (scikit-learn's defaults).
	Final Factory
	// CV is the number of folds (default 5); ignored when Folds is set.
	CV int
	// Folds, if set, are the cross-validation folds; each sample must be
	// in exactly one test set.
	Folds []datasets.Fold
	// StackMethod is "predict_proba", "predict", or "" (auto: probabilities
	// when the estimator gives them).
	StackMethod string
	// Passthrough also gives the final learner the original features (x
	// must be (n, features)).
	Passthrough bool
	// Regression stacks values; by default y holds class indices.
	Regression bool
	// Workers is the number of jobs run at once: 0 means 1, −1 means
	// GOMAXPROCS.
	Workers int
	// Seed makes the ensemble repeatable.
	Seed uint64
	// Progress receives one line per job; nil is silent.
	Progress io.Writer

	fit *stackFit
}

type stackFit struct {
	base    []Learner // fitted on all the data; nil if left out
	proba   []bool    // estimator e contributes probabilities
	final   Learner
	classes int
	feature int // x's features, with Passthrough
}

var (
	_ Classifier     = (*Stacking)(nil)
	_ ContextLearner = (*Stacking)(nil)
)

// Clone returns an untrained copy with the given seed (a Factory).
func (s *Stacking) Clone(seed uint64) (Learner, error) {
	c := *s
	c.Seed, c.fit = seed, nil
	return &c, nil
}

// Fit trains the stack on x, y with optional sample weights (passed to
// every estimator and to the final learner).
func (s *Stacking) Fit(x, y *tensor.Dense, sampleWeight []float64) error {
	return s.FitContext(context.Background(), x, y, sampleWeight)
}

// FinalLearner returns the fitted final learner (nil before Fit).
func (s *Stacking) FinalLearner() Learner {
	if s.fit == nil {
		return nil
	}
	return s.fit.final
}

// FitContext is Fit, stopping once ctx is done.
func (s *Stacking) FitContext(ctx context.Context, x, y *tensor.Dense, sampleWeight []float64) error {
	s.fit = nil
	if len(s.Estimators) == 0 {
		return errors.Wrap(ErrConfig, "ensemble: Stacking has no Estimators")
	}
	if s.StackMethod != "" && s.StackMethod != "predict_proba" && s.StackMethod != "predict" {
		return errors.Wrapf(ErrConfig, "ensemble: Stacking StackMethod %q: want \"predict_proba\", \"predict\" or \"\"", s.StackMethod)
	}
	if s.StackMethod == "predict_proba" && s.Regression {
		return errors.Wrap(ErrConfig, "ensemble: Stacking StackMethod \"predict_proba\" is for classification")
	}
	n, err := samples(x)
	if err != nil {
		return errors.WithMessage(err, "ensemble: Stacking")
	}
	if s.Passthrough && x.Dims() != 2 {
		return errors.Wrapf(ErrInput, "ensemble: Stacking with Passthrough needs x of shape (n, features), got %v", x.Shape())
	}
	var yt *tensor.Dense
	k := 0
	if s.Regression {
		vals, err := targets(y, n)
		if err != nil {
			return errors.WithMessage(err, "ensemble: Stacking")
		}
		yt = vec(vals)
	} else {
		var labels []int
		if labels, k, err = classLabels(y, n); err != nil {
			return errors.WithMessage(err, "ensemble: Stacking")
		}
		yt = labelTensor(labels)
	}
	w, err := checkWeights(sampleWeight, n)
	if err != nil {
		return errors.WithMessage(err, "ensemble: Stacking")
	}
	folds := s.Folds
	if folds == nil {
		cfg := datasets.KFoldConfig{Splits: s.CV}
		if s.Regression {
			folds, err = datasets.KFold(n, cfg)
		} else {
			folds, err = datasets.StratifiedKFold(yt, cfg)
		}
		if err != nil {
			return errors.WithMessage(err, "ensemble: Stacking")
		}
	}
	if err := checkFolds(folds, n); err != nil {
		return err
	}

	E, F := len(s.Estimators), len(folds)
	type job struct {
		learner Learner
		out     [][]float64 // rows of the fold's test samples
		proba   bool
	}
	jobs := make([]job, E*(F+1))
	prog := &progress{w: s.Progress}
	errs := parallel(ctx, len(jobs), s.Workers, func(j int) error {
		start := time.Now()
		e, f := j/(F+1), j%(F+1)
		l, err := newLearner(s.Estimators[e], memberSeed(s.Seed, j))
		if err != nil {
			return err
		}
		if f == F { // all the data
			if err := fitLearner(ctx, l, x, yt, w); err != nil {
				return err
			}
			jobs[j].learner = l
			prog.printf("stacking: estimator %d/%d trained on all %d samples in %.2fs", e+1, E, n, time.Since(start).Seconds())
			return nil
		}
		fold := folds[f]
		xTr, err := rows(x, fold.Train)
		if err != nil {
			return err
		}
		yTr, err := rows(yt, fold.Train)
		if err != nil {
			return err
		}
		xTe, err := rows(x, fold.Test)
		if err != nil {
			return err
		}
		var wTr []float64
		if w != nil {
			wTr = make([]float64, len(fold.Train))
			for i, r := range fold.Train {
				wTr[i] = w[r]
			}
		}
		if err := fitLearner(ctx, l, xTr, yTr, wTr); err != nil {
			return err
		}
		jobs[j].out, jobs[j].proba, err = s.features(l, xTe, k)
		if err != nil {
			return err
		}
		prog.printf("stacking: estimator %d/%d fold %d/%d trained in %.2fs", e+1, E, f+1, F, time.Since(start).Seconds())
		return nil
	})

	fit := &stackFit{base: make([]Learner, E), proba: make([]bool, E), classes: k}
	fe := &FitError{}
	meta := make([][]float64, n)
	for e := 0; e < E; e++ {
		var failed []*MemberError
		for f := 0; f <= F; f++ {
			if err := errs[e*(F+1)+f]; err != nil {
				fold := f
				if f == F {
					fold = -1
				}
				failed = append(failed, &MemberError{Ensemble: "stacking", Member: e, Fold: fold, Err: err})
			}
		}
		if len(failed) == 0 {
			proba := jobs[e*(F+1)].proba
			for f := 1; f < F; f++ {
				if jobs[e*(F+1)+f].proba != proba {
					failed = append(failed, &MemberError{Ensemble: "stacking", Member: e, Fold: f,
						Err: errors.New("the estimator gave probabilities in some folds and not in others")})
					break
				}
			}
		}
		if len(failed) > 0 {
			fe.Failed = append(fe.Failed, failed...)
			prog.printf("stacking: estimator %d/%d left out: %v", e+1, E, failed[0])
			continue
		}
		fe.Trained++
		fit.base[e], fit.proba[e] = jobs[e*(F+1)+F].learner, jobs[e*(F+1)].proba
		for f := 0; f < F; f++ {
			for i, r := range folds[f].Test {
				meta[r] = append(meta[r], jobs[e*(F+1)+f].out[i]...)
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return errors.Wrapf(err, "ensemble: Stacking stopped")
	}
	if fe.Trained == 0 {
		return fe
	}
	metaX, err := s.metaInput(meta, x)
	if err != nil {
		return err
	}
	finalF := s.Final
	if finalF == nil {
		if s.Regression {
			finalF = (&Ridge{Alphas: []float64{0.1, 1, 10}}).Clone
		} else {
			finalF = (&LogisticRegression{}).Clone
		}
	}
	final, err := newLearner(finalF, memberSeed(s.Seed, len(jobs)))
	if err == nil {
		err = fitLearner(ctx, final, metaX, yt, w)
	}
	if err != nil {
		return errors.WithMessage(err, "ensemble: Stacking final learner")
	}
	fit.final = final
	if s.Passthrough {
		fit.feature = x.Shape()[1]
	}
	s.fit = fit
	prog.printf("stacking: final learner trained on %d stacked features", metaX.Shape()[1])
	if len(fe.Failed) > 0 {
		return fe
	}
	return nil
}

// checkFolds checks that the folds test every sample exactly once.
func checkFolds(folds []datasets.Fold, n int) error {
	if len(folds) < 2 {
		return errors.Wrapf(ErrConfig, "ensemble: %d folds: want at least 2", len(folds))
	}
	tested := make([]int, n)
	for f, fold := range folds {
		if len(fold.Train) == 0 || len(fold.Test) == 0 {
			return errors.Wrapf(ErrConfig, "ensemble: fold %d has %d training and %d test samples", f, len(fold.Train), len(fold.Test))
		}
		for _, r := range append(append([]int(nil), fold.Train...), fold.Test...) {
			if r < 0 || r >= n {
				return errors.Wrapf(ErrConfig, "ensemble: fold %d holds sample %d of %d", f, r, n)
			}
		}
		for _, r := range fold.Test {
			tested[r]++
		}
	}
	for r, c := range tested {
		if c != 1 {
			return errors.Wrapf(ErrConfig, "ensemble: sample %d is in %d test folds, want 1", r, c)
		}
	}
	return nil
}

// features returns an estimator's stacked features for x and whether they
// are probabilities.
func (s *Stacking) features(l Learner, x *tensor.Dense, k int) ([][]float64, bool, error) {
	n, err := samples(x)
	if err != nil {
		return nil, false, err
	}
	if c, ok := l.(Classifier); ok && !s.Regression && s.StackMethod != "predict" {
		p, err := c.PredictProba(x)
		if err == nil {
			rows, err := probaRows(p, n, k, "PredictProba")
			if err != nil {
				return nil, false, err
			}
			if k == 2 {
				for i := range rows {
					rows[i] = rows[i][1:]
				}
			}
			return rows, true, nil
		}
		if s.StackMethod == "predict_proba" || !errors.Is(err, ErrNoProba) {
			return nil, false, err
		}
	} else if s.StackMethod == "predict_proba" {
		return nil, false, errors.Wrapf(ErrNoProba, "ensemble: StackMethod \"predict_proba\" needs a Classifier, got %T", l)
	}
	p, err := l.Predict(x)
	if err != nil {
		return nil, false, err
	}
	v, err := predictions(p, n, "Predict")
	if err != nil {
		return nil, false, err
	}
	rows := make([][]float64, n)
	for i, f := range v {
		rows[i] = []float64{f}
	}
	return rows, false, nil
}

// metaInput makes the final learner's input: the stacked features, then
// x's features with Passthrough.
func (s *Stacking) metaInput(meta [][]float64, x *tensor.Dense) (*tensor.Dense, error) {
	if s.Passthrough {
		m, err := matrixOf(x)
		if err != nil {
			return nil, err
		}
		for i := range meta {
			meta[i] = append(meta[i], m.row(i)...)
		}
	}
	return rowsTensor(meta, len(meta[0])), nil
}

// stacked runs the base learners on x and returns the final learner's
// input.
func (s *Stacking) stacked(x *tensor.Dense) (*tensor.Dense, error) {
	if s.fit == nil {
		return nil, errors.Wrap(ErrNotFitted, "ensemble: Stacking")
	}
	n, err := samples(x)
	if err != nil {
		return nil, errors.WithMessage(err, "ensemble: Stacking")
	}
	if s.Passthrough && (x.Dims() != 2 || x.Shape()[1] != s.fit.feature) {
		return nil, errors.Wrapf(ErrInput, "ensemble: Stacking was fitted on %d features, x has shape %v", s.fit.feature, x.Shape())
	}
	meta := make([][]float64, n)
	for e, l := range s.fit.base {
		if l == nil {
			continue
		}
		rows, proba, err := s.features(l, x, s.fit.classes)
		if err == nil && proba != s.fit.proba[e] {
			err = errors.New("the estimator's probabilities came and went")
		}
		if err != nil {
			return nil, &MemberError{Ensemble: "stacking", Member: e, Fold: -1, Err: err}
		}
		for i := range meta {
			meta[i] = append(meta[i], rows[i]...)
		}
	}
	return s.metaInput(meta, x)
}

// Predict returns the final learner's predictions on the stacked features
// of x.
func (s *Stacking) Predict(x *tensor.Dense) (*tensor.Dense, error) {
	m, err := s.stacked(x)
	if err != nil {
		return nil, err
	}
	return s.fit.final.Predict(m)
}

// PredictProba returns the final learner's class probabilities.
func (s *Stacking) PredictProba(x *tensor.Dense) (*tensor.Dense, error) {
	c, ok := s.FinalLearner().(Classifier)
	if s.Regression || (s.fit != nil && !ok) {
		return nil, errors.Wrap(ErrNoProba, "ensemble: the Stacking final learner gives no probabilities")
	}
	m, err := s.stacked(x)
	if err != nil {
		return nil, err
	}
	return c.PredictProba(m)
}

// Score returns the accuracy (classification) or R² (regression) on x, y.
func (s *Stacking) Score(x, y *tensor.Dense) (float64, error) {
	return score(s, x, y, s.Regression)
}
