package keras

import (
	"math"

	"github.com/keragon/keragon/training"
	"github.com/pkg/errors"
)

// PerceptronConfig configures NewPerceptron. The zero value of a field
// means scikit-learn's default (sklearn.linear_model.Perceptron).
type PerceptronConfig struct {
	// Features is the number of input features; required, > 0.
	Features int
	// Classes is the number of classes; required, >= 2. Two classes make
	// one perceptron with one score, trained on labels 1 (positive) and 0
	// or −1 (negative); more make one perceptron per class, one-vs-rest,
	// trained on class indices.
	Classes int
	// LearningRate is the constant step, scikit-learn's eta0 (default 1).
	// The weights start at zero, so it scales them without changing any
	// prediction.
	LearningRate float64
	// NoIntercept drops the bias (scikit-learn's fit_intercept=False).
	NoIntercept bool
	// Seed seeds the model's random stream, which shuffles the samples
	// every epoch (the weights start at zero whatever the seed).
	Seed uint64
	// Dtype is "float32" (the default) or "float64".
	Dtype string
}

// NewPerceptron returns Rosenblatt's perceptron as a ready model: a
// Sequential model of one linear Dense layer named "perceptron" (kernel
// (Features, scores), bias (scores), both starting at zero, one score for
// two classes and one per class otherwise), compiled with the perceptron
// loss max(0, −y·s) ("perceptron", or "sparse_perceptron" one-vs-rest) and
// plain SGD at LearningRate. Fit, Evaluate, Predict, Summary, Save and Load
// work on it as on any model; DecisionFunction, PredictClasses and
// ClassAccuracy read its scores.
//
// This is scikit-learn's Perceptron (SGD on the perceptron loss, eta0 = 1,
// constant rate, no penalty, shuffled every epoch). Fit with BatchSize 1
// is Rosenblatt's rule exactly: for each sample x with label y = ±1, in
// order (NoShuffle) or shuffled, if y·(w·x + b) ≤ 0 then w += rate·y·x and
// b += rate·y; one-vs-rest does this for every class's perceptron at once,
// as scikit-learn's one-vs-rest training does class by class. With
// NoShuffle it gives scikit-learn's coef_ and intercept_ for
// Perceptron(shuffle=False, max_iter=Epochs, tol=None). A larger BatchSize
// averages the updates of a batch's misclassified samples (a batch
// perceptron), which also reaches zero training errors on linearly
// separable data. Training does not stop by itself: choose Epochs, or stop
// with a callback.
//
// The model has no accuracy metric: Keras' "accuracy" would threshold a
// single score at 0.5; use ClassAccuracy.
func NewPerceptron(cfg PerceptronConfig) (*Model, error) {
	lr := cfg.LearningRate
	if lr == 0 {
		lr = 1
	}
	if !(lr > 0) || math.IsInf(lr, 0) {
		return nil, errors.Errorf("keras: NewPerceptron needs a positive, finite LearningRate, got %g", cfg.LearningRate)
	}
	m, err := linearModel("NewPerceptron", cfg.Features, cfg.Classes, cfg.Dtype, cfg.Seed,
		&Dense{Name: "perceptron", NoBias: cfg.NoIntercept})
	if err != nil {
		return nil, err
	}
	m.SetName("perceptron")
	if err := m.Compile(CompileConfig{
		Optimizer: &training.SGD{LearningRate: lr},
		Loss:      linearLossName("perceptron", cfg.Classes),
	}); err != nil {
		return nil, errors.WithMessage(err, "keras: NewPerceptron")
	}
	return m, nil
}
