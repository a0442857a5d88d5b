package training

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/keragon/keragon/graph"
	"gorgonia.org/tensor"
)

// TestZeroIsExpressible checks the pointer fields: nil is Keras' default,
// Float(0) is 0, and both survive the JSON round trip Save relies on.
func TestZeroIsExpressible(t *testing.T) {
	cases := []struct {
		name      string
		unset     Optimizer
		zero      Optimizer
		get       func(Optimizer) float64
		def       float64
		configKey string
	}{
		{"adam beta_1", &Adam{}, &Adam{Beta1: Float(0)}, func(o Optimizer) float64 { return o.(*Adam).beta1() }, 0.9, "beta_1"},
		{"adam beta_2", &Adam{}, &Adam{Beta2: Float(0)}, func(o Optimizer) float64 { return o.(*Adam).beta2() }, 0.999, "beta_2"},
		{"adamw weight_decay", &AdamW{}, &AdamW{WeightDecay: Float(0)}, func(o Optimizer) float64 { return o.(*AdamW).weightDecay() }, 0.004, "weight_decay"},
		{"adamw beta_1", &AdamW{}, &AdamW{Beta1: Float(0)}, func(o Optimizer) float64 { return o.(*AdamW).beta1() }, 0.9, "beta_1"},
		{"rmsprop rho", &RMSprop{}, &RMSprop{Rho: Float(0)}, func(o Optimizer) float64 { return o.(*RMSprop).rho() }, 0.9, "rho"},
		{"adadelta rho", &Adadelta{}, &Adadelta{Rho: Float(0)}, func(o Optimizer) float64 { return o.(*Adadelta).rho() }, 0.95, "rho"},
		{"adagrad initial_accumulator_value", &Adagrad{}, &Adagrad{InitialAccumulatorValue: Float(0)},
			func(o Optimizer) float64 { return o.(*Adagrad).initial() }, 0.1, "initial_accumulator_value"},
	}
	for _, c := range cases {
		if got := c.get(c.unset); got != c.def {
			t.Errorf("%s unset = %v, want Keras' default %v", c.name, got, c.def)
		}
		if got := c.get(c.zero); got != 0 {
			t.Errorf("%s = Float(0) resolves to %v, want 0", c.name, got)
		}
		raw, err := json.Marshal(c.zero)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		if m[c.configKey] != 0.0 {
			t.Errorf("%s: config %s has %s = %v, want 0", c.name, raw, c.configKey, m[c.configKey])
		}
		back, err := OptimizerFromConfig(c.zero.Name(), raw)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.get(back); got != 0 {
			t.Errorf("%s: %v after a JSON round trip of %s, want 0", c.name, got, raw)
		}
	}
}

// TestAdamBeta1Zero checks the rule itself: with Beta1 = 0 the first
// moment is the gradient, so each step is lr·sqrt(1−β2^t)·g/(sqrt(v)+ε).
func TestAdamBeta1Zero(t *testing.T) {
	w := graph.NewWeight("w", tensor.Float64, []int{1}, nil, true)
	o := &Adam{LearningRate: 0.1, Beta1: Float(0)}
	gs := []float64{1, -2}
	x, v := 0.0, 0.0
	for step, g := range gs {
		grad := tensor.New(tensor.WithShape(1), tensor.WithBacking([]float64{g}))
		if err := o.Step([]graph.Gradient{{Weight: w, Value: grad}}); err != nil {
			t.Fatal(err)
		}
		v = 0.999*v + 0.001*g*g
		tt := float64(step + 1)
		x -= 0.1 * math.Sqrt(1-math.Pow(0.999, tt)) * g / (math.Sqrt(v) + 1e-7)
		if got := w.Value.Data().([]float64)[0]; math.Abs(got-x) > 1e-12 {
			t.Fatalf("step %d: w = %.17g, want %.17g", step+1, got, x)
		}
	}
}

// TestPrecisionThresholdZero: Float(0) thresholds logits at 0, as Keras'
// thresholds=0; nil is 0.5.
func TestPrecisionThresholdZero(t *testing.T) {
	yTrue := tensor.New(tensor.WithShape(3, 1), tensor.WithBacking([]float64{1, 0, 1}))
	yPred := tensor.New(tensor.WithShape(3, 1), tensor.WithBacking([]float64{0.2, 0.3, -1}))
	for _, c := range []struct {
		m    *Precision
		want float64
	}{{&Precision{Threshold: Float(0)}, 0.5}, {&Precision{}, 0}} {
		if err := c.m.Update(yTrue, yPred, nil); err != nil {
			t.Fatal(err)
		}
		if got := c.m.Result(); got != c.want {
			t.Errorf("precision with threshold %v = %v, want %v", c.m.Threshold, got, c.want)
		}
	}
}
