package keras

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keragon/keragon/training"
	"gorgonia.org/tensor"
)

// TestViewsAreReadAsTheyLook: a column slice and a lazy transpose given to
// Predict, Evaluate and Fit behave exactly as their contiguous copies.
func TestViewsAreReadAsTheyLook(t *testing.T) {
	wide := randomTensor(newTestRand(3), tensor.Float32, -1, 1, 20, 6)
	// Columns 1..4 of wide: a view whose rows are not contiguous.
	cols, err := wide.Slice(nil, tensor.S(1, 5))
	if err != nil {
		t.Fatal(err)
	}
	colView := cols.(*tensor.Dense)
	tall := randomTensor(newTestRand(4), tensor.Float32, -1, 1, 4, 20)
	transposed := tall.ShallowClone()
	if err := transposed.T(); err != nil {
		t.Fatal(err)
	}
	_, labels := classificationData(5, 20, 4, 3, tensor.Float32)
	for name, view := range map[string]*tensor.Dense{"column slice": colView, "transpose": transposed} {
		plain := view.Materialize().(*tensor.Dense)
		if plain == view {
			t.Fatalf("%s: the test's view is not a view", name)
		}
		m := classifier(t)
		want, err := m.Predict(plain)
		if err != nil {
			t.Fatal(err)
		}
		got, err := m.Predict(view)
		if err != nil {
			t.Fatalf("%s: Predict: %v", name, err)
		}
		if err := identicalBits(got, want); err != nil {
			t.Errorf("%s: Predict differs from the contiguous copy's: %v", name, err)
		}
		wantLoss, _, _ := m.Evaluate(plain, labels)
		gotLoss, _, err := m.Evaluate(view, labels)
		if err != nil || gotLoss != wantLoss {
			t.Errorf("%s: Evaluate = %v, %v; want %v", name, gotLoss, err, wantLoss)
		}
		a, b := classifier(t), classifier(t)
		if _, err := a.Fit(plain, labels, FitConfig{Epochs: 2, BatchSize: 5}); err != nil {
			t.Fatal(err)
		}
		if _, err := b.Fit(view, labels, FitConfig{Epochs: 2, BatchSize: 5, ValidationSplit: 0.2}); err != nil {
			t.Fatalf("%s: Fit: %v", name, err)
		}
		c := classifier(t)
		if _, err := c.Fit(view, labels, FitConfig{Epochs: 2, BatchSize: 5}); err != nil {
			t.Fatal(err)
		}
		for i, w := range a.Weights() {
			if err := identicalBits(w.Value, c.Weights()[i].Value); err != nil {
				t.Errorf("%s: Fit on the view trained %s differently: %v", name, w.Name, err)
			}
		}
	}
}

// TestServiceBadInput: each mistake a caller can make is an error that
// names it, and leaves the model usable.
func TestServiceBadInput(t *testing.T) {
	x, labels := classificationData(3, 10, 4, 3, tensor.Float32)
	nan := withValue(x, 9, math.NaN())
	inf := withValue(x, 13, math.Inf(-1))
	cases := []struct {
		name string
		run  func(m *Model) error
		want string
	}{
		{"Predict, NaN input", func(m *Model) error { _, err := m.Predict(nan); return err }, "input 0 holds NaN at sample 2"},
		{"Predict, -Inf input", func(m *Model) error { _, err := m.Predict(inf); return err }, "input 0 holds -Inf at sample 3"},
		{"Evaluate, NaN input", func(m *Model) error { _, _, err := m.Evaluate(nan, labels); return err }, "holds NaN at sample 2"},
		{"Evaluate, negative batch", func(m *Model) error { _, _, err := m.Evaluate(x, labels, EvalConfig{BatchSize: -5}); return err }, "BatchSize must be positive"},
		{"Predict, negative batch", func(m *Model) error { _, err := m.Predict(x, EvalConfig{BatchSize: -5}); return err }, "BatchSize must be positive"},
		{"Predict, two configs", func(m *Model) error { _, err := m.Predict(x, EvalConfig{}, EvalConfig{}); return err }, "at most one EvalConfig"},
		{"Fit, NaN validation split", func(m *Model) error {
			_, err := m.Fit(x, labels, FitConfig{ValidationSplit: math.NaN()})
			return err
		}, "validation split must be in (0, 1), got NaN"},
		{"Fit, negative validation split", func(m *Model) error {
			_, err := m.Fit(x, labels, FitConfig{ValidationSplit: -0.1})
			return err
		}, "validation split must be in (0, 1), got -0.1"},
		{"Fit, split and data", func(m *Model) error {
			_, err := m.Fit(x, labels, FitConfig{ValidationSplit: 0.2, ValidationData: XY(x, labels)})
			return err
		}, "not both"},
		{"Fit, negative class weight", func(m *Model) error {
			_, err := m.Fit(x, labels, FitConfig{ClassWeight: map[int]float64{0: 1, 1: -2, 2: 1}})
			return err
		}, "ClassWeight[1] = -2 is not a finite non-negative number"},
		{"Fit, NaN class weight", func(m *Model) error {
			_, err := m.Fit(x, labels, FitConfig{ClassWeight: map[int]float64{0: 1, 1: 1, 2: math.NaN()}})
			return err
		}, "ClassWeight[2] = NaN"},
		{"Fit, verbose 3", func(m *Model) error { _, err := m.Fit(x, labels, FitConfig{Verbose: 3}); return err }, "Verbose must be 0, 1 or 2, got 3"},
		{"Fit, negative validation batch", func(m *Model) error {
			_, err := m.Fit(x, labels, FitConfig{ValidationBatchSize: -1})
			return err
		}, "must not be negative"},
		{"Add after Compile", func(m *Model) error { return m.Add(&Dense{Units: 2}) }, "cannot Add a layer after the model is compiled"},
	}
	for _, c := range cases {
		m := classifier(t)
		err := noPanic(t, c.name, func() error { return c.run(m) })
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want it to contain %q", c.name, err, c.want)
			continue
		}
		// The model is still whole: it trains, predicts and saves.
		if _, err := m.Fit(x, labels, FitConfig{Epochs: 1}); err != nil {
			t.Errorf("%s: Fit afterwards: %v", c.name, err)
		}
		if _, err := m.Predict(x); err != nil {
			t.Errorf("%s: Predict afterwards: %v", c.name, err)
		}
		if err := m.Save(filepath.Join(t.TempDir(), "m.keragon")); err != nil {
			t.Errorf("%s: Save afterwards: %v", c.name, err)
		}
	}
	// AllowNonFinite predicts anyway; the NaN row's output is NaN or not,
	// as the layers make it, and the other rows are unchanged.
	m := classifier(t)
	want, _ := m.Predict(x)
	got, err := m.Predict(nan, EvalConfig{AllowNonFinite: true})
	if err != nil {
		t.Fatalf("AllowNonFinite: %v", err)
	}
	g, w := floatsOf(got), floatsOf(want)
	for i := range g {
		if i/3 != 2 && g[i] != w[i] {
			t.Fatalf("AllowNonFinite: output %d = %v, want %v", i, g[i], w[i])
		}
	}
}

// TestHelpersReadViews: Values and Rows read a transposed tensor and a
// column slice as they look.
func TestHelpersReadViews(t *testing.T) {
	x := f32([]float64{1, 2, 3, 4, 5, 6}, 2, 3)
	tr := x.ShallowClone()
	if err := tr.T(); err != nil {
		t.Fatal(err)
	}
	if got, want := Values(tr), []float64{1, 4, 2, 5, 3, 6}; !sameFloats(got, want) {
		t.Errorf("Values of the transpose = %v, want %v", got, want)
	}
	col, err := x.Slice(nil, tensor.S(2, 3))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := Values(col.(*tensor.Dense)), []float64{3, 6}; !sameFloats(got, want) {
		t.Errorf("Values of column 2 = %v, want %v", got, want)
	}
	r, err := Rows(tr, 2, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := Values(r), []float64{3, 6, 1, 4}; !sameFloats(got, want) {
		t.Errorf("Rows(transpose, 2, 0) = %v, want %v", got, want)
	}
}

// TestCompileChecksTheOptimizer: bad hyperparameters are refused at
// Compile, before any data is seen.
func TestCompileChecksTheOptimizer(t *testing.T) {
	cases := []struct {
		opt  training.Optimizer
		want string
	}{
		{&training.Adam{LearningRate: math.NaN()}, "adam learning rate is NaN"},
		{&training.SGD{LearningRate: -0.1}, "sgd learning rate is -0.1"},
		{&training.Adam{Beta1: training.Float(1.5)}, "adam"},
		{&training.RMSprop{Rho: training.Float(math.Inf(1))}, "rmsprop"},
		{&training.Adam{ClipNorm: 1, ClipValue: 1}, "only one of ClipNorm, ClipValue and GlobalClipNorm"},
		{&training.SGD{Momentum: -1}, "sgd"},
	}
	for i, c := range cases {
		m := NewSequential(&Input{Shape: []int{4}}, &Dense{Units: 1})
		err := m.Compile(CompileConfig{Optimizer: c.opt, Loss: "mse"})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("case %d (%T): error %v, want it to contain %q", i, c.opt, err, c.want)
		}
	}
}
