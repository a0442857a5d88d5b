package keras

import (
	"math"
	"strings"

	"github.com/keragon/keragon/ops"
	"github.com/keragon/keragon/training"
	"github.com/pkg/errors"
)

// SVMConfig configures NewLinearSVM. The zero value of a field means
// scikit-learn's default (sklearn.svm.LinearSVC) unless its comment says
// otherwise.
type SVMConfig struct {
	// Features is the number of input features; required, > 0.
	Features int
	// Classes is the number of classes; required, >= 2. Two classes make
	// one SVM with one score, trained on labels 1 (positive) and 0 or −1
	// (negative); more make one SVM per class, one-vs-rest, trained on
	// class indices.
	Classes int
	// C weighs the loss against the margin: the objective of each SVM is
	// ½‖w‖² + C·Σᵢ loss(yᵢ·(w·xᵢ + b)) over the n training samples.
	// Default 1; must be positive.
	C float64
	// Samples is n, the number of samples Fit will train on; required
	// unless Alpha is set. Keras averages the loss over a batch, so the
	// model minimises the objective above divided by C·n:
	// meanᵢ loss + 1/(2·C·n)·‖w‖², the same minimiser, with the L2 factor
	// 1/(2·C·n) fixed when the model is made. Count the samples Fit
	// trains on (after ValidationSplit): on m samples the model solves the
	// problem of C·Samples/m in place of C.
	Samples int
	// Alpha, when set, gives that L2 factor as scikit-learn's
	// SGDClassifier does instead of C and Samples: the model minimises
	// meanᵢ loss + Alpha/2·‖w‖² (C = 1/(Alpha·n) for n samples). Set C
	// and Samples, or Alpha.
	Alpha float64
	// Loss is "squared_hinge" (the default, max(0, 1 − y·s)²) or "hinge"
	// (max(0, 1 − y·s)).
	Loss string
	// PenalizeIntercept adds b² to ‖w‖², as LinearSVC does with its
	// default intercept_scaling=1 (it learns b as the weight of a constant
	// feature). The default leaves the intercept unpenalised, the textbook
	// SVM, whose solution does not move with a shift of the data.
	PenalizeIntercept bool
	// NoIntercept drops the bias (fit_intercept=False).
	NoIntercept bool
	// Optimizer is a training.Optimizer or a name; nil means Adam with
	// learning rate 0.01 (training.Adam).
	Optimizer any
	// Seed seeds the model's random stream (shuffling); the weights start
	// at zero whatever the seed.
	Seed uint64
	// Dtype is "float32" (the default) or "float64".
	Dtype string
}

// NewLinearSVM returns a linear support vector classifier as a ready model:
// a Sequential model of one linear Dense layer named "svm" (weights
// starting at zero, one score for two classes and one per class
// otherwise), whose kernel (and, with PenalizeIntercept, bias) carries the
// L2 regulariser that SVMConfig.Samples describes, compiled with the loss
// "svm_squared_hinge" or "svm_hinge" ("sparse_…" one-vs-rest) and
// cfg.Optimizer. Fit, Evaluate, Predict, Summary, Save and Load work on it
// as on any model; DecisionFunction, PredictClasses and ClassAccuracy read
// its scores.
//
// One-vs-rest trains one SVM per class on labels +1 (the class) and −1
// (the rest); the loss sums over the classes, so each SVM minimises its
// own objective, as scikit-learn's LinearSVC(multi_class="ovr").
//
// Fit minimises the objective by gradient steps, not by LinearSVC's exact
// coordinate descent: the result approaches the optimum as training goes
// on. Full batches (BatchSize = n) and a decaying learning rate approach
// it closest; the hinge loss, not smooth at the margin, converges more
// slowly than the squared hinge.
func NewLinearSVM(cfg SVMConfig) (*Model, error) {
	loss := strings.ToLower(cfg.Loss)
	switch loss {
	case "":
		loss = "squared_hinge"
	case "hinge", "squared_hinge":
	default:
		return nil, errors.Errorf("keras: NewLinearSVM: Loss must be \"hinge\" or \"squared_hinge\", got %q", cfg.Loss)
	}
	l2, err := svmL2(cfg)
	if err != nil {
		return nil, err
	}
	dense := &Dense{Name: "svm", NoBias: cfg.NoIntercept, KernelRegularizer: &ops.L1L2{L2: l2}}
	if cfg.PenalizeIntercept && !cfg.NoIntercept {
		dense.BiasRegularizer = &ops.L1L2{L2: l2}
	}
	m, err := linearModel("NewLinearSVM", cfg.Features, cfg.Classes, cfg.Dtype, cfg.Seed, dense)
	if err != nil {
		return nil, err
	}
	m.SetName("linear_svm")
	opt := cfg.Optimizer
	if opt == nil {
		opt = &training.Adam{LearningRate: 0.01}
	}
	if err := m.Compile(CompileConfig{Optimizer: opt, Loss: linearLossName("svm_"+loss, cfg.Classes)}); err != nil {
		return nil, errors.WithMessage(err, "keras: NewLinearSVM")
	}
	return m, nil
}

// svmL2 is the L2 factor of the kernel penalty: 1/(2·C·n), or Alpha/2.
func svmL2(cfg SVMConfig) (float64, error) {
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	if cfg.Alpha != 0 {
		switch {
		case !(cfg.Alpha > 0) || !finite(cfg.Alpha):
			return 0, errors.Errorf("keras: NewLinearSVM needs a positive, finite Alpha, got %g", cfg.Alpha)
		case cfg.C != 0 || cfg.Samples != 0:
			return 0, errors.Errorf("keras: NewLinearSVM: set C and Samples, or Alpha, not both (C %g, Samples %d, Alpha %g)",
				cfg.C, cfg.Samples, cfg.Alpha)
		}
		return cfg.Alpha / 2, nil
	}
	c := cfg.C
	if c == 0 {
		c = 1
	}
	switch {
	case !(c > 0) || !finite(c):
		return 0, errors.Errorf("keras: NewLinearSVM needs a positive, finite C, got %g", cfg.C)
	case cfg.Samples <= 0:
		return 0, errors.Errorf("keras: NewLinearSVM needs Samples, the number of training samples n (the L2 factor is 1/(2·C·n)), or Alpha; got Samples %d", cfg.Samples)
	}
	return 1 / (2 * c * float64(cfg.Samples)), nil
}
