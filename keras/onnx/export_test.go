package onnx

import (
	"bytes"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/keragon/keragon/keras"
	"gorgonia.org/tensor"
)

// exportCase is a Keragon model built for the export tests, with the
// shape of one input sample.
type exportCase struct {
	name  string
	input []int
	build func() (*keras.Model, error)
}

// tokenIDs lists the cases whose inputs are token ids, with the
// vocabulary size.
var tokenIDs = map[string]int{"embedding": 7}

func seq(layers ...keras.Layer) func() (*keras.Model, error) {
	return func() (*keras.Model, error) {
		m := keras.NewSequential(layers...)
		return m, m.Err()
	}
}

// exportCases covers every layer Export writes.
func exportCases() []exportCase {
	return []exportCase{
		{"mlp", []int{6}, seq(
			&keras.Input{Shape: []int{6}},
			&keras.Dense{Units: 8, Activation: "relu"},
			&keras.Dropout{Rate: 0.3},
			&keras.Dense{Units: 7, Activation: "gelu"},
			&keras.Dense{Units: 6, Activation: "tanh", NoBias: true},
			&keras.LeakyReLU{NegativeSlope: keras.Float(0.1)},
			&keras.Dense{Units: 5, Activation: "elu"},
			&keras.Activation{Activation: "sigmoid"},
			&keras.Dense{Units: 4, Activation: "log_softmax"},
		)},
		{"activations", []int{5}, seq(
			&keras.Input{Shape: []int{5}},
			&keras.Dense{Units: 5, Activation: "selu"},
			&keras.Dense{Units: 5, Activation: "softplus"},
			&keras.Dense{Units: 5, Activation: "softsign"},
			&keras.Dense{Units: 5, Activation: "relu6"},
			&keras.Dense{Units: 5, Activation: "hard_sigmoid"},
			&keras.Dense{Units: 5, Activation: "leaky_relu"},
			&keras.Dense{Units: 5, Activation: "exponential"},
			&keras.Dense{Units: 3, Activation: "softmax"},
		)},
		{"convnet", []int{9, 8, 3}, seq(
			&keras.Input{Shape: []int{9, 8, 3}},
			&keras.Conv2D{Filters: 4, KernelSize: []int{3, 3}, Padding: "same", Activation: "relu"},
			&keras.BatchNormalization{Epsilon: 1e-2},
			&keras.MaxPooling2D{PoolSize: []int{2, 2}, Padding: "same"},
			&keras.ZeroPadding2D{Padding: []int{1, 0, 2, 1}},
			&keras.DepthwiseConv2D{KernelSize: []int{2, 3}, DepthMultiplier: 2, Strides: []int{1, 2}},
			&keras.AveragePooling2D{PoolSize: []int{2, 2}, Strides: []int{1, 1}, Padding: "same"},
			&keras.Conv2D{Filters: 5, KernelSize: []int{2, 2}, Strides: []int{2, 1}, Activation: "softmax"},
			&keras.Flatten{},
			&keras.Dense{Units: 3},
		)},
		{"embedding", []int{5}, seq(
			&keras.Input{Shape: []int{5}},
			&keras.Embedding{InputDim: 7, OutputDim: 4},
			&keras.GRU{Units: 3},
			&keras.Dense{Units: 2},
		)},
		{"layernorm", []int{4, 6}, seq(
			&keras.Input{Shape: []int{4, 6}},
			&keras.LayerNormalization{},
			&keras.Dense{Units: 5, Activation: "relu"},
			&keras.LayerNormalization{Epsilon: 1e-5, NoCenter: true},
			&keras.Dense{Units: 2},
		)},
		{"globalpool", []int{7, 7, 2}, seq(
			&keras.Input{Shape: []int{7, 7, 2}},
			&keras.Conv2D{Filters: 3, KernelSize: []int{3, 3}, Strides: []int{2, 2}, Padding: "same", NoBias: true},
			&keras.Activation{Activation: "relu"},
			&keras.GlobalAveragePooling2D{},
			&keras.BatchNormalization{NoScale: true},
			&keras.Dense{Units: 2},
		)},
		{"image_output", []int{6, 6, 2}, seq(
			&keras.Input{Shape: []int{6, 6, 2}},
			&keras.Conv2D{Filters: 3, KernelSize: []int{3, 3}, Padding: "same", Activation: "tanh"},
			&keras.GlobalMaxPooling2D{},
			&keras.Reshape{TargetShape: []int{1, 3}},
		)},
		{"conv1d", []int{10, 3}, seq(
			&keras.Input{Shape: []int{10, 3}},
			&keras.Conv1D{Filters: 4, KernelSize: 3, Padding: "causal", Activation: "relu"},
			&keras.MaxPooling1D{PoolSize: 2},
			&keras.Conv1D{Filters: 4, KernelSize: 2, Padding: "same", DilationRate: 2},
			&keras.AveragePooling1D{PoolSize: 2, Strides: 1},
			&keras.GlobalAveragePooling1D{},
			&keras.Dense{Units: 2},
		)},
		{"lstm", []int{5, 3}, seq(
			&keras.Input{Shape: []int{5, 3}},
			&keras.LSTM{Units: 4, ReturnSequences: true},
			&keras.Dense{Units: 3, Activation: "relu"},
			&keras.LSTM{Units: 4},
			&keras.Dense{Units: 2},
		)},
		{"gru", []int{6, 3}, seq(
			&keras.Input{Shape: []int{6, 3}},
			&keras.GRU{Units: 4, ReturnSequences: true},
			&keras.GRU{Units: 3, GoBackwards: true},
			&keras.Dense{Units: 2},
		)},
		{"simple_rnn", []int{4, 2}, seq(
			&keras.Input{Shape: []int{4, 2}},
			&keras.SimpleRNN{Units: 3, Activation: "relu"},
			&keras.Dense{Units: 2},
		)},
		{"bidirectional", []int{5, 3}, seq(
			&keras.Input{Shape: []int{5, 3}},
			&keras.Bidirectional{Layer: &keras.LSTM{Units: 3, ReturnSequences: true}},
			&keras.Bidirectional{Layer: &keras.GRU{Units: 2}},
			&keras.Dense{Units: 2},
		)},
		{"shared_layer", []int{4}, func() (*keras.Model, error) {
			x := keras.NewInput(4)
			d := &keras.Dense{Units: 4, Activation: "tanh"}
			y := keras.Apply(d, keras.Apply(d, x))
			return keras.NewModel([]*keras.Tensor{x}, []*keras.Tensor{y})
		}},
		{"shared_conv", []int{6, 6, 3}, func() (*keras.Model, error) {
			x := keras.NewInput(6, 6, 3)
			c := &keras.Conv2D{Filters: 3, KernelSize: []int{3, 3}, Strides: []int{2, 2}, Padding: "same", Activation: "relu"}
			y := keras.Apply(&keras.Flatten{}, keras.Apply(c, keras.Apply(c, x)))
			return keras.NewModel([]*keras.Tensor{x}, []*keras.Tensor{y})
		}},
		{"residual", []int{6, 6, 2}, func() (*keras.Model, error) {
			x := keras.NewInput(6, 6, 2)
			a := keras.Apply(&keras.Conv2D{Filters: 4, KernelSize: []int{3}, Padding: "same", Activation: "relu"}, x)
			b := keras.Apply(&keras.Conv2D{Filters: 4, KernelSize: []int{3}, Padding: "same"}, a)
			h := keras.Apply(&keras.Activation{Activation: "relu"}, keras.Apply(&keras.Add{}, a, b))
			gate := keras.Apply(&keras.Dense{Units: 4, Activation: "sigmoid"}, keras.Apply(&keras.GlobalAveragePooling2D{}, h))
			g := keras.Apply(&keras.Multiply{}, h, gate) // (6, 6, 4) × (4): broadcast
			y := keras.Apply(&keras.Dense{Units: 3}, keras.Apply(&keras.Flatten{}, g))
			return keras.NewModel([]*keras.Tensor{x}, []*keras.Tensor{y})
		}},
		{"branches", []int{5}, func() (*keras.Model, error) {
			x := keras.NewInput(5)
			a := keras.Apply(&keras.Dense{Units: 4, Activation: "tanh"}, x)
			b := keras.Apply(&keras.Dense{Units: 4, Activation: "relu"}, x)
			ab := keras.Apply(&keras.Concatenate{}, a, b)
			c := keras.Apply(&keras.Dense{Units: 8}, x)
			d := keras.Apply(&keras.Subtract{}, ab, c)
			e := keras.Apply(&keras.Maximum{}, d, c)
			f := keras.Apply(&keras.Minimum{}, d, c)
			y := keras.Apply(&keras.Dense{Units: 2}, keras.Apply(&keras.Average{}, e, f, ab))
			return keras.NewModel([]*keras.Tensor{x}, []*keras.Tensor{y})
		}},
		{"concat_images", []int{5, 5, 2}, func() (*keras.Model, error) {
			x := keras.NewInput(5, 5, 2)
			a := keras.Apply(&keras.Conv2D{Filters: 3, KernelSize: []int{3}, Padding: "same"}, x)
			b := keras.Apply(&keras.MaxPooling2D{PoolSize: []int{1}}, x)
			c := keras.Apply(&keras.Concatenate{}, a, b)
			h := keras.Apply(&keras.Concatenate{Axis: 1}, c, c) // rows
			y := keras.Apply(&keras.Dense{Units: 2}, keras.Apply(&keras.Flatten{}, h))
			return keras.NewModel([]*keras.Tensor{x}, []*keras.Tensor{y})
		}},
		{"functional_states", []int{5, 3}, func() (*keras.Model, error) {
			x := keras.NewInput(5, 3)
			h0 := keras.NewInput(4)
			c0 := keras.NewInput(4)
			outs := keras.ApplyMulti(&keras.LSTM{Units: 4, ReturnState: true}, x, h0, c0)
			y := keras.Apply(&keras.Dense{Units: 2}, outs[0])
			return keras.NewModel([]*keras.Tensor{x, h0, c0}, []*keras.Tensor{y, outs[2]})
		}},
	}
}

// randomInputs makes one random batch for each model input: normal
// values, or token ids in [0, ids) when ids > 0.
func randomInputs(m *keras.Model, batch int, rng *rand.Rand, ids int) []*tensor.Dense {
	var xs []*tensor.Dense
	for _, in := range m.Inputs() {
		shape := append([]int{batch}, in.Shape()...)
		n := 1
		for _, d := range shape {
			n *= d
		}
		v := make([]float32, n)
		for i := range v {
			if ids > 0 {
				v[i] = float32(rng.IntN(ids))
			} else {
				v[i] = float32(rng.NormFloat64())
			}
		}
		xs = append(xs, tensor.New(tensor.WithShape(shape...), tensor.WithBacking(v)))
	}
	return xs
}

// randomiseState gives BatchNormalization layers moving statistics other
// than 0 and 1, so that exporting them is tested.
func randomiseState(m *keras.Model, rng *rand.Rand) {
	for _, l := range m.Layers() {
		if _, ok := l.(*keras.BatchNormalization); !ok {
			continue
		}
		for _, w := range layerWeights(l) {
			w.Alloc()
			d := w.Value.Data().([]float32)
			for i := range d {
				d[i] = 0.5 + rng.Float32()
			}
		}
	}
}

// TestExportRoundTrip exports each model, imports the file and checks
// that the imported model predicts what the original does, with the same
// layer classes.
func TestExportRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	dir := t.TempDir()
	for _, c := range exportCases() {
		t.Run(c.name, func(t *testing.T) {
			m, err := c.build()
			if err != nil {
				t.Fatalf("building: %+v", err)
			}
			m.SetSeed(3)
			xs := randomInputs(m, 3, rng, tokenIDs[c.name])
			if _, err := m.PredictMulti(xs); err != nil { // initialises the weights
				t.Fatalf("Predict: %+v", err)
			}
			randomiseState(m, rng)
			want, err := m.PredictMulti(xs)
			if err != nil {
				t.Fatalf("Predict: %+v", err)
			}
			path := filepath.Join(dir, c.name+".onnx")
			if err := Export(m, path); err != nil {
				t.Fatalf("Export: %+v", err)
			}
			back, err := Import(path)
			if err != nil {
				t.Fatalf("Import of the exported file: %+v", err)
			}
			got, err := back.PredictMulti(xs)
			if err != nil {
				t.Fatalf("Predict after the round trip: %+v", err)
			}
			for i := range want {
				if !got[i].Shape().Eq(want[i].Shape()) {
					t.Fatalf("output %d: shape %v, want %v", i, got[i].Shape(), want[i].Shape())
				}
				if d, ok := closeTo(floats(got[i]), floats(want[i]), 1e-5); !ok {
					t.Errorf("output %d differs by up to %g after the round trip", i, d)
				}
			}
			if g, w := classes(back), classes(m); g != w {
				t.Errorf("imported layers %s, want %s", g, w)
			}
		})
	}
}

// classes lists a model's layer classes, leaving out Input and Reshape,
// and Activation, which the importer may fold into the layer before.
func classes(m *keras.Model) string {
	var b bytes.Buffer
	for _, l := range m.Layers() {
		switch l.(type) {
		case *keras.Input, *keras.Reshape, *keras.Activation:
			continue
		}
		b.WriteString(keras.ClassName(l) + " ")
	}
	return b.String()
}
