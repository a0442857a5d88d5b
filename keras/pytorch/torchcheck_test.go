package pytorch

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// python is Debian's interpreter, which has torch (the pyenv python3 on
// PATH may not).
const python = "/usr/bin/python3"

// TestSavedStateDictLoadsInTorch saves each matching model's (random)
// weights with SaveStateDict and runs testdata/check_statedict.py, which
// loads them into the PyTorch model with load_state_dict(strict=True) and
// compares PyTorch's predictions with Keragon's. It is skipped when
// /usr/bin/python3 cannot import torch, and with -short (importing torch
// takes seconds).
func TestSavedStateDictLoadsInTorch(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: PyTorch is slow to start")
	}
	if exec.Command(python, "-c", "import torch, numpy").Run() != nil {
		t.Skip("no PyTorch: " + python + " cannot import torch")
	}
	dir := t.TempDir()
	cases := torchCases(t)
	rng := rand.New(rand.NewPCG(8, 9))
	out := map[string]torchCase{}
	for _, c := range matchingModels() {
		tc := cases[c.name]
		m := build(t, c)
		x := keragonInput(tc.InputShape, tc.Input, c.name == "conv1d")
		if _, err := m.Predict(x); err != nil {
			t.Fatal(err)
		}
		for _, w := range m.Weights() {
			for i, d := 0, w.Value.Data().([]float32); i < len(d); i++ {
				d[i] = 0.1 + 0.4*rng.Float32()
			}
		}
		y, err := m.Predict(x)
		if err != nil {
			t.Fatal(err)
		}
		if err := SaveStateDict(m, filepath.Join(dir, c.name+".safetensors"), c.names); err != nil {
			t.Fatalf("%s: SaveStateDict: %+v", c.name, err)
		}
		out[c.name] = torchCase{InputShape: tc.InputShape, Input: tc.Input, OutputShape: []int(y.Shape()), Output: floatsOf(y)}
	}
	b, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "cases.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := exec.Command(python, filepath.Join("testdata", "check_statedict.py"), dir).CombinedOutput()
	t.Logf("check_statedict.py:\n%s", res)
	if err != nil {
		t.Fatalf("check_statedict.py failed: %v", err)
	}
}
