package onnx

import (
	"path/filepath"
	"testing"
)

// TestImportMatchesTorch imports each model PyTorch exported and compares
// its predictions with PyTorch's on the same input.
func TestImportMatchesTorch(t *testing.T) {
	cases := torchCases(t)
	for _, name := range []string{"mlp", "convnet", "convnet2", "lstm", "gru", "rnn", "bilstm", "resnet_stem", "conv1d", "layernorm", "textclf", "flatbn", "residual_se", "branches"} {
		t.Run(name, func(t *testing.T) {
			c, ok := cases[name]
			if !ok {
				t.Fatalf("torch_models.json has no %q", name)
			}
			m, err := Import(filepath.Join("testdata", name+".onnx"))
			if err != nil {
				t.Fatalf("Import: %+v", err)
			}
			y, err := m.Predict(toNHWC(c.InputShape, c.Input, m))
			if err != nil {
				t.Fatalf("Predict: %+v", err)
			}
			if got := []int(y.Shape()); len(got) != len(c.OutputShape) {
				t.Fatalf("output shape %v, want %v", got, c.OutputShape)
			}
			if d, ok := closeTo(floats(y), c.Output, 1e-5); !ok {
				t.Errorf("outputs differ from PyTorch's by up to %g (want <= 1e-5)\ngot  %v\nwant %v", d, floats(y), c.Output)
			} else {
				t.Logf("largest difference from PyTorch: %.2g", d)
			}
		})
	}
}
