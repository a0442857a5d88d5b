package training

import (
	"math"
	"strings"
	"testing"

	"github.com/keragon/keragon/graph"
	"gorgonia.org/tensor"
)

// signSGD is a custom optimizer, w −= LearningRate·sign(g), for the
// registry tests.
type signSGD struct {
	LearningRate float64 `json:"learning_rate"`
	iterations   int
}

func (o *signSGD) Name() string                 { return "sign_sgd" }
func (o *signSGD) Iterations() int              { return o.iterations }
func (o *signSGD) CurrentLearningRate() float64 { return o.LearningRate }
func (o *signSGD) SetLearningRate(lr float64)   { o.LearningRate = lr }
func (o *signSGD) Step(grads []graph.Gradient) error {
	for _, g := range grads {
		w, d := g.Weight.Value.Data().([]float64), g.Value.Data().([]float64)
		for i := range w {
			w[i] -= o.LearningRate * math.Copysign(1, d[i])
		}
	}
	o.iterations++
	return nil
}
func (o *signSGD) State([]*graph.Weight) []NamedTensor {
	return []NamedTensor{{Name: "iterations", Value: tensor.New(tensor.WithShape(1), tensor.WithBacking([]float64{float64(o.iterations)}))}}
}
func (o *signSGD) SetState(_ []*graph.Weight, state []NamedTensor) error {
	for _, s := range state {
		if s.Name == "iterations" {
			o.iterations = int(s.Value.Data().([]float64)[0])
		}
	}
	return nil
}

// meanPred is a custom metric: the mean prediction.
type meanPred struct {
	logName  string
	sum, cnt float64
}

func (m *meanPred) Name() string { return metricName(m.logName, "mean_pred") }
func (m *meanPred) Reset()       { m.sum, m.cnt = 0, 0 }
func (m *meanPred) Update(_, yPred *tensor.Dense, _ []float64) error {
	for _, v := range yPred.Data().([]float64) {
		m.sum += v
		m.cnt++
	}
	return nil
}
func (m *meanPred) Result() float64 { return m.sum / max(m.cnt, 1) }

// registerCustom registers signSGD and meanPred for one test and removes
// them after it, so that other tests and examples see the built-in names
// only.
func registerCustom(t *testing.T) {
	t.Helper()
	if err := RegisterOptimizer("sign_sgd", func() Optimizer { return &signSGD{LearningRate: 0.01} }); err != nil {
		t.Fatal(err)
	}
	if err := RegisterMetric("mean_pred", func(n string) Metric { return &meanPred{logName: n} }); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		optimizersMu.Lock()
		delete(newOptimizers, "sign_sgd")
		optimizersMu.Unlock()
		metricsMu.Lock()
		delete(metricMakers, "mean_pred")
		metricsMu.Unlock()
	})
}

// TestRegisterOptimizer: a registered optimizer is made by name (any case)
// and rebuilt from its config; empty and duplicate names (built-in ones
// included) are errors.
func TestRegisterOptimizer(t *testing.T) {
	registerCustom(t)
	o, err := OptimizerFromConfig("Sign_SGD", []byte(`{"learning_rate":0.25}`))
	if err != nil {
		t.Fatal(err)
	}
	if s, ok := o.(*signSGD); !ok || s.LearningRate != 0.25 {
		t.Errorf("OptimizerFromConfig(sign_sgd) = %#v, want a *signSGD with rate 0.25", o)
	}
	found := false
	for _, n := range OptimizerNames() {
		found = found || n == "sign_sgd"
	}
	if !found {
		t.Errorf("OptimizerNames() = %v, want sign_sgd among them", OptimizerNames())
	}
	for _, c := range []struct {
		name string
		mk   func() Optimizer
		want string
	}{
		{"sign_sgd", func() Optimizer { return &signSGD{} }, `optimizer "sign_sgd" is already registered`},
		{"Adam", func() Optimizer { return &signSGD{} }, `optimizer "Adam" is already registered`},
		{" ", func() Optimizer { return &signSGD{} }, "needs a name and a constructor"},
		{"other", nil, "needs a name and a constructor"},
	} {
		if err := RegisterOptimizer(c.name, c.mk); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("RegisterOptimizer(%q): error %v, want one containing %q", c.name, err, c.want)
		}
	}
	if o, err := NewOptimizer("adam"); err != nil || o.Name() != "adam" {
		t.Errorf("after a rejected duplicate, NewOptimizer(adam) = %v, %v", o, err)
	}
}

// TestRegisterMetric: a registered metric is made by name and its other
// spellings, with the log name asked for; duplicates, also up to case and
// underscores, are errors.
func TestRegisterMetric(t *testing.T) {
	registerCustom(t)
	m, err := NewMetricNamed("MeanPred", "avg")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Update(nil, tensor.New(tensor.WithShape(2), tensor.WithBacking([]float64{1, 3})), nil); err != nil {
		t.Fatal(err)
	}
	if m.Name() != "avg" || m.Result() != 2 {
		t.Errorf("custom metric: name %q, result %v; want avg, 2", m.Name(), m.Result())
	}
	for _, c := range []struct{ name, want string }{
		{"mean_pred", `metric "mean_pred" is already registered`},
		{"Mean_Pred", `already registered (as "mean_pred")`},
		{"mse", "already registered"},
		{"RootMeanSquaredError", "already registered"},
		{"", "needs a name and a constructor"},
	} {
		err := RegisterMetric(c.name, func(n string) Metric { return &meanPred{logName: n} })
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("RegisterMetric(%q): error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

// TestRegisterSchedule: the schedule registry rejects duplicates like the
// others.
func TestRegisterScheduleDuplicate(t *testing.T) {
	err := RegisterSchedule("CosineDecay", func() Schedule { return &CosineDecay{} })
	if err == nil || !strings.Contains(err.Error(), `schedule "CosineDecay" is already registered`) {
		t.Errorf("RegisterSchedule(CosineDecay): error %v, want a duplicate error", err)
	}
}
