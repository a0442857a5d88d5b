package keras

import (
	"math"
	"strings"
	"testing"

	"github.com/keragon/keragon/graph"
	"gorgonia.org/tensor"
)

// maskedSeqModel is Embedding(mask_zero) → Dense(softmax) on each step: a
// masked sequence output.
func maskedSeqModel(t *testing.T) *Model {
	t.Helper()
	m := NewSequential(&Input{Shape: []int{4}}, &Embedding{InputDim: 6, OutputDim: 3, MaskZero: true},
		&Dense{Units: 4, Activation: "softmax"})
	m.SetSeed(3)
	if err := m.Compile(CompileConfig{Optimizer: "sgd", Loss: "sparse_categorical_crossentropy", Metrics: []string{"accuracy"}}); err != nil {
		t.Fatalf("%+v", err)
	}
	return m
}

// ids: sample 0 has 3 real steps, sample 1 has 2 (0 is padding).
var maskedIDs = []float64{5, 2, 1, 0, 3, 4, 0, 0}

func TestMaskedSequenceLossAndMetric(t *testing.T) {
	m := maskedSeqModel(t)
	x := denseOf(tensor.Float32, maskedIDs, 2, 4)
	y := denseOf(tensor.Float32, []float64{1, 2, 3, 0, 0, 1, 0, 0}, 2, 4)
	p, err := m.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	probs := floatsOf(p)
	ys := floatsOf(y)
	// Keras: Σ over real steps of −log p(label) / number of real steps;
	// accuracy over real steps only.
	var want, correct, real float64
	for i, id := range maskedIDs {
		if id == 0 {
			continue
		}
		real++
		row := probs[i*4 : (i+1)*4]
		want -= math.Log(row[int(ys[i])])
		best := 0
		for j := range row {
			if row[j] > row[best] {
				best = j
			}
		}
		if best == int(ys[i]) {
			correct++
		}
	}
	want /= real
	loss, metrics, err := m.Evaluate(x, y)
	if err != nil {
		t.Fatalf("%+v", err)
	}
	if math.Abs(loss-want) > 1e-5 {
		t.Errorf("masked loss %v, want %v (mean over the %v real steps)", loss, want, real)
	}
	if acc := metrics["accuracy"]; math.Abs(acc-correct/real) > 1e-9 {
		t.Errorf("masked accuracy %v, want %v/%v", acc, correct, real)
	}
}

// TestMaskedStepsAreInert: targets at padded steps change neither the loss
// nor the gradients.
func TestMaskedStepsAreInert(t *testing.T) {
	gradsFor := func(y []float64) (float64, [][]float32) {
		m := maskedSeqModel(t)
		p, err := m.Program(graph.Key{Mode: graph.Fit, Batch: 2})
		if err != nil {
			t.Fatalf("%+v", err)
		}
		sw := denseOf(tensor.Float32, []float64{1, 1}, 2)
		if err := p.Run(denseOf(tensor.Float32, maskedIDs, 2, 4), denseOf(tensor.Float32, y, 2, 4), sw); err != nil {
			t.Fatalf("%+v", err)
		}
		loss, _ := p.Loss()
		gs, err := p.Gradients()
		if err != nil {
			t.Fatal(err)
		}
		var out [][]float32
		for _, g := range gs {
			out = append(out, append([]float32(nil), g.Value.Data().([]float32)...))
		}
		return loss, out
	}
	l1, g1 := gradsFor([]float64{1, 2, 3, 0, 0, 1, 0, 0})
	l2, g2 := gradsFor([]float64{1, 2, 3, 3, 0, 1, 2, 1}) // other labels on padding
	if l1 != l2 {
		t.Errorf("loss changed with the labels of padded steps: %v vs %v", l1, l2)
	}
	for i := range g1 {
		for j := range g1[i] {
			if g1[i][j] != g2[i][j] {
				t.Fatalf("gradient %d changed with the labels of padded steps", i)
			}
		}
	}
	// The embedding row of the padding id gets no gradient.
	for j := 0; j < 3; j++ {
		if g1[0][j] != 0 {
			t.Errorf("embedding row 0 (padding) has gradient %v", g1[0][:3])
			break
		}
	}
}

func TestMaskingLayer(t *testing.T) {
	in := NewInput(3, 2)
	out := Apply(&Dense{Units: 2}, Apply(&Masking{MaskValue: -1}, in))
	m, err := NewModel([]*Tensor{in}, []*Tensor{out})
	if err != nil {
		t.Fatal(err)
	}
	m.SetSeed(1)
	if err := m.Compile(CompileConfig{Optimizer: "sgd", Loss: "mse"}); err != nil {
		t.Fatal(err)
	}
	x := denseOf(tensor.Float32, []float64{1, 2, -1, -1, 3, 4}, 1, 3, 2)
	masked, err := m.maskedOutputs()
	if err != nil || !masked[0] {
		t.Fatalf("Masking → Dense: output masked = %v, %v; want true", masked, err)
	}
	// Only steps 0 and 2 count: changing step 1's target leaves the loss.
	y1 := denseOf(tensor.Float32, []float64{0, 0, 0, 0, 0, 0}, 1, 3, 2)
	y2 := denseOf(tensor.Float32, []float64{0, 0, 9, 9, 0, 0}, 1, 3, 2)
	l1, _, err := m.Evaluate(x, y1)
	if err != nil {
		t.Fatal(err)
	}
	l2, _, _ := m.Evaluate(x, y2)
	if l1 != l2 {
		t.Errorf("a masked step's target changed the loss: %v vs %v", l1, l2)
	}
}

func TestEmbeddingBadIDs(t *testing.T) {
	m := maskedSeqModel(t)
	_, err := m.Predict(denseOf(tensor.Float32, []float64{1, 2, 6, 0}, 1, 4))
	if err == nil || !strings.Contains(err.Error(), "index 6 at position 2 is not a row of a table of 6") {
		t.Errorf("id outside the vocabulary: got %v", err)
	}
}
