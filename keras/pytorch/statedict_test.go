package pytorch

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keragon/keragon/keras"
	"gorgonia.org/tensor"
)

// torchCase is one model of ../onnx/testdata/torch_models.json (written
// by ../onnx/testdata/torch_models.py with the state dicts in testdata/).
type torchCase struct {
	InputShape  []int     `json:"input_shape"`
	Input       []float64 `json:"input"`
	OutputShape []int     `json:"output_shape"`
	Output      []float64 `json:"output"`
}

// matching is a Keragon model built like a PyTorch model of
// torch_models.py, with the map from its modules to the layers.
type matching struct {
	name   string
	layers []keras.Layer
	names  map[string]string
}

func matchingModels() []matching {
	return []matching{
		{"mlp", []keras.Layer{
			&keras.Input{Shape: []int{12}},
			&keras.Dense{Name: "hidden", Units: 16, Activation: "relu"},
			&keras.Dropout{Rate: 0.25},
			&keras.Dense{Name: "hidden2", Units: 8, Activation: "gelu"},
			&keras.Dense{Name: "logits", Units: 4, Activation: "log_softmax"},
		}, map[string]string{"fc1": "hidden", "fc2": "hidden2", "fc3": "logits"}},
		{"convnet", []keras.Layer{
			&keras.Input{Shape: []int{10, 10, 2}},
			&keras.Conv2D{Filters: 4, KernelSize: []int{3}, Padding: "same"},
			&keras.BatchNormalization{Epsilon: 1e-5},
			&keras.Activation{Activation: "relu"},
			&keras.MaxPooling2D{},
			&keras.Conv2D{Filters: 6, KernelSize: []int{3}, Strides: []int{2}},
			&keras.BatchNormalization{Epsilon: 1e-5},
			&keras.Activation{Activation: "relu"},
			&keras.Flatten{},
			&keras.Dense{Units: 5},
		}, map[string]string{"conv1": "conv2d", "bn1": "batch_normalization", "conv2": "conv2d_1",
			"bn2": "batch_normalization_1", "fc": "dense"}},
		{"convnet2", []keras.Layer{
			&keras.Input{Shape: []int{7, 9, 3}},
			&keras.ZeroPadding2D{Padding: []int{2, 0}},
			&keras.Conv2D{Filters: 4, KernelSize: []int{3, 2}, NoBias: true, Activation: "sigmoid"},
			&keras.AveragePooling2D{},
			&keras.DepthwiseConv2D{KernelSize: []int{3}, DepthMultiplier: 2, Padding: "same", Activation: "relu"},
			&keras.GlobalAveragePooling2D{},
			&keras.Dense{Units: 3, Activation: "softmax"},
		}, map[string]string{"conv1": "conv2d", "dw": "depthwise_conv2d", "fc": "dense"}},
		{"lstm", []keras.Layer{
			&keras.Input{Shape: []int{6, 5}},
			&keras.LSTM{Units: 8},
			&keras.Dense{Units: 3},
		}, map[string]string{"lstm": "lstm", "fc": "dense"}},
		{"gru", []keras.Layer{
			&keras.Input{Shape: []int{7, 5}},
			&keras.GRU{Units: 6},
			&keras.Dense{Units: 3},
		}, map[string]string{"gru": "gru", "fc": "dense"}},
		{"rnn", []keras.Layer{
			&keras.Input{Shape: []int{5, 4}},
			&keras.SimpleRNN{Units: 5, Activation: "relu"},
			&keras.Dense{Units: 2},
		}, map[string]string{"rnn": "simple_rnn", "fc": "dense"}},
		{"bilstm", []keras.Layer{
			&keras.Input{Shape: []int{5, 4}},
			&keras.Bidirectional{Layer: &keras.LSTM{Units: 3, ReturnSequences: true}},
			&keras.Dense{Units: 2},
		}, map[string]string{"lstm": "bidirectional", "fc": "dense"}},
		{"resnet_stem", []keras.Layer{
			&keras.Input{Shape: []int{16, 16, 3}},
			&keras.ZeroPadding2D{Padding: []int{3}},
			&keras.Conv2D{Filters: 8, KernelSize: []int{7}, Strides: []int{2}, NoBias: true},
			&keras.BatchNormalization{Epsilon: 1e-5},
			&keras.Activation{Activation: "relu"},
			&keras.ZeroPadding2D{Padding: []int{1}},
			&keras.MaxPooling2D{PoolSize: []int{3}, Strides: []int{2}},
			&keras.Conv2D{Filters: 6, KernelSize: []int{1}},
			&keras.GlobalAveragePooling2D{},
			&keras.Dense{Units: 4},
		}, map[string]string{"conv": "conv2d", "bn": "batch_normalization", "proj": "conv2d_1", "fc": "dense"}},
		{"conv1d", []keras.Layer{
			&keras.Input{Shape: []int{8, 3}},
			&keras.Conv1D{Filters: 4, KernelSize: 3, Padding: "same"},
			&keras.BatchNormalization{Epsilon: 1e-5},
			&keras.Activation{Activation: "tanh"},
			&keras.MaxPooling1D{},
			&keras.Flatten{},
			&keras.Dense{Units: 2},
		}, map[string]string{"conv": "conv1d", "bn": "batch_normalization", "fc": "dense"}},
		{"layernorm", []keras.Layer{
			&keras.Input{Shape: []int{6}},
			&keras.Dense{Units: 8},
			&keras.LayerNormalization{Epsilon: 1e-5},
			&keras.Activation{Activation: "relu"},
			&keras.Dense{Units: 3},
		}, map[string]string{"fc1": "dense", "norm": "layer_normalization", "fc2": "dense_1"}},
		{"textclf", []keras.Layer{
			&keras.Input{Shape: []int{7}},
			&keras.Embedding{InputDim: 20, OutputDim: 6},
			&keras.LSTM{Units: 5},
			&keras.Dense{Units: 2},
		}, map[string]string{"emb": "embedding", "lstm": "lstm", "fc": "dense"}},
		{"flatbn", []keras.Layer{
			&keras.Input{Shape: []int{6, 6, 2}},
			&keras.Conv2D{Filters: 3, KernelSize: []int{3}, Activation: "relu"},
			&keras.Flatten{},
			&keras.BatchNormalization{Epsilon: 1e-5},
			&keras.Dense{Units: 2},
		}, map[string]string{"conv": "conv2d", "bn": "batch_normalization", "fc": "dense"}},
	}
}

func torchCases(t *testing.T) map[string]torchCase {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "onnx", "testdata", "torch_models.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cs map[string]torchCase
	if err := json.Unmarshal(b, &cs); err != nil {
		t.Fatal(err)
	}
	return cs
}

// keragonInput converts a PyTorch input to Keragon's layout (NCHW images
// to NHWC; NCW sequences to NWC when channelsFirst).
func keragonInput(shape []int, v []float64, channelsFirst bool) *tensor.Dense {
	out := make([]float32, len(v))
	if len(shape) == 3 && channelsFirst {
		n, c, w := shape[0], shape[1], shape[2]
		for b := 0; b < n; b++ {
			for k := 0; k < c; k++ {
				for i := 0; i < w; i++ {
					out[(b*w+i)*c+k] = float32(v[(b*c+k)*w+i])
				}
			}
		}
		return tensor.New(tensor.WithShape(n, w, c), tensor.WithBacking(out))
	}
	if len(shape) != 4 {
		for i, x := range v {
			out[i] = float32(x)
		}
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(out))
	}
	n, c, h, w := shape[0], shape[1], shape[2], shape[3]
	for b := 0; b < n; b++ {
		for k := 0; k < c; k++ {
			for i := 0; i < h*w; i++ {
				out[(b*h*w+i)*c+k] = float32(v[(b*c+k)*h*w+i])
			}
		}
	}
	return tensor.New(tensor.WithShape(n, h, w, c), tensor.WithBacking(out))
}

func maxDiff(t *tensor.Dense, want []float64) float64 {
	got := t.Data().([]float32)
	if len(got) != len(want) {
		return math.Inf(1)
	}
	d := 0.0
	for i := range got {
		d = math.Max(d, math.Abs(float64(got[i])-want[i]))
		if math.IsNaN(float64(got[i])) {
			return math.NaN()
		}
	}
	return d
}

func build(t *testing.T, c matching) *keras.Model {
	t.Helper()
	m := keras.NewSequential(c.layers...)
	if err := m.Err(); err != nil {
		t.Fatalf("%s: %+v", c.name, err)
	}
	m.SetSeed(1)
	return m
}

// TestLoadStateDictMatchesTorch loads each PyTorch state dict into the
// matching Keragon model and compares the predictions with PyTorch's.
func TestLoadStateDictMatchesTorch(t *testing.T) {
	cases := torchCases(t)
	for _, c := range matchingModels() {
		t.Run(c.name, func(t *testing.T) {
			tc := cases[c.name]
			m := build(t, c)
			if err := LoadStateDict(m, filepath.Join("testdata", c.name+".safetensors"), c.names); err != nil {
				t.Fatalf("LoadStateDict: %+v", err)
			}
			y, err := m.Predict(keragonInput(tc.InputShape, tc.Input, c.name == "conv1d"))
			if err != nil {
				t.Fatalf("Predict: %+v", err)
			}
			if d := maxDiff(y, tc.Output); !(d <= 1e-5) {
				t.Errorf("predictions differ from PyTorch's by up to %g (want <= 1e-5)", d)
			} else {
				t.Logf("largest difference from PyTorch: %.2g", d)
			}
		})
	}
}

// TestSaveStateDictRoundTrip saves each model's weights in PyTorch's
// naming and loads them into a fresh model: the predictions must be the
// same, and the file must name exactly the tensors the PyTorch module
// has.
func TestSaveStateDictRoundTrip(t *testing.T) {
	cases := torchCases(t)
	rng := rand.New(rand.NewPCG(3, 4))
	for _, c := range matchingModels() {
		t.Run(c.name, func(t *testing.T) {
			tc := cases[c.name]
			m := build(t, c)
			x := keragonInput(tc.InputShape, tc.Input, c.name == "conv1d")
			if _, err := m.Predict(x); err != nil {
				t.Fatal(err)
			}
			for _, w := range m.Weights() { // moving statistics too
				for i, d := 0, w.Value.Data().([]float32); i < len(d); i++ {
					d[i] = 0.2 + 0.5*rng.Float32() // positive: variances too
				}
			}
			want, err := m.Predict(x)
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			if err := EncodeStateDict(m, &b, c.names); err != nil {
				t.Fatalf("EncodeStateDict: %+v", err)
			}
			// The names are PyTorch's: compare with the file torch wrote.
			ref, err := os.ReadFile(filepath.Join("testdata", c.name+".safetensors"))
			if err != nil {
				t.Fatal(err)
			}
			if g, w := tensorNames(t, b.Bytes()), tensorNames(t, ref); g != w {
				t.Errorf("tensors %s, PyTorch's state dict has %s", g, w)
			}
			fresh := build(t, matching{name: c.name, layers: rebuild(t, c.name)})
			if err := DecodeStateDict(fresh, b.Bytes(), c.names); err != nil {
				t.Fatalf("DecodeStateDict: %+v", err)
			}
			got, err := fresh.Predict(x)
			if err != nil {
				t.Fatal(err)
			}
			if d := maxDiff(got, floatsOf(want)); !(d <= 1e-6) {
				t.Errorf("predictions differ by up to %g after the round trip", d)
			}
		})
	}
}

// rebuild returns fresh layers for a matching model (layers cannot be
// shared between models).
func rebuild(t *testing.T, name string) []keras.Layer {
	for _, c := range matchingModels() {
		if c.name == name {
			return c.layers
		}
	}
	t.Fatalf("no model %q", name)
	return nil
}

func floatsOf(t *tensor.Dense) []float64 {
	d := t.Data().([]float32)
	out := make([]float64, len(d))
	for i, x := range d {
		out[i] = float64(x)
	}
	return out
}

func tensorNames(t *testing.T, data []byte) string {
	t.Helper()
	var n uint64
	for i := 7; i >= 0; i-- {
		n = n<<8 | uint64(data[i])
	}
	var h map[string]json.RawMessage
	if err := json.Unmarshal(data[8:8+n], &h); err != nil {
		t.Fatal(err)
	}
	var names []string
	for k := range h {
		if k != "__metadata__" {
			names = append(names, k)
		}
	}
	return strings.Join(sortStrings(names), " ")
}

func sortStrings(s []string) []string {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	return s
}

// TestLoadStateDictErrors checks that a mismatched file or map fails
// clearly and changes no weight.
func TestLoadStateDictErrors(t *testing.T) {
	c := matchingModels()[0]
	path := filepath.Join("testdata", "mlp.safetensors")
	tests := []struct {
		name  string
		names map[string]string
		want  string
	}{
		{"unknown layer", map[string]string{"fc1": "nope", "fc2": "hidden2", "fc3": "logits"}, `no layer named "nope"`},
		{"unmapped tensors", map[string]string{"fc1": "hidden", "fc2": "hidden2"}, "no mapped module takes: fc3.bias, fc3.weight"},
		{"missing module", map[string]string{"fc1": "hidden", "fc2": "hidden2", "fc4": "logits"}, `no tensor "fc4.weight"`},
		{"wrong shape", map[string]string{"fc1": "hidden", "fc3": "hidden2", "fc2": "logits"}, "shape"},
		{"two modules, one layer", map[string]string{"fc1": "hidden", "fc2": "hidden", "fc3": "logits"}, "both map to layer"},
		{"class mismatch", map[string]string{"fc1": "dropout", "fc2": "hidden2", "fc3": "logits"}, "no PyTorch counterpart"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := build(t, matching{name: c.name, layers: rebuild(t, c.name)})
			x := tensor.New(tensor.WithShape(1, 12), tensor.WithBacking(make([]float32, 12)))
			before, err := m.Predict(x)
			if err != nil {
				t.Fatal(err)
			}
			err = LoadStateDict(m, path, tt.names)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
			after, err := m.Predict(x)
			if err != nil {
				t.Fatal(err)
			}
			if d := maxDiff(after, floatsOf(before)); d != 0 {
				t.Errorf("a failed load changed the predictions by %g", d)
			}
		})
	}
	if err := LoadStateDict(build(t, matching{name: c.name, layers: rebuild(t, c.name)}), filepath.Join("testdata", "missing.safetensors"), c.names); err == nil {
		t.Error("a missing file gave no error")
	}
	if err := DecodeStateDict(build(t, matching{name: c.name, layers: rebuild(t, c.name)}), []byte("not safetensors"), c.names); err == nil || !strings.HasPrefix(err.Error(), "pytorch: ") {
		t.Errorf("a corrupt file gave %v", err)
	}
}
