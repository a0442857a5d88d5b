package keras

import (
	"path/filepath"
	"testing"

	"gorgonia.org/tensor"
)

// TestNewLayersSaveAndLoad saves models made of every layer added for
// issue 15 and loads them back: same configs, same weights, the same
// predictions, bit for bit.
func TestNewLayersSaveAndLoad(t *testing.T) {
	rng := newTestRand(11)
	models := map[string]func() (*Model, []*tensor.Dense){
		"sequence": func() (*Model, []*tensor.Dense) {
			ids := NewInput(5)
			h := Apply(&TokenAndPositionEmbedding{VocabularySize: 7, SequenceLength: 5, EmbeddingDim: 4, MaskZero: true}, ids)
			a := Apply(&MultiHeadAttention{NumHeads: 2, KeyDim: 2, Dropout: 0.1, UseCausalMask: true}, h, h)
			h = Apply(&Add{}, h, a)
			h = Apply(&Average{}, h, Apply(&Multiply{}, h, h), Apply(&Maximum{}, h, Apply(&Minimum{}, h, a)))
			h = Apply(&Subtract{}, h, Apply(&SinePositionEncoding{}, h))
			h = Apply(&Concatenate{}, h, Apply(&PositionEmbedding{SequenceLength: 6}, h))
			g := Apply(&GRU{Units: 3, ResetBefore: true, ReturnSequences: true}, h)
			fb := ApplyMulti(&Bidirectional{Layer: &LSTM{Units: 2}, MergeMode: "none"}, g)
			y := Apply(&Dot{Axes: []int{1}, Normalize: true}, fb[0], fb[1])
			m, err := NewModel([]*Tensor{ids}, []*Tensor{y})
			if err != nil {
				t.Fatal(err)
			}
			return m, []*tensor.Dense{denseOf(tensor.Float32, []float64{0, 1, 2, 3, 4, 0, 0, 6, 5, 1}, 2, 5)}
		},
		"image": func() (*Model, []*tensor.Dense) {
			m := NewSequential(&Input{Shape: []int{6, 6, 2}},
				&Rescaling{Scale: 2, Offset: -1}, &RandomFlip{}, &RandomRotation{Factor: []float64{0.1}},
				&RandomTranslation{HeightFactor: []float64{0.1}, WidthFactor: []float64{0.1}},
				&RandomZoom{HeightFactor: []float64{0.1}}, &RandomContrast{Factor: []float64{0.2}, ValueRange: []float64{-1, 1}},
				&SeparableConv2D{Filters: 3, KernelSize: []int{3}, DepthMultiplier: 2},
				&Conv2DTranspose{Filters: 2, KernelSize: []int{2}, Strides: []int{2}, OutputPadding: []int{1}},
				&Normalization{}, &Flatten{}, &Dense{Units: 1})
			return m, []*tensor.Dense{randomTensor(rng, tensor.Float32, 0, 1, 3, 6, 6, 2)}
		},
		"table": func() (*Model, []*tensor.Dense) {
			city := Apply(&Input{Shape: []int{}, Dtype: "string"})
			code := NewInput(2)
			num := NewInput(1)
			h := Apply(&Concatenate{},
				Apply(&StringLookup{Vocabulary: []string{"a", "b"}, OutputMode: "one_hot"}, city),
				Apply(&IntegerLookup{Vocabulary: []int{7, 9}, OutputMode: "multi_hot"}, code),
				Apply(&CategoryEncoding{NumTokens: 3, OutputMode: "count"}, Apply(&Discretization{BinBoundaries: []float64{0, 1}}, num)),
				Apply(&Normalization{Mean: []float64{0.5}, Variance: []float64{4}}, num))
			y := Apply(&Dense{Units: 1}, h)
			m, err := NewModel([]*Tensor{city, code, num}, []*Tensor{y})
			if err != nil {
				t.Fatal(err)
			}
			s, _ := Strings([]string{"a", "b", "z"})
			return m, []*tensor.Dense{s, denseOf(tensor.Float32, []float64{7, 9, 9, 1, 0, 7}, 3, 2), denseOf(tensor.Float32, []float64{-1, 0.5, 3}, 3, 1)}
		},
	}
	for name, mk := range models {
		m, xs := mk()
		m.SetSeed(4)
		if err := m.Compile(CompileConfig{Optimizer: "adam", Loss: "mse"}); err != nil {
			t.Fatalf("%s: %+v", name, err)
		}
		ys := []*tensor.Dense{randomTensor(rng, tensor.Float32, 0, 0, append([]int{xs[0].Shape()[0]}, m.Outputs()[0].Shape()...)...)}
		if _, err := m.FitMulti(xs, ys, FitConfig{Epochs: 1, BatchSize: 2}); err != nil {
			t.Fatalf("%s: Fit: %+v", name, err)
		}
		p1, err := m.PredictMulti(xs)
		if err != nil {
			t.Fatalf("%s: %+v", name, err)
		}
		path := filepath.Join(t.TempDir(), name+".keragon")
		if err := m.Save(path); err != nil {
			t.Fatalf("%s: Save: %+v", name, err)
		}
		back, err := Load(path)
		if err != nil {
			t.Fatalf("%s: Load: %+v", name, err)
		}
		p2, err := back.PredictMulti(xs)
		if err != nil {
			t.Fatalf("%s: Predict after Load: %+v", name, err)
		}
		if err := identicalBits(p1[0], p2[0]); err != nil {
			t.Errorf("%s: the loaded model predicts differently: %v", name, err)
		}
		if _, err := back.FitMulti(xs, ys, FitConfig{Epochs: 1, BatchSize: 2}); err != nil {
			t.Errorf("%s: training the loaded model: %+v", name, err)
		}
	}
}
