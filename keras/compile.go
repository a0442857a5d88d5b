package keras

import (
	"math"
	"sort"
	"strings"

	"github.com/keragon/keragon/graph"
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
	// Loss is a loss name ("sparse_categorical_crossentropy") or a Loss
	// for every output, or, for several outputs, one per output: a []any
	// or []string in output order, or a map[string]any or
	// map[string]string keyed by output name (the output layer's name),
	// naming every output.
	Loss any
	// LossWeights scales each output's loss in the total that training
	// minimises (default 1 each): a []float64 in output order or a
	// map[string]float64 by output name, naming every output.
	LossWeights any
	// Metrics are "accuracy", "mae", …: a []string computed for every
	// output, or per output a [][]string in output order or a
	// map[string][]string by output name (outputs left out get none).
	//
	// With several outputs, logs and History name each output's metrics
	// "<output>_<metric>" and its loss "<output>_loss" (unweighted, as
	// Keras 3); "loss" is the weighted total, regularisation included.
	Metrics any
}

type compiled struct {
	cfg         CompileConfig
	optimizer   training.Optimizer
	losses      []*lossFunc
	lossSpecs   []Loss
	lossWeights []float64
	metricNames [][]string // by output, as given
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
	if c.lossWeights, err = m.lossWeightsOf(cfg.LossWeights); err != nil {
		return err
	}
	if _, err := m.maskedOutputs(); err != nil {
		return err
	}
	if c.metricNames, err = m.metricsOf(cfg.Metrics); err != nil {
		return err
	}
	for i, out := range m.outputs {
		for _, name := range c.metricNames[i] {
			specific := strings.ToLower(name)
			if specific == "accuracy" || specific == "acc" {
				specific = training.ResolveAccuracy(c.losses[i].name, out.shape)
			}
			if _, err := training.NewMetric(specific); err != nil {
				return errors.WithMessagef(err, "keras: Compile: output %q", m.outputName(i))
			}
			logName := name
			if len(m.outputs) > 1 {
				logName = m.outputName(i) + "_" + name
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
	case map[string]string:
		generic := make(map[string]any, len(x))
		for k, v := range x {
			generic[k] = v
		}
		return m.lossSpecs(generic)
	case map[string]any:
		if err := m.checkOutputNames("Loss", keysOf(x)); err != nil {
			return nil, err
		}
		for i := range m.outputs {
			v, ok := x[m.outputName(i)]
			if !ok {
				return nil, errors.Errorf("keras: Compile: no loss for output %q", m.outputName(i))
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

// outputName is the name output i goes by in Compile's maps and in the
// logs: its layer's name.
func (m *Model) outputName(i int) string { return m.outputs[i].layer.base().name }

// checkOutputNames reports a name in a per-output map that is not an
// output's.
func (m *Model) checkOutputNames(what string, names []string) error {
	known := map[string]bool{}
	var all []string
	for i := range m.outputs {
		known[m.outputName(i)] = true
		all = append(all, m.outputName(i))
	}
	for _, n := range names {
		if !known[n] {
			return errors.Errorf("keras: Compile: %s names %q, which is not an output (outputs: %s)", what, n, strings.Join(all, ", "))
		}
	}
	return nil
}

func keysOf[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// lossWeightsOf turns CompileConfig.LossWeights into one weight per output.
func (m *Model) lossWeightsOf(lw any) ([]float64, error) {
	n := len(m.outputs)
	out := make([]float64, n)
	for i := range out {
		out[i] = 1
	}
	switch x := lw.(type) {
	case nil:
		return out, nil
	case []float64:
		if x == nil {
			return out, nil
		}
		if len(x) != n {
			return nil, errors.Errorf("keras: Compile: %d loss weights for %d outputs", len(x), n)
		}
		copy(out, x)
	case []any: // as read back from JSON
		if len(x) != n {
			return nil, errors.Errorf("keras: Compile: %d loss weights for %d outputs", len(x), n)
		}
		for i, v := range x {
			f, ok := v.(float64)
			if !ok {
				return nil, errors.Errorf("keras: Compile: loss weight %d is %T, want a number", i, v)
			}
			out[i] = f
		}
	case map[string]float64:
		if x == nil {
			return out, nil
		}
		if err := m.checkOutputNames("LossWeights", keysOf(x)); err != nil {
			return nil, err
		}
		for i := range out {
			f, ok := x[m.outputName(i)]
			if !ok {
				return nil, errors.Errorf("keras: Compile: LossWeights has no weight for output %q", m.outputName(i))
			}
			out[i] = f
		}
	case float64:
		if n != 1 {
			return nil, errors.Errorf("keras: Compile: one loss weight for %d outputs", n)
		}
		out[0] = x
	default:
		return nil, errors.Errorf("keras: Compile: LossWeights must be a []float64 or a map[string]float64, got %T", lw)
	}
	for i, w := range out {
		if w < 0 || math.IsNaN(w) || math.IsInf(w, 0) {
			return nil, errors.Errorf("keras: Compile: the loss weight of output %q is %v, want a finite number >= 0", m.outputName(i), w)
		}
	}
	return out, nil
}

// metricsOf turns CompileConfig.Metrics into the metric names of each
// output.
func (m *Model) metricsOf(ms any) ([][]string, error) {
	n := len(m.outputs)
	out := make([][]string, n)
	strs := func(v any) ([]string, error) {
		switch x := v.(type) {
		case nil:
			return nil, nil
		case string:
			return []string{x}, nil
		case []string:
			return append([]string(nil), x...), nil
		case []any:
			s := make([]string, len(x))
			for i, e := range x {
				name, ok := e.(string)
				if !ok {
					return nil, errors.Errorf("a metric is %T, want a name", e)
				}
				s[i] = name
			}
			return s, nil
		}
		return nil, errors.Errorf("metrics must be names, got %T", v)
	}
	switch x := ms.(type) {
	case nil:
	case []string:
		for i := range out {
			out[i] = append([]string(nil), x...)
		}
	case [][]string:
		if len(x) != n {
			return nil, errors.Errorf("keras: Compile: metrics for %d outputs, the model has %d", len(x), n)
		}
		for i := range out {
			out[i] = append([]string(nil), x[i]...)
		}
	case map[string][]string:
		if err := m.checkOutputNames("Metrics", keysOf(x)); err != nil {
			return nil, err
		}
		for i := range out {
			out[i] = append([]string(nil), x[m.outputName(i)]...)
		}
	case []any: // as read back from JSON: names for all, or a list per output
		perOutput := len(x) > 0
		for _, e := range x {
			if _, ok := e.(string); ok {
				perOutput = false
			}
		}
		if !perOutput {
			s, err := strs(x)
			if err != nil {
				return nil, errors.WithMessage(err, "keras: Compile")
			}
			for i := range out {
				out[i] = append([]string(nil), s...)
			}
			break
		}
		if len(x) != n {
			return nil, errors.Errorf("keras: Compile: metrics for %d outputs, the model has %d", len(x), n)
		}
		for i, e := range x {
			s, err := strs(e)
			if err != nil {
				return nil, errors.WithMessagef(err, "keras: Compile: output %d", i)
			}
			out[i] = s
		}
	case map[string]any:
		if err := m.checkOutputNames("Metrics", keysOf(x)); err != nil {
			return nil, err
		}
		for i := range out {
			s, err := strs(x[m.outputName(i)])
			if err != nil {
				return nil, errors.WithMessagef(err, "keras: Compile: output %q", m.outputName(i))
			}
			out[i] = s
		}
	default:
		return nil, errors.Errorf("keras: Compile: Metrics must be a []string, a [][]string or a map[string][]string, got %T", ms)
	}
	return out, nil
}

// savedMetrics is the metrics as Save writes them: one list when every
// output has the same, else a list per output.
func (c *compiled) savedMetrics() any {
	if len(c.metricNames) == 0 {
		return []string(nil)
	}
	for _, ms := range c.metricNames[1:] {
		if strings.Join(ms, "\x00") != strings.Join(c.metricNames[0], "\x00") {
			return c.metricNames
		}
	}
	return c.metricNames[0]
}
