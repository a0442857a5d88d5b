package onnx

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/keragon/keragon/keras"
	"gorgonia.org/tensor"
)

// torchCase is one model of testdata/torch_models.json: its input in
// PyTorch's layout and its output.
type torchCase struct {
	InputShape  []int     `json:"input_shape"`
	Input       []float64 `json:"input"`
	OutputShape []int     `json:"output_shape"`
	Output      []float64 `json:"output"`
}

func torchCases(t *testing.T) map[string]torchCase {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "torch_models.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cs map[string]torchCase
	if err := json.Unmarshal(b, &cs); err != nil {
		t.Fatal(err)
	}
	return cs
}

// toNHWC converts a PyTorch input to Keragon's layout: NCHW images
// become NHWC, and NCW sequences NWC when the model takes them so;
// other inputs stay.
func toNHWC(shape []int, v []float64, m *keras.Model) *tensor.Dense {
	out := make([]float32, len(v))
	if len(shape) == 3 && !m.Inputs()[0].Shape().Equal(shape[1:]) {
		n, c, w := shape[0], shape[1], shape[2]
		for b := 0; b < n; b++ {
			for k := 0; k < c; k++ {
				for i := 0; i < w; i++ {
					out[(b*w+i)*c+k] = float32(v[(b*c+k)*w+i])
				}
			}
		}
		return tensor.New(tensor.WithShape(n, w, c), tensor.WithBacking(out))
	}
	if len(shape) != 4 {
		for i, x := range v {
			out[i] = float32(x)
		}
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(out))
	}
	n, c, h, w := shape[0], shape[1], shape[2], shape[3]
	for b := 0; b < n; b++ {
		for k := 0; k < c; k++ {
			for i := 0; i < h; i++ {
				for j := 0; j < w; j++ {
					out[((b*h+i)*w+j)*c+k] = float32(v[((b*c+k)*h+i)*w+j])
				}
			}
		}
	}
	return tensor.New(tensor.WithShape(n, h, w, c), tensor.WithBacking(out))
}

func floats(t *tensor.Dense) []float64 {
	switch d := t.Data().(type) {
	case []float32:
		out := make([]float64, len(d))
		for i, x := range d {
			out[i] = float64(x)
		}
		return out
	case []float64:
		return d
	}
	return nil
}

// closeTo reports the largest absolute difference, and whether every
// element is within tol.
func closeTo(got, want []float64, tol float64) (float64, bool) {
	if len(got) != len(want) {
		return math.Inf(1), false
	}
	worst := 0.0
	for i := range got {
		d := math.Abs(got[i] - want[i])
		if !(d <= tol) {
			worst = math.Max(worst, d)
			if math.IsNaN(d) {
				return d, false
			}
		}
		worst = math.Max(worst, d)
	}
	return worst, worst <= tol
}
