package keras

import (
	"path/filepath"
	"testing"

	"github.com/keragon/keragon/ops"
	"gorgonia.org/tensor"
)

// TestEmbeddingAndMaskingContract runs the layer contract on Embedding
// (integer ids in, not differentiated; the table's gradient is checked)
// and on Masking (random features, so no step is masked: a masked step is
// a discontinuity that finite differences cannot cross; masking_test.go
// checks the masking itself).
func TestEmbeddingAndMaskingContract(t *testing.T) {
	for _, c := range embeddingContractCases() {
		runLayerTest(t, c)
	}
}

// embeddingContractCases are TestEmbeddingAndMaskingContract's cases (also
// listed in allContractCases).
func embeddingContractCases() []layerCase {
	table := func(in, out int) []weightSpec { return []weightSpec{{"embeddings", []int{in, out}, true}} }
	return []layerCase{
		{name: "embedding", make: func() Layer { return &Embedding{InputDim: 7, OutputDim: 3} },
			input: []int{5}, output: []int{5, 3}, ids: 7, weights: table(7, 3)},
		{name: "embedding_scalar_ids", make: func() Layer { return &Embedding{InputDim: 5, OutputDim: 2} },
			input: []int{}, output: []int{2}, ids: 5, weights: table(5, 2)},
		{name: "embedding_rank2_ids", make: func() Layer { return &Embedding{InputDim: 4, OutputDim: 2, Name: "emb"} },
			input: []int{2, 3}, output: []int{2, 3, 2}, ids: 4, weights: table(4, 2)},
		{name: "embedding_mask_zero", make: func() Layer {
			return &Embedding{InputDim: 6, OutputDim: 2, MaskZero: true, EmbeddingsInitializer: "glorot_uniform",
				EmbeddingsRegularizer: &ops.L1L2{L2: 0.1}}
		}, input: []int{4}, output: []int{4, 2}, ids: 6, weights: table(6, 2)},
		{name: "masking", make: func() Layer { return &Masking{} }, input: []int{4, 3}, output: []int{4, 3}},
		{name: "masking_value", make: func() Layer { return &Masking{MaskValue: -2, Name: "pad"} }, input: []int{3, 2}, output: []int{3, 2}},
	}
}

// TestEmbeddingOnScalarIDs is the conformance gap of issue 15: one id per
// sample, shape (batch), gives (batch, OutputDim) as in Keras, in a
// functional model, a Sequential model with an Input of shape (), and a
// Sequential model built from the data; and it saves and loads.
func TestEmbeddingOnScalarIDs(t *testing.T) {
	ids := denseOf(tensor.Float32, []float64{3, 0, 7, 3}, 4)
	y := denseOf(tensor.Float32, []float64{1, 0, 1, 1}, 4)
	build := map[string]func() *Model{
		"functional": func() *Model {
			in := NewInput()
			out := Apply(&Dense{Units: 1, Activation: "sigmoid"}, Apply(&Embedding{InputDim: 8, OutputDim: 3}, in))
			m, err := NewModel([]*Tensor{in}, []*Tensor{out})
			if err != nil {
				t.Fatal(err)
			}
			return m
		},
		"sequential": func() *Model {
			return NewSequential(&Input{Shape: []int{}}, &Embedding{InputDim: 8, OutputDim: 3}, &Dense{Units: 1, Activation: "sigmoid"})
		},
		"sequential from data": func() *Model {
			return NewSequential(&Embedding{InputDim: 8, OutputDim: 3}, &Dense{Units: 1, Activation: "sigmoid"})
		},
	}
	for name, mk := range build {
		m := mk()
		m.SetSeed(1)
		if err := m.Compile(CompileConfig{Optimizer: "adam", Loss: "binary_crossentropy", Metrics: []string{"accuracy"}}); err != nil {
			t.Fatalf("%s: Compile: %+v", name, err)
		}
		if _, err := m.Fit(ids, y, FitConfig{Epochs: 2, BatchSize: 2}); err != nil {
			t.Fatalf("%s: Fit: %+v", name, err)
		}
		emb := m.Layers()[1]
		if s := m.Outputs()[0].Shape(); !s.Equal(Shape{1}) {
			t.Errorf("%s: output shape %v, want (None, 1)", name, s)
		}
		if s := m.Inputs()[0].Shape(); len(s) != 0 || s.String() != "(None,)" {
			t.Errorf("%s: input shape %v, want (None,)", name, s)
		}
		if _, ok := emb.(*Embedding); !ok {
			t.Fatalf("%s: layer 1 is %s", name, ClassName(emb))
		}
		p, err := m.Predict(ids)
		if err != nil {
			t.Fatalf("%s: Predict: %+v", name, err)
		}
		if !p.Shape().Eq(tensor.Shape{4, 1}) {
			t.Errorf("%s: Predict shape %v, want (4, 1)", name, p.Shape())
		}
		path := filepath.Join(t.TempDir(), "m.keragon")
		if err := m.Save(path); err != nil {
			t.Fatalf("%s: Save: %+v", name, err)
		}
		back, err := Load(path)
		if err != nil {
			t.Fatalf("%s: Load: %+v", name, err)
		}
		q, err := back.Predict(ids)
		if err != nil {
			t.Fatalf("%s: Predict after Load: %+v", name, err)
		}
		if err := identicalBits(p, q); err != nil {
			t.Errorf("%s: loaded model predicts differently: %v", name, err)
		}
	}
	// The embedding of one id per sample, value by value.
	e := &Embedding{InputDim: 4, OutputDim: 2}
	m := NewSequential(&Input{Shape: []int{}, Dtype: "float64"}, e)
	if err := m.ready(); err != nil {
		t.Fatal(err)
	}
	setFloats(e.table.Value, []float64{0, 1, 10, 11, 20, 21, 30, 31})
	out, err := m.Predict(denseOf(tensor.Float64, []float64{2, 0, 3}, 3))
	if err != nil {
		t.Fatal(err)
	}
	if err := closeTo(Values(out), []float64{20, 21, 0, 1, 30, 31}, 0, 0); err != nil || !out.Shape().Eq(tensor.Shape{3, 2}) {
		t.Errorf("Embedding of ids (3) = %v %v, want (3, 2) [20 21 0 1 30 31]: %v", out.Shape(), Values(out), err)
	}
	// A nil shape is still an error; an empty one is not.
	if _, err := (&Input{}).OutputShape(nil); err == nil {
		t.Error("Input without a Shape was accepted")
	}
}
