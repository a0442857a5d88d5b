package keras

import (
	"math"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/keragon/keragon/training"
	"gorgonia.org/tensor"
)

// twoInputTwoOutput is a functional model with two inputs and two
// outputs: a class ("label", softmax over 3) from the first input and a
// score ("score") from the second.
func twoInputTwoOutput(t *testing.T) *Model {
	t.Helper()
	a, b := NewInput(4), NewInput(3)
	h := Apply(&Dense{Units: 8, Activation: "tanh"}, a)
	g := Apply(&Dense{Units: 5, Activation: "relu"}, b)
	label := Apply(&Dense{Units: 3, Activation: "softmax", Name: "label"}, h)
	score := Apply(&Dense{Units: 1, Name: "score"}, g)
	m, err := NewModel([]*Tensor{a, b}, []*Tensor{label, score})
	if err != nil {
		t.Fatalf("%+v", err)
	}
	m.SetSeed(4)
	return m
}

func twoOutputData() (xs, ys []*tensor.Dense) {
	xa, labels := classificationData(6, 40, 4, 3, tensor.Float32)
	xb := randomTensor(newTestRand(7), tensor.Float32, -1, 1, 40, 3)
	score := randomTensor(newTestRand(8), tensor.Float32, -1, 1, 40, 1)
	return []*tensor.Dense{xa, xb}, []*tensor.Dense{labels, score}
}

// TestPerOutputCompile: losses, loss weights and metrics given by output
// name; the logs name each output's loss and metrics, the total is the
// weighted sum, and per-output losses are unweighted, as in Keras 3.
func TestPerOutputCompile(t *testing.T) {
	xs, ys := twoOutputData()
	evaluate := func(weights map[string]float64) (float64, map[string]float64, *training.History) {
		m := twoInputTwoOutput(t)
		err := m.Compile(CompileConfig{
			Optimizer:   &training.SGD{LearningRate: 0.05},
			Loss:        map[string]string{"label": "sparse_categorical_crossentropy", "score": "mse"},
			LossWeights: weights,
			Metrics:     map[string][]string{"label": {"accuracy"}, "score": {"mae"}},
		})
		if err != nil {
			t.Fatalf("%+v", err)
		}
		hist, err := m.FitMulti(xs, ys, FitConfig{Epochs: 2, BatchSize: 16, NoShuffle: true, ValidationData: &Data{X: xs, Y: ys}})
		if err != nil {
			t.Fatalf("%+v", err)
		}
		loss, metrics, err := m.EvaluateMulti(xs, ys, EvalConfig{BatchSize: 16})
		if err != nil {
			t.Fatal(err)
		}
		return loss, metrics, hist
	}
	loss, metrics, hist := evaluate(map[string]float64{"label": 2, "score": 0.5})
	var keys []string
	for k := range hist.Values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	want := "label_accuracy label_loss loss score_loss score_mae val_label_accuracy val_label_loss val_loss val_score_loss val_score_mae"
	if got := strings.Join(keys, " "); got != want {
		t.Errorf("History keys %q, want %q", got, want)
	}
	if got, want := loss, 2*metrics["label_loss"]+0.5*metrics["score_loss"]; math.Abs(got-want) > 1e-5*math.Abs(want) {
		t.Errorf("Evaluate: loss %v, want 2·label_loss + 0.5·score_loss = %v", got, want)
	}
	// Before any step the per-output losses do not depend on the weights
	// of the total; compare on fresh models evaluated without training.
	fresh := func(weights map[string]float64) map[string]float64 {
		m := twoInputTwoOutput(t)
		if err := m.Compile(CompileConfig{Loss: []string{"sparse_categorical_crossentropy", "mse"}, LossWeights: weights}); err != nil {
			t.Fatal(err)
		}
		_, mt, err := m.EvaluateMulti(xs, ys)
		if err != nil {
			t.Fatal(err)
		}
		return mt
	}
	a, b := fresh(map[string]float64{"label": 2, "score": 0.5}), fresh(nil)
	for _, k := range []string{"label_loss", "score_loss"} {
		if a[k] != b[k] || a[k] == 0 {
			t.Errorf("%s with loss weights %v, without %v: want equal (unweighted), non-zero", k, a[k], b[k])
		}
	}
}

// TestPerOutputCompileSaveLoad: per-output metrics and loss weights come
// back from a saved file.
func TestPerOutputCompileSaveLoad(t *testing.T) {
	xs, ys := twoOutputData()
	m := twoInputTwoOutput(t)
	if err := m.Compile(CompileConfig{Loss: []any{"sparse_categorical_crossentropy", Loss{Name: "huber", Delta: 0.5}},
		LossWeights: []float64{1, 3}, Metrics: [][]string{{"accuracy"}, {"mse", "mae"}}}); err != nil {
		t.Fatal(err)
	}
	wantLoss, wantMetrics, err := m.EvaluateMulti(xs, ys)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "two.keragon")
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	back, err := Load(path)
	if err != nil {
		t.Fatalf("%+v", err)
	}
	loss, metrics, err := back.EvaluateMulti(xs, ys)
	if err != nil {
		t.Fatal(err)
	}
	if loss != wantLoss || len(metrics) != len(wantMetrics) {
		t.Errorf("loaded: loss %v, metrics %v; want %v, %v", loss, metrics, wantLoss, wantMetrics)
	}
	for k, v := range wantMetrics {
		if metrics[k] != v {
			t.Errorf("loaded: %s = %v, want %v", k, metrics[k], v)
		}
	}
}

// TestPerOutputCompileErrors: names that are not outputs, missing
// outputs and bad weights are errors that say so.
func TestPerOutputCompileErrors(t *testing.T) {
	cases := []struct {
		cfg  CompileConfig
		want string
	}{
		{CompileConfig{Loss: map[string]string{"label": "mse", "scor": "mse"}}, `Loss names "scor", which is not an output (outputs: label, score)`},
		{CompileConfig{Loss: map[string]string{"label": "mse"}}, `no loss for output "score"`},
		{CompileConfig{Loss: "mse", LossWeights: map[string]float64{"label": 1}}, `LossWeights has no weight for output "score"`},
		{CompileConfig{Loss: "mse", LossWeights: map[string]float64{"label": 1, "score": -1}}, `the loss weight of output "score" is -1`},
		{CompileConfig{Loss: "mse", LossWeights: []float64{1}}, "1 loss weights for 2 outputs"},
		{CompileConfig{Loss: "mse", LossWeights: "heavy"}, "LossWeights must be a []float64 or a map[string]float64, got string"},
		{CompileConfig{Loss: "mse", Metrics: map[string][]string{"lable": {"mae"}}}, `Metrics names "lable"`},
		{CompileConfig{Loss: "mse", Metrics: [][]string{{"mae"}}}, "metrics for 1 outputs, the model has 2"},
		{CompileConfig{Loss: "mse", Metrics: map[string][]string{"score": {"nonsense"}}}, `output "score"`},
	}
	for i, c := range cases {
		err := twoInputTwoOutput(t).Compile(c.cfg)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("case %d: error %v, want it to contain %q", i, err, c.want)
		}
	}
}
