package keras

import (
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/keragon/keragon/internal/safetensors"
	"github.com/keragon/keragon/training"
	"gorgonia.org/tensor"
)

// The files that check PyTorch interoperability, in testdata/:
//
//	interop_go.safetensors, interop_go.json  written by Go
//	    (go test ./keras -run TestInteropGoWritten -update-safetensors);
//	    check_safetensors.py reads them with its own reader of the spec and
//	    recomputes the predictions in torch.
//	interop_py.safetensors, interop_py.json  written by check_safetensors.py
//	    --write; TestInteropPythonWritten loads them here.
var updateSafetensors = flag.Bool("update-safetensors", false, "rewrite keras/testdata/interop_go.* (then run testdata/check_safetensors.py)")

// interopCase is the JSON beside an interop file: inputs and the outputs
// the model must give.
type interopCase struct {
	X          [][]float64 `json:"x"`
	Y          [][]float64 `json:"y"`
	Iterations int         `json:"iterations,omitempty"`
}

func interopMatrix(rows [][]float64, dt tensor.Dtype) *tensor.Dense {
	n, d := len(rows), len(rows[0])
	if dt == tensor.Float32 {
		v := make([]float32, 0, n*d)
		for _, r := range rows {
			for _, x := range r {
				v = append(v, float32(x))
			}
		}
		return tensor.New(tensor.WithShape(n, d), tensor.WithBacking(v))
	}
	v := make([]float64, 0, n*d)
	for _, r := range rows {
		v = append(v, r...)
	}
	return tensor.New(tensor.WithShape(n, d), tensor.WithBacking(v))
}

func interopRows(t *tensor.Dense) [][]float64 {
	s := t.Shape()
	v := floatsOf(t)
	out := make([][]float64, s[0])
	for i := range out {
		out[i] = v[i*s[1] : (i+1)*s[1]]
	}
	return out
}

func readInterop(t *testing.T, name string) interopCase {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var c interopCase
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestInteropGoWritten loads the committed Go-written file and checks its
// predictions; check_safetensors.py checks the same file and predictions
// against torch. With -update-safetensors it writes both files first.
func TestInteropGoWritten(t *testing.T) {
	path := filepath.Join("testdata", "interop_go.safetensors")
	if *updateSafetensors {
		m := NewSequential(&Input{Shape: []int{4}}, &Dense{Units: 5, Activation: "relu"}, &BatchNormalization{}, &Dense{Units: 3, Activation: "softmax"})
		m.SetSeed(11)
		if err := m.Compile(CompileConfig{Optimizer: &training.Adam{LearningRate: 0.01}, Loss: "sparse_categorical_crossentropy", Metrics: []string{"accuracy"}}); err != nil {
			t.Fatal(err)
		}
		x, y := saveTestData(12, 32, []int{4}, 3)
		if _, err := m.Fit(x, y, FitConfig{Epochs: 3, BatchSize: 8, NoShuffle: true}); err != nil {
			t.Fatal(err)
		}
		xs, _ := saveTestData(13, 5, []int{4}, 3)
		pred, err := m.Predict(xs)
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Save(path); err != nil {
			t.Fatal(err)
		}
		b, err := json.MarshalIndent(interopCase{X: interopRows(xs), Y: interopRows(pred), Iterations: m.Optimizer().Iterations()}, "", " ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join("testdata", "interop_go.json"), append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c := readInterop(t, "interop_go.json")
	m, err := Load(path)
	if err != nil {
		t.Fatalf("%+v", err)
	}
	pred, err := m.Predict(interopMatrix(c.X, tensor.Float32))
	if err != nil {
		t.Fatal(err)
	}
	// The weights load bit for bit (TestSaveLoad*); the predictions'
	// last bits depend on the BLAS's order of summation (gonum, the Go
	// sgemm kernel, OpenBLAS), so they are compared to a few ulps.
	got, want := pred.Data().([]float32), interopMatrix(c.Y, tensor.Float32).Data().([]float32)
	for i := range want {
		if d := math.Abs(float64(got[i] - want[i])); d > 1e-6*math.Max(1, math.Abs(float64(want[i]))) {
			t.Errorf("predictions of the committed Go-written file: element %d: %v, want %v", i, got[i], want[i])
		}
	}
	if it := m.Optimizer().Iterations(); it != c.Iterations {
		t.Errorf("iterations: got %d, want %d", it, c.Iterations)
	}
}

// TestInteropPythonWritten loads the model check_safetensors.py wrote with
// its own writer of the spec (float64, header keys in another order than
// the data, metadata last) and checks torch's predictions and the SGD
// state it wrote.
func TestInteropPythonWritten(t *testing.T) {
	path := filepath.Join("testdata", "interop_py.safetensors")
	c := readInterop(t, "interop_py.json")
	m, err := Load(path)
	if err != nil {
		t.Fatalf("%+v", err)
	}
	if m.Dtype() != tensor.Float64 || m.Name() != "from_python" {
		t.Errorf("got model %q of %v, want \"from_python\" of float64", m.Name(), m.Dtype())
	}
	pred, err := m.Predict(interopMatrix(c.X, tensor.Float64))
	if err != nil {
		t.Fatal(err)
	}
	got := interopRows(pred)
	for i := range c.Y {
		for j, want := range c.Y[i] {
			// float64 matmuls summed in another order: a few ulps.
			if d := math.Abs(got[i][j] - want); d > 1e-14*math.Max(1, math.Abs(want)) {
				t.Errorf("y[%d][%d]: got %.17g, torch %.17g", i, j, got[i][j], want)
			}
		}
	}
	opt := m.Optimizer()
	sgd, ok := opt.(*training.SGD)
	if !ok || sgd.Momentum != 0.9 || sgd.CurrentLearningRate() != 0.1 || sgd.Iterations() != c.Iterations {
		t.Fatalf("optimizer: got %#v, want SGD lr 0.1 momentum 0.9 after %d steps", opt, c.Iterations)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := safetensors.Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	state := opt.State(m.Weights())
	if len(state) != 5 {
		t.Errorf("got %d state tensors, want iterations and 4 momenta", len(state))
	}
	for _, nt := range state[1:] {
		st, ok := f.Tensor(optimizerPrefix + nt.Name)
		if !ok {
			t.Errorf("state %q is not in the file", nt.Name)
			continue
		}
		want, err := fromSafetensor(st)
		if err != nil {
			t.Fatal(err)
		}
		if err := bitsDiff(nt.Value, want); err != nil {
			t.Errorf("state %q: %v", nt.Name, err)
		}
	}
}
