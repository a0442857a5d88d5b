package keras

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/keragon/keragon/keras/datasets"
	"github.com/keragon/keragon/ops"
	"github.com/keragon/keragon/training"
	"gorgonia.org/tensor"
)

// dropoutMLP is a small classifier with dropout and batch normalisation,
// so that a training run uses every source of randomness.
func dropoutMLP(t *testing.T, seed uint64, dt tensor.Dtype) *Model {
	t.Helper()
	m := NewSequential(
		&Input{Shape: []int{4}, Dtype: dt.String()},
		&Dense{Units: 16, Activation: "relu"},
		&Dropout{Rate: 0.3},
		&BatchNormalization{},
		&Dense{Units: 3, Activation: "softmax"},
	)
	m.SetSeed(seed)
	if err := m.Compile(CompileConfig{Optimizer: &training.Adam{LearningRate: 0.01}, Loss: "sparse_categorical_crossentropy"}); err != nil {
		t.Fatal(err)
	}
	return m
}

func classificationData(seed uint64, n, d, classes int, dt tensor.Dtype) (x, y *tensor.Dense) {
	rng := rand.New(rand.NewPCG(seed, 0))
	x = randomTensor(rng, dt, -1, 1, n, d)
	labels := make([]float64, n)
	for i := range labels {
		labels[i] = float64(rng.IntN(classes))
	}
	return x, denseOf(dt, labels, n)
}

// TestSeededTrainingIsRepeatable: the same seed gives bitwise the same
// weights after two shuffled epochs with dropout; another seed does not.
func TestSeededTrainingIsRepeatable(t *testing.T) {
	x, y := classificationData(1, 50, 4, 3, tensor.Float32)
	train := func(seed uint64) *Model {
		m := dropoutMLP(t, seed, tensor.Float32)
		if _, err := m.Fit(x, y, FitConfig{Epochs: 2, BatchSize: 8}); err != nil {
			t.Fatal(err)
		}
		return m
	}
	a, b, c := train(42), train(42), train(43)
	differ := false
	for i, w := range a.Weights() {
		if err := identicalBits(w.Value, b.Weights()[i].Value); err != nil {
			t.Errorf("seed 42 twice: weight %s differs: %v", w.Name, err)
		}
		if identicalBits(w.Value, c.Weights()[i].Value) != nil {
			differ = true
		}
	}
	if !differ {
		t.Error("seeds 42 and 43 gave identical weights")
	}
}

// TestPredictEverySample: Predict returns every sample, whatever the
// remainder of the batch size, each equal to the sample predicted alone.
func TestPredictEverySample(t *testing.T) {
	m := dropoutMLP(t, 5, tensor.Float64)
	x, y := classificationData(2, 100, 4, 3, tensor.Float64)
	// Train a little so that the moving averages are not the defaults.
	if _, err := m.Fit(x, y, FitConfig{Epochs: 1, BatchSize: 16}); err != nil {
		t.Fatal(err)
	}
	alone := make([][]float64, 100)
	for i := range alone {
		p, err := m.Predict(denseOf(tensor.Float64, floatsOf(x)[4*i:4*i+4], 1, 4))
		if err != nil {
			t.Fatal(err)
		}
		alone[i] = append([]float64(nil), floatsOf(p)...)
	}
	for _, n := range []int{1, 31, 32, 33, 100} {
		got, err := m.Predict(denseOf(tensor.Float64, floatsOf(x)[:4*n], n, 4), EvalConfig{BatchSize: 32})
		if err != nil {
			t.Fatalf("%d samples: %+v", n, err)
		}
		if !got.Shape().Eq(tensor.Shape{n, 3}) {
			t.Fatalf("%d samples: Predict shape %v, want (%d, 3)", n, got.Shape(), n)
		}
		g := floatsOf(got)
		for i := 0; i < n; i++ {
			if err := closeTo(g[3*i:3*i+3], alone[i], 1e-15, 1e-14); err != nil {
				t.Errorf("%d samples: sample %d differs from its prediction alone: %v", n, i, err)
				break
			}
		}
	}
}

// lossModel is x ↦ x·[1, 2] (no bias), compiled with loss, so that losses
// can be worked out by hand.
func lossModel(t *testing.T, loss string) *Model {
	t.Helper()
	l := &Dense{Units: 1, NoBias: true}
	m := NewSequential(&Input{Shape: []int{2}, Dtype: "float64"}, l)
	m.SetSeed(1)
	if err := m.Compile(CompileConfig{Optimizer: zeroLR(), Loss: loss}); err != nil {
		t.Fatal(err)
	}
	setWeight(t, l.kernel, []float64{1, 2})
	return m
}

// TestSampleAndClassWeights checks Keras' reduction, sum_over_batch_size:
// loss = Σ wᵢ·lossᵢ / n, with wᵢ the sample weight times the class weight.
func TestSampleAndClassWeights(t *testing.T) {
	// Predictions x·[1, 2] = 1, 2, 3, 2; targets 0, 0, 1, 1;
	// squared errors 1, 4, 4, 1 (sum 10).
	x := denseOf(tensor.Float64, []float64{1, 0, 0, 1, 1, 1, 2, 0}, 4, 2)
	y := denseOf(tensor.Float64, []float64{0, 0, 1, 1}, 4, 1)
	sw := denseOf(tensor.Float64, []float64{1, 0.5, 0, 2}, 4)
	cw := map[int]float64{0: 2, 1: 0.5}
	m := lossModel(t, "mse")
	cases := []struct {
		name string
		cfg  FitConfig
		want float64
	}{
		{"no weights", FitConfig{}, 10.0 / 4},
		// 1·1 + 0.5·4 + 0·4 + 2·1 = 5.
		{"sample weights", FitConfig{SampleWeight: sw}, 5.0 / 4},
		// Class weights 2, 2, 0.5, 0.5: 2 + 8 + 2 + 0.5 = 12.5.
		{"class weights", FitConfig{ClassWeight: cw}, 12.5 / 4},
		// Both multiply: 2, 1, 0, 1: 2 + 4 + 0 + 1 = 7.
		{"both", FitConfig{SampleWeight: sw, ClassWeight: cw}, 7.0 / 4},
	}
	for _, c := range cases {
		c.cfg.BatchSize, c.cfg.NoShuffle = 4, true
		h, err := m.Fit(x, y, c.cfg)
		if err != nil {
			t.Fatalf("%s: %+v", c.name, err)
		}
		if got, _ := h.Last("loss"); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("%s: Fit loss %v, want %v", c.name, got, c.want)
		}
		// Over batches of 3 and 1 the mean is the same.
		c.cfg.BatchSize = 3
		h, err = m.Fit(x, y, c.cfg)
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := h.Last("loss"); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("%s, batches of 3: Fit loss %v, want %v", c.name, got, c.want)
		}
	}
	if got, _, err := m.Evaluate(x, y, EvalConfig{SampleWeight: sw, BatchSize: 3}); err != nil || math.Abs(got-5.0/4) > 1e-12 {
		t.Errorf("Evaluate with sample weights: %v, %v; want 1.25", got, err)
	}

	// Categorical targets: the class is the one-hot row's argmax. A zero
	// kernel makes every softmax uniform, so every loss is ln 3; class
	// weights 1, 2, 3 on labels 0, 1, 2, 2 give (1 + 2 + 3 + 3)·ln 3 / 4.
	l := &Dense{Units: 3, Activation: "softmax", KernelInitializer: "zeros"}
	cm := NewSequential(&Input{Shape: []int{2}, Dtype: "float64"}, l)
	cm.SetSeed(1)
	if err := cm.Compile(CompileConfig{Optimizer: zeroLR(), Loss: "categorical_crossentropy"}); err != nil {
		t.Fatal(err)
	}
	onehot := denseOf(tensor.Float64, []float64{1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 1}, 4, 3)
	h, err := cm.Fit(x, onehot, FitConfig{BatchSize: 4, ClassWeight: map[int]float64{0: 1, 1: 2, 2: 3}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := h.Get("loss")[0], 9*math.Log(3)/4; math.Abs(got-want) > 1e-12 {
		t.Errorf("categorical with class weights: loss %v, want 9·ln 3/4 = %v", got, want)
	}
}

// TestValidationSplitTakesTheLastSamples: ValidationSplit 0.3 of 10
// samples validates on the last 3, before shuffling, as Keras does.
func TestValidationSplitTakesTheLastSamples(t *testing.T) {
	m := lossModel(t, "mse")
	xs := make([]float64, 20)
	ys := make([]float64, 10)
	for i := range ys {
		xs[2*i], xs[2*i+1] = float64(i), 1
		ys[i] = float64(i * i % 7)
	}
	x, y := denseOf(tensor.Float64, xs, 10, 2), denseOf(tensor.Float64, ys, 10, 1)
	h, err := m.Fit(x, y, FitConfig{ValidationSplit: 0.3, BatchSize: 4})
	if err != nil {
		t.Fatal(err)
	}
	evalRows := func(from, to int) float64 {
		l, _, err := m.Evaluate(denseOf(tensor.Float64, xs[2*from:2*to], to-from, 2), denseOf(tensor.Float64, ys[from:to], to-from, 1))
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	if got, want := h.Get("val_loss")[0], evalRows(7, 10); got != want {
		t.Errorf("val_loss %v, want the loss of the last 3 samples %v (the first 3 give %v)", got, want, evalRows(0, 3))
	}
	if got, want := h.Get("loss")[0], evalRows(0, 7); math.Abs(got-want) > 1e-12*want {
		t.Errorf("training loss %v, want the loss of the first 7 samples %v", got, want)
	}
}

// TestSpiralsConverge: a small MLP separates two noisy spirals.
func TestSpiralsConverge(t *testing.T) {
	x, y, err := datasets.Spirals(300, 2, 0.05, 1)
	if err != nil {
		t.Fatal(err)
	}
	m := NewSequential(
		&Input{Shape: []int{2}},
		&Dense{Units: 32, Activation: "relu"},
		&Dense{Units: 32, Activation: "relu"},
		&Dense{Units: 2, Activation: "softmax"},
	)
	m.SetSeed(1)
	if err := m.Compile(CompileConfig{Optimizer: &training.Adam{LearningRate: 0.01}, Loss: "sparse_categorical_crossentropy", Metrics: []string{"accuracy"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Fit(x, y, FitConfig{Epochs: 150, BatchSize: 32}); err != nil {
		t.Fatal(err)
	}
	_, metrics, err := m.Evaluate(x, y)
	if err != nil {
		t.Fatal(err)
	}
	if acc := metrics["accuracy"]; acc < 0.95 {
		t.Errorf("training accuracy on two spirals %v, want >= 0.95", acc)
	}
}

// TestXORConverges: one hidden layer learns XOR, which no linear model can.
func TestXORConverges(t *testing.T) {
	x, y, err := datasets.XOR(200, 1)
	if err != nil {
		t.Fatal(err)
	}
	m := NewSequential(
		&Input{Shape: []int{2}},
		&Dense{Units: 16, Activation: "tanh"},
		&Dense{Units: 1, Activation: "sigmoid"},
	)
	m.SetSeed(1)
	if err := m.Compile(CompileConfig{Optimizer: &training.Adam{LearningRate: 0.02}, Loss: "binary_crossentropy", Metrics: []string{"accuracy"}}); err != nil {
		t.Fatal(err)
	}
	y2 := reshaped(y, []int{200, 1})
	if _, err := m.Fit(x, y2, FitConfig{Epochs: 100, BatchSize: 20}); err != nil {
		t.Fatal(err)
	}
	_, metrics, err := m.Evaluate(x, y2)
	if err != nil {
		t.Fatal(err)
	}
	if acc := metrics["accuracy"]; acc < 0.95 {
		t.Errorf("training accuracy on XOR %v, want >= 0.95", acc)
	}
}

// TestVectorTargetsForOneUnitOutput: Keras squeezes or expands targets to
// the output's rank, so y of shape (n) trains a Dense(1) under mse.
func TestVectorTargetsForOneUnitOutput(t *testing.T) {
	m := lossModel(t, "mse")
	x := denseOf(tensor.Float64, []float64{1, 0, 0, 1}, 2, 2)
	if _, err := m.Fit(x, denseOf(tensor.Float64, []float64{0, 1}, 2), FitConfig{}); err != nil {
		t.Errorf("Fit with targets of shape (2): %v", err)
	}
}

// TestRegularizationInLoss: Keras adds the weight penalties to the loss
// that Fit and Evaluate report, once per batch (not scaled by its size).
func TestRegularizationInLoss(t *testing.T) {
	l := &Dense{Units: 1, NoBias: true, KernelRegularizer: &ops.L1L2{L1: 0.01, L2: 0.1}}
	m := NewSequential(&Input{Shape: []int{2}, Dtype: "float64"}, l)
	m.SetSeed(1)
	if err := m.Compile(CompileConfig{Optimizer: zeroLR(), Loss: "mse"}); err != nil {
		t.Fatal(err)
	}
	setWeight(t, l.kernel, []float64{1, -2})
	// Predictions 1, −2 against 0, 0: mse (1 + 4)/2 = 2.5; penalty
	// 0.01·(1 + 2) + 0.1·(1 + 4) = 0.53.
	x := denseOf(tensor.Float64, []float64{1, 0, 0, 1}, 2, 2)
	y := denseOf(tensor.Float64, []float64{0, 0}, 2, 1)
	const want = 2.5 + 0.53
	for _, batch := range []int{1, 2} {
		got, _, err := m.Evaluate(x, y, EvalConfig{BatchSize: batch})
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(got-want) > 1e-12 {
			t.Errorf("Evaluate in batches of %d: loss %v, want 2.5 + 0.53 = %v", batch, got, want)
		}
		h, err := m.Fit(x, y, FitConfig{BatchSize: batch})
		if err != nil {
			t.Fatal(err)
		}
		if got := h.Get("loss")[0]; math.Abs(got-want) > 1e-12 {
			t.Errorf("Fit in batches of %d: loss %v, want %v", batch, got, want)
		}
	}
}
