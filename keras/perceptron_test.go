package keras

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"gorgonia.org/tensor"
)

// separable draws n points in [−1, 1]^d labelled by the side of the
// hyperplane u·x + c they lie on, keeping those at least minMargin from it
// (in the augmented space (x, 1), where the perceptron's bias is one more
// weight). It returns the labels in {−1, 1}, the margin γ and the radius R
// of the augmented points, for Novikoff's bound (R/γ)² on the number of
// perceptron updates.
func separable(seed uint64, n, d int, minMargin float64) (x [][]float64, y []float64, gamma, radius float64) {
	rng := rand.New(rand.NewPCG(seed, 1))
	u := make([]float64, d+1) // the last entry is c
	var norm float64
	for i := range u {
		u[i] = rng.Float64()*2 - 1
		norm += u[i] * u[i]
	}
	norm = math.Sqrt(norm)
	gamma = math.Inf(1)
	for len(x) < n {
		p := make([]float64, d)
		s, r := u[d], 1.0
		for j := range p {
			p[j] = rng.Float64()*2 - 1
			s += u[j] * p[j]
			r += p[j] * p[j]
		}
		if math.Abs(s)/norm < minMargin {
			continue
		}
		x = append(x, p)
		y = append(y, math.Copysign(1, s))
		gamma = math.Min(gamma, math.Abs(s)/norm)
		radius = math.Max(radius, math.Sqrt(r))
	}
	return x, y, gamma, radius
}

// blobs3 draws n points around each of three centres on a triangle, far
// enough apart that each class is linearly separable from the other two.
func blobs3(seed uint64, n int) (x [][]float64, y []float64) {
	rng := rand.New(rand.NewPCG(seed, 2))
	centres := [][]float64{{0, 3}, {-3, -2}, {3, -2}}
	for i := range 3 * n {
		k := i % 3
		x = append(x, []float64{centres[k][0] + rng.NormFloat64()*0.5, centres[k][1] + rng.NormFloat64()*0.5})
		y = append(y, float64(k))
	}
	return x, y
}

func matrixOf(dt tensor.Dtype, rows [][]float64) *tensor.Dense {
	var v []float64
	for _, r := range rows {
		v = append(v, r...)
	}
	return denseOf(dt, v, len(rows), len(rows[0]))
}

// rosenblatt is the textbook perceptron, one column per class one-vs-rest
// (one column for two classes, labels ±1 or 0/1), in the order of the
// samples: if y·(w·x + b) ≤ 0 then w += lr·y·x, b += lr·y. w is (features,
// columns), Keras' kernel layout.
func rosenblatt(x [][]float64, labels []float64, classes, epochs int, lr float64, intercept bool) (w []float64, b []float64) {
	d, cols := len(x[0]), scoreColumns(classes)
	w, b = make([]float64, d*cols), make([]float64, cols)
	for range epochs {
		for i, xi := range x {
			for k := range cols {
				y := -1.0
				if (cols == 1 && labels[i] == 1) || (cols > 1 && int(labels[i]) == k) {
					y = 1
				}
				s := b[k]
				for j, v := range xi {
					s += w[j*cols+k] * v
				}
				if y*s > 0 {
					continue
				}
				for j, v := range xi {
					w[j*cols+k] += lr * y * v
				}
				if intercept {
					b[k] += lr * y
				}
			}
		}
	}
	return w, b
}

// TestPerceptronIsRosenblatt: Fit with BatchSize 1 and NoShuffle makes
// exactly the textbook updates, binary (labels ±1 and 0/1) and
// one-vs-rest, with and without intercept.
func TestPerceptronIsRosenblatt(t *testing.T) {
	xs, ys, _, _ := separable(3, 40, 3, 0.02)
	noisy := append([]float64(nil), ys...) // not separable: updates never stop
	for i := 0; i < len(noisy); i += 7 {
		noisy[i] = -noisy[i]
	}
	zeroOne := make([]float64, len(ys))
	for i, v := range ys {
		zeroOne[i] = (v + 1) / 2
	}
	xb, yb := blobs3(4, 10)
	cases := []struct {
		name        string
		x           [][]float64
		y           []float64
		classes     int
		lr          float64
		noIntercept bool
		epochs      int
	}{
		{"binary ±1", xs, ys, 2, 0, false, 6},
		{"binary 0/1", xs, zeroOne, 2, 0, false, 6},
		{"binary noisy", xs, noisy, 2, 0, false, 5},
		{"binary noisy rate 0.25 no intercept", xs, noisy, 2, 0.25, true, 4},
		{"one-vs-rest", xb, yb, 3, 0, false, 5},
	}
	for _, c := range cases {
		m, err := NewPerceptron(PerceptronConfig{Features: len(c.x[0]), Classes: c.classes,
			LearningRate: c.lr, NoIntercept: c.noIntercept, Dtype: "float64"})
		if err != nil {
			t.Fatal(err)
		}
		x, y := matrixOf(tensor.Float64, c.x), denseOf(tensor.Float64, c.y, len(c.y))
		if _, err := m.Fit(x, y, FitConfig{Epochs: c.epochs, BatchSize: 1, NoShuffle: true}); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		lr := c.lr
		if lr == 0 {
			lr = 1
		}
		w, b := rosenblatt(c.x, c.y, c.classes, c.epochs, lr, !c.noIntercept)
		ws := m.Weights()
		if err := closeTo(floatsOf(ws[0].Value), w, 1e-12, 0); err != nil {
			t.Errorf("%s: kernel: %v", c.name, err)
		}
		if c.noIntercept {
			if len(ws) != 1 {
				t.Errorf("%s: %d weights, want the kernel alone", c.name, len(ws))
			}
		} else if err := closeTo(floatsOf(ws[1].Value), b, 1e-12, 0); err != nil {
			t.Errorf("%s: bias: %v", c.name, err)
		}
	}
}

// TestPerceptronConverges: on linearly separable data the perceptron
// reaches zero training errors within Novikoff's bound: at most (R/γ)²
// updates, hence at most (R/γ)² + 1 epochs, each epoch before convergence
// making at least one. With batches of B samples, each update moves at
// least 1/B of a full step and the bound becomes B·(R/γ)² updates. Default
// dtype (float32), shuffled.
func TestPerceptronConverges(t *testing.T) {
	xs, ys, gamma, radius := separable(5, 200, 2, 0.01)
	bound := (radius / gamma) * (radius / gamma)
	x, y := matrixOf(tensor.Float32, xs), denseOf(tensor.Float32, ys, len(ys))
	for _, batch := range []int{1, 4} {
		m, err := NewPerceptron(PerceptronConfig{Features: 2, Classes: 2, Seed: 9})
		if err != nil {
			t.Fatal(err)
		}
		maxEpochs := int(float64(batch)*bound) + 1
		epochs := 0
		for ; epochs < maxEpochs; epochs++ {
			acc, err := ClassAccuracy(m, x, y)
			if err != nil {
				t.Fatal(err)
			}
			if acc == 1 {
				break
			}
			if _, err := m.Fit(x, y, FitConfig{Epochs: 1, BatchSize: batch}); err != nil {
				t.Fatal(err)
			}
		}
		acc, err := ClassAccuracy(m, x, y)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("batch %d: zero errors after %d epochs (bound %.0f)", batch, epochs, float64(batch)*bound+1)
		if acc != 1 {
			t.Errorf("batch %d: training accuracy %v after %d epochs (bound %.0f), want 1", batch, acc, epochs, float64(batch)*bound+1)
		}
		// The loss is zero exactly when no sample is misclassified.
		if loss, _, err := m.Evaluate(x, y); err != nil || loss != 0 {
			t.Errorf("batch %d: loss %v (error %v) on separated data, want 0", batch, loss, err)
		}
	}
}

// TestPerceptronOneVsRest: three blobs, each separable from the others:
// every class's perceptron separates its class, shuffled with default
// batches.
func TestPerceptronOneVsRest(t *testing.T) {
	xb, yb := blobs3(6, 20)
	x, y := matrixOf(tensor.Float32, xb), denseOf(tensor.Float32, yb, len(yb))
	m, err := NewPerceptron(PerceptronConfig{Features: 2, Classes: 3, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Fit(x, y, FitConfig{Epochs: 30, BatchSize: 1}); err != nil {
		t.Fatal(err)
	}
	acc, err := ClassAccuracy(m, x, y)
	if err != nil || acc != 1 {
		t.Fatalf("training accuracy %v (error %v), want 1", acc, err)
	}
	s, err := DecisionFunction(m, x)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Shape(); !got.Eq(tensor.Shape{60, 3}) {
		t.Fatalf("decision shape %v, want (60, 3)", got)
	}
	scores := floatsOf(s)
	for i, c := range yb {
		for k := range 3 {
			if v := scores[i*3+k]; (k == int(c)) != (v > 0) {
				t.Errorf("sample %d of class %v: score %d is %v: each perceptron should separate its class", i, c, k, v)
			}
		}
	}
}

// TestPerceptronDecisionAndClasses: decision_function has shape (n) for a
// binary perceptron, and PredictClasses gives 1 where it is positive.
func TestPerceptronDecisionAndClasses(t *testing.T) {
	m, err := NewPerceptron(PerceptronConfig{Features: 2, Classes: 2, Dtype: "float64"})
	if err != nil {
		t.Fatal(err)
	}
	// w = (1, −2), b = 0.5 by hand.
	setFloats(m.Weights()[0].Value, []float64{1, -2})
	setFloats(m.Weights()[1].Value, []float64{0.5})
	x := denseOf(tensor.Float64, []float64{1, 0, 0, 1, 0, 0.25, -0.5, 0}, 4, 2)
	s, err := DecisionFunction(m, x)
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{1.5, -1.5, 0, 0}
	if !s.Shape().Eq(tensor.Shape{4}) || closeTo(floatsOf(s), want, 1e-15, 0) != nil {
		t.Errorf("decision %v %v, want (4) %v", s.Shape(), floatsOf(s), want)
	}
	classes, err := PredictClasses(m, x)
	if err != nil {
		t.Fatal(err)
	}
	// A zero score is class 0, as scikit-learn's predict.
	if got := classes; len(got) != 4 || got[0] != 1 || got[1] != 0 || got[2] != 0 || got[3] != 0 {
		t.Errorf("classes %v, want [1 0 0 0]", got)
	}
	for _, labels := range [][]float64{{1, 0, 0, 1}, {1, -1, -1, 1}} {
		acc, err := ClassAccuracy(m, x, denseOf(tensor.Float64, labels, 4))
		if err != nil || acc != 0.75 {
			t.Errorf("labels %v: accuracy %v (error %v), want 0.75", labels, acc, err)
		}
	}
}

// TestPerceptronSummarySaveLoad: the perceptron is an ordinary model:
// Summary lists its layer, and a loaded copy predicts and trains on as the
// original does.
func TestPerceptronSummarySaveLoad(t *testing.T) {
	xb, yb := blobs3(7, 8)
	x, y := matrixOf(tensor.Float32, xb), denseOf(tensor.Float32, yb, len(yb))
	m, err := NewPerceptron(PerceptronConfig{Features: 2, Classes: 3, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	if err := m.Summary(&sb); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`Model: "perceptron"`, "perceptron (Dense)", "(None, 3)", "Total params: 9"} {
		if !strings.Contains(sb.String(), want) {
			t.Errorf("Summary lacks %q:\n%s", want, sb.String())
		}
	}
	if _, err := m.Fit(x, y, FitConfig{Epochs: 2, BatchSize: 1}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "perceptron.keragon")
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	l, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, mm := range []*Model{m, l} {
		if _, err := mm.Fit(x, y, FitConfig{Epochs: 2, BatchSize: 1}); err != nil {
			t.Fatal(err)
		}
	}
	a, err := DecisionFunction(m, x)
	if err != nil {
		t.Fatal(err)
	}
	b, err := DecisionFunction(l, x)
	if err != nil {
		t.Fatal(err)
	}
	if err := identicalBits(a, b); err != nil {
		t.Errorf("loaded model trained on differs: %v", err)
	}
}

// TestPerceptronBadInput: bad configurations and labels give errors that
// echo the value.
func TestPerceptronBadInput(t *testing.T) {
	configs := []struct {
		cfg  PerceptronConfig
		want string
	}{
		{PerceptronConfig{Features: 2, Classes: 1}, "Classes >= 2, got 1"},
		{PerceptronConfig{Features: 2}, "Classes >= 2, got 0"},
		{PerceptronConfig{Features: 0, Classes: 2}, "positive Features, got 0"},
		{PerceptronConfig{Features: 2, Classes: 2, LearningRate: -1}, "LearningRate, got -1"},
		{PerceptronConfig{Features: 2, Classes: 2, LearningRate: math.Inf(1)}, "LearningRate, got +Inf"},
		{PerceptronConfig{Features: 2, Classes: 2, Dtype: "int"}, `Dtype must be "float32" or "float64", got "int"`},
	}
	for i, c := range configs {
		m, err := NewPerceptron(c.cfg)
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
		{2, []float64{1, 2, 0}, "sample 1 (loss perceptron): label 2 is not a binary label"},
		{2, []float64{1, 0.5, 0}, "sample 1 (loss perceptron): label 0.5 is not a binary label"},
		{3, []float64{0, 1, 3}, "label 3 at sample 2 is not a class index in [0, 3)"},
		{3, []float64{0, -1, 2}, "label -1 at sample 1"},
	}
	for i, c := range labels {
		m, err := NewPerceptron(PerceptronConfig{Features: 2, Classes: c.classes})
		if err != nil {
			t.Fatal(err)
		}
		y := denseOf(tensor.Float32, c.y, 3)
		if _, err := m.Fit(x, y, FitConfig{Epochs: 1, NoShuffle: true}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("labels %d: Fit error %v, want one containing %q", i, err, c.want)
		}
		if _, err := ClassAccuracy(m, x, y); err == nil || !strings.Contains(err.Error(), "label") {
			t.Errorf("labels %d: ClassAccuracy error %v, want one naming the label", i, err)
		}
	}
}
