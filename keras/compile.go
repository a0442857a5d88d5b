package keras

import (
	"github.com/keragon/keragon/graph"
	"strings"

	"github.com/keragon/keragon/training"
	"github.com/pkg/errors"
)

// CompileConfig configures training, as the arguments of Keras'
// model.compile.
type CompileConfig struct {
	// Optimizer is a training.Optimizer (&training.Adam{LearningRate: 1e-3})
	// or a Keras name ("adam") for one with default settings; nil means
	// "rmsprop", Keras' default.
	Optimizer any
	// Loss is a loss name ("sparse_categorical_crossentropy"), a Loss, or,
	// for several outputs, a []any with one per output or a map[string]any
	// keyed by output layer name.
	Loss any
	// LossWeights scales each output's loss (default 1 each).
	LossWeights []float64
	// Metrics are computed for every output: "accuracy", "mae", ….
	Metrics []string
}

type compiled struct {
	cfg         CompileConfig
	optimizer   training.Optimizer
	losses      []*lossFunc
	lossSpecs   []Loss
	lossWeights []float64
	metrics     []training.MetricSpec
}

// Compile fixes the optimizer, the losses and the metrics, and initialises
// the weights (from the model's seed) if that has not happened yet.
// Compiling again keeps the weights and replaces the rest.
func (m *Model) Compile(cfg CompileConfig) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fitting.Load() {
		return errors.New("keras: Compile while Fit is running")
	}
	return m.compile(cfg)
}

func (m *Model) compile(cfg CompileConfig) error {
	if m.err == nil && m.sequential && len(m.inputs) == 0 && len(m.pending) > 0 {
		// Keras builds a Sequential model without an input shape when it
		// first sees data; the compilation waits for that.
		c := cfg
		m.deferred = &c
		return nil
	}
	if err := m.ready(); err != nil {
		return err
	}
	c := &compiled{cfg: cfg}
	switch o := cfg.Optimizer.(type) {
	case nil:
		opt, err := training.NewOptimizer("rmsprop")
		if err != nil {
			return err
		}
		c.optimizer = opt
	case string:
		opt, err := training.NewOptimizer(o)
		if err != nil {
			return errors.WithMessage(err, "keras: Compile")
		}
		c.optimizer = opt
	case training.Optimizer:
		c.optimizer = o
	default:
		return errors.Errorf("keras: Compile: Optimizer must be a training.Optimizer or a name, got %T", cfg.Optimizer)
	}
	if err := training.CheckOptimizer(c.optimizer); err != nil {
		return errors.WithMessage(err, "keras: Compile")
	}
	specs, err := m.lossSpecs(cfg.Loss)
	if err != nil {
		return err
	}
	c.lossSpecs = specs
	for i, s := range specs {
		lf, err := resolveLoss(s, m.outputs[i].shape)
		if err != nil {
			return errors.WithMessagef(err, "output %d", i)
		}
		c.losses = append(c.losses, lf)
	}
	c.lossWeights = make([]float64, len(m.outputs))
	for i := range c.lossWeights {
		c.lossWeights[i] = 1
	}
	if cfg.LossWeights != nil {
		if len(cfg.LossWeights) != len(m.outputs) {
			return errors.Errorf("keras: Compile: %d loss weights for %d outputs", len(cfg.LossWeights), len(m.outputs))
		}
		copy(c.lossWeights, cfg.LossWeights)
	}
	if _, err := m.maskedOutputs(); err != nil {
		return err
	}
	for i, out := range m.outputs {
		for _, name := range cfg.Metrics {
			specific := strings.ToLower(name)
			if specific == "accuracy" || specific == "acc" {
				specific = training.ResolveAccuracy(c.losses[i].name, out.shape)
			}
			if _, err := training.NewMetric(specific); err != nil {
				return errors.WithMessage(err, "keras: Compile")
			}
			logName := name
			if len(m.outputs) > 1 {
				logName = out.layer.base().name + "_" + name
			}
			metricName := specific
			c.metrics = append(c.metrics, training.MetricSpec{Output: i, Name: logName, New: func() training.Metric {
				mt, _ := training.NewMetric(metricName)
				return mt
			}})
		}
	}
	m.compiled = c
	m.isCompiled.Store(true)
	m.cache.Clear()
	return nil
}

// lossSpecs turns CompileConfig.Loss into one Loss per output.
func (m *Model) lossSpecs(l any) ([]Loss, error) {
	one := func(v any) (Loss, error) {
		switch x := v.(type) {
		case string:
			return Loss{Name: x}, nil
		case Loss:
			return x, nil
		case *Loss:
			if x == nil {
				return Loss{}, errors.New("keras: Compile: nil *Loss")
			}
			return *x, nil
		}
		return Loss{}, errors.Errorf("keras: Compile: a loss must be a name or a keras.Loss, got %T", v)
	}
	n := len(m.outputs)
	out := make([]Loss, n)
	switch x := l.(type) {
	case nil:
		return nil, errors.New("keras: Compile needs a Loss (e.g. \"sparse_categorical_crossentropy\")")
	case []any:
		if len(x) != n {
			return nil, errors.Errorf("keras: Compile: %d losses for %d outputs", len(x), n)
		}
		for i, v := range x {
			s, err := one(v)
			if err != nil {
				return nil, err
			}
			out[i] = s
		}
	case []string:
		if len(x) != n {
			return nil, errors.Errorf("keras: Compile: %d losses for %d outputs", len(x), n)
		}
		for i, v := range x {
			out[i] = Loss{Name: v}
		}
	case map[string]any:
		for i, o := range m.outputs {
			v, ok := x[o.layer.base().name]
			if !ok {
				return nil, errors.Errorf("keras: Compile: no loss for output %q", o.layer.base().name)
			}
			s, err := one(v)
			if err != nil {
				return nil, err
			}
			out[i] = s
		}
	default:
		s, err := one(l)
		if err != nil {
			return nil, err
		}
		for i := range out {
			out[i] = s
		}
	}
	return out, nil
}

// Optimizer returns the compiled optimizer, or nil before Compile.
func (m *Model) Optimizer() training.Optimizer {
	if m.compiled == nil {
		return nil
	}
	return m.compiled.optimizer
}

// maskedOutputs reports which outputs carry a mask, by building the
// forward graph once (batch 1, inference) without compiling it.
func (m *Model) maskedOutputs() ([]bool, error) {
	ctx := graph.NewContext(graph.Infer, 1, m.dtype, m.rng)
	_, _, masks, err := m.forward(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]bool, len(masks))
	for i, mk := range masks {
		out[i] = mk != nil
	}
	return out, nil
}
