package onnx

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"gorgonia.org/tensor"
)

// python is Debian's interpreter, which has python3-onnx and numpy (the
// pyenv python3 on PATH may not).
const python = "/usr/bin/python3"

// havePythonONNX reports whether python can import onnx and numpy.
func havePythonONNX() bool {
	return exec.Command(python, "-c", "import onnx, numpy").Run() == nil
}

type checkArray struct {
	Shape []int     `json:"shape"`
	Data  []float64 `json:"data"`
}

func checkArrayOf(t *tensor.Dense) checkArray {
	return checkArray{Shape: []int(t.Shape()), Data: floats(t)}
}

// TestExportPassesONNXChecker exports every model of exportCases and runs
// testdata/check.py on them: python3-onnx's checker, and a numpy
// evaluation of each graph compared with Keragon's predictions. It is
// skipped when /usr/bin/python3 cannot import onnx (a CI machine without
// python3-onnx).
func TestExportPassesONNXChecker(t *testing.T) {
	if !havePythonONNX() {
		t.Skip("no python3-onnx: " + python + " cannot import onnx and numpy")
	}
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(5, 6))
	cases := map[string]map[string][]checkArray{}
	for _, c := range exportCases() {
		m, err := c.build()
		if err != nil {
			t.Fatalf("%s: %+v", c.name, err)
		}
		m.SetSeed(7)
		xs := randomInputs(m, 2, rng, tokenIDs[c.name])
		if _, err := m.PredictMulti(xs); err != nil {
			t.Fatalf("%s: %+v", c.name, err)
		}
		randomiseState(m, rng)
		ys, err := m.PredictMulti(xs)
		if err != nil {
			t.Fatalf("%s: %+v", c.name, err)
		}
		if err := Export(m, filepath.Join(dir, c.name+".onnx")); err != nil {
			t.Fatalf("%s: Export: %+v", c.name, err)
		}
		cc := map[string][]checkArray{}
		for _, x := range xs {
			cc["inputs"] = append(cc["inputs"], checkArrayOf(x))
		}
		for _, y := range ys {
			cc["outputs"] = append(cc["outputs"], checkArrayOf(y))
		}
		cases[c.name] = cc
	}
	b, err := json.Marshal(cases)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "cases.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(python, filepath.Join("testdata", "check.py"), dir).CombinedOutput()
	t.Logf("check.py:\n%s", out)
	if err != nil {
		t.Fatalf("check.py failed: %v", err)
	}
	// The evaluator itself, on PyTorch's files and outputs.
	out, err = exec.Command(python, filepath.Join("testdata", "check.py"), "--torch").CombinedOutput()
	t.Logf("check.py --torch:\n%s", out)
	if err != nil {
		t.Fatalf("check.py --torch failed: %v", err)
	}
}
