package keras

import (
	"bytes"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/keragon/keragon/training"
	"gorgonia.org/tensor"
)

// knownBug skips a test that shows an open bug, so that the shared test
// run stays green; KERAGON_KNOWN_BUGS=1 runs it (and it fails until the
// bug is fixed, when this line should go).
//
//lint:ignore U1000 kept for the next open bug (no test uses it today)
func knownBug(t *testing.T, what string) {
	t.Helper()
	if os.Getenv("KERAGON_KNOWN_BUGS") == "" {
		t.Skipf("known bug, run with KERAGON_KNOWN_BUGS=1: %s", what)
	}
}

// zeroLR is plain SGD with a learning rate of exactly 0, so that Fit
// reports losses without moving the weights.
func zeroLR() *training.SGD {
	o := &training.SGD{}
	o.SetLearningRate(0)
	return o
}

// twoTowerModel has two inputs that go through one shared Dense layer,
// then a softmax classification head and a linear regression head.
func twoTowerModel(t *testing.T, dt tensor.Dtype) (m *Model, shared *Dense) {
	t.Helper()
	x1 := Apply(&Input{Shape: []int{4}, Dtype: dt.String(), Name: "left"})
	x2 := Apply(&Input{Shape: []int{4}, Dtype: dt.String(), Name: "right"})
	shared = &Dense{Units: 5, Activation: "tanh", Name: "shared"}
	h1, h2 := Apply(shared, x1), Apply(shared, x2)
	cls := Apply(&Dense{Units: 3, Activation: "softmax", Name: "cls"}, h1)
	reg := Apply(&Dense{Units: 1, Name: "reg"}, h2)
	m, err := NewModel([]*Tensor{x1, x2}, []*Tensor{cls, reg})
	if err != nil {
		t.Fatalf("NewModel: %+v", err)
	}
	m.SetSeed(3)
	return m, shared
}

func twoTowerData(n int, dt tensor.Dtype) (xs, ys []*tensor.Dense) {
	rng := rand.New(rand.NewPCG(8, 0))
	x1 := randomTensor(rng, dt, -1, 1, n, 4)
	x2 := randomTensor(rng, dt, -1, 1, n, 4)
	labels := make([]float64, n)
	for i := range labels {
		labels[i] = float64(rng.IntN(3))
	}
	return []*tensor.Dense{x1, x2}, []*tensor.Dense{denseOf(dt, labels, n), randomTensor(rng, dt, -1, 1, n, 1)}
}

// TestFunctionalTwoInputsTwoOutputs: Fit, Evaluate and Predict on a model
// with two inputs, two outputs and a layer used twice; loss weights scale
// each output's loss; the shared kernel's gradient is the sum over both
// uses (checked by finite differences on the whole model).
func TestFunctionalTwoInputsTwoOutputs(t *testing.T) {
	m, shared := twoTowerModel(t, tensor.Float64)
	if got := len(m.Layers()); got != 5 {
		t.Errorf("%d layers, want 5 (two inputs, the shared layer once, two heads)", got)
	}
	if tr, nt := m.CountParams(); tr != (4*5+5)+(5*3+3)+(5*1+1) || nt != 0 {
		t.Errorf("CountParams = %d, %d; want 49, 0", tr, nt)
	}
	losses := map[string]any{"cls": "sparse_categorical_crossentropy", "reg": "mse"}
	if err := m.Compile(CompileConfig{Optimizer: zeroLR(), Loss: losses, Metrics: []string{"accuracy"}}); err != nil {
		t.Fatal(err)
	}
	xs, ys := twoTowerData(20, tensor.Float64)
	outs, err := m.PredictMulti(xs)
	if err != nil {
		t.Fatal(err)
	}
	if len(outs) != 2 || !outs[0].Shape().Eq(tensor.Shape{20, 3}) || !outs[1].Shape().Eq(tensor.Shape{20, 1}) {
		t.Fatalf("PredictMulti gave %d outputs %v; want (20, 3) and (20, 1)", len(outs), outs)
	}
	if _, err := m.Predict(xs[0]); err == nil || !strings.Contains(err.Error(), "takes 2 inputs, got 1") {
		t.Errorf("Predict with one input: error %v, want one about 2 inputs", err)
	}

	// Each output's loss alone, then weighted sums of them.
	lossWith := func(w []float64) float64 {
		t.Helper()
		if err := m.Compile(CompileConfig{Optimizer: zeroLR(), Loss: losses, LossWeights: w}); err != nil {
			t.Fatal(err)
		}
		l, _, err := m.EvaluateMulti(xs, ys)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	l1, l2 := lossWith([]float64{1, 0}), lossWith([]float64{0, 1})
	if !(l1 > 0 && l2 > 0) {
		t.Fatalf("per-output losses %v, %v; want both positive", l1, l2)
	}
	for _, w := range [][]float64{{1, 1}, {2, 0.5}, {0.1, 3}} {
		if got, want := lossWith(w), w[0]*l1+w[1]*l2; math.Abs(got-want) > 1e-12*want {
			t.Errorf("loss weights %v: loss %v, want %v·%v + %v·%v = %v", w, got, w[0], l1, w[1], l2, want)
		}
	}

	// The model-level gradient of the shared kernel, against central
	// differences of the evaluated loss (no dropout: the same function).
	_, grads := fitGradientsMulti(t, m, xs, ys)
	sym := grads["shared/kernel"]
	k := floatsOf(shared.kernel.Value)
	const h = 1e-6
	for _, j := range []int{0, 7, 19} {
		k0 := k[j]
		k[j] = k0 + h
		fp, _, _ := m.EvaluateMulti(xs, ys, EvalConfig{BatchSize: 20})
		k[j] = k0 - h
		fm, _, _ := m.EvaluateMulti(xs, ys, EvalConfig{BatchSize: 20})
		k[j] = k0
		if num := (fp - fm) / (2 * h); math.Abs(num-sym[j]) > 1e-6+1e-5*math.Abs(num) {
			t.Errorf("shared kernel entry %d: gradient %v, finite differences %v", j, sym[j], num)
		}
	}

	opt := &training.Adam{LearningRate: 0.02}
	if err := m.Compile(CompileConfig{Optimizer: opt, Loss: losses, LossWeights: []float64{1, 2}, Metrics: []string{"accuracy"}}); err != nil {
		t.Fatal(err)
	}
	hist, err := m.FitMulti(xs, ys, FitConfig{Epochs: 5, BatchSize: 8})
	if err != nil {
		t.Fatalf("FitMulti: %+v", err)
	}
	for _, key := range []string{"loss", "cls_accuracy", "reg_accuracy"} {
		if v := hist.Get(key); len(v) != 5 {
			t.Errorf("history %q = %v, want 5 epochs (history: %v)", key, v, hist.Values)
		}
	}
	if l := hist.Get("loss"); len(l) == 5 && !(l[4] < l[0]) {
		t.Errorf("training loss %v did not fall", l)
	}
	if opt.Iterations() != 5*3 {
		t.Errorf("%d optimizer steps, want 5 epochs × 3 batches", opt.Iterations())
	}
}

// TestSequentialWithoutInput: a Sequential model without an Input layer
// takes its input shape from the first data it sees, or from Build.
func TestSequentialWithoutInput(t *testing.T) {
	x := randomTensor(rand.New(rand.NewPCG(1, 0)), tensor.Float32, -1, 1, 6, 5)
	m := NewSequential(&Dense{Units: 3, Activation: "relu"}, &Dense{Units: 2})
	if err := m.Summary(&bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "not built yet") {
		t.Errorf("Summary before build: error %v, want one saying it is not built", err)
	}
	y, err := m.Predict(x)
	if err != nil {
		t.Fatalf("Predict: %+v", err)
	}
	if !y.Shape().Eq(tensor.Shape{6, 2}) {
		t.Errorf("Predict shape %v, want (6, 2)", y.Shape())
	}
	if got := m.Inputs()[0].Shape(); !got.Equal(Shape{5}) {
		t.Errorf("input shape from data %v, want (None, 5)", got)
	}
	if err := m.Build(7); err == nil || !strings.Contains(err.Error(), "built for inputs of shape (None, 5), not (None, 7)") {
		t.Errorf("Build with another shape: %v", err)
	}

	b := NewSequential(&Dense{Units: 3}, &Dense{Units: 1})
	if err := b.Build(5); err != nil {
		t.Fatal(err)
	}
	if err := b.Compile(CompileConfig{Optimizer: "sgd", Loss: "mse"}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Fit(x, randomTensor(rand.New(rand.NewPCG(2, 0)), tensor.Float32, -1, 1, 6, 1), FitConfig{}); err != nil {
		t.Errorf("Fit after Build: %+v", err)
	}
}

// TestSequentialCompileBeforeData: Keras compiles a Sequential model
// without an input shape and builds it in fit.
func TestSequentialCompileBeforeData(t *testing.T) {
	m := NewSequential(&Dense{Units: 3}, &Dense{Units: 1})
	if err := m.Compile(CompileConfig{Optimizer: "sgd", Loss: "mse"}); err != nil {
		t.Fatalf("Compile: %+v", err)
	}
	x := randomTensor(rand.New(rand.NewPCG(1, 0)), tensor.Float32, -1, 1, 6, 5)
	if _, err := m.Fit(x, randomTensor(rand.New(rand.NewPCG(2, 0)), tensor.Float32, -1, 1, 6, 1), FitConfig{}); err != nil {
		t.Errorf("Fit: %+v", err)
	}
}

// TestWeightsSetBeforeFirstUse: weights set right after the model is
// declared must survive the first Compile or Predict.
func TestWeightsSetBeforeFirstUse(t *testing.T) {
	l := &Dense{Units: 1, NoBias: true}
	m := NewSequential(&Input{Shape: []int{2}}, l)
	m.SetSeed(1)
	setWeight(t, l.kernel, []float64{2, -1})
	y, err := m.Predict(denseOf(tensor.Float32, []float64{1, 1}, 1, 2))
	if err != nil {
		t.Fatal(err)
	}
	if got := floatsOf(y)[0]; got != 1 {
		t.Errorf("prediction %v, want 2·1 − 1·1 = 1 from the kernel set before the first Predict", got)
	}
}

// The tables of Summary are fixed text: layer names, output shapes and
// parameter counts worked out by hand.
func TestSummary(t *testing.T) {
	seq := NewSequential(
		&Input{Shape: []int{4}},
		&Dense{Units: 8, Activation: "relu"}, // 4·8 + 8 = 40
		&Dropout{Rate: 0.5},
		&Dense{Units: 3}, // 8·3 + 3 = 27
	)
	const wantSeq = `Model: "sequential"
_________________________________________________________________
 Layer (type)                 Output Shape              Param #
=================================================================
 dense (Dense)                (None, 8)                 40

 dropout (Dropout)            (None, 8)                 0

 dense_1 (Dense)              (None, 3)                 27
=================================================================
Total params: 67
Trainable params: 67
Non-trainable params: 0
_________________________________________________________________
`
	x := NewInput(100)
	h := Apply(&Dense{Units: 1000, Name: "wide"}, x) // 100·1000 + 1000 = 101,000
	b := Apply(&BatchNormalization{Name: "bn"}, h)   // 2·1000 trainable + 2·1000 state
	y := Apply(&Dense{Units: 2, NoBias: true}, b)    // 1000·2 = 2,000
	fn, err := NewModel([]*Tensor{x}, []*Tensor{y})
	if err != nil {
		t.Fatal(err)
	}
	const wantFn = `Model: "functional"
_______________________________________________________________________________________________
 Layer (type)                 Output Shape              Param #   Connected to
===============================================================================================
 input_layer (Input)          (None, 100)               0

 wide (Dense)                 (None, 1000)              101000    input_layer

 bn (BatchNormalization)      (None, 1000)              4000      wide

 dense (Dense)                (None, 2)                 2000      bn
===============================================================================================
Total params: 107,000
Trainable params: 105,000
Non-trainable params: 2,000
_______________________________________________________________________________________________
`
	for _, c := range []struct {
		m    *Model
		want string
	}{{seq, wantSeq}, {fn, wantFn}} {
		var buf bytes.Buffer
		if err := c.m.Summary(&buf); err != nil {
			t.Fatal(err)
		}
		if got := buf.String(); got != c.want {
			t.Errorf("Summary of %q:\n%s\nwant:\n%s", c.m.Name(), got, c.want)
		}
	}
}

// TestDefaultLayerNames follows Keras' to_snake_case.
func TestDefaultLayerNames(t *testing.T) {
	for class, want := range map[string]string{
		"Dense": "dense", "Conv2D": "conv2d", "BatchNormalization": "batch_normalization",
		"DepthwiseConv2D": "depthwise_conv2d", "GlobalAveragePooling2D": "global_average_pooling2d",
		"SimpleRNN": "simple_rnn", "LSTM": "lstm", "GRU": "gru", "LeakyReLU": "leaky_re_lu",
		"ZeroPadding2D": "zero_padding2d", "UpSampling2D": "up_sampling2d",
	} {
		if got := snake(class); got != want {
			t.Errorf("snake(%q) = %q, want %q", class, got, want)
		}
	}
}
