package keras

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/keragon/keragon/graph"
	"github.com/keragon/keragon/training"
	"gorgonia.org/tensor"
)

// signSGD is a custom optimizer, w −= LearningRate·sign(g), float32 or
// float64 weights.
type signSGD struct {
	LearningRate float64 `json:"learning_rate"`
	iterations   int
}

func (o *signSGD) Name() string                 { return "keras_test_sign_sgd" }
func (o *signSGD) Iterations() int              { return o.iterations }
func (o *signSGD) CurrentLearningRate() float64 { return o.LearningRate }
func (o *signSGD) SetLearningRate(lr float64)   { o.LearningRate = lr }
func (o *signSGD) Step(grads []graph.Gradient) error {
	for _, g := range grads {
		switch w := g.Weight.Value.Data().(type) {
		case []float32:
			for i, d := range materialized(g.Value).Data().([]float32) {
				w[i] -= float32(o.LearningRate * math.Copysign(1, float64(d)))
			}
		case []float64:
			for i, d := range materialized(g.Value).Data().([]float64) {
				w[i] -= o.LearningRate * math.Copysign(1, d)
			}
		}
	}
	o.iterations++
	return nil
}
func (o *signSGD) State([]*graph.Weight) []training.NamedTensor {
	return []training.NamedTensor{{Name: "iterations",
		Value: tensor.New(tensor.WithShape(1), tensor.WithBacking([]float64{float64(o.iterations)}))}}
}
func (o *signSGD) SetState(_ []*graph.Weight, state []training.NamedTensor) error {
	for _, s := range state {
		if s.Name == "iterations" {
			o.iterations = int(s.Value.Data().([]float64)[0])
		}
	}
	return nil
}

// maxPred is a custom metric: the largest prediction seen.
type maxPred struct {
	logName string
	max     float64
}

func (m *maxPred) Name() string {
	if m.logName == "" {
		return "keras_test_max_pred"
	}
	return m.logName
}
func (m *maxPred) Reset() { m.max = math.Inf(-1) }
func (m *maxPred) Update(_, yPred *tensor.Dense, _ []float64) error {
	for _, v := range floatsOf(yPred) {
		m.max = math.Max(m.max, v)
	}
	return nil
}
func (m *maxPred) Result() float64 { return m.max }

func init() {
	if err := training.RegisterOptimizer("keras_test_sign_sgd", func() training.Optimizer { return &signSGD{} }); err != nil {
		panic(err)
	}
	if err := training.RegisterMetric("keras_test_max_pred", func(n string) training.Metric { return &maxPred{logName: n, max: math.Inf(-1)} }); err != nil {
		panic(err)
	}
}

// TestCustomOptimizerAndMetricRoundTrip: a model compiled with a
// registered custom optimizer and metric trains, saves and loads back with
// the same optimizer configuration and state, and evaluates the metric.
func TestCustomOptimizerAndMetricRoundTrip(t *testing.T) {
	m := NewSequential(&Input{Shape: []int{2}}, &Dense{Units: 1})
	m.SetSeed(1)
	if err := m.Compile(CompileConfig{Optimizer: &signSGD{LearningRate: 0.125}, Loss: "mse",
		Metrics: []string{"keras_test_max_pred"}}); err != nil {
		t.Fatalf("%+v", err)
	}
	x := denseOf(tensor.Float32, []float64{1, 2, 3, 4, 5, 6, 7, 8}, 4, 2)
	y := denseOf(tensor.Float32, []float64{1, 2, 3, 4}, 4, 1)
	if _, err := m.Fit(x, y, FitConfig{Epochs: 3, BatchSize: 2, NoShuffle: true}); err != nil {
		t.Fatalf("%+v", err)
	}
	path := filepath.Join(t.TempDir(), "custom.keragon")
	if err := m.Save(path); err != nil {
		t.Fatalf("%+v", err)
	}
	loaded, err := Load(path)
	if err != nil {
		t.Fatalf("Load: %+v", err)
	}
	o, ok := loaded.Optimizer().(*signSGD)
	if !ok || o.LearningRate != 0.125 || o.Iterations() != 6 {
		t.Fatalf("loaded optimizer %#v, want a *signSGD with rate 0.125 after 6 steps", loaded.Optimizer())
	}
	_, want, err := m.Evaluate(x, y)
	if err != nil {
		t.Fatal(err)
	}
	_, got, err := loaded.Evaluate(x, y)
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := want["keras_test_max_pred"]; !ok || math.IsInf(v, 0) {
		t.Errorf("Evaluate's metrics %v, want a finite keras_test_max_pred", want)
	}
	if got["keras_test_max_pred"] != want["keras_test_max_pred"] {
		t.Errorf("custom metric after Load %v, before %v", got, want)
	}
}
