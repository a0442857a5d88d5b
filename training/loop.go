package training

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"sync"
	"time"

	"github.com/keragon/keragon/graph"
	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// Model is what the loop trains: programs by mode and batch size, and the
// weights they share. keras.Model implements it.
//
// A program's feeds and outputs are named by its graph.Layout: Fit and
// Evaluate programs take the inputs, the targets and one sample-weight
// vector per target; Predict programs take the inputs only.
type Model interface {
	Program(k graph.Key) (*graph.Program, error)
	Weights() []*graph.Weight
}

// A ProgramReleaser is a Model that lends its programs (keras.Model keeps a
// pool of them): the loop gives every program back with ReleaseProgram as
// soon as it is done with it.
type ProgramReleaser interface {
	ReleaseProgram(p *graph.Program)
}

// release gives p back to m, if m takes programs back.
func release(m Model, p *graph.Program) {
	if r, ok := m.(ProgramReleaser); ok {
		r.ReleaseProgram(p)
	}
}

// MetricSpec attaches a metric to one output of the model.
type MetricSpec struct {
	// Output is the index of the model output (and target) it watches.
	Output int
	// Name is the key in the logs ("accuracy", "out2_accuracy").
	Name string
	// New makes a fresh instance (training and validation each get one).
	New func() Metric
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
	// Lock, when not nil, is held from the start of each training step's
	// run to the end of its weight update (and while the samples are
	// shuffled), so that goroutines reading the model under the matching
	// read lock see the weights before or after a step, never a mix.
	// Callbacks run without it; they change weights through
	// Run.UpdateWeights.
	Lock sync.Locker
}

// check validates the numeric options and fills in the defaults.
func (c *Config) check() error {
	if c.Epochs == 0 {
		c.Epochs = 1
	}
	if c.BatchSize == 0 {
		c.BatchSize = 32
	}
	if c.ValidationBatchSize == 0 {
		c.ValidationBatchSize = c.BatchSize
	}
	if c.Epochs < 0 || c.BatchSize < 0 || c.InitialEpoch < 0 || c.ValidationBatchSize < 0 {
		return errors.Errorf("training: epochs (%d), batch size (%d), validation batch size (%d) and initial epoch (%d) must not be negative",
			c.Epochs, c.BatchSize, c.ValidationBatchSize, c.InitialEpoch)
	}
	if c.Verbose < 0 || c.Verbose > 2 {
		return errors.Errorf("training: Verbose must be 0, 1 or 2, got %d", c.Verbose)
	}
	if c.Dtype == (tensor.Dtype{}) {
		c.Dtype = tensor.Float32
	}
	if !c.NoShuffle && c.Rand == nil {
		return errors.New("training: shuffling needs Config.Rand")
	}
	if c.Output == nil {
		c.Output = os.Stdout
	}
	return nil
}

// Fit trains m with opt on train, as Keras' Model.fit. It returns the
// History even when stopped early.
//
// ErrStopTraining from any hook, like setting Run.StopTraining, ends
// training after the current batch; the epoch still ends normally
// (validation, epoch-end hooks), as in Keras 3.
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
	if err := cfg.check(); err != nil {
		return nil, err
	}
	n := train.Len()
	steps := (n + cfg.BatchSize - 1) / cfg.BatchSize
	hist := NewHistory()
	l := &loop{
		m: m, opt: opt, cfg: &cfg, train: train, n: n,
		run:     &Run{Model: m, Optimizer: opt, Epochs: cfg.Epochs, Steps: steps, History: hist, lock: cfg.Lock},
		cbs:     callbacks(cfg.Callbacks),
		batcher: newBatcher(train, cfg.Dtype),
		metrics: newMetrics(cfg.Metrics),
	}
	if err := l.stop(l.cbs.trainBegin(l.run)); err != nil {
		return hist, err
	}
	var lastLogs Logs
	for epoch := cfg.InitialEpoch; epoch < cfg.Epochs && !l.run.StopTraining; epoch++ {
		if err := l.stop(l.cbs.epochBegin(l.run, epoch)); err != nil {
			return hist, err
		}
		if l.run.StopTraining {
			break
		}
		logs, err := l.epoch(epoch, steps)
		if err != nil {
			return hist, err
		}
		if err := l.stop(l.cbs.epochEnd(l.run, epoch, logs)); err != nil {
			return hist, err
		}
		hist.Add(epoch, logs)
		lastLogs = logs
	}
	if err := l.stop(l.cbs.trainEnd(l.run, lastLogs)); err != nil {
		return hist, err
	}
	return hist, nil
}

// loop is one Fit call's state.
type loop struct {
	m       Model
	opt     Optimizer
	cfg     *Config
	train   *Dataset
	n       int
	run     *Run
	cbs     callbacks
	batcher *batcher
	metrics []Metric
}

// stop turns ErrStopTraining into a request to stop, which is not an error.
func (l *loop) stop(err error) error {
	if errors.Is(err, ErrStopTraining) {
		l.run.StopTraining = true
		return nil
	}
	return err
}

// epoch runs one epoch's batches, then validation, and returns its logs.
func (l *loop) epoch(epoch, steps int) (Logs, error) {
	cfg := l.cfg
	bar := newProgress(cfg.Output, cfg.Verbose, epoch, cfg.Epochs, steps)
	var order [][]int
	if cfg.NoShuffle {
		order = batches(l.n, cfg.BatchSize, nil)
	} else {
		withLock(cfg.Lock, func() { order = batches(l.n, cfg.BatchSize, cfg.Rand) })
	}
	var losses lossMeans
	var seen int
	for _, mt := range l.metrics {
		mt.Reset()
	}
	logs := Logs{}
	for step, idx := range order {
		if err := l.stop(l.cbs.batchBegin(l.run, step)); err != nil {
			return nil, err
		}
		if l.run.StopTraining {
			break
		}
		if err := l.step(epoch, step, idx, &losses); err != nil {
			return nil, err
		}
		seen += len(idx)
		losses.log(logs)
		for i, mt := range l.metrics {
			logs[cfg.Metrics[i].Name] = mt.Result()
		}
		bar.update(step+1, logs)
		if err := l.stop(l.cbs.batchEnd(l.run, step, logs)); err != nil {
			return nil, err
		}
		if l.run.StopTraining {
			break
		}
	}
	epochLogs := Logs{}
	for k, v := range logs {
		epochLogs[k] = v
	}
	if cfg.Validation != nil && seen > 0 {
		vl, err := Evaluate(l.m, cfg.Validation, cfg.ValidationBatchSize, cfg.Metrics, cfg.Dtype)
		if err != nil {
			return nil, errors.WithMessage(err, "validation")
		}
		for k, v := range vl {
			epochLogs["val_"+k] = v
		}
	}
	bar.done(epochLogs)
	return epochLogs, nil
}

// step runs one training step on the samples idx (forward, backward,
// optimizer, state updates) under the lock, then adds the batch's losses
// to losses and updates the metrics.
func (l *loop) step(epoch, step int, idx []int, losses *lossMeans) error {
	p, err := l.m.Program(graph.Key{Mode: graph.Fit, Batch: len(idx)})
	if err != nil {
		return err
	}
	defer release(l.m, p)
	feeds, err := l.batcher.gather(idx, true)
	if err != nil {
		return err
	}
	var loss float64
	withLock(l.cfg.Lock, func() { loss, err = l.update(p, feeds, epoch, step) })
	if err != nil {
		return err
	}
	if err := losses.add(p, loss, len(idx)); err != nil {
		return err
	}
	return updateMetrics(l.metrics, l.cfg.Metrics, p, feeds)
}

// lossMeans averages, over the samples seen, the total loss and the loss
// of each output a program's Layout names.
type lossMeans struct {
	names []string
	sums  []float64 // total first, then by name
	n     int
}

// add counts one batch of n samples whose total loss is loss.
func (lm *lossMeans) add(p *graph.Program, loss float64, n int) error {
	lay := p.Layout()
	if lm.sums == nil {
		lm.names = append([]string{"loss"}, lay.Losses...)
		lm.sums = make([]float64, len(lm.names))
	}
	if len(lay.Losses)+1 != len(lm.sums) {
		return errors.Errorf("training: a program logs %d losses, an earlier one %d", len(lay.Losses), len(lm.sums)-1)
	}
	lm.sums[0] += loss * float64(n)
	for j := range lay.Losses {
		t, err := p.Output(lay.LossOutput(j))
		if err != nil {
			return err
		}
		var v float64
		switch d := t.Data().(type) {
		case []float32:
			v = float64(d[0])
		case []float64:
			v = d[0]
		case float32:
			v = float64(d)
		case float64:
			v = d
		default:
			return errors.Errorf("training: loss %q is %T", lay.Losses[j], t.Data())
		}
		lm.sums[j+1] += v * float64(n)
	}
	lm.n += n
	return nil
}

// log writes the means so far into logs.
func (lm *lossMeans) log(logs Logs) {
	for j, name := range lm.names {
		logs[name] = lm.sums[j] / float64(max(lm.n, 1))
	}
}

// update is the part of a step that runs the program and writes the
// weights.
func (l *loop) update(p *graph.Program, feeds []*tensor.Dense, epoch, step int) (float64, error) {
	if err := p.Run(feeds...); err != nil {
		return 0, errors.WithMessagef(err, "training: epoch %d, batch %d", epoch+1, step+1)
	}
	loss, err := p.Loss()
	if err != nil {
		return 0, err
	}
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		return 0, errors.Errorf("training: the loss became %v at epoch %d, batch %d: the model diverged (try a lower learning rate, or check the data)", loss, epoch+1, step+1)
	}
	grads, err := p.Gradients()
	if err != nil {
		return 0, err
	}
	if err := l.opt.Step(grads); err != nil {
		return 0, errors.WithMessagef(err, "training: optimizer step at epoch %d, batch %d", epoch+1, step+1)
	}
	if err := p.ApplyUpdates(); err != nil {
		return 0, err
	}
	return loss, nil
}

// withLock runs f holding lock, if there is one.
func withLock(lock sync.Locker, f func()) {
	if lock != nil {
		lock.Lock()
		defer lock.Unlock()
	}
	f()
}

func newMetrics(specs []MetricSpec) []Metric {
	ms := make([]Metric, len(specs))
	for i, s := range specs {
		ms[i] = s.New()
	}
	return ms
}

func updateMetrics(ms []Metric, specs []MetricSpec, p *graph.Program, feeds []*tensor.Dense) error {
	lay := p.Layout()
	for i, mt := range ms {
		o := specs[i].Output
		if o < 0 || o >= lay.Targets {
			return errors.Errorf("training: metric %q watches output %d of %d", specs[i].Name, o, lay.Targets)
		}
		pred, err := p.Output(o)
		if err != nil {
			return err
		}
		yTrue := feeds[lay.Target(o)]
		var sw []float64
		if mo, masked := lay.Mask(o); masked {
			mask, err := p.Output(mo)
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
// A batch of 0 means 32.
func Evaluate(m Model, ds *Dataset, batch int, specs []MetricSpec, dt tensor.Dtype) (Logs, error) {
	if err := ds.Validate(); err != nil {
		return nil, err
	}
	batch, err := batchSize(batch)
	if err != nil {
		return nil, err
	}
	if dt == (tensor.Dtype{}) {
		dt = tensor.Float32
	}
	b := newBatcher(ds, dt)
	ms := newMetrics(specs)
	var losses lossMeans
	n := ds.Len()
	for _, idx := range batches(n, batch, nil) {
		if err := evaluateBatch(m, b, idx, ms, specs, &losses); err != nil {
			return nil, err
		}
	}
	logs := Logs{}
	losses.log(logs)
	for i, mt := range ms {
		logs[specs[i].Name] = mt.Result()
	}
	return logs, nil
}

func evaluateBatch(m Model, b *batcher, idx []int, ms []Metric, specs []MetricSpec, losses *lossMeans) error {
	p, err := m.Program(graph.Key{Mode: graph.Evaluate, Batch: len(idx)})
	if err != nil {
		return err
	}
	defer release(m, p)
	feeds, err := b.gather(idx, true)
	if err != nil {
		return err
	}
	if err := p.Run(feeds...); err != nil {
		return err
	}
	loss, err := p.Loss()
	if err != nil {
		return err
	}
	if err := losses.add(p, loss, len(idx)); err != nil {
		return err
	}
	return updateMetrics(ms, specs, p, feeds)
}

// batchSize checks a batch size option; 0 means 32.
func batchSize(b int) (int, error) {
	switch {
	case b == 0:
		return 32, nil
	case b < 0:
		return 0, errors.Errorf("training: batch size must be positive, got %d", b)
	}
	return b, nil
}

// Predict runs m on inputs in inference mode and returns one tensor per
// model output, with every sample. A batch of 0 means 32.
//
// A last partial batch of r samples runs in the program of the smallest
// power of two at least r (at most the batch size), its extra rows copies
// of the last sample, dropped from the result: inference treats every
// sample on its own, and whatever the sizes asked for, a model compiles at
// most log2(batch)+2 prediction programs.
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
	batch, err := batchSize(batch)
	if err != nil {
		return nil, err
	}
	if dt == (tensor.Dtype{}) {
		dt = tensor.Float32
	}
	b := newBatcher(ds, dt)
	var outs []*tensor.Dense
	start := 0
	for _, idx := range batches(n, batch, nil) {
		rows := len(idx)
		if size := bucket(rows, batch); size > rows {
			padded := make([]int, size)
			copy(padded, idx)
			for i := rows; i < size; i++ {
				padded[i] = idx[rows-1]
			}
			idx = padded
		}
		if outs, err = predictBatch(m, b, idx, rows, start, n, outs); err != nil {
			return nil, err
		}
		start += rows
	}
	return outs, nil
}

// bucket is the program size for a batch of r samples when full batches
// have b: the smallest power of two at least r, at most b.
func bucket(r, b int) int {
	if r >= b {
		return r
	}
	size := 1
	for size < r {
		size *= 2
	}
	return min(size, b)
}

// predictBatch runs the samples idx and copies the first rows of each
// output to outs (made on first use, n samples) at row start.
func predictBatch(m Model, b *batcher, idx []int, rows, start, n int, outs []*tensor.Dense) ([]*tensor.Dense, error) {
	p, err := m.Program(graph.Key{Mode: graph.Predict, Batch: len(idx)})
	if err != nil {
		return nil, err
	}
	defer release(m, p)
	feeds, err := b.gather(idx, false)
	if err != nil {
		return nil, err
	}
	if err := p.Run(feeds...); err != nil {
		return nil, err
	}
	nOut := p.Layout().Outputs
	if outs == nil {
		for i := 0; i < nOut; i++ {
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
		if err := copyRows(outs[i], o, start, rows); err != nil {
			return nil, err
		}
	}
	return outs, nil
}

func shapeOf(t *tensor.Dense) tensor.Shape {
	if t == nil {
		return nil
	}
	return t.Shape()
}

// copyRows writes the first rows of src into dst starting at row start.
func copyRows(dst, src *tensor.Dense, start, rows int) error {
	row := dst.Shape().TotalSize() / dst.Shape()[0]
	switch d := dst.Data().(type) {
	case []float32:
		s, ok := src.Data().([]float32)
		if !ok {
			return errors.Errorf("training: output dtype changed to %v", src.Dtype())
		}
		copy(d[start*row:(start+rows)*row], s[:rows*row])
	case []float64:
		s, ok := src.Data().([]float64)
		if !ok {
			return errors.Errorf("training: output dtype changed to %v", src.Dtype())
		}
		copy(d[start*row:(start+rows)*row], s[:rows*row])
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
