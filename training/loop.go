package training

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"time"

	"github.com/keragon/keragon/graph"
	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// Model is what the loop trains: programs by mode and batch size, and the
// weights they share. keras.Model implements it.
//
// Programs of mode Fit and Evaluate take the inputs, then the targets, then
// one sample-weight vector per target, and output the model's outputs;
// Predict programs take the inputs only.
type Model interface {
	Program(k graph.Key) (*graph.Program, error)
	Weights() []*graph.Weight
}

// MetricSpec attaches a metric to one output of the model.
type MetricSpec struct {
	// Output is the index of the model output (and target) it watches.
	Output int
	// Name is the key in the logs ("accuracy", "out2_accuracy").
	Name string
	// New makes a fresh instance (training and validation each get one).
	New func() Metric
	// Masked says the output is a masked sequence (batch, steps, …) whose
	// (batch, steps) mask of 1s and 0s is program output MaskOutput: the
	// metric then counts every real step as a sample and skips padding,
	// as Keras does.
	Masked     bool
	MaskOutput int
}

// Config tells Fit what to do. The zero value of a field means Keras'
// default unless its comment says otherwise.
type Config struct {
	// Epochs is the number of epochs to run (default 1).
	Epochs int
	// InitialEpoch is the epoch to start counting from (resuming).
	InitialEpoch int
	// BatchSize is the number of samples per step (default 32).
	BatchSize int
	// NoShuffle keeps the sample order; by default it is shuffled every
	// epoch, as in Keras.
	NoShuffle bool
	// Validation, if not nil, is evaluated at the end of every epoch and
	// logged with a "val_" prefix.
	Validation *Dataset
	// ValidationBatchSize defaults to BatchSize.
	ValidationBatchSize int
	// Metrics are computed on the training batches and on validation.
	Metrics []MetricSpec
	// Callbacks are called in order.
	Callbacks []Callback
	// Verbose: 0 silent (the zero value, unlike Keras' "auto"), 1 a
	// progress bar, 2 one line per epoch.
	Verbose int
	// Output receives the progress; nil means os.Stdout.
	Output io.Writer
	// Rand shuffles the samples; nil with shuffling on is an error.
	Rand *rand.Rand
	// Dtype of the model (default float32).
	Dtype tensor.Dtype
}

// Fit trains m with opt on train, as Keras' Model.fit. It returns the
// History even when stopped early.
func Fit(m Model, opt Optimizer, train *Dataset, cfg Config) (*History, error) {
	if err := train.Validate(); err != nil {
		return nil, err
	}
	if cfg.Validation != nil {
		if err := cfg.Validation.Validate(); err != nil {
			return nil, errors.WithMessage(err, "validation data")
		}
	}
	if opt == nil {
		return nil, errors.New("training: no optimizer")
	}
	if cfg.Epochs == 0 {
		cfg.Epochs = 1
	}
	if cfg.BatchSize == 0 {
		cfg.BatchSize = 32
	}
	if cfg.Epochs < 0 || cfg.BatchSize < 0 || cfg.InitialEpoch < 0 {
		return nil, errors.Errorf("training: epochs (%d), batch size (%d) and initial epoch (%d) must not be negative", cfg.Epochs, cfg.BatchSize, cfg.InitialEpoch)
	}
	if cfg.Dtype == (tensor.Dtype{}) {
		cfg.Dtype = tensor.Float32
	}
	if !cfg.NoShuffle && cfg.Rand == nil {
		return nil, errors.New("training: shuffling needs Config.Rand")
	}
	out := cfg.Output
	if out == nil {
		out = os.Stdout
	}
	n := train.Len()
	steps := (n + cfg.BatchSize - 1) / cfg.BatchSize
	hist := NewHistory()
	run := &Run{Model: m, Optimizer: opt, Epochs: cfg.Epochs, Steps: steps, History: hist}
	cbs := callbacks(cfg.Callbacks)
	b := newBatcher(train, cfg.Dtype)
	metrics := make([]Metric, len(cfg.Metrics))
	for i, s := range cfg.Metrics {
		metrics[i] = s.New()
	}
	nOut := len(train.Targets)
	// ErrStopTraining from any hook, like Run.StopTraining, ends training
	// after the current batch; the epoch still ends normally (validation,
	// epoch-end hooks), as in Keras 3.
	stop := func(err error) error {
		if errors.Is(err, ErrStopTraining) {
			run.StopTraining = true
			return nil
		}
		return err
	}
	if err := stop(cbs.trainBegin(run)); err != nil {
		return hist, err
	}
	var lastLogs Logs
	for epoch := cfg.InitialEpoch; epoch < cfg.Epochs && !run.StopTraining; epoch++ {
		if err := stop(cbs.epochBegin(run, epoch)); err != nil {
			return hist, err
		}
		if run.StopTraining {
			break
		}
		bar := newProgress(out, cfg.Verbose, epoch, cfg.Epochs, steps)
		var rng *rand.Rand
		if !cfg.NoShuffle {
			rng = cfg.Rand
		}
		var lossSum float64
		var seen int
		for _, mt := range metrics {
			mt.Reset()
		}
		logs := Logs{}
		for step, idx := range batches(n, cfg.BatchSize, rng) {
			if err := stop(cbs.batchBegin(run, step)); err != nil {
				return hist, err
			}
			if run.StopTraining {
				break
			}
			p, err := m.Program(graph.Key{Mode: graph.Fit, Batch: len(idx)})
			if err != nil {
				return hist, err
			}
			feeds, err := b.gather(idx, true)
			if err != nil {
				return hist, err
			}
			if err := p.Run(feeds...); err != nil {
				return hist, errors.WithMessagef(err, "training: epoch %d, batch %d", epoch+1, step+1)
			}
			loss, err := p.Loss()
			if err != nil {
				return hist, err
			}
			if math.IsNaN(loss) || math.IsInf(loss, 0) {
				return hist, errors.Errorf("training: the loss became %v at epoch %d, batch %d: the model diverged (try a lower learning rate, or check the data)", loss, epoch+1, step+1)
			}
			grads, err := p.Gradients()
			if err != nil {
				return hist, err
			}
			if err := opt.Step(grads); err != nil {
				return hist, errors.WithMessagef(err, "training: optimizer step at epoch %d, batch %d", epoch+1, step+1)
			}
			if err := p.ApplyUpdates(); err != nil {
				return hist, err
			}
			lossSum += loss * float64(len(idx))
			seen += len(idx)
			logs["loss"] = lossSum / float64(seen)
			if err := updateMetrics(metrics, cfg.Metrics, p, feeds, len(train.Inputs), nOut); err != nil {
				return hist, err
			}
			for i, mt := range metrics {
				logs[cfg.Metrics[i].Name] = mt.Result()
			}
			bar.update(step+1, logs)
			if err := stop(cbs.batchEnd(run, step, logs)); err != nil {
				return hist, err
			}
			if run.StopTraining {
				break
			}
		}
		epochLogs := Logs{}
		for k, v := range logs {
			epochLogs[k] = v
		}
		if cfg.Validation != nil && seen > 0 {
			vb := cfg.ValidationBatchSize
			if vb == 0 {
				vb = cfg.BatchSize
			}
			vl, err := Evaluate(m, cfg.Validation, vb, cfg.Metrics, cfg.Dtype)
			if err != nil {
				return hist, errors.WithMessage(err, "validation")
			}
			for k, v := range vl {
				epochLogs["val_"+k] = v
			}
		}
		bar.done(epochLogs)
		if err := stop(cbs.epochEnd(run, epoch, epochLogs)); err != nil {
			return hist, err
		}
		hist.Add(epoch, epochLogs)
		lastLogs = epochLogs
	}
	if err := stop(cbs.trainEnd(run, lastLogs)); err != nil {
		return hist, err
	}
	return hist, nil
}

func updateMetrics(ms []Metric, specs []MetricSpec, p *graph.Program, feeds []*tensor.Dense, nIn, nOut int) error {
	for i, mt := range ms {
		o := specs[i].Output
		if o < 0 || o >= nOut {
			return errors.Errorf("training: metric %q watches output %d of %d", specs[i].Name, o, nOut)
		}
		pred, err := p.Output(o)
		if err != nil {
			return err
		}
		yTrue := feeds[nIn+o]
		var sw []float64
		if specs[i].Masked {
			mask, err := p.Output(specs[i].MaskOutput)
			if err != nil {
				return err
			}
			if yTrue, pred, sw, err = foldSteps(yTrue, pred, mask); err != nil {
				return errors.WithMessagef(err, "training: metric %q", specs[i].Name)
			}
		}
		if err := mt.Update(yTrue, pred, sw); err != nil {
			return errors.WithMessagef(err, "training: metric %q", specs[i].Name)
		}
	}
	return nil
}

// Evaluate returns the loss and metrics of m on ds, in inference mode.
// Every sample counts: a last partial batch runs in a program of its size.
func Evaluate(m Model, ds *Dataset, batch int, specs []MetricSpec, dt tensor.Dtype) (Logs, error) {
	if err := ds.Validate(); err != nil {
		return nil, err
	}
	if batch <= 0 {
		batch = 32
	}
	if dt == (tensor.Dtype{}) {
		dt = tensor.Float32
	}
	b := newBatcher(ds, dt)
	ms := make([]Metric, len(specs))
	for i, s := range specs {
		ms[i] = s.New()
	}
	var lossSum float64
	n := ds.Len()
	for _, idx := range batches(n, batch, nil) {
		p, err := m.Program(graph.Key{Mode: graph.Evaluate, Batch: len(idx)})
		if err != nil {
			return nil, err
		}
		feeds, err := b.gather(idx, true)
		if err != nil {
			return nil, err
		}
		if err := p.Run(feeds...); err != nil {
			return nil, err
		}
		loss, err := p.Loss()
		if err != nil {
			return nil, err
		}
		lossSum += loss * float64(len(idx))
		if err := updateMetrics(ms, specs, p, feeds, len(ds.Inputs), len(ds.Targets)); err != nil {
			return nil, err
		}
	}
	logs := Logs{"loss": lossSum / float64(n)}
	for i, mt := range ms {
		logs[specs[i].Name] = mt.Result()
	}
	return logs, nil
}

// Predict runs m on inputs in inference mode and returns one tensor per
// model output, with every sample (a last partial batch gets a program of
// its own size).
func Predict(m Model, inputs []*tensor.Dense, batch int, dt tensor.Dtype) ([]*tensor.Dense, error) {
	ds := &Dataset{Inputs: inputs}
	n := ds.Len()
	if n == 0 {
		return nil, errors.New("training: nothing to predict: the input is empty")
	}
	for i, t := range inputs {
		if t == nil || t.Dims() == 0 || t.Shape()[0] != n {
			return nil, errors.Errorf("training: input %d has shape %v, want %d samples first", i, shapeOf(t), n)
		}
	}
	if batch <= 0 {
		batch = 32
	}
	if dt == (tensor.Dtype{}) {
		dt = tensor.Float32
	}
	b := newBatcher(ds, dt)
	var outs []*tensor.Dense
	start := 0
	for _, idx := range batches(n, batch, nil) {
		p, err := m.Program(graph.Key{Mode: graph.Predict, Batch: len(idx)})
		if err != nil {
			return nil, err
		}
		feeds, err := b.gather(idx, false)
		if err != nil {
			return nil, err
		}
		if err := p.Run(feeds...); err != nil {
			return nil, err
		}
		if outs == nil {
			for i := 0; i < p.NumOutputs(); i++ {
				o, err := p.Output(i)
				if err != nil {
					return nil, err
				}
				shape := o.Shape().Clone()
				shape[0] = n
				outs = append(outs, tensor.New(tensor.Of(o.Dtype()), tensor.WithShape(shape...)))
			}
		}
		for i := range outs {
			o, err := p.Output(i)
			if err != nil {
				return nil, err
			}
			if err := copyRows(outs[i], o, start); err != nil {
				return nil, err
			}
		}
		start += len(idx)
	}
	return outs, nil
}

func shapeOf(t *tensor.Dense) tensor.Shape {
	if t == nil {
		return nil
	}
	return t.Shape()
}

// copyRows writes src's rows into dst starting at row start.
func copyRows(dst, src *tensor.Dense, start int) error {
	row := dst.Shape().TotalSize() / dst.Shape()[0]
	switch d := dst.Data().(type) {
	case []float32:
		s, ok := src.Data().([]float32)
		if !ok {
			return errors.Errorf("training: output dtype changed to %v", src.Dtype())
		}
		copy(d[start*row:], s)
	case []float64:
		s, ok := src.Data().([]float64)
		if !ok {
			return errors.Errorf("training: output dtype changed to %v", src.Dtype())
		}
		copy(d[start*row:], s)
	default:
		return errors.Errorf("training: unsupported output dtype %v", dst.Dtype())
	}
	return nil
}

// elapsed formats a duration like Keras: "12s", "250ms".
func elapsed(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.0fs", d.Seconds())
	case d >= time.Millisecond:
		return fmt.Sprintf("%.0fms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.0fus", float64(d)/float64(time.Microsecond))
}

// foldSteps views a masked sequence batch as one sample per time step:
// (batch, steps, …) → (batch·steps, …), with the mask as sample weights.
func foldSteps(yTrue, yPred, mask *tensor.Dense) (*tensor.Dense, *tensor.Dense, []float64, error) {
	ms := mask.Shape()
	if ms.Dims() != 2 {
		return nil, nil, nil, errors.Errorf("mask of shape %v, want (batch, steps)", ms)
	}
	fold := func(t *tensor.Dense) (*tensor.Dense, error) {
		s := t.Shape()
		if s.Dims() < 2 || s[0] != ms[0] || s[1] != ms[1] {
			return nil, errors.Errorf("shape %v does not start with the mask's %v", s, ms)
		}
		c := t.ShallowClone()
		return c, c.Reshape(append([]int{s[0] * s[1]}, s[2:]...)...)
	}
	t, err := fold(yTrue)
	if err != nil {
		return nil, nil, nil, err
	}
	p, err := fold(yPred)
	if err != nil {
		return nil, nil, nil, err
	}
	w := make([]float64, ms.TotalSize())
	switch d := mask.Data().(type) {
	case []float32:
		for i, v := range d {
			w[i] = float64(v)
		}
	case []float64:
		copy(w, d)
	}
	return t, p, w, nil
}
