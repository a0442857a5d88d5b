package main

import (
	"math/rand/v2"
	"runtime"
	"time"

	"github.com/keragon/keragon/graph"
	"github.com/keragon/keragon/keras"
	"github.com/keragon/keragon/ops"
	"github.com/keragon/keragon/training"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The Keragon side of the workloads; bench/torch_bench.py has the same
// models, optimizers (Keras' defaults), batch size and synthetic data
// (uniform pixels, uniform labels: speed does not depend on the values).

// workload is one measurement, run in a child process of its own.
type workload struct {
	name string
	// unit of the figure compared; higher is better for throughputs.
	unit   string
	higher bool
	// samples in a full run and in a -quick one.
	samples, quick int
	run            func(p params) (map[string]any, error)
	// keragonOnly workloads have no PyTorch side.
	keragonOnly bool
}

// params are a worker's command line.
type params struct {
	samples, batch, reps int
	seed                 uint64
}

var workloads = []workload{
	{"mlp_epoch", "s/epoch", false, 60000, 10000, func(p params) (map[string]any, error) { return runEpoch(p, mlp(), flat, false) }, false},
	{"cnn_epoch", "s/epoch", false, 60000, 5000, func(p params) (map[string]any, error) { return runEpoch(p, cnn(false), image, true) }, false},
	{"cnn_bn_epoch", "s/epoch", false, 60000, 3000, func(p params) (map[string]any, error) { return runEpoch(p, cnn(true), image, true) }, false},
	{"lstm_epoch", "s/epoch", false, 60000, 3000, func(p params) (map[string]any, error) { return runEpoch(p, lstm(), rows, true) }, false},
	{"mlp_infer", "images/s", true, 60000, 20000, func(p params) (map[string]any, error) { return runInfer(p, mlp(), flat) }, false},
	{"cnn_infer", "images/s", true, 10000, 3000, func(p params) (map[string]any, error) { return runInfer(p, cnn(false), image) }, false},
	{"gemm", "GFLOP/s", true, 0, 0, runGemm, false},
	{"serve_mlp", "req/s", true, 6000, 2000, func(p params) (map[string]any, error) { return runServe(p, mlp(), flat) }, true},
	{"serve_cnn", "req/s", true, 6000, 2000, func(p params) (map[string]any, error) { return runServe(p, cnn(false), image) }, true},
}

// The shapes of a sample: flat pixels, an NHWC image, a sequence of rows.
var (
	flat  = []int{784}
	image = []int{28, 28, 1}
	rows  = []int{28, 28}
)

func workloadNamed(name string) (workload, bool) {
	for _, w := range workloads {
		if w.name == name {
			return w, true
		}
	}
	return workload{}, false
}

// mlp is Keras' mnist_mlp: 784-512-512-10, ReLU, Dropout 0.2, RMSprop.
func mlp() *keras.Model {
	m := keras.NewSequential(&keras.Input{Shape: []int{784}},
		&keras.Dense{Units: 512, Activation: "relu"}, &keras.Dropout{Rate: 0.2},
		&keras.Dense{Units: 512, Activation: "relu"}, &keras.Dropout{Rate: 0.2},
		&keras.Dense{Units: 10, Activation: "softmax"})
	m.SetSeed(1)
	return m
}

// cnn is the convnet: Conv32-Pool-Conv64-Pool-Dense128-Dropout
// 0.5-Dense10, Adam; with batchNorm each convolution (without bias) is
// followed by BatchNormalization before its ReLU.
func cnn(batchNorm bool) *keras.Model {
	m := keras.NewSequential(&keras.Input{Shape: []int{28, 28, 1}})
	for _, f := range []int{32, 64} {
		if batchNorm {
			m.Add(&keras.Conv2D{Filters: f, KernelSize: []int{3, 3}, NoBias: true})
			m.Add(&keras.BatchNormalization{})
			m.Add(&keras.Activation{Activation: "relu"})
		} else {
			m.Add(&keras.Conv2D{Filters: f, KernelSize: []int{3, 3}, Activation: "relu"})
		}
		m.Add(&keras.MaxPooling2D{PoolSize: []int{2, 2}})
	}
	m.Add(&keras.Flatten{})
	m.Add(&keras.Dense{Units: 128, Activation: "relu"})
	m.Add(&keras.Dropout{Rate: 0.5})
	m.Add(&keras.Dense{Units: 10, Activation: "softmax"})
	m.SetSeed(1)
	return m
}

// lstm reads an image's 28 rows as a sequence: LSTM 128, Dense 10, Adam.
func lstm() *keras.Model {
	m := keras.NewSequential(&keras.Input{Shape: []int{28, 28}},
		&keras.LSTM{Units: 128}, &keras.Dense{Units: 10, Activation: "softmax"})
	m.SetSeed(1)
	return m
}

// data returns n synthetic samples of the given shape (784 values each:
// (784), (28, 28, 1) or (28, 28)) with uniform pixels, and uniform class
// indices.
func data(n int, sample []int, seed uint64) (*tensor.Dense, *tensor.Dense) {
	rng := rand.New(rand.NewPCG(seed, 2))
	shape := append([]int{n}, sample...)
	xs := make([]float32, n*784)
	for i := range xs {
		xs[i] = rng.Float32()
	}
	ys := make([]float32, n)
	for i := range ys {
		ys[i] = float32(rng.IntN(10))
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(xs)),
		tensor.New(tensor.WithShape(n), tensor.WithBacking(ys))
}

// runEpoch times one epoch of Fit on p.samples samples, after a warm-up:
// a first Fit on one batch, timed as the first step (the training program
// built and compiled, one step run), then one on a partial batch when the
// epoch ends with one (which builds its program). It also counts the
// bytes and objects allocated per step, in Fit and in bare training
// steps.
func runEpoch(p params, m *keras.Model, shape []int, adam bool) (map[string]any, error) {
	opt := training.Optimizer(&training.RMSprop{})
	if adam {
		opt = &training.Adam{}
	}
	if err := m.Compile(keras.CompileConfig{Optimizer: opt, Loss: "sparse_categorical_crossentropy",
		Metrics: []string{"accuracy"}}); err != nil {
		return nil, err
	}
	x, y := data(p.samples, shape, p.seed)
	cfg := keras.FitConfig{Epochs: 1, BatchSize: p.batch}
	xw, yw := data(p.batch, shape, p.seed+1)
	start := time.Now()
	if _, err := m.Fit(xw, yw, cfg); err != nil {
		return nil, err
	}
	first := time.Since(start).Seconds()
	if rest := p.samples % p.batch; rest != 0 {
		xr, yr := data(rest, shape, p.seed+2)
		if _, err := m.Fit(xr, yr, cfg); err != nil {
			return nil, err
		}
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start = time.Now()
	if _, err := m.Fit(x, y, cfg); err != nil {
		return nil, err
	}
	secs := time.Since(start).Seconds()
	runtime.ReadMemStats(&after)
	steps := (p.samples + p.batch - 1) / p.batch
	res := map[string]any{
		"seconds": secs, "steps": steps, "first_step_seconds": first,
		"seconds_per_epoch":    secs * 60000 / float64(p.samples),
		"fit_bytes_per_step":   float64(after.TotalAlloc-before.TotalAlloc) / float64(steps),
		"fit_objects_per_step": float64(after.Mallocs-before.Mallocs) / float64(steps),
	}
	bytes, objects, err := stepAllocs(m, x, y, p.batch)
	if err != nil {
		return nil, err
	}
	res["step_bytes"], res["step_objects"] = bytes, objects
	return res, nil
}

// stepAllocs returns the bytes and objects one bare training step (run,
// gradients, optimizer, moving averages) allocates in steady state.
func stepAllocs(m *keras.Model, x, y *tensor.Dense, batch int) (float64, float64, error) {
	xb, err := x.Slice(gorgonia.S(0, batch))
	if err != nil {
		return 0, 0, errors.Wrap(err, "bench: slicing a batch")
	}
	yb, err := y.Slice(gorgonia.S(0, batch))
	if err != nil {
		return 0, 0, errors.Wrap(err, "bench: slicing a batch")
	}
	xd, yd := xb.(*tensor.Dense).Materialize().(*tensor.Dense), yb.(*tensor.Dense).Materialize().(*tensor.Dense)
	sw := tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(batch))
	for i := range sw.Data().([]float32) {
		sw.Data().([]float32)[i] = 1
	}
	prog, err := m.Program(graph.Key{Mode: graph.Fit, Batch: batch})
	if err != nil {
		return 0, 0, err
	}
	opt := m.Optimizer()
	step := func() error {
		if err := prog.Run(xd, yd, sw); err != nil {
			return err
		}
		g, err := prog.Gradients()
		if err != nil {
			return err
		}
		if err := opt.Step(g); err != nil {
			return err
		}
		return prog.ApplyUpdates()
	}
	if err := step(); err != nil {
		return 0, 0, err
	}
	const n = 10
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range n {
		if err := step(); err != nil {
			return 0, 0, err
		}
	}
	runtime.ReadMemStats(&after)
	return float64(after.TotalAlloc-before.TotalAlloc) / n, float64(after.Mallocs-before.Mallocs) / n, nil
}

// runInfer times Predict at batch p.batch on p.samples samples, after
// warm-up Predicts that build the inference programs: the first, on one
// batch, builds and compiles the full batch's program and is timed as the
// first step; a partial batch's gets built next when there is one.
func runInfer(p params, m *keras.Model, shape []int) (map[string]any, error) {
	if err := m.Compile(keras.CompileConfig{Optimizer: &training.Adam{}, Loss: "sparse_categorical_crossentropy"}); err != nil {
		return nil, err
	}
	x, _ := data(p.samples, shape, p.seed)
	cfg := keras.EvalConfig{BatchSize: p.batch}
	xb, _ := data(min(p.batch, p.samples), shape, p.seed+1)
	start := time.Now()
	if _, err := m.Predict(xb, cfg); err != nil {
		return nil, err
	}
	first := time.Since(start).Seconds()
	if rest := p.samples % p.batch; rest != 0 && p.samples > p.batch {
		xr, _ := data(rest, shape, p.seed+2)
		if _, err := m.Predict(xr, cfg); err != nil {
			return nil, err
		}
	}
	start = time.Now()
	if _, err := m.Predict(x, cfg); err != nil {
		return nil, err
	}
	secs := time.Since(start).Seconds()
	return map[string]any{"seconds": secs, "images_per_second": float64(p.samples) / secs, "first_step_seconds": first}, nil
}

// runGemm times a 1024³ float32 product through ops.MatMul in a compiled
// graph (the path Dense layers take), median (and best) of p.reps runs;
// peak_gflops is the best run at 2048³.
func runGemm(p params) (map[string]any, error) {
	med, fastest, err := timeGemm(1024, p.reps, p.seed)
	if err != nil {
		return nil, err
	}
	_, best, err := timeGemm(2048, max(3, p.reps/3), p.seed)
	if err != nil {
		return nil, err
	}
	const n = 1024
	return map[string]any{"seconds": med, "gflops": 2 * n * n * n / med / 1e9, "best_gflops": 2 * n * n * n / fastest / 1e9,
		"peak_gflops": 2 * 2048.0 * 2048 * 2048 / best / 1e9}, nil
}

// timeGemm returns the median and the best time of reps n³ products.
func timeGemm(n, reps int, seed uint64) (med, best float64, err error) {
	rng := rand.New(rand.NewPCG(seed, 3))
	g := gorgonia.NewGraph()
	mk := func(name string) *gorgonia.Node {
		d := make([]float32, n*n)
		for i := range d {
			d[i] = rng.Float32()
		}
		return gorgonia.NewMatrix(g, tensor.Float32, gorgonia.WithShape(n, n), gorgonia.WithName(name),
			gorgonia.WithValue(tensor.New(tensor.WithShape(n, n), tensor.WithBacking(d))))
	}
	c, err := ops.MatMul(mk("a"), mk("b"), false, false)
	if err != nil {
		return 0, 0, err
	}
	var out gorgonia.Value
	gorgonia.Read(c, &out)
	vm := gorgonia.NewTapeMachine(g)
	defer vm.Close()
	times := make([]float64, 0, reps)
	for i := -2; i < reps; i++ { // two warm-up runs
		vm.Reset()
		start := time.Now()
		if err := vm.RunAll(); err != nil {
			return 0, 0, errors.Wrap(err, "bench: gemm")
		}
		if i >= 0 {
			times = append(times, time.Since(start).Seconds())
		}
	}
	return median(times), minOf(times), nil
}
