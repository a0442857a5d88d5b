package keras

import (
	"fmt"
	"testing"

	"github.com/keragon/keragon/graph"
	"gorgonia.org/tensor"
)

func TestGRUResetBeforeContract(t *testing.T) {
	for _, c := range gruResetBeforeContractCases() {
		runLayerTest(t, c)
	}
}

// gruResetBeforeContractCases are TestGRUResetBeforeContract's cases (also
// listed in allContractCases).
func gruResetBeforeContractCases() []layerCase {
	return []layerCase{{name: "GRU reset_after=False", make: func() Layer {
		return &GRU{Units: 3, ResetBefore: true, ReturnSequences: true}
	}, input: []int{4, 2}, output: []int{4, 3}, weights: []weightSpec{
		{"kernel", []int{2, 9}, true}, {"recurrent_kernel", []int{3, 9}, true}, {"bias", []int{9}, true}}}}
}

// TestGRUResetBeforeMatchesKeras compares with Keras' equations (see
// testdata/numpy_gru.py).
func TestGRUResetBeforeMatchesKeras(t *testing.T) {
	ref := torchFile(t, "numpy_gru")
	for _, c := range []struct {
		name       string
		l          func() Layer
		states     bool
		masked     bool
		wantGradH0 bool
	}{
		{"sequences", func() Layer { return &GRU{Units: 3, ResetBefore: true, ReturnSequences: true, ReturnState: true} }, true, false, true},
		{"masked_backwards", func() Layer { return &GRU{Units: 3, ResetBefore: true, ReturnState: true, GoBackwards: true} }, false, true, false},
	} {
		tc := ref[c.name]
		for _, p := range rnnPrecisions {
			xs := []*tensor.Dense{tc.get(t, "x").tensor(p.dt)}
			if c.states {
				xs = append(xs, tc.get(t, "h0").tensor(p.dt))
			}
			var mask *tensor.Dense
			if c.masked {
				mask = tc.get(t, "mask").tensor(p.dt)
			}
			ups := []*tensor.Dense{tc.get(t, "up_y").tensor(p.dt), tc.get(t, "up_h").tensor(p.dt)}
			for _, phase := range []graph.Phase{graph.Infer, graph.Train} {
				outs, gin, gw := rnnLayerRun(t, c.l(), phase, tc, p.dt, xs, mask, ups)
				what := fmt.Sprintf("%s %v %v", c.name, p.dt, phase)
				p.check(t, what+" y", outs[0], tc.get(t, "y"))
				p.check(t, what+" h", outs[1], tc.get(t, "h"))
				p.check(t, what+" grad_x", gin[0], tc.get(t, "grad_x"))
				if c.wantGradH0 {
					p.check(t, what+" grad_h0", gin[1], tc.get(t, "grad_h0"))
				}
				for _, w := range []string{"kernel", "recurrent_kernel", "bias"} {
					p.check(t, what+" grad_"+w, gw[w], tc.get(t, "grad_"+w))
				}
			}
		}
	}
}

// TestBidirectionalMergeNone: Keras' merge_mode=None gives the two
// directions' outputs apart, the halves of "concat"'s output (the torch
// reference of gru_bidirectional).
func TestBidirectionalMergeNone(t *testing.T) {
	c := torchRNNCase(t, "gru_bidirectional")
	y, upY := c.get(t, "y"), c.get(t, "up_y")
	half := func(a torchArray, second bool) torchArray {
		u := a.Shape[2] / 2
		out := torchArray{Shape: []int{a.Shape[0], a.Shape[1], u}}
		for i := 0; i < len(a.Data); i += 2 * u {
			if second {
				out.Data = append(out.Data, a.Data[i+u:i+2*u]...)
			} else {
				out.Data = append(out.Data, a.Data[i:i+u]...)
			}
		}
		return out
	}
	for _, p := range rnnPrecisions {
		l := &Bidirectional{Layer: &GRU{Units: 3, ReturnSequences: true, ReturnState: true}, MergeMode: "none"}
		ups := []*tensor.Dense{half(upY, false).tensor(p.dt), half(upY, true).tensor(p.dt),
			c.get(t, "up_forward_h").tensor(p.dt), c.get(t, "up_backward_h").tensor(p.dt)}
		outs, gin, gw := rnnLayerRun(t, l, graph.Infer, c, p.dt, []*tensor.Dense{c.get(t, "x").tensor(p.dt)}, nil, ups)
		p.check(t, "forward output", outs[0], half(y, false))
		p.check(t, "backward output", outs[1], half(y, true))
		p.check(t, "forward h", outs[2], c.get(t, "forward_h"))
		p.check(t, "backward h", outs[3], c.get(t, "backward_h"))
		p.check(t, "grad_x", gin[0], c.get(t, "grad_x"))
		for k, v := range gw {
			p.check(t, "grad_"+k, v, c.get(t, "grad_"+k))
		}
	}
	shapes, err := (&Bidirectional{Layer: &LSTM{Units: 4}, MergeMode: "none"}).OutputShapes([]Shape{{5, 2}})
	if err != nil || len(shapes) != 2 || !shapes[0].Equal(Shape{4}) || !shapes[1].Equal(Shape{4}) {
		t.Errorf("merge none output shapes %v (%v), want [(None, 4) (None, 4)]", shapes, err)
	}
	// In a model: two outputs, saved and loaded.
	in := NewInput(5, 2)
	outs := ApplyMulti(&Bidirectional{Layer: &GRU{Units: 2}, MergeMode: "none"}, in)
	m, err := NewModel([]*Tensor{in}, outs)
	if err != nil || len(m.Outputs()) != 2 {
		t.Fatalf("model with merge none: %v outputs, %v", len(m.Outputs()), err)
	}
}
