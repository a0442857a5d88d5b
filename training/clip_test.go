package training

import (
	"math"
	"testing"

	"github.com/keragon/keragon/graph"
	"gorgonia.org/tensor"
)

// TestClipping checks each clipping mode against hand values. SGD with rate
// 1 from zero weights leaves w = -(clipped gradient).
func TestClipping(t *testing.T) {
	inf := math.Inf(1)
	for _, tc := range []struct {
		name  string
		opt   *SGD
		grads [][]float64
		want  [][]float64 // clipped gradients
	}{
		// ‖(3,4)‖ = 5 > 1: scaled to norm 1; ‖(0.3,0.4)‖ = 0.5: kept.
		{"norm", &SGD{LearningRate: 1, ClipNorm: 1},
			[][]float64{{3, 4}, {0.3, 0.4}},
			[][]float64{{0.6, 0.8}, {0.3, 0.4}}},
		// Global norm sqrt(25 + 144) = 13; 2.6/13 = 0.2 scales both.
		{"global", &SGD{LearningRate: 1, GlobalClipNorm: 2.6},
			[][]float64{{3, 4}, {0, 12}},
			[][]float64{{0.6, 0.8}, {0, 2.4}}},
		{"global under", &SGD{LearningRate: 1, GlobalClipNorm: 20},
			[][]float64{{3, 4}, {0, 12}},
			[][]float64{{3, 4}, {0, 12}}},
		// An infinite global norm makes every gradient NaN, as in Keras.
		{"global inf", &SGD{LearningRate: 1, GlobalClipNorm: 1},
			[][]float64{{inf, 1}, {2, 3}},
			[][]float64{{math.NaN(), math.NaN()}, {math.NaN(), math.NaN()}}},
		{"value", &SGD{LearningRate: 1, ClipValue: 1},
			[][]float64{{3, -4}, {0.5, -1}},
			[][]float64{{1, -1}, {0.5, -1}}},
		{"none", &SGD{LearningRate: 1},
			[][]float64{{3, -4}, {0.5, -1}},
			[][]float64{{3, -4}, {0.5, -1}}},
	} {
		for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
			var grads []graph.Gradient
			var before [][]float64
			for i, g := range tc.grads {
				w := graph.NewWeight(string(rune('a'+i)), dt, []int{len(g)}, nil, true)
				grads = append(grads, graph.Gradient{Weight: w, Value: denseOf(dt, []int{len(g)}, g)})
				before = append(before, valuesOf(grads[i].Value))
			}
			if err := tc.opt.Step(grads); err != nil {
				t.Fatalf("%s: %+v", tc.name, err)
			}
			tol := tolerance(dt)
			for i, g := range grads {
				got := valuesOf(g.Weight.Value)
				for k := range got {
					want := -tc.want[i][k]
					if math.IsNaN(want) != math.IsNaN(got[k]) || !math.IsNaN(want) && !near(got[k], want, tol) {
						t.Errorf("%s %v: gradient %d[%d] clipped to %v, want %v", tc.name, dt, i, k, -got[k], -want)
					}
				}
				// The gradient tensors themselves are not changed.
				after := valuesOf(g.Value)
				for k := range after {
					if after[k] != before[i][k] && !math.IsNaN(after[k]) {
						t.Errorf("%s %v: Step changed gradient %d[%d] from %v to %v", tc.name, dt, i, k, before[i][k], after[k])
					}
				}
			}
		}
	}
}

// TestClipBeforeUpdate checks that clipping feeds the clipped gradient to
// the whole rule (Adam's moments), not only to the last subtraction.
func TestClipBeforeUpdate(t *testing.T) {
	clipped := &Adam{LearningRate: 0.1, ClipValue: 0.5}
	plain := &Adam{LearningRate: 0.1}
	w1 := graph.NewWeight("w", tensor.Float64, []int{2}, nil, true)
	w2 := graph.NewWeight("w", tensor.Float64, []int{2}, nil, true)
	g1 := []graph.Gradient{{Weight: w1, Value: denseOf(tensor.Float64, []int{2}, []float64{3, 0.25})}}
	g2 := []graph.Gradient{{Weight: w2, Value: denseOf(tensor.Float64, []int{2}, []float64{0.5, 0.25})}}
	for i := 0; i < 3; i++ {
		if err := clipped.Step(g1); err != nil {
			t.Fatal(err)
		}
		if err := plain.Step(g2); err != nil {
			t.Fatal(err)
		}
	}
	equalWeights(t, "Adam with ClipValue 0.5 on (3, 0.25) and without on (0.5, 0.25)", []*graph.Weight{w1}, []*graph.Weight{w2})
}
