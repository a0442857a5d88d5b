package ensemble

import (
	"context"
	"math"

	"github.com/keragon/keragon/keras"
	"github.com/keragon/keragon/training"
	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// MLP is a multi-layer perceptron described entirely by data — layer
// sizes, activation, epochs — as scikit-learn's MLPClassifier and
// MLPRegressor: a Keras model (Dense layers, softmax or linear output)
// trained by Adam on the cross-entropy or the mean squared error. Unlike
// KerasLearner, whose model comes from a Go func, an MLP has a Spec (kind
// "mlp"), so it can be trained on another machine.
//
// A classifier sizes its output from the classes seen at Fit (sorted
// labels), as scikit-learn does. Training stops early, as scikit-learn's
// does by default, when the training loss has not improved by Tol for
// Patience epochs.
type MLP struct {
	// Hidden are the hidden layers' sizes (default [100]).
	Hidden []int `json:"hidden,omitempty"`
	// Activation of the hidden layers (default "relu").
	Activation string `json:"activation,omitempty"`
	// Regression makes a regressor (one linear output, mean squared
	// error); by default y holds class labels.
	Regression bool `json:"regression,omitempty"`
	// Epochs bounds the passes over the data (default 200).
	Epochs int `json:"epochs,omitempty"`
	// BatchSize is the minibatch size (default min(200, n)).
	BatchSize int `json:"batch_size,omitempty"`
	// LearningRate is Adam's step size (default 0.001).
	LearningRate float64 `json:"learning_rate,omitempty"`
	// Patience is the number of epochs without an improvement of the
	// training loss by Tol after which training stops (default 10; −1
	// never stops early).
	Patience int `json:"patience,omitempty"`
	// Tol is the improvement that counts (default 1e-4).
	Tol float64 `json:"tol,omitempty"`
	// Seed sets the initial weights and the shuffling. Clone sets it.
	Seed uint64 `json:"seed,omitempty"`

	k       *KerasLearner
	classes []float64
}

var (
	_ Classifier     = (*MLP)(nil)
	_ ContextLearner = (*MLP)(nil)
)

// Clone returns an untrained copy with the given seed (a Factory).
func (p *MLP) Clone(seed uint64) (Learner, error) {
	c := MLP{Hidden: append([]int(nil), p.Hidden...), Activation: p.Activation, Regression: p.Regression, Epochs: p.Epochs,
		BatchSize: p.BatchSize, LearningRate: p.LearningRate, Patience: p.Patience, Tol: p.Tol, Seed: seed}
	return &c, nil
}

// Model returns the trained Keras model (nil before Fit).
func (p *MLP) Model() *keras.Model {
	if p.k == nil {
		return nil
	}
	return p.k.Model()
}

// ClassLabels returns the classes seen at Fit (nil for a regressor or
// before Fit).
func (p *MLP) ClassLabels() []float64 { return p.classes }

// Fit builds the network for x's features and y's classes and trains it.
func (p *MLP) Fit(x, y *tensor.Dense, sampleWeight []float64) error {
	return p.FitContext(context.Background(), x, y, sampleWeight)
}

// FitContext is Fit, stopping with ctx's error once ctx is done.
func (p *MLP) FitContext(ctx context.Context, x, y *tensor.Dense, sampleWeight []float64) error {
	p.k, p.classes = nil, nil
	hidden, act, epochs, lr, patience, tol := p.Hidden, p.Activation, p.Epochs, p.LearningRate, p.Patience, p.Tol
	if hidden == nil {
		hidden = []int{100}
	}
	if act == "" {
		act = "relu"
	}
	if epochs == 0 {
		epochs = 200
	}
	if lr == 0 {
		lr = 0.001
	}
	if patience == 0 {
		patience = 10
	}
	if tol == 0 {
		tol = 1e-4
	}
	for _, h := range hidden {
		if h <= 0 {
			return errors.Wrapf(ErrConfig, "ensemble: MLP Hidden %v: want sizes > 0", p.Hidden)
		}
	}
	switch {
	case epochs < 0 || p.BatchSize < 0 || patience < -1:
		return errors.Wrapf(ErrConfig, "ensemble: MLP Epochs %d, BatchSize %d, Patience %d: want ≥ 0 (Patience ≥ −1)", p.Epochs, p.BatchSize, p.Patience)
	case !(lr > 0) || math.IsInf(lr, 0) || !(tol >= 0) || math.IsInf(tol, 0):
		return errors.Wrapf(ErrConfig, "ensemble: MLP LearningRate %v, Tol %v: want > 0 and ≥ 0", p.LearningRate, p.Tol)
	}
	n, err := samples(x)
	if err != nil {
		return errors.WithMessage(err, "ensemble: MLP")
	}
	if x.Dims() != 2 {
		return errors.Wrapf(ErrInput, "ensemble: MLP needs x of shape (n, features), got %v", x.Shape())
	}
	d := x.Shape()[1]
	outputs, out, loss := 1, "", "mse"
	yt := y
	var classes []float64
	if !p.Regression {
		var idx []int
		if classes, idx, err = learnerClasses(y, n); err != nil {
			return errors.WithMessage(err, "ensemble: MLP")
		}
		outputs, out, loss = max(len(classes), 2), "softmax", "sparse_categorical_crossentropy"
		yt = indexTensor(idx)
	}
	batch := p.BatchSize
	if batch == 0 {
		batch = min(200, n)
	}
	k := &KerasLearner{
		New: func(seed uint64) (*keras.Model, error) {
			layers := []keras.Layer{&keras.Input{Shape: []int{d}}}
			for _, h := range hidden {
				layers = append(layers, &keras.Dense{Units: h, Activation: act})
			}
			layers = append(layers, &keras.Dense{Units: outputs, Activation: out})
			m := keras.NewSequential(layers...)
			m.SetSeed(seed)
			return m, m.Compile(keras.CompileConfig{Optimizer: &training.Adam{LearningRate: lr}, Loss: loss})
		},
		FitConfig: keras.FitConfig{Epochs: epochs, BatchSize: batch},
		Seed:      p.Seed,
	}
	if !p.Regression {
		k.Classes = outputs
	}
	if patience > 0 {
		k.NewCallbacks = func() []training.Callback {
			return []training.Callback{training.EarlyStopping(training.EarlyStoppingConfig{Monitor: "loss", MinDelta: tol, Patience: patience})}
		}
	}
	if err := k.FitContext(ctx, x, yt, sampleWeight); err != nil {
		return errors.WithMessage(err, "ensemble: MLP")
	}
	p.k, p.classes = k, classes
	return nil
}

// PredictProba returns the class probabilities, (n, classes).
func (p *MLP) PredictProba(x *tensor.Dense) (*tensor.Dense, error) {
	if p.Regression {
		return nil, errors.Wrap(ErrNoProba, "ensemble: a regression MLP")
	}
	if p.k == nil {
		return nil, errors.Wrap(ErrNotFitted, "ensemble: MLP")
	}
	return p.k.PredictProba(x)
}

// Predict returns the most probable class, or the value, as a float64
// tensor (n).
func (p *MLP) Predict(x *tensor.Dense) (*tensor.Dense, error) {
	if p.k == nil {
		return nil, errors.Wrap(ErrNotFitted, "ensemble: MLP")
	}
	pred, err := p.k.Predict(x)
	if err != nil || p.Regression {
		return pred, err
	}
	return vec(decodeClasses(p.classes, flatten(pred))), nil
}

// Score returns the accuracy (classification) or R² (regression) on x, y.
func (p *MLP) Score(x, y *tensor.Dense) (float64, error) {
	return score(p, x, y, p.Regression)
}
