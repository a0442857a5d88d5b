package keras

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/keragon/keragon/training"
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
