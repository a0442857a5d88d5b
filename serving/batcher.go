package serving

import (
	"context"
	"sync"
	"time"

	"github.com/keragon/keragon/keras"
	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// ErrClosed is returned by Predict after Close.
var ErrClosed = errors.New("serving: the server is closed")

// A Batcher runs predictions of one single-input model, joining requests
// that wait at the same time into one Predict call (dynamic batching): a
// worker that becomes free takes every request queued meanwhile, up to
// MaxBatch samples, so the batches grow with the load and a lone request
// never waits for company (unless MaxDelay says so). It is safe for
// concurrent use.
type Batcher struct {
	model    *keras.Model
	sample   []int // shape of one sample
	rowSize  int
	outShape [][]int // per output, shape of one sample's output
	cfg      Config

	queue   chan *job
	once    sync.Once
	wg      sync.WaitGroup
	mu      sync.RWMutex // held shared by Predict while it may enqueue
	closed  bool
	batches batchStats
}

type job struct {
	ctx  context.Context
	x    []float32 // n samples, row-major
	n    int
	done chan jobResult // buffered: a worker never blocks on it
}

type jobResult struct {
	outs [][]float32 // per output, n rows
	err  error
}

// batchStats counts what the workers ran, for tests and metrics.
type batchStats struct {
	mu       sync.Mutex
	calls    int
	samples  int
	maxBatch int
}

// NewBatcher starts cfg.Workers workers predicting with m, which must have
// one input. Stop them with Close.
func NewBatcher(m *keras.Model, cfg Config) (*Batcher, error) {
	if m == nil {
		return nil, errors.New("serving: nil model")
	}
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	ins, outs := m.Inputs(), m.Outputs()
	if len(ins) != 1 {
		return nil, errors.Errorf("serving: the model has %d inputs; a Batcher serves models with one", len(ins))
	}
	if m.Dtype() != tensor.Float32 {
		return nil, errors.Errorf("serving: the model is %v; a Batcher serves float32 models", m.Dtype())
	}
	b := &Batcher{model: m, sample: ins[0].Shape(), cfg: cfg,
		queue: make(chan *job, 4*cfg.MaxBatch)}
	b.rowSize = 1
	for _, d := range b.sample {
		b.rowSize *= d
	}
	for _, o := range outs {
		b.outShape = append(b.outShape, o.Shape())
	}
	for i := 0; i < cfg.Workers; i++ {
		b.wg.Add(1)
		go b.work()
	}
	return b, nil
}

// SampleShape is the shape of one input sample (without the batch axis).
func (b *Batcher) SampleShape() []int { return append([]int(nil), b.sample...) }

// Predict returns the model's outputs for n samples given row-major in x
// (n·prod(SampleShape) values), as one []float32 of n rows per output. It
// returns ctx's error if ctx ends before the prediction is made.
func (b *Batcher) Predict(ctx context.Context, x []float32, n int) ([][]float32, error) {
	if n < 1 || len(x) != n*b.rowSize {
		return nil, errors.Errorf("serving: %d values for %d samples of shape %v (want %d)", len(x), n, b.sample, n*b.rowSize)
	}
	j := &job{ctx: ctx, x: x, n: n, done: make(chan jobResult, 1)}
	b.mu.RLock()
	if b.closed {
		b.mu.RUnlock()
		return nil, ErrClosed
	}
	select {
	case b.queue <- j:
		b.mu.RUnlock()
	case <-ctx.Done():
		b.mu.RUnlock()
		return nil, ctx.Err()
	}
	select {
	case r := <-j.done:
		return r.outs, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Close stops taking requests, answers the queued ones and waits for the
// workers to finish.
func (b *Batcher) Close() {
	b.once.Do(func() {
		b.mu.Lock()
		b.closed = true
		close(b.queue)
		b.mu.Unlock()
	})
	b.wg.Wait()
}

// work runs batches until the queue is closed and drained.
func (b *Batcher) work() {
	defer b.wg.Done()
	for first := range b.queue {
		batch := b.gather(first)
		b.run(batch)
	}
}

// gather adds to first the requests queued meanwhile, up to MaxBatch
// samples, waiting at most MaxDelay for more when there are fewer.
func (b *Batcher) gather(first *job) []*job {
	batch := []*job{first}
	size := first.n
	var timer <-chan time.Time
	if b.cfg.MaxDelay > 0 && size < b.cfg.MaxBatch {
		t := time.NewTimer(b.cfg.MaxDelay)
		defer t.Stop()
		timer = t.C
	}
	for size < b.cfg.MaxBatch {
		select {
		case j, ok := <-b.queue:
			if !ok {
				return batch
			}
			batch = append(batch, j)
			size += j.n
			continue
		default:
		}
		if timer == nil {
			return batch
		}
		select {
		case j, ok := <-b.queue:
			if !ok {
				return batch
			}
			batch = append(batch, j)
			size += j.n
		case <-timer:
			return batch
		}
	}
	return batch
}

// run predicts the live jobs of batch in one call and answers each.
func (b *Batcher) run(batch []*job) {
	live := batch[:0:0]
	n := 0
	for _, j := range batch {
		if err := j.ctx.Err(); err != nil {
			j.done <- jobResult{err: err}
			continue
		}
		live = append(live, j)
		n += j.n
	}
	if n == 0 {
		return
	}
	x := make([]float32, 0, n*b.rowSize)
	for _, j := range live {
		x = append(x, j.x...)
	}
	in := tensor.New(tensor.WithShape(append([]int{n}, b.sample...)...), tensor.WithBacking(x))
	outs, err := b.model.PredictMulti([]*tensor.Dense{in}, keras.EvalConfig{BatchSize: b.cfg.MaxBatch})
	b.batches.add(n)
	if err != nil {
		for _, j := range live {
			j.done <- jobResult{err: err}
		}
		return
	}
	start := 0
	for _, j := range live {
		r := jobResult{outs: make([][]float32, len(outs))}
		for o, t := range outs {
			d := t.Data().([]float32)
			row := len(d) / n
			r.outs[o] = append([]float32(nil), d[start*row:(start+j.n)*row]...)
		}
		start += j.n
		j.done <- r
	}
}

func (s *batchStats) add(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	s.samples += n
	s.maxBatch = max(s.maxBatch, n)
}

// Stats returns how many Predict calls the workers made, for how many
// samples in all, and the largest batch.
func (b *Batcher) Stats() (calls, samples, largest int) {
	b.batches.mu.Lock()
	defer b.batches.mu.Unlock()
	return b.batches.calls, b.batches.samples, b.batches.maxBatch
}
