package training

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/keragon/keragon/graph"
	"gorgonia.org/tensor"
)

// torchRef is testdata/torch_optimizers.json (see torch_optimizers.py).
type torchRef struct {
	Weights []struct {
		Name  string    `json:"name"`
		Shape []int     `json:"shape"`
		Value []float64 `json:"value"`
	} `json:"weights"`
	Grads [][][]float64 `json:"grads"` // [step][weight][element]
	Cases []struct {
		Name      string          `json:"name"`
		Optimizer string          `json:"optimizer"`
		Config    json.RawMessage `json:"config"`
		Reference string          `json:"reference"`
		Steps     [][][]float64   `json:"steps"` // weights after each step
	} `json:"cases"`
}

func loadTorchRef(t *testing.T) *torchRef {
	t.Helper()
	data, err := os.ReadFile("testdata/torch_optimizers.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref torchRef
	if err := json.Unmarshal(data, &ref); err != nil {
		t.Fatal(err)
	}
	return &ref
}

// setup makes the reference weights and per-step gradients in dtype dt.
func (r *torchRef) setup(t *testing.T, dt tensor.Dtype) ([]*graph.Weight, [][]graph.Gradient) {
	t.Helper()
	var ws []*graph.Weight
	for _, w := range r.Weights {
		gw := graph.NewWeight(w.Name, dt, w.Shape, nil, true)
		if err := gw.Set(denseOf(dt, w.Shape, w.Value)); err != nil {
			t.Fatal(err)
		}
		ws = append(ws, gw)
	}
	grads := make([][]graph.Gradient, len(r.Grads))
	for s, step := range r.Grads {
		for i, g := range step {
			grads[s] = append(grads[s], graph.Gradient{Weight: ws[i], Value: denseOf(dt, r.Weights[i].Shape, g)})
		}
	}
	return ws, grads
}

func denseOf(dt tensor.Dtype, shape []int, v []float64) *tensor.Dense {
	if dt == tensor.Float32 {
		f := make([]float32, len(v))
		for i, x := range v {
			f[i] = float32(x)
		}
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(f))
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(append([]float64(nil), v...)))
}

func valuesOf(t *tensor.Dense) []float64 {
	switch d := t.Data().(type) {
	case []float32:
		out := make([]float64, len(d))
		for i, x := range d {
			out[i] = float64(x)
		}
		return out
	case []float64:
		return append([]float64(nil), d...)
	case float32:
		return []float64{float64(d)}
	case float64:
		return []float64{d}
	}
	panic("unexpected data")
}

// tolerance is how far float64 and float32 results may stray from the
// reference: float64 differs from PyTorch only by rounding order; float32
// rounds every operation to 24 bits.
func tolerance(dt tensor.Dtype) float64 {
	if dt == tensor.Float32 {
		return 1e-6
	}
	return 1e-14
}

func near(got, want, tol float64) bool {
	return math.Abs(got-want) <= tol*(1+math.Abs(want))
}

func TestOptimizersMatchTorch(t *testing.T) {
	ref := loadTorchRef(t)
	if len(ref.Cases) < 20 {
		t.Fatalf("testdata has %d cases; want the 21 torch_optimizers.py writes", len(ref.Cases))
	}
	for _, c := range ref.Cases {
		for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
			t.Run(c.Name+"/"+dt.String(), func(t *testing.T) {
				opt, err := OptimizerFromConfig(c.Optimizer, c.Config)
				if err != nil {
					t.Fatal(err)
				}
				ws, grads := ref.setup(t, dt)
				tol := tolerance(dt)
				for step, want := range c.Steps {
					if err := opt.Step(grads[step]); err != nil {
						t.Fatalf("step %d: %+v", step+1, err)
					}
					for i, w := range ws {
						got := valuesOf(w.Value)
						for k := range got {
							if !near(got[k], want[i][k], tol) {
								t.Fatalf("%s (reference: %s) step %d: %s[%d] = %.17g, want %.17g (diff %.3g)",
									c.Name, c.Reference, step+1, w.Name, k, got[k], want[i][k], got[k]-want[i][k])
							}
						}
					}
				}
				if got := opt.Iterations(); got != len(c.Steps) {
					t.Errorf("Iterations() = %d, want %d", got, len(c.Steps))
				}
			})
		}
	}
}

func TestNewOptimizer(t *testing.T) {
	for _, tc := range []struct{ in, name string }{
		{"sgd", "sgd"}, {"SGD", "sgd"}, {"Adam", "adam"}, {"adamw", "adamw"},
		{" RMSprop ", "rmsprop"}, {"adagrad", "adagrad"}, {"ADADELTA", "adadelta"},
	} {
		o, err := NewOptimizer(tc.in)
		if err != nil {
			t.Errorf("NewOptimizer(%q): %v", tc.in, err)
			continue
		}
		if o.Name() != tc.name {
			t.Errorf("NewOptimizer(%q).Name() = %q, want %q", tc.in, o.Name(), tc.name)
		}
	}
	_, err := NewOptimizer("adamax")
	if err == nil || !strings.Contains(err.Error(), `"adamax"`) || !strings.Contains(err.Error(), "adadelta, adagrad, adam, adamw, rmsprop, sgd") {
		t.Errorf("NewOptimizer(adamax) error = %v; want it to echo the name and list the known ones", err)
	}
}

// TestDefaults checks Keras' defaults through the config each optimizer
// writes.
func TestDefaults(t *testing.T) {
	for _, tc := range []struct {
		name string
		want string
	}{
		{"sgd", `{"learning_rate":0.01,"momentum":0,"nesterov":false,"clipnorm":0,"clipvalue":0,"global_clipnorm":0}`},
		{"adam", `{"learning_rate":0.001,"beta_1":0.9,"beta_2":0.999,"epsilon":1e-7,"amsgrad":false,"clipnorm":0,"clipvalue":0,"global_clipnorm":0}`},
		{"adamw", `{"learning_rate":0.001,"weight_decay":0.004,"beta_1":0.9,"beta_2":0.999,"epsilon":1e-7,"amsgrad":false,"clipnorm":0,"clipvalue":0,"global_clipnorm":0}`},
		{"rmsprop", `{"learning_rate":0.001,"rho":0.9,"momentum":0,"epsilon":1e-7,"centered":false,"clipnorm":0,"clipvalue":0,"global_clipnorm":0}`},
		{"adagrad", `{"learning_rate":0.001,"initial_accumulator_value":0.1,"epsilon":1e-7,"clipnorm":0,"clipvalue":0,"global_clipnorm":0}`},
		{"adadelta", `{"learning_rate":0.001,"rho":0.95,"epsilon":1e-7,"clipnorm":0,"clipvalue":0,"global_clipnorm":0}`},
	} {
		o, err := NewOptimizer(tc.name)
		if err != nil {
			t.Fatal(err)
		}
		got, err := json.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != tc.want {
			t.Errorf("%s config:\n got %s\nwant %s", tc.name, got, tc.want)
		}
	}
}

// configured returns one optimizer of each kind with every option that
// adds state or changes the rule switched on.
func configured() []Optimizer {
	return []Optimizer{
		&SGD{LearningRate: 0.1, Momentum: 0.9, Nesterov: true, ClipNorm: 1},
		&Adam{LearningRate: 0.01, Beta1: Float(0.8), Beta2: Float(0.5), Epsilon: 1e-3, AMSGrad: true,
			Schedule: ExponentialDecay{InitialLearningRate: 0.01, DecaySteps: 2, DecayRate: 0.5}},
		&AdamW{LearningRate: 0.01, WeightDecay: Float(0.1), AMSGrad: true, GlobalClipNorm: 2},
		&RMSprop{LearningRate: 0.01, Rho: Float(0.8), Momentum: 0.5, Centered: true, ClipValue: 0.5},
		&Adagrad{LearningRate: 0.1, InitialAccumulatorValue: Float(0.5), Epsilon: 0.1,
			Schedule: &PiecewiseConstantDecay{Boundaries: []int{0, 1}, Values: []float64{0.1, 0.05, 0.01}}},
		&Adadelta{LearningRate: 1, Rho: Float(0.9), Epsilon: 1e-3,
			Schedule: CosineDecay{InitialLearningRate: 0, DecaySteps: 3, WarmupTarget: 1, WarmupSteps: 1}},
	}
}

func stepAll(t *testing.T, o Optimizer, grads [][]graph.Gradient) {
	t.Helper()
	for i, g := range grads {
		if err := o.Step(g); err != nil {
			t.Fatalf("%s step %d: %+v", o.Name(), i+1, err)
		}
	}
}

func equalWeights(t *testing.T, what string, a, b []*graph.Weight) {
	t.Helper()
	for i := range a {
		x, y := valuesOf(a[i].Value), valuesOf(b[i].Value)
		for k := range x {
			if x[k] != y[k] {
				t.Fatalf("%s: %s[%d] = %.17g and %.17g, want identical", what, a[i].Name, k, x[k], y[k])
			}
		}
	}
}

func TestConfigRoundTrip(t *testing.T) {
	ref := loadTorchRef(t)
	for _, o := range configured() {
		data, err := json.Marshal(o)
		if err != nil {
			t.Fatalf("%s: %+v", o.Name(), err)
		}
		back, err := OptimizerFromConfig(o.Name(), data)
		if err != nil {
			t.Fatalf("%s: %+v", o.Name(), err)
		}
		again, err := json.Marshal(back)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(data, again) {
			t.Errorf("%s config round trip:\n got %s\nwant %s", o.Name(), again, data)
		}
		// The rebuilt optimizer takes the same steps.
		w1, g1 := ref.setup(t, tensor.Float64)
		w2, g2 := ref.setup(t, tensor.Float64)
		stepAll(t, o, g1)
		stepAll(t, back, g2)
		equalWeights(t, o.Name()+" rebuilt from "+string(data), w1, w2)
	}
}

func TestConfigSchedule(t *testing.T) {
	o := &SGD{Schedule: ExponentialDecay{InitialLearningRate: 0.1, DecaySteps: 10, DecayRate: 0.5, Staircase: true}}
	data, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"learning_rate":{"class_name":"ExponentialDecay","config":{"initial_learning_rate":0.1,"decay_steps":10,"decay_rate":0.5,"staircase":true}},"momentum":0,"nesterov":false,"clipnorm":0,"clipvalue":0,"global_clipnorm":0}`
	if string(data) != want {
		t.Errorf("config:\n got %s\nwant %s", data, want)
	}
	back, err := OptimizerFromConfig("sgd", data)
	if err != nil {
		t.Fatal(err)
	}
	s, ok := back.(*SGD).Schedule.(*ExponentialDecay)
	if !ok || *s != o.Schedule.(ExponentialDecay) {
		t.Errorf("schedule came back as %#v, want %#v", back.(*SGD).Schedule, o.Schedule)
	}
	if _, err := OptimizerFromConfig("sgd", []byte(`{"learning_rate":{"class_name":"Nope","config":{}}}`)); err == nil || !strings.Contains(err.Error(), "Nope") {
		t.Errorf("unknown schedule: error = %v, want one naming it", err)
	}
	if _, err := OptimizerFromConfig("adam", []byte(`{"beta_1":"x"}`)); err == nil {
		t.Error("bad config: no error")
	}
}

func TestSetLearningRate(t *testing.T) {
	for _, o := range configured() {
		o.SetLearningRate(0.25)
		if got := o.CurrentLearningRate(); got != 0.25 {
			t.Errorf("%s: after SetLearningRate(0.25) the rate is %v", o.Name(), got)
		}
		// A zero rate is a zero rate, not Keras' default, and survives the
		// config round trip.
		o.SetLearningRate(0)
		if got := o.CurrentLearningRate(); got != 0 {
			t.Errorf("%s: after SetLearningRate(0) the rate is %v", o.Name(), got)
		}
		data, err := json.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		back, err := OptimizerFromConfig(o.Name(), data)
		if err != nil {
			t.Fatal(err)
		}
		if got := back.CurrentLearningRate(); got != 0 {
			t.Errorf("%s: rate 0 came back from %s as %v", o.Name(), data, got)
		}
	}
}

// TestScheduleDrivesRate checks that step n uses Schedule.Rate(n).
func TestScheduleDrivesRate(t *testing.T) {
	s := PiecewiseConstantDecay{Boundaries: []int{0, 1}, Values: []float64{1, 0.5, 0.25}}
	o := &SGD{Schedule: s}
	w := graph.NewWeight("w", tensor.Float64, []int{1}, nil, true)
	g := []graph.Gradient{{Weight: w, Value: denseOf(tensor.Float64, []int{1}, []float64{1})}}
	var sum float64
	for step := 0; step < 4; step++ {
		if got, want := o.CurrentLearningRate(), s.Rate(step); got != want {
			t.Errorf("before step %d: CurrentLearningRate() = %v, want %v", step+1, got, want)
		}
		if err := o.Step(g); err != nil {
			t.Fatal(err)
		}
		sum += s.Rate(step)
		if got := w.Value.Float64s()[0]; got != -sum {
			t.Errorf("after step %d: w = %v, want %v", step+1, got, -sum)
		}
	}
}

func TestStateRestoresSteps(t *testing.T) {
	ref := loadTorchRef(t)
	wantSlots := map[string][]string{
		"sgd":      {"momentum"},
		"adam":     {"m", "v", "vhat"},
		"adamw":    {"m", "v", "vhat"},
		"rmsprop":  {"velocity", "momentum", "average_gradient"},
		"adagrad":  {"accumulator"},
		"adadelta": {"accumulated_grad", "accumulated_delta_var"},
	}
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		for _, o := range configured() {
			w1, g1 := ref.setup(t, dt)
			stepAll(t, o, g1[:2])
			state := o.State(w1)

			var names []string
			for _, nt := range state {
				names = append(names, nt.Name)
			}
			want := []string{"iterations"}
			for _, w := range w1 {
				for _, s := range wantSlots[o.Name()] {
					want = append(want, w.Name+"/"+s)
				}
			}
			if strings.Join(names, " ") != strings.Join(want, " ") {
				t.Errorf("%s State names = %v, want %v", o.Name(), names, want)
			}

			// A new optimizer on copies of the weights, given the state,
			// takes the same third step.
			data, err := json.Marshal(o)
			if err != nil {
				t.Fatal(err)
			}
			o2, err := OptimizerFromConfig(o.Name(), data)
			if err != nil {
				t.Fatal(err)
			}
			w2, g2 := ref.setup(t, dt)
			for i := range w2 {
				if err := w2[i].Set(w1[i].Value); err != nil {
					t.Fatal(err)
				}
			}
			if err := o2.SetState(w2, state); err != nil {
				t.Fatalf("%s SetState: %+v", o.Name(), err)
			}
			if o2.Iterations() != 2 || o2.CurrentLearningRate() != o.CurrentLearningRate() {
				t.Errorf("%s restored: Iterations() = %d, rate %v; want 2, %v", o.Name(), o2.Iterations(), o2.CurrentLearningRate(), o.CurrentLearningRate())
			}
			stepAll(t, o, g1[2:])
			stepAll(t, o2, g2[2:])
			equalWeights(t, o.Name()+" "+dt.String()+" after SetState(State())", w1, w2)

			// State is a copy: stepping does not change it.
			before := valuesOf(state[1].Value)
			stepAll(t, o, g1[2:])
			if after := valuesOf(state[1].Value); after[0] != before[0] {
				t.Errorf("%s: State's tensors follow later steps", o.Name())
			}
		}
	}
}

func TestSetStateErrors(t *testing.T) {
	ref := loadTorchRef(t)
	ws, grads := ref.setup(t, tensor.Float64)
	o := &Adam{}
	stepAll(t, o, grads[:1])
	good := o.State(ws)
	f32 := denseOf(tensor.Float32, []int{3, 2}, make([]float64, 6))
	short := denseOf(tensor.Float64, []int{5}, make([]float64, 5))
	for _, tc := range []struct {
		name  string
		state []NamedTensor
		want  string
	}{
		{"unknown weight", []NamedTensor{{"conv/kernel/m", good[1].Value}}, `"conv/kernel/m" names no weight`},
		{"unknown slot", []NamedTensor{{"dense/kernel/velocity", good[1].Value}}, `no slot "velocity"`},
		{"no slot", []NamedTensor{{"kernel", good[1].Value}}, "not <weight>/<slot>"},
		{"dtype", []NamedTensor{{"dense/kernel/m", f32}}, "is float32"},
		{"shape", []NamedTensor{{"dense/kernel/m", short}}, "shape (5)"},
		{"nil", []NamedTensor{{"dense/kernel/m", nil}}, "no value"},
		{"iterations", []NamedTensor{{"iterations", denseOf(tensor.Float64, []int{1}, []float64{1.5})}}, "1.5 is not a step count"},
		// Nothing is restored when one entry is bad.
		{"atomic", []NamedTensor{{"iterations", denseOf(tensor.Float64, []int{1}, []float64{7})}, {"x/m", good[1].Value}}, "names no weight"},
	} {
		err := o.SetState(ws, tc.state)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: SetState error = %v, want one containing %q", tc.name, err, tc.want)
		}
	}
	if o.Iterations() != 1 {
		t.Errorf("a failed SetState changed Iterations to %d", o.Iterations())
	}
}

func TestStepErrors(t *testing.T) {
	w := graph.NewWeight("w", tensor.Float64, []int{2}, nil, true)
	w32 := graph.NewWeight("w32", tensor.Float32, []int{2}, nil, true)
	g := denseOf(tensor.Float64, []int{2}, []float64{1, 2})
	g3 := denseOf(tensor.Float64, []int{3}, []float64{1, 2, 3})
	ok := graph.Gradient{Weight: w, Value: g}
	for _, tc := range []struct {
		name  string
		opt   Optimizer
		grads []graph.Gradient
		want  string
	}{
		{"nil weight", &SGD{}, []graph.Gradient{ok, {Value: g}}, "gradient 1 has no weight"},
		{"nil gradient", &SGD{}, []graph.Gradient{ok, {Weight: w32}}, "gradient of w32 is nil"},
		{"dtype", &SGD{}, []graph.Gradient{ok, {Weight: w32, Value: g}}, "gradient of w32 is float64, the weight float32"},
		{"size", &SGD{}, []graph.Gradient{{Weight: w, Value: g3}}, "has 3 values"},
		{"two clips", &SGD{ClipNorm: 1, ClipValue: 1}, []graph.Gradient{ok}, "only one of ClipNorm, ClipValue and GlobalClipNorm"},
		{"negative clip", &Adam{GlobalClipNorm: -1}, []graph.Gradient{ok}, "GlobalClipNorm is -1"},
		{"negative rate", &SGD{LearningRate: -0.1}, []graph.Gradient{ok}, "learning rate at step 0 is -0.1"},
		{"NaN schedule", &SGD{Schedule: PiecewiseConstantDecay{Values: []float64{math.NaN()}}}, []graph.Gradient{ok}, "is NaN"},
		{"bad schedule", &SGD{Schedule: ExponentialDecay{InitialLearningRate: 1}}, []graph.Gradient{ok}, "DecaySteps is 0"},
		{"momentum", &SGD{Momentum: 1.5}, []graph.Gradient{ok}, "Momentum is 1.5"},
		{"beta", &Adam{Beta1: Float(1)}, []graph.Gradient{ok}, "Beta1=1"},
		{"adamw decay", &AdamW{WeightDecay: Float(-1)}, []graph.Gradient{ok}, "WeightDecay is -1"},
		{"rho", &RMSprop{Rho: Float(2)}, []graph.Gradient{ok}, "Rho is 2"},
		{"rmsprop momentum", &RMSprop{Momentum: -1}, []graph.Gradient{ok}, "Momentum is -1"},
		{"accumulator", &Adagrad{InitialAccumulatorValue: Float(-1)}, []graph.Gradient{ok}, "InitialAccumulatorValue is -1"},
		{"adadelta eps", &Adadelta{Epsilon: -1}, []graph.Gradient{ok}, "Epsilon is -1"},
	} {
		before := append([]float64(nil), w.Value.Float64s()...)
		err := tc.opt.Step(tc.grads)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Step error = %v, want one containing %q", tc.name, err, tc.want)
		}
		if after := w.Value.Float64s(); after[0] != before[0] || after[1] != before[1] || tc.opt.Iterations() != 0 {
			t.Errorf("%s: a failed Step changed w from %v to %v (iterations %d)", tc.name, before, after, tc.opt.Iterations())
		}
	}
}

func TestEmptyStepIsNoOp(t *testing.T) {
	o := &Adam{}
	if err := o.Step(nil); err != nil || o.Iterations() != 0 {
		t.Errorf("Step(nil) = %v, Iterations() = %d; want nil, 0 (Keras skips empty updates)", err, o.Iterations())
	}
}

// TestStepAllocatesNothing: after the first step, a step over a few
// weights of both dtypes allocates nothing, for every optimizer with every
// option that keeps state or clips switched on.
func TestStepAllocatesNothing(t *testing.T) {
	var grads []graph.Gradient
	for i, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64, tensor.Float32} {
		shape := []int{16, 8 + i}
		w := graph.NewWeight("w"+string(rune('a'+i)), dt, shape, nil, true)
		v := make([]float64, shape[0]*shape[1])
		for k := range v {
			v[k] = math.Sin(float64(k + i))
		}
		grads = append(grads, graph.Gradient{Weight: w, Value: denseOf(dt, shape, v)})
	}
	opts := append(configured(),
		&SGD{Momentum: 0.9, GlobalClipNorm: 0.1},
		&RMSprop{Momentum: 0.9, Centered: true, ClipNorm: 0.1})
	for i, o := range opts {
		if err := o.Step(grads); err != nil {
			t.Fatal(err)
		}
		var err error
		allocs := testing.AllocsPerRun(20, func() { err = o.Step(grads) })
		if err != nil {
			t.Fatal(err)
		}
		if allocs != 0 {
			cfg, _ := json.Marshal(o)
			t.Errorf("optimizer %d, %s %s: %v allocations per Step, want 0", i, o.Name(), cfg, allocs)
		}
	}
}
