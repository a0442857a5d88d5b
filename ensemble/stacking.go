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
// its predicted class index; a regressor's its prediction. With the
// defaults the folds are scikit-learn's cv=5: StratifiedKFold for
// classification and KFold for regression, unshuffled.
//
// Job (estimator e, fold f) gets the seed Seed-and-(e, f), and the jobs
// run in parallel on up to Workers goroutines. If any job fails, Fit fails
// with a *FitError naming each failed estimator and fold: an estimator is
// never left out of the stack (the final learner's inputs would silently
// change).
type Stacking struct {
	// Estimators make the base learners. If nil, EstimatorSpecs describe
	// them as data; at least one is required.
	Estimators []Factory `json:"-"`
	// EstimatorSpecs describe the base learners as registered kinds with
	// JSON parameters (used when Estimators is nil).
	EstimatorSpecs []Spec `json:"estimators,omitempty"`
	// Final makes the final learner; if nil, FinalSpec describes it; if
	// both are nil, LogisticRegression for classification and Ridge with
	// Alphas {0.1, 1, 10} for regression (scikit-learn's defaults).
	Final Factory `json:"-"`
	// FinalSpec describes the final learner as data (used when Final is
	// nil).
	FinalSpec *Spec `json:"final,omitempty"`
	// CV is the number of folds (default 5); ignored when Folds is set.
	CV int `json:"cv,omitempty"`
	// Folds, if set, are the cross-validation folds; each sample must be
	// in exactly one test set.
	Folds []datasets.Fold `json:"folds,omitempty"`
	// StackMethod is "predict_proba", "predict", or "" (auto: probabilities
	// when the estimator gives them).
	StackMethod string `json:"stack_method,omitempty"`
	// Passthrough also gives the final learner the original features (x
	// must be (n, features)).
	Passthrough bool `json:"passthrough,omitempty"`
	// Regression stacks values; by default y holds class labels.
	Regression bool `json:"regression,omitempty"`
	// Workers is the number of jobs run at once: 0 means 1, −1 means
	// GOMAXPROCS.
	Workers int `json:"workers,omitempty"`
	// Seed makes the ensemble repeatable.
	Seed uint64 `json:"seed"`
	// Progress receives one line per job; nil is silent.
	Progress io.Writer `json:"-"`

	fit *stackFit
}

type stackFit struct {
	specs   []MemberSpec // the members fitted on all the data, per estimator
	base    []Learner
	proba   []bool // estimator e contributes probabilities
	final   Learner
	classes []float64
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

// Classes returns the class labels (nil for regression or before Fit).
func (s *Stacking) ClassLabels() []float64 {
	if s.fit == nil {
		return nil
	}
	return s.fit.classes
}

func (s *Stacking) factories() []Factory {
	if s.Estimators != nil {
		return s.Estimators
	}
	out := make([]Factory, len(s.EstimatorSpecs))
	for i, sp := range s.EstimatorSpecs {
		out[i] = sp.New
	}
	return out
}

// Plan checks the configuration and the data and returns the jobs Fit
// runs: for estimator e, one member per fold f (Index e·(F+1)+f, trained
// on the fold's training rows, predicting its test rows), then one trained
// on all the rows (Index e·(F+1)+F, Fold −1).
func (s *Stacking) Plan(x, y *tensor.Dense) ([]MemberSpec, error) {
	specs, _, err := s.plan(x, y)
	return specs, err
}

func (s *Stacking) plan(x, y *tensor.Dense) ([]MemberSpec, []datasets.Fold, error) {
	fs := s.factories()
	if len(fs) == 0 {
		return nil, nil, errors.Wrap(ErrConfig, "ensemble: Stacking has no Estimators")
	}
	if s.StackMethod != "" && s.StackMethod != "predict_proba" && s.StackMethod != "predict" {
		return nil, nil, errors.Wrapf(ErrConfig, "ensemble: Stacking StackMethod %q: want \"predict_proba\", \"predict\" or \"\"", s.StackMethod)
	}
	if s.StackMethod == "predict_proba" && s.Regression {
		return nil, nil, errors.Wrap(ErrConfig, "ensemble: Stacking StackMethod \"predict_proba\" is for classification")
	}
	n, err := samples(x)
	if err != nil {
		return nil, nil, errors.WithMessage(err, "ensemble: Stacking")
	}
	if s.Passthrough && x.Dims() != 2 {
		return nil, nil, errors.Wrapf(ErrInput, "ensemble: Stacking with Passthrough needs x of shape (n, features), got %v", x.Shape())
	}
	var classes []float64
	var idx []int
	if !s.Regression {
		if classes, idx, err = classLabels(y, n); err != nil {
			return nil, nil, errors.WithMessage(err, "ensemble: Stacking")
		}
	} else if _, err := targets(y, n); err != nil {
		return nil, nil, errors.WithMessage(err, "ensemble: Stacking")
	}
	folds := s.Folds
	if folds == nil {
		if folds, err = defaultFolds(s.CV, s.Regression, n, idx); err != nil {
			return nil, nil, err
		}
	}
	if err := checkFolds(folds, n); err != nil {
		return nil, nil, err
	}
	F := len(folds)
	specs := make([]MemberSpec, 0, len(fs)*(F+1))
	for e := range fs {
		for f := 0; f <= F; f++ {
			j := e*(F+1) + f
			m := MemberSpec{Ensemble: "stacking", Index: j, Estimator: e, Seed: memberSeed(s.Seed, j), Fold: -1, Classes: classes}
			if f < F {
				m.Rows, m.Test, m.Fold = folds[f].Train, folds[f].Test, f
			}
			specs = append(specs, m)
		}
	}
	return specs, folds, nil
}

// FitContext is Fit, stopping once ctx is done.
func (s *Stacking) FitContext(ctx context.Context, x, y *tensor.Dense, sampleWeight []float64) error {
	s.fit = nil
	specs, folds, err := s.plan(x, y)
	if err != nil {
		return err
	}
	data, err := newMemberData(x, y, sampleWeight, specs[0].Classes)
	if err != nil {
		return errors.WithMessage(err, "ensemble: Stacking")
	}
	fs := s.factories()
	F := len(folds)
	learners := make([]Learner, len(specs))
	prog := &progress{w: s.Progress}
	errs := parallel(ctx, len(specs), s.Workers, func(j int) error {
		start := time.Now()
		m := specs[j]
		l, err := trainMember(ctx, fs[m.Estimator], m, data)
		if err != nil {
			return err
		}
		learners[j] = l
		if m.Fold < 0 {
			prog.printf("stacking: estimator %d/%d trained on all %d samples in %.2fs", m.Estimator+1, len(fs), data.n, time.Since(start).Seconds())
		} else {
			prog.printf("stacking: estimator %d/%d fold %d/%d trained in %.2fs", m.Estimator+1, len(fs), m.Fold+1, F, time.Since(start).Seconds())
		}
		return nil
	})
	if err := ctx.Err(); err != nil {
		return errors.Wrapf(err, "ensemble: Stacking stopped")
	}
	if err := s.stackErrors(specs, errs, prog); err != nil {
		return err
	}
	return s.assemble(ctx, specs, learners, data, x, prog)
}

// stackErrors turns the jobs' errors into a *FitError naming each failed
// estimator and fold (nil if none failed).
func (s *Stacking) stackErrors(specs []MemberSpec, errs []error, prog *progress) error {
	fe := &FitError{}
	for e := 0; e < len(specs); {
		var failed []*MemberError
		j := e
		for ; j < len(specs) && specs[j].Estimator == specs[e].Estimator; j++ {
			if errs[j] != nil {
				failed = append(failed, &MemberError{Ensemble: "stacking", Member: specs[j].Estimator, Fold: specs[j].Fold, Err: errs[j]})
			}
		}
		if len(failed) > 0 {
			fe.Failed = append(fe.Failed, failed...)
			prog.printf("stacking: estimator %d failed: %v", specs[e].Estimator+1, failed[0])
		} else {
			fe.Trained++
		}
		e = j
	}
	if len(fe.Failed) > 0 {
		return fe
	}
	return nil
}

// Assemble makes s a fitted stack of estimators trained elsewhere: the
// specs s.Plan(x, y) returned and, in the same order, the learners
// TrainMember trained from them (every one is needed). It computes the
// fold members' out-of-fold features (StackFeatures) and fits the final
// learner on them, with y and the sample weights, as Fit does.
func (s *Stacking) Assemble(ctx context.Context, x, y *tensor.Dense, sampleWeight []float64, specs []MemberSpec, learners []Learner) error {
	s.fit = nil
	fs := s.factories()
	if len(fs) == 0 || len(specs) == 0 || len(specs)%len(fs) != 0 || len(learners) != len(specs) {
		return errors.Wrapf(ErrConfig, "ensemble: Stacking.Assemble: %d specs and %d learners for %d estimators", len(specs), len(learners), len(fs))
	}
	F := len(specs)/len(fs) - 1
	errs := make([]error, len(specs))
	for j, m := range specs {
		e, f := j/(F+1), j%(F+1)
		want := f
		if f == F {
			want = -1
		}
		if m.Index != j || m.Ensemble != "stacking" || m.Estimator != e || m.Fold != want || (m.Classes == nil) != s.Regression || len(m.Classes) != len(specs[0].Classes) {
			return errors.Wrapf(ErrConfig, "ensemble: Stacking.Assemble: spec %d is %s member %d (estimator %d, fold %d), want stacking member %d (estimator %d, fold %d)", j, m.Ensemble, m.Index, m.Estimator, m.Fold, j, e, want)
		}
		if learners[j] == nil {
			errs[j] = errors.Wrap(ErrNotFitted, "ensemble: no learner")
		}
	}
	prog := &progress{w: s.Progress}
	if err := s.stackErrors(specs, errs, prog); err != nil {
		return err
	}
	data, err := newMemberData(x, y, sampleWeight, specs[0].Classes)
	if err != nil {
		return errors.WithMessage(err, "ensemble: Stacking")
	}
	return s.assemble(ctx, specs, learners, data, x, prog)
}

// assemble computes the out-of-fold features of the fold members (in
// parallel), checks that each estimator gives probabilities in every
// fold or in none, and fits the final learner.
func (s *Stacking) assemble(ctx context.Context, specs []MemberSpec, learners []Learner, data *memberData, x *tensor.Dense, prog *progress) error {
	outs := make([]*MemberOutput, len(specs))
	proba := make([]bool, len(specs))
	errs := parallel(ctx, len(specs), s.Workers, func(j int) error {
		m := specs[j]
		if m.Fold < 0 {
			return nil
		}
		var err error
		outs[j], proba[j], err = StackFeatures(learners[j], m, x, m.Test, s.StackMethod)
		return err
	})
	if err := ctx.Err(); err != nil {
		return errors.Wrapf(err, "ensemble: Stacking stopped")
	}
	F := len(specs)/len(s.factories()) - 1
	for e := 0; e < len(specs); e += F + 1 {
		for f := 1; f < F; f++ {
			if j := e + f; errs[e] == nil && errs[j] == nil && proba[j] != proba[e] {
				errs[j] = errors.New("the estimator gave probabilities in some folds and not in others")
				break
			}
		}
	}
	if err := s.stackErrors(specs, errs, prog); err != nil {
		return err
	}
	meta := make([][]float64, data.n)
	var fit stackFit
	for j, m := range specs {
		if m.Fold < 0 {
			fit.specs = append(fit.specs, m)
			fit.base = append(fit.base, learners[j])
			fit.proba = append(fit.proba, proba[j-F]) // fold 0's
			continue
		}
		o := outs[j]
		for i, r := range o.Rows {
			meta[r] = append(meta[r], o.Values[i]...)
		}
	}
	metaX, err := s.metaInput(meta, x)
	if err != nil {
		return err
	}
	def := (&LogisticRegression{}).Clone
	if s.Regression {
		def = (&Ridge{Alphas: []float64{0.1, 1, 10}}).Clone
	}
	finalF, _ := factoryOf("Stacking", s.Final, s.FinalSpec, def)
	final, err := newLearner(finalF, memberSeed(s.Seed, len(specs)))
	if err == nil {
		err = fitLearner(ctx, final, metaX, data.target(nil), data.w)
	}
	if err != nil {
		return errors.WithMessage(err, "ensemble: Stacking final learner")
	}
	fit.final, fit.classes = final, specs[0].Classes
	if s.Passthrough {
		fit.feature = x.Shape()[1]
	}
	s.fit = &fit
	prog.printf("stacking: final learner trained on %d stacked features", metaX.Shape()[1])
	return nil
}

// defaultFolds makes scikit-learn's cv=k folds (k = 0 means 5):
// StratifiedKFold of the class indices idx for classification, KFold of
// the n samples for regression, unshuffled.
func defaultFolds(k int, regression bool, n int, idx []int) ([]datasets.Fold, error) {
	cfg := datasets.KFoldConfig{Splits: k}
	var folds []datasets.Fold
	var err error
	if regression {
		folds, err = datasets.KFold(n, cfg)
	} else {
		folds, err = datasets.StratifiedKFold(indexTensor(idx), cfg)
	}
	if err != nil {
		return nil, errors.Wrap(ErrConfig, err.Error())
	}
	return folds, nil
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

// StackFeatures returns what a trained stacking member contributes to the
// final learner's input for the rows of x (all if nil), and whether those
// are probabilities: with method "predict_proba", or "" for a member that
// gives them, its class probabilities in the order of m.Classes (without
// the first column for two classes); otherwise its prediction (a class
// index, or a value for regression).
func StackFeatures(l Learner, m MemberSpec, x *tensor.Dense, rows []int, method string) (*MemberOutput, bool, error) {
	xi, err := memberInput(x, rows, m.Features)
	if err != nil {
		return nil, false, err
	}
	n, err := samples(xi)
	if err != nil {
		return nil, false, err
	}
	k := len(m.Classes)
	out := &MemberOutput{Index: m.Index, Rows: rows}
	if c, ok := l.(Classifier); ok && k > 0 && method != "predict" {
		p, err := c.PredictProba(xi)
		if err == nil {
			vals, err := probaRows(l, p, n, k, "PredictProba")
			if err != nil {
				return nil, false, err
			}
			if k == 2 {
				for i := range vals {
					vals[i] = vals[i][1:]
				}
			}
			out.Values = vals
			return out, true, nil
		}
		if method == "predict_proba" || !errors.Is(err, ErrNoProba) {
			return nil, false, err
		}
	} else if method == "predict_proba" {
		return nil, false, errors.Wrapf(ErrNoProba, "ensemble: StackMethod \"predict_proba\" needs a Classifier, got %T", l)
	}
	p, err := l.Predict(xi)
	if err != nil {
		return nil, false, err
	}
	v, err := predictions(p, n, "Predict")
	if err != nil {
		return nil, false, err
	}
	out.Values = make([][]float64, n)
	for i, f := range v {
		out.Values[i] = []float64{f}
	}
	return out, false, nil
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
		o, proba, err := StackFeatures(l, s.fit.specs[e], x, nil, s.StackMethod)
		if err == nil && proba != s.fit.proba[e] {
			err = errors.New("the estimator's probabilities came and went")
		}
		if err != nil {
			return nil, &MemberError{Ensemble: "stacking", Member: e, Fold: -1, Err: err}
		}
		for i := range meta {
			meta[i] = append(meta[i], o.Values[i]...)
		}
	}
	return s.metaInput(meta, x)
}

// Predict returns the final learner's predictions on the stacked features
// of x (class labels or values).
func (s *Stacking) Predict(x *tensor.Dense) (*tensor.Dense, error) {
	m, err := s.stacked(x)
	if err != nil {
		return nil, err
	}
	p, err := s.fit.final.Predict(m)
	if err != nil || s.Regression {
		return p, err
	}
	v, err := predictions(p, m.Shape()[0], "the final learner's Predict")
	if err != nil {
		return nil, err
	}
	for i, c := range v {
		if c != float64(int(c)) || c < 0 || int(c) >= len(s.fit.classes) {
			return nil, errors.Errorf("ensemble: the Stacking final learner predicted %v for sample %d, want a class index below %d", c, i, len(s.fit.classes))
		}
	}
	return vec(decodeClasses(s.fit.classes, v)), nil
}

// PredictProba returns the final learner's class probabilities, (n,
// classes), padded with 0 for classes it never saw.
func (s *Stacking) PredictProba(x *tensor.Dense) (*tensor.Dense, error) {
	c, ok := s.FinalLearner().(Classifier)
	if s.Regression || (s.fit != nil && !ok) {
		return nil, errors.Wrap(ErrNoProba, "ensemble: the Stacking final learner gives no probabilities")
	}
	m, err := s.stacked(x)
	if err != nil {
		return nil, err
	}
	p, err := c.PredictProba(m)
	if err != nil {
		return nil, err
	}
	k := len(s.fit.classes)
	rows, err := probaRows(c, p, m.Shape()[0], k, "the final learner's PredictProba")
	if err != nil {
		return nil, err
	}
	return rowsTensor(rows, k), nil
}

// Score returns the accuracy (classification) or R² (regression) on x, y.
func (s *Stacking) Score(x, y *tensor.Dense) (float64, error) {
	return score(s, x, y, s.Regression)
}
