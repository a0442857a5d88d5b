package keras

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/keragon/keragon/graph"
	"github.com/keragon/keragon/training"
	"gorgonia.org/tensor"
)

// Model-level tests of the convolution layers: PyTorch references for
// whole small models (testdata/torch_conv_layers.py documents each case),
// BatchNormalization on images, Summary, Save and Load, and a convnet
// that learns a small image task.

var torchConvLayers = sync.OnceValues(func() (map[string]torchCase, error) {
	b, err := os.ReadFile(filepath.Join("testdata", "torch_conv_layers.json"))
	if err != nil {
		return nil, err
	}
	var f struct {
		Cases map[string]torchCase `json:"cases"`
	}
	err = json.Unmarshal(b, &f)
	return f.Cases, err
})

func torchConvCase(t *testing.T, name string) torchCase {
	t.Helper()
	cases, err := torchConvLayers()
	if err != nil {
		t.Fatalf("reading testdata/torch_conv_layers.json (regenerate with /usr/bin/python3 keras/testdata/torch_conv_layers.py): %v", err)
	}
	c, ok := cases[name]
	if !ok {
		t.Fatalf("torch_conv_layers.json has no case %q", name)
	}
	return c
}

// torchConvModels are the models of torch_conv_layers.py, layer for layer;
// each takes its sample shape from the case's x.
var torchConvModels = map[string]func() []Layer{
	"convnet": func() []Layer {
		return []Layer{
			&Conv2D{Filters: 4, KernelSize: []int{3, 3}, Padding: "same", Activation: "relu"},
			&MaxPooling2D{},
			&Conv2D{Filters: 6, KernelSize: []int{3, 3}, Strides: []int{2, 2}},
			&BatchNormalization{},
			&GlobalAveragePooling2D{},
			&Dense{Units: 3, Activation: "softmax"},
		}
	},
	"conv1d": func() []Layer {
		return []Layer{
			&Conv1D{Filters: 4, KernelSize: 3, Padding: "same", Strides: 2, Activation: "relu"},
			&Conv1D{Filters: 3, KernelSize: 2, Padding: "causal", DilationRate: 2, Activation: "softmax"},
		}
	},
	"conv1d_pool": func() []Layer {
		return []Layer{
			&Conv1D{Filters: 4, KernelSize: 3, DilationRate: 2, Activation: "relu"},
			&MaxPooling1D{Padding: "same"},
			&AveragePooling1D{Padding: "same"},
			&GlobalMaxPooling1D{},
			&Dense{Units: 3, Activation: "softmax"},
		}
	},
	"depthwise": func() []Layer {
		return []Layer{
			&DepthwiseConv2D{KernelSize: []int{3}, DepthMultiplier: 2, Strides: []int{2}, Padding: "same", Activation: "tanh"},
			&Flatten{},
			&Dense{Units: 3, Activation: "softmax"},
		}
	},
	"conv2d_misc": func() []Layer {
		return []Layer{
			&ZeroPadding2D{Padding: []int{0, 1, 2, 1}},
			&Conv2D{Filters: 3, KernelSize: []int{3, 2}, Padding: "same", DilationRate: []int{2, 1}, NoBias: true, Activation: "tanh"},
			&AveragePooling2D{Padding: "same"},
			&UpSampling2D{Size: []int{1, 2}},
			&GlobalMaxPooling2D{},
			&Dense{Units: 3, Activation: "softmax"},
		}
	},
}

// TestConvModelsMatchTorch sets torch's weights in each model, then
// compares Predict, Evaluate, the Fit program's loss and every weight's
// gradient, and the BatchNormalization moving averages after one Fit step.
func TestConvModelsMatchTorch(t *testing.T) {
	names := make([]string, 0, len(torchConvModels))
	for name := range torchConvModels {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		c := torchConvCase(t, name)
		for _, p := range precisions {
			t.Run(name+"/"+p.dt.String(), func(t *testing.T) {
				matchTorchModel(t, c, p, torchConvModels[name]())
			})
		}
	}
}

func matchTorchModel(t *testing.T, c torchCase, p precision, layers []Layer) {
	xa := c.get(t, "x")
	m := NewSequential(append([]Layer{&Input{Shape: xa.Shape[1:], Dtype: p.dt.String()}}, layers...)...)
	m.SetSeed(1)
	if err := m.Compile(CompileConfig{Optimizer: &training.SGD{LearningRate: 0.1}, Loss: "sparse_categorical_crossentropy"}); err != nil {
		t.Fatalf("%+v", err)
	}
	for _, w := range m.Weights() {
		a := c.get(t, w.Name)
		if !Shape(a.Shape).Equal(w.Shape) {
			t.Fatalf("%s: torch shape %v, weight shape %v", w.Name, a.Shape, w.Shape)
		}
		setWeight(t, w, a.Data)
	}
	x, labels := xa.tensor(p.dt), c.get(t, "labels").tensor(p.dt)
	n := xa.Shape[0]

	probs, err := m.Predict(x)
	if err != nil {
		t.Fatalf("Predict: %+v", err)
	}
	p.check(t, "Predict", floatsOf(probs), c.get(t, "probs"))
	loss, _, err := m.Evaluate(x, labels)
	if err != nil {
		t.Fatalf("Evaluate: %+v", err)
	}
	p.check(t, "Evaluate loss", []float64{loss}, c.get(t, "loss_eval"))

	fitLoss, grads := fitGradients(t, m, x, labels)
	p.check(t, "Fit loss", []float64{fitLoss}, c.get(t, "loss_fit"))
	for _, w := range m.TrainableWeights() {
		p.check(t, w.Name+" gradient", grads[w.Name], c.get(t, "grad/"+w.Name))
	}
	for k := range c {
		if name, ok := strings.CutPrefix(k, "grad/"); ok && grads[name] == nil {
			t.Errorf("torch has a gradient for %s, the model none", name)
		}
	}

	// One Fit step moves BatchNormalization's moving averages by Keras'
	// rule, from the statistics of the batch before the step.
	if _, err := m.Fit(x, labels, FitConfig{BatchSize: n, NoShuffle: true}); err != nil {
		t.Fatalf("Fit: %+v", err)
	}
	for _, w := range m.Weights() {
		if !w.Trainable {
			p.check(t, w.Name+" after a step", floatsOf(w.Value), c.get(t, w.Name+"_after"))
		}
	}
}

// TestBatchNormalizationImagesContract: BatchNormalization on NHWC images
// normalises each channel over batch, height and width, in training
// (batch statistics) and inference (moving averages).
func TestBatchNormalizationImagesContract(t *testing.T) {
	for _, c := range batchNormImagesContractCases() {
		runLayerTest(t, c)
	}
}

// batchNormImagesContractCases are TestBatchNormalizationImagesContract's cases (also listed in allContractCases).
func batchNormImagesContractCases() []layerCase {
	return []layerCase{
		{name: "nhwc", make: func() Layer { return &BatchNormalization{} }, input: []int{3, 4, 2}, output: []int{3, 4, 2}, weights: bnWeights(2, true, true)},
		{name: "nhwc_momentum", make: func() Layer { return &BatchNormalization{Momentum: Float(0.5), Epsilon: 0.1} },
			input: []int{2, 3, 3}, output: []int{2, 3, 3}, weights: bnWeights(3, true, true)},
	}
}

// TestBatchNormalizationImagesByHand: in training, channel k of the output
// has mean beta[k] and variance gamma[k]²·v/(v+ε) over (batch, height,
// width), v being the input channel's biased variance; one step moves the
// moving averages by Keras' rule with those per-channel statistics.
func TestBatchNormalizationImagesByHand(t *testing.T) {
	const n, h, w, c = 4, 3, 5, 3
	const eps, momentum = 0.01, 0.9
	gamma, beta := []float64{0.5, 2, -1}, []float64{0.1, -0.2, 0.3}
	x := randomTensor(newTestRand(5), tensor.Float64, -2, 3, n, h, w, c)
	// Give each channel its own scale and offset.
	xs := floatsOf(x)
	for i := range xs {
		xs[i] = xs[i]*float64(1+i%c) + float64(i%c)
	}
	mean, variance := channelStats(xs, c)

	l := &BatchNormalization{Momentum: Float(momentum), Epsilon: eps}
	m := oneLayerModel(t, l, []int{h, w, c}, tensor.Float64)
	if err := m.Compile(CompileConfig{Optimizer: "sgd", Loss: "mse"}); err != nil {
		t.Fatal(err)
	}
	setWeight(t, l.gamma, gamma)
	setWeight(t, l.beta, beta)
	y, _, _ := upstreamGrads(t, l, graph.Train, x, randomTensor(newTestRand(6), tensor.Float64, -1, 1, n, h, w, c))
	gotMean, gotVar := channelStats(y, c)
	for k := 0; k < c; k++ {
		wantVar := gamma[k] * gamma[k] * variance[k] / (variance[k] + eps)
		if err := closeTo([]float64{gotMean[k], gotVar[k]}, []float64{beta[k], wantVar}, 1e-12, 1e-10); err != nil {
			t.Errorf("channel %d: output mean, variance %v, %v; want %v, %v", k, gotMean[k], gotVar[k], beta[k], wantVar)
		}
	}
	if _, err := m.Fit(x, randomTensor(newTestRand(7), tensor.Float64, -1, 1, n, h, w, c), FitConfig{BatchSize: n}); err != nil {
		t.Fatal(err)
	}
	wantMM, wantMV := make([]float64, c), make([]float64, c)
	for k := range wantMM { // from the initial 0 and 1
		wantMM[k] = (1 - momentum) * mean[k]
		wantMV[k] = momentum + (1-momentum)*variance[k]
	}
	if err := closeTo(floatsOf(l.movingMean.Value), wantMM, 1e-12, 1e-10); err != nil {
		t.Errorf("moving mean after a step: %v", err)
	}
	if err := closeTo(floatsOf(l.movingVar.Value), wantMV, 1e-12, 1e-10); err != nil {
		t.Errorf("moving variance after a step: %v", err)
	}
	// Inference: every pixel by the moving averages, channel by channel.
	got, err := m.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	g, b := floatsOf(l.gamma.Value), floatsOf(l.beta.Value) // after the step
	want := make([]float64, len(xs))
	for i, v := range xs {
		k := i % c
		want[i] = g[k]*(v-wantMM[k])/math.Sqrt(wantMV[k]+eps) + b[k]
	}
	if err := closeTo(floatsOf(got), want, 1e-12, 1e-10); err != nil {
		t.Errorf("inference output: %v", err)
	}
}

// summaryConvnet is the convnet of the PyTorch reference on 32×32 RGB
// images; names gives the BatchNormalization and GlobalAveragePooling2D
// layers names of their own ("" keeps Keras' default names).
func summaryConvnet(bn, gap string) *Model {
	return NewSequential(
		&Input{Shape: []int{32, 32, 3}},
		&Conv2D{Filters: 4, KernelSize: []int{3, 3}, Padding: "same", Activation: "relu"}, // 3·3·3·4 + 4 = 112
		&MaxPooling2D{}, // 32/2 = 16
		&Conv2D{Filters: 6, KernelSize: []int{3, 3}, Strides: []int{2, 2}}, // 3·3·4·6 + 6 = 222; (16−3)/2+1 = 7
		&BatchNormalization{Name: bn},                                      // 2·6 trainable, 2·6 moving averages
		&GlobalAveragePooling2D{Name: gap},                                 // (None, 6)
		&Dense{Units: 3, Activation: "softmax"},                            // 6·3 + 3 = 21
	)
}

func checkSummary(t *testing.T, m *Model, want string) {
	t.Helper()
	var buf strings.Builder
	if err := m.Summary(&buf); err != nil {
		t.Fatalf("%+v", err)
	}
	if got := buf.String(); got != want {
		t.Errorf("Summary:\n%s\nwant:\n%s", got, want)
	}
}

// TestConvnetSummary: output shapes and parameter counts worked out by
// hand (see summaryConvnet), 112 + 222 + 24 + 21 = 379 parameters of which
// the 12 moving averages are not trainable.
func TestConvnetSummary(t *testing.T) {
	checkSummary(t, summaryConvnet("bn", "gap"), `Model: "sequential"
_________________________________________________________________
 Layer (type)                 Output Shape              Param #
=================================================================
 conv2d (Conv2D)              (None, 32, 32, 4)         112

 max_pooling2d (MaxPooling2D) (None, 16, 16, 4)         0

 conv2d_1 (Conv2D)            (None, 7, 7, 6)           222

 bn (BatchNormalization)      (None, 7, 7, 6)           24

 gap (GlobalAveragePooling2D) (None, 6)                 0

 dense (Dense)                (None, 3)                 21
=================================================================
Total params: 379
Trainable params: 367
Non-trainable params: 12
_________________________________________________________________
`)
}

// TestConvnetSummaryLongNames: Keras' default names of convnet layers
// ("batch_normalization (BatchNormalization)", 39 characters) overflow the
// 28-character first column. Keras 3 wraps such a cell at a space and
// keeps the columns aligned; Keragon prints it whole and pushes the row's
// other columns to the right.
func TestConvnetSummaryLongNames(t *testing.T) {
	checkSummary(t, summaryConvnet("", ""), `Model: "sequential"
_________________________________________________________________
 Layer (type)                 Output Shape              Param #
=================================================================
 conv2d (Conv2D)              (None, 32, 32, 4)         112

 max_pooling2d (MaxPooling2D) (None, 16, 16, 4)         0

 conv2d_1 (Conv2D)            (None, 7, 7, 6)           222

 batch_normalization          (None, 7, 7, 6)           24
 (BatchNormalization)

 global_average_pooling2d     (None, 6)                 0
 (GlobalAveragePooling2D)

 dense (Dense)                (None, 3)                 21
=================================================================
Total params: 379
Trainable params: 367
Non-trainable params: 12
_________________________________________________________________
`)
}

// everyConv2DLayerModel uses every image layer of the convolution issue:
// two heads, as a Sequential model holds one global pooling layer only.
func everyConv2DLayerModel(t *testing.T) (*Model, []int) {
	t.Helper()
	x := NewInput(12, 11, 2)
	h := Apply(&ZeroPadding2D{Padding: []int{1, 0, 2, 1}}, x)                                                       // (13, 14, 2)
	h = Apply(&Conv2D{Filters: 4, KernelSize: []int{3}, Padding: "same", Activation: "relu"}, h)                    // (13, 14, 4)
	h = Apply(&BatchNormalization{Momentum: Float(0.9)}, h)                                                         // (13, 14, 4)
	h = Apply(&DepthwiseConv2D{KernelSize: []int{3, 2}, DepthMultiplier: 2, Strides: []int{2}, Padding: "same"}, h) // (7, 7, 8)
	h = Apply(&MaxPooling2D{Padding: "same"}, h)                                                                    // (4, 4, 8)
	h = Apply(&UpSampling2D{Size: []int{2, 1}}, h)                                                                  // (8, 4, 8)
	h = Apply(&AveragePooling2D{PoolSize: []int{3, 2}, Strides: []int{2, 1}}, h)                                    // (3, 3, 8)
	h = Apply(&Conv2D{Filters: 5, KernelSize: []int{2}, DilationRate: []int{2}, Padding: "same", NoBias: true, Activation: "tanh"}, h)
	cls := Apply(&Dense{Units: 3, Activation: "softmax", Name: "class"}, Apply(&GlobalMaxPooling2D{}, h))
	val := Apply(&Dense{Units: 1, Name: "value"}, Apply(&GlobalAveragePooling2D{}, h))
	m, err := NewModel([]*Tensor{x}, []*Tensor{cls, val})
	if err != nil {
		t.Fatalf("%+v", err)
	}
	return m, []int{12, 11, 2}
}

// everyConv1DLayerModel uses every sequence layer of the issue.
func everyConv1DLayerModel(t *testing.T) (*Model, []int) {
	t.Helper()
	x := NewInput(16, 3)
	h := Apply(&Conv1D{Filters: 4, KernelSize: 3, Padding: "causal", DilationRate: 2, Activation: "relu"}, x) // (16, 4)
	h = Apply(&MaxPooling1D{PoolSize: 3, Strides: 2, Padding: "same"}, h)                                     // (8, 4)
	h = Apply(&Conv1D{Filters: 6, KernelSize: 3, Strides: 2, Padding: "same", NoBias: true}, h)               // (4, 6)
	h = Apply(&BatchNormalization{}, h)                                                                       // (4, 6)
	h = Apply(&AveragePooling1D{Strides: 1}, h)                                                               // (3, 6)
	h = Apply(&Conv1D{Filters: 5, KernelSize: 2, Activation: "tanh"}, h)                                      // (2, 5)
	cls := Apply(&Dense{Units: 3, Activation: "softmax", Name: "class"}, Apply(&GlobalMaxPooling1D{}, h))
	val := Apply(&Dense{Units: 1, Name: "value"}, Apply(&GlobalAveragePooling1D{}, h))
	m, err := NewModel([]*Tensor{x}, []*Tensor{cls, val})
	if err != nil {
		t.Fatalf("%+v", err)
	}
	return m, []int{16, 3}
}

// TestConvModelsSaveLoad: a model with every layer of the issue, trained a
// little (weights and moving averages away from their initial values),
// comes back from Save and Load with the same configuration of every
// layer, the same weights and bitwise the same predictions.
func TestConvModelsSaveLoad(t *testing.T) {
	for _, build := range []func(*testing.T) (*Model, []int){everyConv2DLayerModel, everyConv1DLayerModel} {
		m, shape := build(t)
		m.SetSeed(3)
		err := m.Compile(CompileConfig{
			Optimizer: &training.Adam{LearningRate: 0.01},
			Loss:      map[string]any{"class": "sparse_categorical_crossentropy", "value": "mse"},
		})
		if err != nil {
			t.Fatal(err)
		}
		x, labels := saveTestData(1, 20, shape, 3)
		values, _ := saveTestData(2, 20, []int{1}, 1)
		if _, err := m.FitMulti([]*tensor.Dense{x}, []*tensor.Dense{labels, values}, FitConfig{Epochs: 2, BatchSize: 8}); err != nil {
			t.Fatalf("%+v", err)
		}
		got, _ := saveLoad(t, m)
		what := ClassName(m.Layers()[1]) + " model"
		if len(got.Layers()) != len(m.Layers()) {
			t.Fatalf("%s: %d layers after Load, want %d", what, len(got.Layers()), len(m.Layers()))
		}
		for i, l := range m.Layers() {
			gl := got.Layers()[i]
			if ClassName(gl) != ClassName(l) || gl.base().name != l.base().name {
				t.Errorf("%s: layer %d is %s %q, want %s %q", what, i, ClassName(gl), gl.base().name, ClassName(l), l.base().name)
			} else if !reflect.DeepEqual(configFields(gl), configFields(l)) {
				t.Errorf("%s: layer %q config %+v, want %+v", what, l.base().name, configFields(gl), configFields(l))
			}
		}
		sameWeights(t, what, m, got)
		// 7 samples: one batch of 4 and a partial one of 3.
		xp, _ := saveTestData(4, 7, shape, 3)
		want, err := m.PredictMulti([]*tensor.Dense{xp}, EvalConfig{BatchSize: 4})
		if err != nil {
			t.Fatal(err)
		}
		have, err := got.PredictMulti([]*tensor.Dense{xp}, EvalConfig{BatchSize: 4})
		if err != nil {
			t.Fatal(err)
		}
		for i := range want {
			if err := bitsDiff(have[i], want[i]); err != nil {
				t.Errorf("%s: output %d after Load: %v", what, i, err)
			}
		}
	}
}

// barImages returns n noisy 8×8 single-channel images, each holding one
// bar of 4 pixels at a random place: horizontal (class 0), vertical (1) or
// diagonal (2), drawn from a seeded generator. The bar pixels are 1, the
// background 0, and every pixel gets Gaussian noise of deviation 0.3.
func barImages(seed uint64, n int) (x, y *tensor.Dense) {
	const size, length, noise = 8, 4, 0.3
	rng := newTestRand(seed)
	xs := make([]float64, n*size*size)
	ys := make([]float64, n)
	for i := 0; i < n; i++ {
		img := xs[i*size*size : (i+1)*size*size]
		class := rng.IntN(3)
		ys[i] = float64(class)
		di, dj := [3]int{0, 1, 1}[class], [3]int{1, 0, 1}[class] // direction of the bar
		r := rng.IntN(size - di*(length-1))
		c := rng.IntN(size - dj*(length-1))
		for k := 0; k < length; k++ {
			img[(r+k*di)*size+c+k*dj] = 1
		}
		for j := range img {
			img[j] += noise * rng.NormFloat64()
		}
	}
	return denseOf(tensor.Float32, xs, n, size, size, 1), denseOf(tensor.Float32, ys, n)
}

// TestConvnetLearnsBars: a small convnet tells horizontal, vertical and
// diagonal bars apart anywhere in the image, within a fixed number of
// epochs, and generalises to images it has not seen. (With six other seeds
// for the data and the weights, validation accuracy ranged from 0.955 to
// 0.995; it takes about 0.4 s.)
func TestConvnetLearnsBars(t *testing.T) {
	x, y := barImages(1, 600)
	xVal, yVal := barImages(2, 200)
	m := NewSequential(
		&Input{Shape: []int{8, 8, 1}},
		&Conv2D{Filters: 16, KernelSize: []int{3}, Activation: "relu"},
		&GlobalMaxPooling2D{},
		&Dense{Units: 3, Activation: "softmax"},
	)
	m.SetSeed(1)
	err := m.Compile(CompileConfig{Optimizer: &training.Adam{LearningRate: 0.01},
		Loss: "sparse_categorical_crossentropy", Metrics: []string{"accuracy"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Fit(x, y, FitConfig{Epochs: 15, BatchSize: 32}); err != nil {
		t.Fatalf("%+v", err)
	}
	_, train, err := m.Evaluate(x, y)
	if err != nil {
		t.Fatal(err)
	}
	_, val, err := m.Evaluate(xVal, yVal)
	if err != nil {
		t.Fatal(err)
	}
	if train["accuracy"] < 0.95 || val["accuracy"] < 0.9 {
		t.Errorf("accuracy: training %v (want >= 0.95), validation %v (want >= 0.9)", train["accuracy"], val["accuracy"])
	}
	t.Logf("accuracy: training %v, validation %v", train["accuracy"], val["accuracy"])
}

// TestPerPixelClassification: a Conv2D with a softmax over its filters
// classifies every pixel (segmentation); sparse labels then have the
// image's shape, the loss is the mean over samples and pixels of
// −log p[label] and the accuracy the fraction of pixels whose most
// probable class is the label, both worked out from Predict's output.
func TestPerPixelClassification(t *testing.T) {
	const n, h, w, classes = 3, 4, 5, 3
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		m := NewSequential(&Input{Shape: []int{h, w, 2}, Dtype: dt.String()},
			&Conv2D{Filters: classes, KernelSize: []int{3}, Padding: "same", Activation: "softmax"})
		m.SetSeed(4)
		if err := m.Compile(CompileConfig{Optimizer: &training.SGD{LearningRate: 0.5}, Loss: "sparse_categorical_crossentropy",
			Metrics: []string{"accuracy"}}); err != nil {
			t.Fatal(err)
		}
		rng := newTestRand(5)
		x := randomTensor(rng, dt, -1, 1, n, h, w, 2)
		labels := make([]float64, n*h*w)
		for i := range labels {
			labels[i] = float64(rng.IntN(classes))
		}
		y := denseOf(dt, labels, n, h, w)
		probs, err := m.Predict(x)
		if err != nil {
			t.Fatalf("%+v", err)
		}
		p := floatsOf(probs)
		want := 0.0
		for i, l := range labels {
			want -= math.Log(p[i*classes+int(l)]) / float64(len(labels))
		}
		// Accuracy is the fraction of pixels whose most probable class is
		// the label.
		hits := 0.0
		for i, l := range labels {
			best := 0
			for k := 1; k < classes; k++ {
				if p[i*classes+k] > p[i*classes+best] {
					best = k
				}
			}
			if best == int(l) {
				hits++
			}
		}
		loss, metrics, err := m.Evaluate(x, y)
		if err != nil {
			t.Fatalf("%+v", err)
		}
		if got, want := metrics["accuracy"], hits/float64(len(labels)); math.Abs(got-want) > 1e-9 {
			t.Errorf("%v: accuracy %v, want %v (%v of %d pixels)", dt, got, want, hits, len(labels))
		}
		tol := 1e-12
		if dt == tensor.Float32 {
			tol = 1e-5
		}
		if err := closeTo([]float64{loss}, []float64{want}, tol, tol); err != nil {
			t.Errorf("%v: Evaluate loss %v, want %v from the probabilities", dt, loss, want)
		}
		hist, err := m.Fit(x, y, FitConfig{Epochs: 20, BatchSize: n})
		if err != nil {
			t.Fatalf("%+v", err)
		}
		if l := hist.Get("loss"); !(l[len(l)-1] < l[0]) {
			t.Errorf("%v: training loss went %v → %v, want it lower", dt, l[0], l[len(l)-1])
		}
	}
}

// TestLoadBadConvConfig: a file whose conv or pooling configuration was
// edited into nonsense fails to Load with an error naming the layer and
// the value, never a panic.
func TestLoadBadConvConfig(t *testing.T) {
	m, _ := everyConv2DLayerModel(t)
	m.SetSeed(1)
	path := filepath.Join(t.TempDir(), "conv.safetensors")
	if err := m.Save(path); err != nil {
		t.Fatalf("%+v", err)
	}
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	config := func(a map[string]any, layer string) map[string]any {
		for _, l := range a["layers"].([]any) {
			if l := l.(map[string]any); l["name"] == layer {
				return l["config"].(map[string]any)
			}
		}
		t.Fatalf("no layer %q in the architecture", layer)
		return nil
	}
	cases := []struct {
		layer, field string
		value        any
		want         []string
	}{
		{"conv2d", "padding", "full", []string{`"conv2d" (Conv2D)`, `unknown padding "full"`}},
		{"conv2d", "strides", []int{-1}, []string{`"conv2d" (Conv2D)`, "strides must be positive"}},
		{"conv2d", "filters", 0, []string{`"conv2d" (Conv2D)`, "positive Filters, got 0"}},
		{"conv2d", "kernel_size", []int{5}, []string{`"conv2d/kernel"`, "[3 3 2 4]", "[5 5 2 4]"}},
		{"depthwise_conv2d", "depth_multiplier", -1, []string{`"depthwise_conv2d" (DepthwiseConv2D)`, "-1"}},
		{"max_pooling2d", "strides", []int{0, 1}, []string{`"max_pooling2d" (MaxPooling2D)`, "strides must be positive"}},
		{"average_pooling2d", "padding", "causal", []string{`"average_pooling2d" (AveragePooling2D)`, `"causal"`}},
		{"average_pooling2d", "pool_size", []int{9}, []string{`"average_pooling2d" (AveragePooling2D)`, "window of 9"}},
		{"zero_padding2d", "padding", []int{1, 2, 3}, []string{`"zero_padding2d" (ZeroPadding2D)`, "[1 2 3]"}},
		{"up_sampling2d", "size", []int{-2}, []string{`"up_sampling2d" (UpSampling2D)`, "size must be positive"}},
	}
	for _, c := range cases {
		data := editArch(t, good, func(a map[string]any) { config(a, c.layer)[c.field] = c.value })
		err := noPanic(t, c.layer+"."+c.field, func() error {
			_, err := decodeModel(data)
			return err
		})
		if err == nil {
			t.Errorf("%s.%s = %v: Load gave no error", c.layer, c.field, c.value)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s.%s = %v: error %q, want it to contain %q", c.layer, c.field, c.value, err, w)
			}
		}
	}
}
