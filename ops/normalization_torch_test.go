package ops

import (
	"encoding/json"
	"math"
	"os"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// torchNormCase is one case of testdata/torch_norm.json, written by
// testdata/torch_norm.py (PyTorch's F.batch_norm and F.layer_norm in
// float64, channel-last). For loss = Σ y·upstream it holds y and the
// gradients with respect to x, gamma and beta.
type torchNormCase struct {
	Name     string    `json:"name"`
	Kind     string    `json:"kind"` // batch_train, batch_infer or layer
	Shape    []int     `json:"shape"`
	Eps      float64   `json:"eps"`
	X        []float64 `json:"x"`
	Upstream []float64 `json:"upstream"`
	Gamma    []float64 `json:"gamma"` // nil: no scale
	Beta     []float64 `json:"beta"`  // nil: no offset
	// Mean and Variance are the batch statistics (batch_train, biased
	// variance) or the running statistics given to torch (batch_infer).
	Mean     []float64 `json:"mean"`
	Variance []float64 `json:"variance"`
	Y        []float64 `json:"y"`
	DX       []float64 `json:"dx"`
	DGamma   []float64 `json:"dgamma"`
	DBeta    []float64 `json:"dbeta"`
}

func loadTorchNorm(t *testing.T) []torchNormCase {
	t.Helper()
	b, err := os.ReadFile("testdata/torch_norm.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct{ Cases []torchNormCase }
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Cases) == 0 {
		t.Fatal("testdata/torch_norm.json has no cases")
	}
	return f.Cases
}

func vecTensor(v []float64, shape ...int) *tensor.Dense {
	if len(shape) == 0 {
		shape = []int{len(v)}
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(append([]float64(nil), v...)))
}

func TestNormalizationMatchesTorch(t *testing.T) {
	for _, c := range loadTorchNorm(t) {
		t.Run(c.Name, func(t *testing.T) {
			x := vecTensor(c.X, c.Shape...)
			inputs := []*tensor.Dense{x}
			var stats []*tensor.Dense // mean, variance for batch_infer
			if c.Kind == "batch_infer" {
				stats = []*tensor.Dense{vecTensor(c.Mean), vecTensor(c.Variance)}
				inputs = append(inputs, stats...)
			}
			first := len(inputs) // index of gamma among the inputs
			if c.Gamma != nil {
				inputs = append(inputs, vecTensor(c.Gamma))
			}
			if c.Beta != nil {
				inputs = append(inputs, vecTensor(c.Beta))
			}
			f := func(g *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
				gamma, beta := affineNodes(in, first, c.Gamma != nil, c.Beta != nil)
				switch c.Kind {
				case "batch_train":
					m, v, err := BatchMoments(in[0])
					if err != nil {
						return nil, err
					}
					return Normalize(in[0], m, v, gamma, beta, c.Eps)
				case "batch_infer":
					return Normalize(in[0], in[1], in[2], gamma, beta, c.Eps)
				case "layer":
					return LayerNorm(in[0], gamma, beta, c.Eps)
				}
				t.Fatalf("unknown kind %q", c.Kind)
				return nil, nil
			}
			got := evalGrads(t, tensor.Float64, f, inputs, vecTensor(c.Upstream, c.Shape...))
			compare(t, "y", got[0], c.Y)
			compare(t, "dx", got[1], c.DX)
			if c.Gamma != nil {
				compare(t, "dgamma", got[1+first], c.DGamma)
			}
			if c.Beta != nil {
				compare(t, "dbeta", got[len(got)-1], c.DBeta)
			}
			if c.Kind == "batch_train" {
				g := gorgonia.NewGraph()
				m, v, err := BatchMoments(gorgonia.NodeFromAny(g, x, gorgonia.WithName("x")))
				if err != nil {
					t.Fatal(err)
				}
				mv := run(t, g, m, v)
				compare(t, "mean", mv[0], c.Mean)
				compare(t, "variance", mv[1], c.Variance)
			}
		})
	}
}

// compare reports the worst entry of got that differs from want by more
// than 1e-10·(1+|want|): both sides compute in float64.
func compare(t *testing.T, name string, got, want []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d values, want %d", name, len(got), len(want))
		return
	}
	worst, at := 0.0, -1
	for i := range want {
		if r := math.Abs(got[i]-want[i]) / (1 + math.Abs(want[i])); r > worst || math.IsNaN(got[i]) {
			worst, at = r, i
		}
	}
	if at >= 0 && (worst > 1e-10 || math.IsNaN(worst)) {
		t.Errorf("%s[%d] = %.17g, torch %.17g (relative difference %.3g)", name, at, got[at], want[at], worst)
	}
}
