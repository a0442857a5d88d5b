package keras

import (
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keragon/keragon/training"
	"gorgonia.org/tensor"
)

// convergingAdam is Adam with a rate decaying tenfold every 2,200 steps,
// from 0.05: full-batch training with it gets within ~1e-4 of an SVM's
// optimum in a few thousand steps, the non-smooth hinge included.
func convergingAdam() *training.Adam {
	return &training.Adam{Schedule: training.ExponentialDecay{InitialLearningRate: 0.05, DecaySteps: 100, DecayRate: 0.9}}
}

// trainSVM makes an SVM and trains it full-batch.
func trainSVM(t *testing.T, cfg SVMConfig, x, y *tensor.Dense, epochs int) *Model {
	t.Helper()
	m, err := NewLinearSVM(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Fit(x, y, FitConfig{Epochs: epochs, BatchSize: x.Shape()[0]}); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestSVMKnownSolution: two points per class, positives at (3, ±1) and
// negatives at (1, ±1), unpenalised intercept. With s = a·x₁ + b (w₂ = 0 by
// symmetry) and n = 4 the objective is ½a² + C·Σ loss:
//
//   - hinge: for C > ¼ the hard-margin solution, a = 1, b = −2: the
//     classes lie 2 apart, the margin 2/‖w‖ = 2 spans the gap, and every
//     point is a support vector with y·s = 1;
//   - squared hinge: the loss balances the margin: at the optimum
//     1 − y·s = 1 − a for every point (b = −2a) and ½a² + 4C(1 − a)² is
//     least at a = 8C/(1 + 8C): 8/9 for C = 1, 4/9 for C = 0.1.
//
// Labels ±1 and 0/1 give the same, in float64 and float32.
func TestSVMKnownSolution(t *testing.T) {
	xv := []float64{3, 1, 3, -1, 1, 1, 1, -1}
	cases := []struct {
		loss    string
		c       float64
		labels  []float64
		dtype   tensor.Dtype
		w1, b   float64
		support bool // every point on the margin: y·s = 1
	}{
		{"hinge", 1, []float64{1, 1, -1, -1}, tensor.Float64, 1, -2, true},
		{"hinge", 1, []float64{1, 1, 0, 0}, tensor.Float32, 1, -2, true},
		{"hinge", 0.5, []float64{1, 1, 0, 0}, tensor.Float64, 1, -2, true},
		{"squared_hinge", 1, []float64{1, 1, 0, 0}, tensor.Float64, 8.0 / 9, -16.0 / 9, false},
		{"", 0.1, []float64{1, 1, -1, -1}, tensor.Float64, 4.0 / 9, -8.0 / 9, false},
		{"squared_hinge", 1, []float64{1, 1, -1, -1}, tensor.Float32, 8.0 / 9, -16.0 / 9, false},
	}
	for _, c := range cases {
		name := fmt.Sprintf("%s C=%g labels %v %v", c.loss, c.c, c.labels, c.dtype)
		dt := map[tensor.Dtype]string{tensor.Float32: "float32", tensor.Float64: "float64"}[c.dtype]
		x, y := denseOf(c.dtype, xv, 4, 2), denseOf(c.dtype, c.labels, 4)
		m := trainSVM(t, SVMConfig{Features: 2, Classes: 2, C: c.c, Samples: 4, Loss: c.loss, Dtype: dt,
			Optimizer: convergingAdam()}, x, y, 3000)
		tol := 1e-3
		if c.dtype == tensor.Float32 {
			tol = 3e-3
		}
		ws := m.Weights()
		if err := closeTo(floatsOf(ws[0].Value), []float64{c.w1, 0}, tol, 0); err != nil {
			t.Errorf("%s: w: %v", name, err)
		}
		if err := closeTo(floatsOf(ws[1].Value), []float64{c.b}, tol, 0); err != nil {
			t.Errorf("%s: b: %v", name, err)
		}
		s, err := DecisionFunction(m, x)
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range floatsOf(s) {
			margin := math.Copysign(1, c.labels[i]-0.5) * v
			want := c.w1 // y·s = a·(3 − 2) for the positives, a·(2 − 1) for the negatives
			if c.support {
				want = 1
			}
			if math.Abs(margin-want) > 2*tol {
				t.Errorf("%s: sample %d: y·s = %v, want %v", name, i, margin, want)
			}
		}
		if acc, err := ClassAccuracy(m, x, y); err != nil || acc != 1 {
			t.Errorf("%s: accuracy %v (error %v), want 1", name, acc, err)
		}
	}
}

// TestSVMAlphaIsCAndSamples: Alpha = 1/(C·n) gives the same model as C
// and Samples n.
func TestSVMAlphaIsCAndSamples(t *testing.T) {
	x := denseOf(tensor.Float64, []float64{3, 1, 3, -1, 1, 1, 1, -1, 2, 0.5}, 5, 2)
	y := denseOf(tensor.Float64, []float64{1, 1, 0, 0, 0}, 5)
	a := trainSVM(t, SVMConfig{Features: 2, Classes: 2, C: 0.5, Samples: 5, Dtype: "float64"}, x, y, 50)
	b := trainSVM(t, SVMConfig{Features: 2, Classes: 2, Alpha: 1 / (0.5 * 5), Dtype: "float64"}, x, y, 50)
	for i, w := range a.Weights() {
		if err := closeTo(floatsOf(b.Weights()[i].Value), floatsOf(w.Value), 1e-15, 0); err != nil {
			t.Errorf("weight %s: %v", w.Name, err)
		}
	}
	// The loss includes the penalty 1/(2·C·n)·‖w‖².
	loss, _, err := a.Evaluate(x, y)
	if err != nil {
		t.Fatal(err)
	}
	s, err := DecisionFunction(a, x)
	if err != nil {
		t.Fatal(err)
	}
	var want float64
	for i, v := range floatsOf(s) {
		yi := 2*floatsOf(y)[i] - 1
		want += math.Pow(math.Max(0, 1-yi*v), 2) / 5
	}
	for _, w := range floatsOf(a.Weights()[0].Value) {
		want += w * w / (2 * 0.5 * 5)
	}
	if math.Abs(loss-want) > 1e-12 {
		t.Errorf("loss %v, want mean squared hinge + ‖w‖²/(2Cn) = %v", loss, want)
	}
}

// TestSVMOneVsRest: on three separated blobs every class's SVM puts its own
// class on the positive side.
func TestSVMOneVsRest(t *testing.T) {
	xb, yb := blobs3(8, 15)
	x, y := matrixOf(tensor.Float32, xb), denseOf(tensor.Float32, yb, len(yb))
	for _, loss := range []string{"hinge", "squared_hinge"} {
		m, err := NewLinearSVM(SVMConfig{Features: 2, Classes: 3, Samples: len(yb), Loss: loss, Seed: 2})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.Fit(x, y, FitConfig{Epochs: 60, BatchSize: 8}); err != nil {
			t.Fatal(err)
		}
		if acc, err := ClassAccuracy(m, x, y); err != nil || acc != 1 {
			t.Errorf("%s: accuracy %v (error %v), want 1", loss, acc, err)
		}
		s, err := DecisionFunction(m, x)
		if err != nil {
			t.Fatal(err)
		}
		scores := floatsOf(s)
		for i, c := range yb {
			for k := range 3 {
				if v := scores[i*3+k]; (k == int(c)) != (v > 0) {
					t.Errorf("%s: sample %d of class %v: score %d is %v", loss, i, c, k, v)
				}
			}
		}
	}
}

// TestSVMSummarySaveLoad: the penalty and the loss survive Save and Load.
func TestSVMSummarySaveLoad(t *testing.T) {
	xb, yb := blobs3(9, 6)
	x, y := matrixOf(tensor.Float32, xb), denseOf(tensor.Float32, yb, len(yb))
	m, err := NewLinearSVM(SVMConfig{Features: 2, Classes: 3, Samples: 18, C: 0.1, Loss: "hinge", PenalizeIntercept: true})
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	if err := m.Summary(&sb); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`Model: "linear_svm"`, "svm (Dense)", "(None, 3)", "Total params: 9"} {
		if !strings.Contains(sb.String(), want) {
			t.Errorf("Summary lacks %q:\n%s", want, sb.String())
		}
	}
	if _, err := m.Fit(x, y, FitConfig{Epochs: 5}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "svm.keragon")
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	l, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, mm := range []*Model{m, l} {
		if _, err := mm.Fit(x, y, FitConfig{Epochs: 3}); err != nil {
			t.Fatal(err)
		}
	}
	lm, _, err := m.Evaluate(x, y)
	if err != nil {
		t.Fatal(err)
	}
	ll, _, err := l.Evaluate(x, y)
	if err != nil {
		t.Fatal(err)
	}
	if lm != ll {
		t.Errorf("loaded model's loss %v, original's %v", ll, lm)
	}
	a, _ := DecisionFunction(m, x)
	b, err := DecisionFunction(l, x)
	if err != nil {
		t.Fatal(err)
	}
	if err := identicalBits(a, b); err != nil {
		t.Errorf("loaded model trained on differs: %v", err)
	}
}

// TestSVMBadInput: bad configurations and labels give errors that echo
// the value.
func TestSVMBadInput(t *testing.T) {
	configs := []struct {
		cfg  SVMConfig
		want string
	}{
		{SVMConfig{Features: 2, Classes: 1, Samples: 4}, "Classes >= 2, got 1"},
		{SVMConfig{Features: -1, Classes: 2, Samples: 4}, "positive Features, got -1"},
		{SVMConfig{Features: 2, Classes: 2, Samples: 4, C: -1}, "positive, finite C, got -1"},
		{SVMConfig{Features: 2, Classes: 2, Samples: 4, C: math.NaN()}, "C, got NaN"},
		{SVMConfig{Features: 2, Classes: 2}, "needs Samples"},
		{SVMConfig{Features: 2, Classes: 2, Samples: -3}, "got Samples -3"},
		{SVMConfig{Features: 2, Classes: 2, Alpha: -0.1}, "positive, finite Alpha, got -0.1"},
		{SVMConfig{Features: 2, Classes: 2, Alpha: 0.1, Samples: 4}, "C and Samples, or Alpha, not both"},
		{SVMConfig{Features: 2, Classes: 2, Samples: 4, Loss: "log"}, `Loss must be "hinge" or "squared_hinge", got "log"`},
		{SVMConfig{Features: 2, Classes: 2, Samples: 4, Optimizer: "nope"}, "nope"},
		{SVMConfig{Features: 2, Classes: 2, Samples: 4, Dtype: "float16"}, `got "float16"`},
	}
	for i, c := range configs {
		m, err := NewLinearSVM(c.cfg)
		if m != nil || err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("config %d: got %v, %v; want an error containing %q", i, m, err, c.want)
		}
	}
	x := denseOf(tensor.Float32, []float64{1, 0, 0, 1, 1, 1}, 3, 2)
	labels := []struct {
		classes int
		y       []float64
		want    string
	}{
		{2, []float64{1, -1, 2}, "label 2 is not a binary label"},
		{2, []float64{1, -2, 0}, "label -2 is not a binary label"},
		{4, []float64{0, 4, 3}, "label 4 at sample 1 is not a class index in [0, 4)"},
	}
	for i, c := range labels {
		for _, loss := range []string{"hinge", "squared_hinge"} {
			m, err := NewLinearSVM(SVMConfig{Features: 2, Classes: c.classes, Samples: 3, Loss: loss})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := m.Fit(x, denseOf(tensor.Float32, c.y, 3), FitConfig{Epochs: 1, NoShuffle: true}); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("labels %d %s: Fit error %v, want one containing %q", i, loss, err, c.want)
			}
		}
	}
}
