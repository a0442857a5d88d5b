package keras

import (
	"fmt"
	"io"
	"math"

	"github.com/keragon/keragon/internal/dense"
	"github.com/keragon/keragon/training"
	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// FitConfig configures Fit, as the arguments of Keras' model.fit. The zero
// value of a field means Keras' default unless its comment says otherwise.
type FitConfig struct {
	// Epochs (default 1).
	Epochs int
	// InitialEpoch is the epoch to resume from.
	InitialEpoch int
	// BatchSize (default 32).
	BatchSize int
	// NoShuffle keeps the sample order (Keras shuffles by default).
	NoShuffle bool
	// ValidationSplit holds out this last fraction of the samples (taken
	// before shuffling, as in Keras) for validation.
	ValidationSplit float64
	// ValidationData is evaluated at the end of every epoch.
	ValidationData *Data
	// ValidationBatchSize defaults to BatchSize.
	ValidationBatchSize int
	// SampleWeight has one weight per training sample.
	SampleWeight *tensor.Dense
	// ClassWeight weights samples by class index (integer labels, one-hot
	// rows or binary 0/1 targets).
	ClassWeight map[int]float64
	// Callbacks are called during training.
	Callbacks []training.Callback
	// Verbose: 0 silent (the zero value, unlike Keras' default), 1 a
	// progress bar, 2 one line per epoch.
	Verbose int
	// Output receives progress; nil means os.Stdout.
	Output io.Writer
}

// Data bundles inputs, targets and optional sample weights, e.g. for
// FitConfig.ValidationData.
type Data struct {
	X            []*tensor.Dense
	Y            []*tensor.Dense
	SampleWeight *tensor.Dense
}

// XY is a Data with one input and one target.
func XY(x, y *tensor.Dense) *Data { return &Data{X: []*tensor.Dense{x}, Y: []*tensor.Dense{y}} }

// Fit trains a model with one input and one output; see FitMulti.
func (m *Model) Fit(x, y *tensor.Dense, cfg FitConfig) (*training.History, error) {
	return m.FitMulti([]*tensor.Dense{x}, []*tensor.Dense{y}, cfg)
}

// FitMulti trains the model on inputs xs and targets ys (one per output),
// as Keras' model.fit. Sparse labels are class indices, of shape (n) or
// (n, 1). It returns the History even when training stops on an error.
//
// Other goroutines may Predict, Evaluate and Save the model meanwhile (see
// Model); a second Fit on the same model returns an error at once.
func (m *Model) FitMulti(xs, ys []*tensor.Dense, cfg FitConfig) (*training.History, error) {
	if !m.fitting.CompareAndSwap(false, true) {
		return nil, errors.New("keras: Fit is already running on this model")
	}
	defer m.fitting.Store(false)
	m.mu.Lock()
	opt, ds, tc, err := m.fitSetup(xs, ys, &cfg)
	m.mu.Unlock()
	if err != nil {
		return nil, err
	}
	tc.Lock = &m.mu
	return training.Fit(m, opt, ds, tc)
}

// fitSetup checks Fit's data and options and returns what training.Fit
// takes. m.mu is held.
func (m *Model) fitSetup(xs, ys []*tensor.Dense, cfg *FitConfig) (training.Optimizer, *training.Dataset, training.Config, error) {
	var tc training.Config
	xs, err := m.encodeStrings(xs)
	if err != nil {
		return nil, nil, tc, err
	}
	if err := m.ensureBuilt(xs); err != nil {
		return nil, nil, tc, err
	}
	if m.compiled == nil {
		return nil, nil, tc, errors.New("keras: Fit before Compile")
	}
	if err := cfg.check(); err != nil {
		return nil, nil, tc, err
	}
	ds, err := m.dataset(xs, ys, cfg.SampleWeight, cfg.ClassWeight)
	if err != nil {
		return nil, nil, tc, err
	}
	var val *training.Dataset
	switch {
	case cfg.ValidationData != nil:
		vx, err := m.encodeStrings(cfg.ValidationData.X)
		if err != nil {
			return nil, nil, tc, errors.WithMessage(err, "validation data")
		}
		if val, err = m.dataset(vx, cfg.ValidationData.Y, cfg.ValidationData.SampleWeight, nil); err != nil {
			return nil, nil, tc, errors.WithMessage(err, "validation data")
		}
	case cfg.ValidationSplit != 0:
		if ds, val, err = ds.SplitTail(cfg.ValidationSplit); err != nil {
			return nil, nil, tc, errors.WithMessage(err, "keras")
		}
	}
	tc = training.Config{
		Epochs: cfg.Epochs, InitialEpoch: cfg.InitialEpoch, BatchSize: cfg.BatchSize,
		NoShuffle: cfg.NoShuffle, Validation: val, ValidationBatchSize: cfg.ValidationBatchSize,
		Metrics: m.compiled.metrics, Callbacks: cfg.Callbacks, Verbose: cfg.Verbose,
		Output: cfg.Output, Rand: m.rng, Dtype: m.dtype,
	}
	return m.compiled.optimizer, ds, tc, nil
}

// check refuses options no Keras user could mean.
func (c *FitConfig) check() error {
	if c.Epochs < 0 || c.BatchSize < 0 || c.InitialEpoch < 0 || c.ValidationBatchSize < 0 {
		return errors.Errorf("keras: Fit: Epochs (%d), BatchSize (%d), InitialEpoch (%d) and ValidationBatchSize (%d) must not be negative",
			c.Epochs, c.BatchSize, c.InitialEpoch, c.ValidationBatchSize)
	}
	if v := c.ValidationSplit; math.IsNaN(v) || v < 0 || v >= 1 {
		return errors.Errorf("keras: Fit: validation split must be in (0, 1), got %v (0 means none)", v)
	}
	if c.ValidationSplit != 0 && c.ValidationData != nil {
		return errors.New("keras: Fit: give ValidationSplit or ValidationData, not both")
	}
	if c.Verbose < 0 || c.Verbose > 2 {
		return errors.Errorf("keras: Fit: Verbose must be 0, 1 or 2, got %d", c.Verbose)
	}
	for class, w := range c.ClassWeight {
		if w < 0 || math.IsNaN(w) || math.IsInf(w, 0) {
			return errors.Errorf("keras: Fit: ClassWeight[%d] = %v is not a finite non-negative number", class, w)
		}
	}
	return nil
}

// EvalConfig configures Evaluate and Predict.
type EvalConfig struct {
	// BatchSize (default 32).
	BatchSize int
	// SampleWeight weights the samples' losses (Evaluate only).
	SampleWeight *tensor.Dense
	// AllowNonFinite lets Predict take inputs holding NaN or ±Inf, which
	// it refuses by default (as Fit and Evaluate always do): many layers
	// turn NaN into a plausible number (ReLU makes it 0).
	AllowNonFinite bool
}

func evalConfig(cfg []EvalConfig) (EvalConfig, error) {
	var c EvalConfig
	switch len(cfg) {
	case 0:
	case 1:
		c = cfg[0]
	default:
		return c, errors.Errorf("keras: give at most one EvalConfig, got %d", len(cfg))
	}
	if c.BatchSize < 0 {
		return c, errors.Errorf("keras: BatchSize must be positive (or 0 for the default 32), got %d", c.BatchSize)
	}
	return c, nil
}

// Evaluate returns the loss and the metrics of a one-input, one-output
// model on x and y, in inference mode; see EvaluateMulti.
func (m *Model) Evaluate(x, y *tensor.Dense, cfg ...EvalConfig) (loss float64, metrics map[string]float64, err error) {
	return m.EvaluateMulti([]*tensor.Dense{x}, []*tensor.Dense{y}, cfg...)
}

// EvaluateMulti returns the loss (with regularisation terms, as Keras) and
// the metrics on every sample. It is safe for concurrent use (see Model).
func (m *Model) EvaluateMulti(xs, ys []*tensor.Dense, cfg ...EvalConfig) (float64, map[string]float64, error) {
	c, err := evalConfig(cfg)
	if err != nil {
		return math.NaN(), nil, err
	}
	if err := m.prepare(xs); err != nil {
		return math.NaN(), nil, err
	}
	if xs, err = m.encodeStrings(xs); err != nil {
		return math.NaN(), nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.compiled == nil {
		return math.NaN(), nil, errors.New("keras: Evaluate before Compile")
	}
	ds, err := m.dataset(xs, ys, c.SampleWeight, nil)
	if err != nil {
		return math.NaN(), nil, err
	}
	logs, err := training.Evaluate(m, ds, c.BatchSize, m.compiled.metrics, m.dtype)
	if err != nil {
		return math.NaN(), nil, err
	}
	loss := logs["loss"]
	delete(logs, "loss")
	return loss, logs, nil
}

// Predict returns the output of a one-input, one-output model for every
// sample of x, in inference mode (no dropout; BatchNormalization on its
// moving averages).
func (m *Model) Predict(x *tensor.Dense, cfg ...EvalConfig) (*tensor.Dense, error) {
	outs, err := m.PredictMulti([]*tensor.Dense{x}, cfg...)
	if err != nil {
		return nil, err
	}
	if len(outs) != 1 {
		return nil, errors.Errorf("keras: Predict on a model with %d outputs: use PredictMulti", len(outs))
	}
	return outs[0], nil
}

// PredictMulti returns one tensor per output for every sample. Inputs
// holding NaN or ±Inf are refused unless EvalConfig.AllowNonFinite. It is
// safe for concurrent use (see Model).
func (m *Model) PredictMulti(xs []*tensor.Dense, cfg ...EvalConfig) ([]*tensor.Dense, error) {
	c, err := evalConfig(cfg)
	if err != nil {
		return nil, err
	}
	if err := m.prepare(xs); err != nil {
		return nil, err
	}
	if xs, err = m.encodeStrings(xs); err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	xs, err = m.inputData(xs)
	if err != nil {
		return nil, err
	}
	if !c.AllowNonFinite {
		for i, x := range xs {
			if j, v := dense.FirstNonFinite(x); j >= 0 {
				return nil, errors.Errorf("keras: input %d holds %v at sample %d (set EvalConfig.AllowNonFinite to predict anyway)", i, v, j/max(1, x.Shape().TotalSize()/x.Shape()[0]))
			}
		}
	}
	return training.Predict(m, xs, c.BatchSize, m.dtype)
}

// prepare builds a Sequential model without Input from the data and
// initialises the weights, once; afterwards it takes no lock.
func (m *Model) prepare(xs []*tensor.Dense) error {
	if m.prepared.Load() {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.ensureBuilt(xs)
}

// ensureBuilt builds a Sequential model without Input from the data.
func (m *Model) ensureBuilt(xs []*tensor.Dense) error {
	if m.err != nil {
		return m.err
	}
	if len(m.inputs) == 0 && m.sequential && len(xs) == 1 && xs[0] != nil && xs[0].Dims() >= 1 {
		if err := m.build(xs[0].Shape()[1:]); err != nil {
			return err
		}
	}
	return m.ready()
}

// inputData checks the data for the model's inputs and returns it with every
// tensor contiguous (views and lazy transposes copied).
func (m *Model) inputData(xs []*tensor.Dense) ([]*tensor.Dense, error) {
	if len(xs) != len(m.inputs) {
		return nil, errors.Errorf("keras: the model takes %d inputs, got %d", len(m.inputs), len(xs))
	}
	xs, err := dense.All(xs)
	if err != nil {
		return nil, errors.WithMessage(err, "keras: input")
	}
	n := -1
	for i, x := range xs {
		in := m.inputs[i]
		name := in.layer.base().name
		if x == nil {
			return nil, errors.Errorf("keras: input %d (%q) is nil", i, name)
		}
		if x.Dims() == 0 || !Shape(x.Shape()[1:]).Equal(in.shape) {
			return nil, errors.Errorf("keras: input %d (%q) expects shape %v, got %v", i, name, in.shape, x.Shape())
		}
		if x.Dtype() != tensor.Float32 && x.Dtype() != tensor.Float64 {
			return nil, errors.Errorf("keras: input %d (%q) must be float32 or float64, got %v", i, name, x.Dtype())
		}
		if n >= 0 && x.Shape()[0] != n {
			return nil, errors.Errorf("keras: input %d has %d samples, input 0 has %d", i, x.Shape()[0], n)
		}
		n = x.Shape()[0]
		if n == 0 {
			return nil, errors.New("keras: the input has no samples")
		}
	}
	return xs, nil
}

// dataset checks inputs and targets against the model and the losses and
// returns them as a training.Dataset.
func (m *Model) dataset(xs, ys []*tensor.Dense, sw *tensor.Dense, classWeight map[int]float64) (*training.Dataset, error) {
	xs, err := m.inputData(xs)
	if err != nil {
		return nil, err
	}
	n := xs[0].Shape()[0]
	if len(ys) != len(m.outputs) {
		return nil, errors.Errorf("keras: the model has %d outputs, got %d targets", len(m.outputs), len(ys))
	}
	if ys, err = dense.All(ys); err != nil {
		return nil, errors.WithMessage(err, "keras: target")
	}
	if sw, err = dense.Contiguous(sw); err != nil {
		return nil, errors.WithMessage(err, "keras: SampleWeight")
	}
	ds := &training.Dataset{Inputs: xs}
	for i, y := range ys {
		lf := m.compiled.losses[i]
		if y == nil {
			return nil, errors.Errorf("keras: target %d is nil", i)
		}
		if y.Dims() == 0 || y.Shape()[0] != n {
			return nil, errors.Errorf("keras: target %d has shape %v, want %d samples (as the inputs)", i, y.Shape(), n)
		}
		if y.Dtype() != tensor.Float32 && y.Dtype() != tensor.Float64 {
			return nil, errors.Errorf("keras: target %d must be float32 or float64, got %v", i, y.Dtype())
		}
		got := Shape(y.Shape()[1:])
		want := lf.targetShape
		switch {
		case lf.sparse && len(got) == len(want)+1 && got[len(got)-1] == 1:
			// Keras accepts sparse labels of shape (n, 1).
			y = reshaped(y, append([]int{n}, want...))
			got = want
		case len(want) == len(got)+1 && want[len(want)-1] == 1 && got.Equal(want[:len(got)]):
			// and targets of shape (n) for an output of shape (n, 1).
			y = reshaped(y, append([]int{n}, want...))
			got = want
		}
		if !got.Equal(want) {
			hint := ""
			if lf.sparse {
				hint = " (sparse labels are class indices)"
			} else if len(want) > 0 && len(got) == 0 && lf.name == "categorical_crossentropy" {
				hint = " (categorical_crossentropy takes one-hot targets; use sparse_categorical_crossentropy for class indices)"
			}
			return nil, errors.Errorf("keras: target %d for loss %s should have shape %v, got %v%s", i, lf.name, want, y.Shape(), hint)
		}
		if lf.sparse {
			if err := checkLabels(y, lf.classes); err != nil {
				return nil, errors.WithMessagef(err, "keras: target %d", i)
			}
		}
		if lf.target != nil {
			row := max(y.Shape().TotalSize()/n, 1)
			for j, v := range floatsOf(y) {
				if err := lf.target(v); err != nil {
					return nil, errors.WithMessagef(err, "keras: target %d, sample %d (loss %s)", i, j/row, lf.name)
				}
			}
		}
		ds.Targets = append(ds.Targets, y)
	}
	if sw != nil || classWeight != nil {
		w, err := sampleWeights(n, sw, classWeight, ds.Targets[0], m.compiled.losses[0])
		if err != nil {
			return nil, err
		}
		ds.SampleWeights = make([]*tensor.Dense, len(ds.Targets))
		for i := range ds.SampleWeights {
			ds.SampleWeights[i] = w
		}
	}
	if err := ds.Validate(); err != nil {
		return nil, errors.WithMessage(err, "keras")
	}
	return ds, nil
}

func reshaped(t *tensor.Dense, shape []int) *tensor.Dense {
	c := t.ShallowClone()
	if err := c.Reshape(shape...); err != nil {
		return t
	}
	return c
}

func floatsOf(t *tensor.Dense) []float64 {
	switch d := t.Data().(type) {
	case []float32:
		out := make([]float64, len(d))
		for i, v := range d {
			out[i] = float64(v)
		}
		return out
	case []float64:
		return d
	}
	return nil
}

// checkLabels reports the first label that is not a class index.
func checkLabels(y *tensor.Dense, classes int) error {
	for i, v := range floatsOf(y) {
		if v != math.Trunc(v) || v < 0 || int(v) >= classes {
			return errors.Errorf("label %v at sample %d is not a class index in [0, %d)", v, i, classes)
		}
	}
	return nil
}

// sampleWeights combines per-sample and per-class weights.
func sampleWeights(n int, sw *tensor.Dense, cw map[int]float64, y *tensor.Dense, lf *lossFunc) (*tensor.Dense, error) {
	w := make([]float64, n)
	for i := range w {
		w[i] = 1
	}
	if sw != nil {
		if sw.Shape().TotalSize() != n {
			return nil, errors.Errorf("keras: SampleWeight has shape %v, want (%d)", sw.Shape(), n)
		}
		for i, v := range floatsOf(sw) {
			if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, errors.Errorf("keras: sample weight %v at sample %d is not a finite non-negative number", v, i)
			}
			w[i] = v
		}
	}
	if cw != nil {
		ys := floatsOf(y)
		row := len(ys) / n
		for i := 0; i < n; i++ {
			r := ys[i*row : (i+1)*row]
			var class int
			switch {
			case lf.sparse || row == 1:
				class = int(math.Round(r[0]))
			default:
				for j := range r {
					if r[j] > r[class] {
						class = j
					}
				}
			}
			f, ok := cw[class]
			if !ok {
				return nil, errors.Errorf("keras: ClassWeight has no weight for class %d (sample %d)", class, i)
			}
			w[i] *= f
		}
	}
	return tensor.New(tensor.WithShape(n), tensor.WithBacking(w)), nil
}

// String describes the model briefly.
func (m *Model) String() string {
	t, nt := m.CountParams()
	return fmt.Sprintf("keras.Model %q: %d layers, %d parameters (%d trainable)", m.name, len(m.layers), t+nt, t)
}
