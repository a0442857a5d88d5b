package keras

import (
	"math"
	"testing"
)

func TestNotebookHelpers(t *testing.T) {
	x, err := Data32([]float32{1, 2, 3, 4, 5, 6}, 3, 2)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Data64([]float64{1, 2, 3}, 2, 2); err == nil {
		t.Error("Data64 with too few values: no error")
	}
	r, err := Rows(x, 2, 0)
	if err != nil {
		t.Fatal(err)
	}
	if v := Values(r); len(v) != 4 || v[0] != 5 || v[3] != 2 {
		t.Errorf("Rows(x, 2, 0) = %v, want [5 6 1 2]", v)
	}
	if _, err := Rows(x, 3); err == nil {
		t.Error("Rows out of range: no error")
	}
	p, _ := Data64([]float64{0.1, 0.7, 0.2, 0.5, 0.2, 0.3}, 2, 3)
	if c, err := Argmax(p); err != nil || c[0] != 1 || c[1] != 0 {
		t.Errorf("Argmax = %v, %v; want [1 0]", c, err)
	}
	if ts := Tensors(NewInput(2), NewInput(3)); len(ts) != 2 {
		t.Errorf("Tensors gave %d", len(ts))
	}
}

// TestModelGradients checks Model.Gradients against central differences of
// Evaluate's loss (no dropout, so both modes agree).
func TestModelGradients(t *testing.T) {
	m := NewSequential(&Input{Shape: []int{2}, Dtype: "float64"}, &Dense{Units: 3, Activation: "tanh"}, &Dense{Units: 2, Activation: "softmax"})
	m.SetSeed(4)
	if err := m.Compile(CompileConfig{Optimizer: "sgd", Loss: "sparse_categorical_crossentropy"}); err != nil {
		t.Fatal(err)
	}
	x, _ := Data32([]float32{0.5, -1, 2, 0.25}, 2, 2) // float32 data, float64 model
	y, _ := Data64([]float64{1, 0}, 2)
	loss, gs, err := m.Gradients(x, y)
	if err != nil {
		t.Fatalf("%+v", err)
	}
	l2, _, err := m.Evaluate(x, y)
	if err != nil || math.Abs(loss-l2) > 1e-12 {
		t.Fatalf("Gradients loss %v, Evaluate %v (%v)", loss, l2, err)
	}
	for _, g := range gs {
		w := g.Weight.Value.Data().([]float64)
		for i := range w {
			w0 := w[i]
			w[i] = w0 + 1e-6
			lp, _, _ := m.Evaluate(x, y)
			w[i] = w0 - 1e-6
			lm, _, _ := m.Evaluate(x, y)
			w[i] = w0
			num := (lp - lm) / 2e-6
			if got := g.Value.Data().([]float64)[i]; math.Abs(got-num) > 1e-6 {
				t.Errorf("d%s[%d] = %v, numeric %v", g.Weight.Name, i, got, num)
			}
		}
	}
	// The returned gradients are copies: another run leaves them alone.
	before := append([]float64(nil), gs[0].Value.Data().([]float64)...)
	y2, _ := Data64([]float64{0, 1}, 2)
	if _, _, err := m.Gradients(x, y2); err != nil {
		t.Fatal(err)
	}
	for i, v := range gs[0].Value.Data().([]float64) {
		if v != before[i] {
			t.Fatal("Gradients' tensors changed on the next call")
		}
	}
}
