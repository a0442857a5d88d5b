package ensemble

import (
	"context"
	"math"

	"github.com/keragon/keragon/keras"
	"github.com/keragon/keragon/training"
	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// KerasLearner turns a factory of Keras models into a Learner: every Fit
// builds a fresh model with New(Seed) and trains it with Keras' Fit, so
// each ensemble member has its own model, graph and random stream and
// trains safely in its own goroutine.
//
//	mlp := &ensemble.KerasLearner{
//		New: func(seed uint64) (*keras.Model, error) {
//			m := keras.NewSequential(&keras.Dense{Units: 16, Activation: "relu"},
//				&keras.Dense{Units: 3, Activation: "softmax"})
//			m.SetSeed(seed)
//			return m, m.Compile(keras.CompileConfig{Optimizer: "adam",
//				Loss: "sparse_categorical_crossentropy"})
//		},
//		FitConfig: keras.FitConfig{Epochs: 50, BatchSize: 16},
//		Classes:   3,
//	}
//	bag := &ensemble.Bagging{New: mlp.Clone, Members: 10, Workers: 2}
//
// New must call SetSeed(seed) before Compile so that the member's initial
// weights come from the seed. A model New returns uncompiled is seeded and
// compiled here with Compile (or, if nil, Adam and the loss that suits the
// model: sparse categorical or binary cross-entropy, or mean squared
// error). A Sequential model without an Input layer is built from the
// data, which suits Bagging's MaxFeatures.
//
// Sample weights are passed to Keras' Fit scaled to average 1, so that a
// weighted loss (Σ wᵢ·lossᵢ / batch, as in Keras) keeps the scale of the
// unweighted one whatever the ensemble's normalisation.
//
// A classifier's labels are the model's output units 0, 1, …, Classes−1.
// As scikit-learn's classifiers, it reports the classes it saw at Fit
// (ClassLabels) and PredictProba has one column per seen class, the model's
// probabilities of those classes renormalised to sum to 1; an ensemble
// gives the classes a member never saw probability 0.
//
// Callbacks hold state (EarlyStopping counts epochs), so ensemble members
// must not share them: give NewCallbacks, which every Fit calls for fresh
// ones. A clone (an ensemble member) of a learner whose
// FitConfig.Callbacks is not empty is refused with ErrConfig.
type KerasLearner struct {
	// New builds an untrained model for a seed; required.
	New func(seed uint64) (*keras.Model, error)
	// FitConfig is passed to the model's Fit (its SampleWeight is replaced
	// by Fit's sample weights when those are given). Its Callbacks are
	// used by this learner's own Fit only; see NewCallbacks.
	FitConfig keras.FitConfig
	// NewCallbacks, if set, makes the callbacks of one Fit: every member
	// of an ensemble gets its own.
	NewCallbacks func() []training.Callback
	// Compile compiles a model New returns uncompiled; nil means Adam and
	// a loss chosen from Classes and the output shape.
	Compile *keras.CompileConfig
	// Classes is the number of classes of a classifier, whose model
	// outputs (n, Classes) probabilities, or (n, 1) for two classes (the
	// probability of class 1); y holds class indices. 0 makes a
	// regressor: the model outputs (n) or (n, 1) values.
	Classes int
	// Scores says the classifier's outputs are decision scores (a
	// perceptron, a linear SVM) rather than probabilities: the class is
	// the largest score, or score > 0 for one output, and PredictProba
	// returns ErrNoProba.
	Scores bool
	// Seed is passed to New. Clone sets it.
	Seed uint64

	model   *keras.Model
	history *training.History
	seen    []float64 // classes seen at Fit
}

var (
	_ Classifier     = (*KerasLearner)(nil)
	_ ContextLearner = (*KerasLearner)(nil)
)

// Clone returns an untrained copy with the given seed (a Factory). A
// learner with FitConfig.Callbacks cannot be cloned: its clones would
// share the callbacks' state (give NewCallbacks instead).
func (k *KerasLearner) Clone(seed uint64) (Learner, error) {
	if len(k.FitConfig.Callbacks) > 0 {
		names := make([]string, len(k.FitConfig.Callbacks))
		for i, c := range k.FitConfig.Callbacks {
			names[i] = c.Name
		}
		return nil, errors.Wrapf(ErrConfig, "ensemble: KerasLearner.FitConfig.Callbacks %q would be shared by every clone: give NewCallbacks, which makes each Fit its own", names)
	}
	c := *k
	c.Seed, c.model, c.history, c.seen = seed, nil, nil, nil
	return &c, nil
}

// Classes returns the classes a classifier saw at Fit, in the order of
// PredictProba's columns (nil for a regressor or before Fit).
func (k *KerasLearner) ClassLabels() []float64 { return k.seen }

// Model returns the model of the last Fit (nil before).
func (k *KerasLearner) Model() *keras.Model { return k.model }

// History returns the training history of the last Fit (nil before).
func (k *KerasLearner) History() *training.History { return k.history }

// Fit builds a new model and trains it on x, y.
func (k *KerasLearner) Fit(x, y *tensor.Dense, sampleWeight []float64) error {
	return k.FitContext(context.Background(), x, y, sampleWeight)
}

// FitContext is Fit, stopping with ctx's error (after the current batch)
// once ctx is done.
func (k *KerasLearner) FitContext(ctx context.Context, x, y *tensor.Dense, sampleWeight []float64) error {
	k.model, k.history, k.seen = nil, nil, nil
	if k.New == nil {
		return errors.Wrap(ErrConfig, "ensemble: KerasLearner.New is nil")
	}
	if k.Classes < 0 || k.Classes == 1 {
		return errors.Wrapf(ErrConfig, "ensemble: KerasLearner.Classes is %d, want 0 (regression) or ≥ 2", k.Classes)
	}
	n, err := samples(x)
	if err != nil {
		return errors.WithMessage(err, "ensemble: KerasLearner")
	}
	var yv, seen []float64
	if k.Classes > 0 {
		if yv, err = readLabels(y, n); err != nil {
			return errors.WithMessage(err, "ensemble: KerasLearner")
		}
		for i, l := range yv {
			if l != math.Trunc(l) || l < 0 || l >= float64(k.Classes) {
				return errors.Wrapf(ErrLabels, "ensemble: KerasLearner has %d classes (output units), y holds %v at sample %d: want 0, 1, …, %d", k.Classes, l, i, k.Classes-1)
			}
		}
		seen = uniqueSorted(yv)
	} else if yv, err = targets(y, n); err != nil {
		return errors.WithMessage(err, "ensemble: KerasLearner")
	}
	w, err := checkWeights(sampleWeight, n)
	if err != nil {
		return errors.WithMessage(err, "ensemble: KerasLearner")
	}
	m, err := k.New(k.Seed)
	if err != nil {
		return errors.WithMessage(err, "ensemble: KerasLearner.New")
	}
	if m == nil {
		return errors.New("ensemble: KerasLearner.New returned a nil model")
	}
	if err := m.Err(); err != nil {
		return errors.WithMessage(err, "ensemble: KerasLearner.New")
	}
	// Build a Sequential model without Input from the data: that also runs
	// a Compile Keras deferred until then.
	if err := m.Build(x.Shape()[1:]...); err != nil {
		return errors.WithMessage(err, "ensemble: KerasLearner")
	}
	if m.Optimizer() == nil {
		if err := k.compile(m); err != nil {
			return err
		}
	}
	dtype := m.Dtype()
	if dtype != tensor.Float64 {
		dtype = tensor.Float32
	}
	xm, err := asDtype(x, dtype)
	if err != nil {
		return err
	}
	cfg := k.FitConfig
	cfg.Callbacks = append([]training.Callback(nil), cfg.Callbacks...)
	if k.NewCallbacks != nil {
		cfg.Callbacks = append(cfg.Callbacks, k.NewCallbacks()...)
	}
	cfg.Callbacks = append(cfg.Callbacks, training.Callback{
		Name: "context",
		OnBatchEnd: func(*training.Run, int, training.Logs) error {
			return ctx.Err()
		},
	})
	if w != nil {
		mean := 0.0
		for _, v := range w {
			mean += v
		}
		mean /= float64(n)
		scaled := make([]float64, n)
		for i, v := range w {
			scaled[i] = v / mean
		}
		cfg.SampleWeight = vec(scaled)
	}
	hist, err := m.Fit(xm, vecOf(yv, dtype), cfg)
	if err != nil {
		return errors.WithMessage(err, "ensemble: KerasLearner")
	}
	k.model, k.history, k.seen = m, hist, seen
	return nil
}

// compile seeds and compiles a model New left uncompiled.
func (k *KerasLearner) compile(m *keras.Model) error {
	m.SetSeed(k.Seed)
	var cfg keras.CompileConfig
	if k.Compile != nil {
		cfg = *k.Compile
	} else {
		cfg.Optimizer = "adam"
		cfg.Loss = "mse"
		if k.Classes > 0 {
			cfg.Loss = "sparse_categorical_crossentropy"
			if outs := m.Outputs(); len(outs) == 1 && outs[0].Shape().Size() == 1 {
				cfg.Loss = "binary_crossentropy"
			}
		}
	}
	return errors.WithMessage(m.Compile(cfg), "ensemble: KerasLearner")
}

// output runs the model on x and returns n rows of its output.
func (k *KerasLearner) output(x *tensor.Dense) ([][]float64, error) {
	if k.model == nil {
		return nil, errors.Wrap(ErrNotFitted, "ensemble: KerasLearner")
	}
	n, err := samples(x)
	if err != nil {
		return nil, errors.WithMessage(err, "ensemble: KerasLearner")
	}
	dtype := k.model.Dtype()
	if dtype != tensor.Float64 {
		dtype = tensor.Float32
	}
	xm, err := asDtype(x, dtype)
	if err != nil {
		return nil, err
	}
	out, err := k.model.Predict(xm)
	if err != nil {
		return nil, errors.WithMessage(err, "ensemble: KerasLearner")
	}
	v, ok := numbers(out)
	if !ok || len(v)%n != 0 || len(v) == 0 {
		return nil, errors.Errorf("ensemble: KerasLearner: the model returned shape %v for %d samples", out.Shape(), n)
	}
	c := len(v) / n
	if k.Classes == 0 && c != 1 {
		return nil, errors.Errorf("ensemble: KerasLearner: a regressor's model must output one value per sample, got shape %v", out.Shape())
	}
	if k.Classes > 0 && c != k.Classes && !(c == 1 && k.Classes == 2) {
		return nil, errors.Errorf("ensemble: KerasLearner: a classifier of %d classes must output (n, %d) (or (n, 1) for two classes), got shape %v", k.Classes, k.Classes, out.Shape())
	}
	rows := make([][]float64, n)
	for i := range rows {
		rows[i] = v[i*c : (i+1)*c]
	}
	return rows, nil
}

// Predict returns classes (classifier; the class of largest output among
// the classes seen at Fit) or values (regressor), as a float64 tensor (n).
func (k *KerasLearner) Predict(x *tensor.Dense) (*tensor.Dense, error) {
	rows, err := k.output(x)
	if err != nil {
		return nil, err
	}
	out := make([]float64, len(rows))
	for i, r := range rows {
		switch {
		case k.Classes == 0:
			out[i] = r[0]
		case len(r) == 1:
			// One output: a probability of class 1 (> 0.5), or a score (> 0).
			cut := 0.5
			if k.Scores {
				cut = 0
			}
			c := 0.0
			if r[0] > cut {
				c = 1
			}
			if len(k.seen) == 1 {
				c = k.seen[0]
			}
			out[i] = c
		default:
			best := k.seen[0]
			for _, c := range k.seen {
				if r[int(c)] > r[int(best)] {
					best = c
				}
			}
			out[i] = best
		}
	}
	return vec(out), nil
}

// PredictProba returns the model's probabilities of the classes seen at
// Fit, renormalised to sum to 1: (n, len(ClassLabels())).
func (k *KerasLearner) PredictProba(x *tensor.Dense) (*tensor.Dense, error) {
	if k.Classes == 0 {
		return nil, errors.Wrap(ErrNoProba, "ensemble: KerasLearner is a regressor")
	}
	if k.Scores {
		return nil, errors.Wrap(ErrNoProba, "ensemble: KerasLearner outputs decision scores")
	}
	rows, err := k.output(x)
	if err != nil {
		return nil, err
	}
	probs := make([][]float64, len(rows))
	for i, r := range rows {
		if len(r) == 1 {
			p := math.Min(math.Max(r[0], 0), 1)
			r = []float64{1 - p, p}
		}
		if len(k.seen) == len(r) {
			probs[i] = r
			continue
		}
		sum := 0.0
		for _, c := range k.seen {
			sum += r[int(c)]
		}
		probs[i] = make([]float64, len(k.seen))
		for j, c := range k.seen {
			if sum > 0 {
				probs[i][j] = r[int(c)] / sum
			} else {
				probs[i][j] = 1 / float64(len(k.seen))
			}
		}
	}
	return rowsTensor(probs, len(k.seen)), nil
}

// asDtype returns x as float32 or float64 (x itself if it already is).
func asDtype(x *tensor.Dense, dt tensor.Dtype) (*tensor.Dense, error) {
	if x.Dtype() == dt {
		return x, nil
	}
	v, ok := numbers(x)
	if !ok {
		return nil, errors.Wrapf(ErrInput, "ensemble: x holds %v, want float numbers", x.Dtype())
	}
	shape := x.Shape().Clone()
	if dt == tensor.Float64 {
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(v)), nil
	}
	f := make([]float32, len(v))
	for i, a := range v {
		f[i] = float32(a)
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(f)), nil
}

// vecOf makes v a tensor (n) of dtype dt.
func vecOf(v []float64, dt tensor.Dtype) *tensor.Dense {
	if dt == tensor.Float64 {
		return vec(append([]float64(nil), v...))
	}
	f := make([]float32, len(v))
	for i, a := range v {
		f[i] = float32(a)
	}
	return tensor.New(tensor.WithShape(len(f)), tensor.WithBacking(f))
}

// Score returns the accuracy (classifier) or R² (regressor) on x, y.
func (k *KerasLearner) Score(x, y *tensor.Dense) (float64, error) {
	return score(k, x, y, k.Classes == 0)
}
