package keras

import (
	"testing"

	"github.com/keragon/keragon/training"
	"gorgonia.org/tensor"
)

// TestSetTrainableFreezesWeights: a frozen layer's weights move to the
// non-trainable count, get no gradient and stay as they are in Fit, while
// the other layers train.
func TestSetTrainableFreezesWeights(t *testing.T) {
	first, second := &Dense{Units: 6, Activation: "relu"}, &Dense{Units: 3, Activation: "softmax"}
	m := NewSequential(&Input{Shape: []int{4}}, first, second)
	m.SetSeed(1)
	first.SetTrainable(false)
	if err := m.Compile(CompileConfig{Optimizer: &training.SGD{LearningRate: 0.1}, Loss: "sparse_categorical_crossentropy"}); err != nil {
		t.Fatal(err)
	}
	if tr, nt := m.CountParams(); tr != 6*3+3 || nt != 4*6+6 {
		t.Errorf("CountParams = %d trainable, %d not; want 21 and 30", tr, nt)
	}
	x, y := classificationData(1, 16, 4, 3, tensor.Float32)
	_, grads := fitGradients(t, m, x, y)
	if _, ok := grads["dense/kernel"]; ok || len(grads) != 2 {
		t.Errorf("gradients for %d weights (%v), want only dense_1's two", len(grads), keys(grads))
	}
	frozen, trained := snapshot(first.Weights()), snapshot(second.Weights())
	if _, err := m.Fit(x, y, FitConfig{Epochs: 2, BatchSize: 8}); err != nil {
		t.Fatal(err)
	}
	for i, w := range first.Weights() {
		if !sameFloats(floatsOf(w.Value), frozen[i]) {
			t.Errorf("frozen weight %s changed in Fit", w.Name)
		}
	}
	for i, w := range second.Weights() {
		if sameFloats(floatsOf(w.Value), trained[i]) {
			t.Errorf("trainable weight %s did not change in Fit", w.Name)
		}
	}

	// Unfreezing and compiling again trains the layer.
	first.SetTrainable(true)
	if err := m.Compile(CompileConfig{Optimizer: &training.SGD{LearningRate: 0.1}, Loss: "sparse_categorical_crossentropy"}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Fit(x, y, FitConfig{BatchSize: 16}); err != nil {
		t.Fatal(err)
	}
	if sameFloats(floatsOf(first.kernel.Value), frozen[0]) {
		t.Error("an unfrozen layer did not train")
	}
}

// TestFrozenBatchNormalizationRunsInInference: in Keras 3 a
// BatchNormalization with trainable = False normalises with its moving
// averages and leaves them alone, even in fit (the fine-tuning recipe).
func TestFrozenBatchNormalizationRunsInInference(t *testing.T) {
	bn := &BatchNormalization{}
	m := NewSequential(&Input{Shape: []int{3}}, bn, &Dense{Units: 1})
	m.SetSeed(1)
	bn.SetTrainable(false)
	if err := m.Compile(CompileConfig{Optimizer: "sgd", Loss: "mse"}); err != nil {
		t.Fatal(err)
	}
	x := randomTensor(newTestRand(1), tensor.Float32, 2, 5, 8, 3) // mean 3.5: far from the moving mean 0
	before := snapshot(bn.Weights())
	if _, err := m.Fit(x, randomTensor(newTestRand(2), tensor.Float32, -1, 1, 8, 1), FitConfig{BatchSize: 8}); err != nil {
		t.Fatal(err)
	}
	for i, w := range bn.Weights() {
		if !sameFloats(floatsOf(w.Value), before[i]) {
			t.Errorf("frozen BatchNormalization weight %s changed in Fit", w.Name)
		}
	}
}

func keys(m map[string][]float64) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
