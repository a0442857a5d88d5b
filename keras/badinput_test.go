package keras

import (
	"math"
	"strings"
	"testing"

	"github.com/keragon/keragon/training"
	"gorgonia.org/tensor"
)

// classifier is Input(4) → Dense(8, relu) → Dense(3, softmax), compiled
// for sparse labels.
func classifier(t *testing.T) *Model {
	t.Helper()
	m := NewSequential(&Input{Shape: []int{4}}, &Dense{Units: 8, Activation: "relu"}, &Dense{Units: 3, Activation: "softmax"})
	m.SetSeed(1)
	if err := m.Compile(CompileConfig{Optimizer: "adam", Loss: "sparse_categorical_crossentropy", Metrics: []string{"accuracy"}}); err != nil {
		t.Fatal(err)
	}
	return m
}

// regressor is Input(4) → Dense(1), compiled with mse.
func regressor(t *testing.T, opt any) *Model {
	t.Helper()
	m := NewSequential(&Input{Shape: []int{4}}, &Dense{Units: 1})
	m.SetSeed(1)
	if err := m.Compile(CompileConfig{Optimizer: opt, Loss: "mse"}); err != nil {
		t.Fatal(err)
	}
	return m
}

// f32 makes a float32 tensor from values.
func f32(v []float64, shape ...int) *tensor.Dense { return denseOf(tensor.Float32, v, shape...) }

// withValue returns a copy of t with value v at flat index i.
func withValue(t *tensor.Dense, i int, v float64) *tensor.Dense {
	d := append([]float64(nil), floatsOf(t)...)
	d[i] = v
	return denseOf(t.Dtype(), d, t.Shape()...)
}

// TestBadInputErrors: every mistake at the public API is an error that
// says what is wrong, never a panic.
func TestBadInputErrors(t *testing.T) {
	x, labels := classificationData(3, 10, 4, 3, tensor.Float32)
	targets := randomTensor(newTestRand(4), tensor.Float32, -1, 1, 10, 1)
	fitErr := func(m *Model, x, y *tensor.Dense, cfg FitConfig) error {
		_, err := m.Fit(x, y, cfg)
		return err
	}
	cases := []struct {
		name string
		run  func() error
		want []string
	}{
		{"Predict, wrong sample shape", func() error {
			_, err := classifier(t).Predict(randomTensor(newTestRand(1), tensor.Float32, -1, 1, 3, 5))
			return err
		}, []string{`input 0 ("input_layer") expects shape (None, 4), got (3, 5)`}},
		{"Fit, wrong sample shape", func() error {
			return fitErr(classifier(t), randomTensor(newTestRand(1), tensor.Float32, -1, 1, 10, 2, 2), labels, FitConfig{})
		}, []string{"expects shape (None, 4), got (10, 2, 2)"}},
		{"Evaluate, a vector instead of a matrix", func() error {
			_, _, err := classifier(t).Evaluate(f32([]float64{1, 2, 3, 4}, 4), f32([]float64{0}, 1))
			return err
		}, []string{"expects shape (None, 4), got (4)"}},
		{"PredictMulti, two inputs for one", func() error {
			_, err := classifier(t).PredictMulti([]*tensor.Dense{x, x})
			return err
		}, []string{"the model takes 1 inputs, got 2"}},
		{"FitMulti, two targets for one output", func() error {
			_, err := classifier(t).FitMulti([]*tensor.Dense{x}, []*tensor.Dense{labels, labels}, FitConfig{})
			return err
		}, []string{"the model has 1 outputs, got 2 targets"}},
		{"Fit, targets for other samples", func() error {
			return fitErr(classifier(t), x, f32([]float64{0, 1}, 2), FitConfig{})
		}, []string{"target 0 has shape (2), want 10 samples"}},
		{"Fit, an int input", func() error {
			xi := tensor.New(tensor.WithShape(10, 4), tensor.Of(tensor.Int))
			return fitErr(classifier(t), xi, labels, FitConfig{})
		}, []string{"must be float32 or float64, got int"}},
		{"Fit, label out of range", func() error {
			return fitErr(classifier(t), x, withValue(labels, 6, 3), FitConfig{})
		}, []string{"label 3 at sample 6 is not a class index in [0, 3)"}},
		{"Fit, negative label", func() error {
			return fitErr(classifier(t), x, withValue(labels, 0, -1), FitConfig{})
		}, []string{"label -1 at sample 0 is not a class index in [0, 3)"}},
		{"Fit, non-integer label", func() error {
			return fitErr(classifier(t), x, withValue(labels, 2, 1.5), FitConfig{})
		}, []string{"label 1.5 at sample 2 is not a class index"}},
		{"Evaluate, non-integer label", func() error {
			_, _, err := classifier(t).Evaluate(x, withValue(labels, 9, 0.25))
			return err
		}, []string{"label 0.25 at sample 9"}},
		{"Fit, one-hot labels for a sparse loss", func() error {
			return fitErr(classifier(t), x, randomTensor(newTestRand(2), tensor.Float32, 0, 1, 10, 3), FitConfig{})
		}, []string{"should have shape (None,), got (10, 3)", "sparse labels are class indices"}},
		{"Fit, NaN in inputs", func() error {
			return fitErr(classifier(t), withValue(x, 4*7+1, math.NaN()), labels, FitConfig{})
		}, []string{"input 0 holds NaN at sample 7"}},
		{"Fit, Inf in inputs", func() error {
			return fitErr(classifier(t), withValue(x, 0, math.Inf(1)), labels, FitConfig{})
		}, []string{"input 0 holds +Inf at sample 0"}},
		{"Evaluate, NaN in inputs", func() error {
			_, _, err := classifier(t).Evaluate(withValue(x, 5, math.NaN()), labels)
			return err
		}, []string{"input 0 holds NaN at sample 1"}},
		{"Fit, NaN in targets", func() error {
			return fitErr(regressor(t, "sgd"), x, withValue(targets, 3, math.NaN()), FitConfig{})
		}, []string{"target 0 holds NaN at sample 3"}},
		{"Fit, NaN label", func() error {
			return fitErr(classifier(t), x, withValue(labels, 5, math.NaN()), FitConfig{})
		}, []string{"label NaN at sample 5 is not a class index"}},
		{"Fit, NaN in validation data", func() error {
			return fitErr(regressor(t, "sgd"), x, targets, FitConfig{ValidationData: XY(x, withValue(targets, 0, math.NaN()))})
		}, []string{"validation data", "target 0 holds NaN at sample 0"}},
		{"Fit, empty dataset", func() error {
			return fitErr(classifier(t), f32(nil, 0, 4), f32(nil, 0), FitConfig{})
		}, []string{"no samples"}},
		{"Predict, empty input", func() error {
			_, err := classifier(t).Predict(f32(nil, 0, 4))
			return err
		}, []string{"no samples"}},
		{"Fit, nil input", func() error { return fitErr(classifier(t), nil, labels, FitConfig{}) }, []string{"input 0", "is nil"}},
		{"Fit, nil target", func() error { return fitErr(classifier(t), x, nil, FitConfig{}) }, []string{"target 0 is nil"}},
		{"exploding loss", func() error {
			return fitErr(regressor(t, &training.SGD{LearningRate: 1e30}), x, targets, FitConfig{Epochs: 3, BatchSize: 2})
		}, []string{"the loss became", "at epoch 1, batch 2", "diverged"}},
		{"unknown optimizer", func() error {
			return classifier(t).Compile(CompileConfig{Optimizer: "adamm", Loss: "mse"})
		}, []string{`unknown optimizer "adamm"`, "adam"}},
		{"an optimizer of the wrong type", func() error {
			return classifier(t).Compile(CompileConfig{Optimizer: 0.01, Loss: "mse"})
		}, []string{"Optimizer must be a training.Optimizer or a name, got float64"}},
		{"unknown loss", func() error {
			return classifier(t).Compile(CompileConfig{Loss: "msee"})
		}, []string{`unknown loss "msee"`, "mean_squared_error"}},
		{"no loss", func() error { return classifier(t).Compile(CompileConfig{}) }, []string{"Compile needs a Loss"}},
		{"unknown metric", func() error {
			return classifier(t).Compile(CompileConfig{Loss: "mse", Metrics: []string{"acuracy"}})
		}, []string{`unknown metric "acuracy"`}},
		{"loss weights for other outputs", func() error {
			return classifier(t).Compile(CompileConfig{Loss: "mse", LossWeights: []float64{1, 2}})
		}, []string{"2 loss weights for 1 outputs"}},
		{"unknown activation", func() error {
			return NewSequential(&Input{Shape: []int{4}}, &Dense{Units: 2, Activation: "rellu"}).Err()
		}, []string{`unknown activation "rellu"`, "relu"}},
		{"unknown initializer", func() error {
			return NewSequential(&Input{Shape: []int{4}}, &Dense{Units: 2, KernelInitializer: "glorot"}).Err()
		}, []string{`building layer "dense" (Dense)`, `unknown initializer "glorot"`, "glorot_uniform"}},
		{"Fit before Compile", func() error {
			return fitErr(NewSequential(&Input{Shape: []int{4}}, &Dense{Units: 3}), x, labels, FitConfig{})
		}, []string{"Fit before Compile"}},
		{"Evaluate before Compile", func() error {
			_, _, err := NewSequential(&Input{Shape: []int{4}}, &Dense{Units: 3}).Evaluate(x, labels)
			return err
		}, []string{"Evaluate before Compile"}},
		{"Units 0", func() error {
			return NewSequential(&Input{Shape: []int{4}}, &Dense{Units: 0}).Err()
		}, []string{"Dense needs a positive Units, got 0"}},
		{"Units < 0", func() error {
			return NewSequential(&Input{Shape: []int{4}}, &Dense{Units: -3}).Err()
		}, []string{"Dense needs a positive Units, got -3"}},
		{"Dropout rate 1", func() error {
			return NewSequential(&Input{Shape: []int{4}}, &Dropout{Rate: 1}).Err()
		}, []string{"Dropout rate must be in [0, 1), got 1"}},
		{"sample weights for other samples", func() error {
			return fitErr(classifier(t), x, labels, FitConfig{SampleWeight: f32([]float64{1, 2}, 2)})
		}, []string{"SampleWeight has shape (2), want (10)"}},
		{"a negative sample weight", func() error {
			return fitErr(classifier(t), x, labels, FitConfig{SampleWeight: withValue(onesTensor(tensor.Float32, 10), 4, -1)})
		}, []string{"sample weight -1 at sample 4 is not a finite non-negative number"}},
		{"a class without a class weight", func() error {
			return fitErr(classifier(t), x, labels, FitConfig{ClassWeight: map[int]float64{0: 1}})
		}, []string{"ClassWeight has no weight for class"}},
		{"validation split out of range", func() error {
			return fitErr(classifier(t), x, labels, FitConfig{ValidationSplit: 1.5})
		}, []string{"validation split must be in (0, 1), got 1.5"}},
		{"validation split leaving nothing", func() error {
			return fitErr(classifier(t), x, labels, FitConfig{ValidationSplit: 0.05})
		}, []string{"validation split 0.05 of 10 samples leaves an empty set"}},
		{"negative epochs", func() error {
			return fitErr(classifier(t), x, labels, FitConfig{Epochs: -1})
		}, []string{"must not be negative"}},
	}
	for _, c := range cases {
		err := noPanic(t, c.name, c.run)
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q, want it to contain %q", c.name, err, w)
			}
		}
	}
}
