package keras

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/keragon/keragon/graph"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The reference values come from testdata/torch_rnn.py (PyTorch 1.13,
// float64), which documents the cases and how Keras' weight layouts and
// gate orders map onto torch's modules: LSTM's gates i, f, c, o are
// torch's i, f, g, o; GRU's z, r, h are torch's r, z, n with the first two
// blocks swapped, Keras' reset_after GRU being torch's GRU.

var torchRNN = sync.OnceValues(func() (map[string]torchCase, error) {
	b, err := os.ReadFile(filepath.Join("testdata", "torch_rnn.json"))
	if err != nil {
		return nil, err
	}
	var f struct {
		Cases map[string]torchCase `json:"cases"`
	}
	err = json.Unmarshal(b, &f)
	return f.Cases, err
})

func torchRNNCase(t *testing.T, name string) torchCase {
	t.Helper()
	cases, err := torchRNN()
	if err != nil {
		t.Fatalf("reading testdata/torch_rnn.json (regenerate with /usr/bin/python3 keras/testdata/torch_rnn.py): %v", err)
	}
	c, ok := cases[name]
	if !ok {
		t.Fatalf("torch_rnn.json has no case %q", name)
	}
	return c
}

// rnnTorchKey names a weight as the reference does: "kernel", or
// "forward_kernel" for "bidirectional/forward_lstm/kernel".
func rnnTorchKey(w *graph.Weight) string {
	parts := strings.Split(w.Name, "/")
	key := parts[len(parts)-1]
	if len(parts) == 3 {
		dir, _, _ := strings.Cut(parts[1], "_")
		key = dir + "_" + key
	}
	return key
}

// rnnLayerRun builds l on the shapes of xs (the sequence, then initial
// states), sets its weights from c, calls it on xs (and the mask) and
// returns its outputs and the gradients of Σ output_i ⊙ ups_i with
// respect to each input and each weight (by rnnTorchKey).
func rnnLayerRun(t *testing.T, l Layer, phase graph.Phase, c torchCase, dt tensor.Dtype, xs []*tensor.Dense, mask *tensor.Dense, ups []*tensor.Dense) (outs [][]float64, gin [][]float64, gw map[string][]float64) {
	t.Helper()
	var ins []*Tensor
	for _, x := range xs {
		ins = append(ins, Apply(&Input{Shape: x.Shape()[1:], Dtype: dt.String()}))
	}
	m, err := NewModel(ins, ApplyMulti(l, ins...))
	if err != nil {
		t.Fatalf("%+v", err)
	}
	m.SetSeed(1)
	if err := m.ready(); err != nil {
		t.Fatal(err)
	}
	for _, w := range l.base().Weights() {
		a := c.get(t, rnnTorchKey(w))
		if !Shape(a.Shape).Equal(w.Shape) {
			t.Fatalf("%s: reference shape %v, weight shape %v", w.Name, a.Shape, w.Shape)
		}
		setWeight(t, w, a.Data)
	}
	batch := xs[0].Shape()[0]
	ctx := graph.NewContext(phase, batch, dt, rand.New(rand.NewPCG(1, 0)))
	var nodes []*gorgonia.Node
	var inW []*graph.Weight
	for i, x := range xs {
		w := graph.NewWeight(fmt.Sprintf("in%d", i), dt, x.Shape(), nil, true)
		if err := w.Set(x); err != nil {
			t.Fatal(err)
		}
		n, _ := ctx.Param(w)
		nodes, inW = append(nodes, n), append(inW, w)
	}
	masks := make([]*gorgonia.Node, len(nodes))
	if mask != nil {
		masks[0] = gorgonia.NodeFromAny(ctx.G, mask, gorgonia.WithName("mask"))
	}
	res, _, err := l.(MaskedLayer).CallMasked(ctx, nodes, masks)
	if err != nil {
		t.Fatalf("%+v", err)
	}
	if len(res) != len(ups) {
		t.Fatalf("%d outputs, want %d", len(res), len(ups))
	}
	var cost *gorgonia.Node
	for i, o := range res {
		term := gorgonia.Must(gorgonia.Sum(gorgonia.Must(gorgonia.HadamardProd(o, gorgonia.NodeFromAny(ctx.G, ups[i], gorgonia.WithName(fmt.Sprintf("upstream%d", i)))))))
		if cost == nil {
			cost = term
		} else {
			cost = gorgonia.Must(gorgonia.Add(cost, term))
		}
	}
	p, err := graph.Compile(ctx, graph.Spec{Outputs: res, Loss: cost, Grad: true})
	if err != nil {
		t.Fatalf("%+v", err)
	}
	defer p.Close()
	if err := p.Run(); err != nil {
		t.Fatal(err)
	}
	for i := range res {
		o, _ := p.Output(i)
		outs = append(outs, append([]float64(nil), floatsOf(o)...))
	}
	grads, err := p.Gradients()
	if err != nil {
		t.Fatal(err)
	}
	gin = make([][]float64, len(xs))
	gw = map[string][]float64{}
	for _, g := range grads {
		v := append([]float64(nil), floatsOf(materialized(g.Value))...)
		found := false
		for i, w := range inW {
			if g.Weight == w {
				gin[i], found = v, true
			}
		}
		if !found {
			gw[rnnTorchKey(g.Weight)] = v
		}
	}
	return outs, gin, gw
}

// rnnPrecisions: float64 agrees with torch to rounding; float32 to its
// epsilon amplified by a few steps of recurrence.
var rnnPrecisions = []precision{
	{tensor.Float64, 1e-12, 1e-10},
	{tensor.Float32, 5e-5, 5e-4},
}

func TestRecurrentLayersMatchTorch(t *testing.T) {
	type tcase struct {
		name    string
		make    func() Layer
		states  []string // initial states fed as inputs
		outputs []string
		masked  bool
	}
	var cases []tcase
	for _, cell := range []string{"simple_rnn", "lstm", "gru"} {
		mk := func(seq, state, back bool) func() Layer {
			return func() Layer {
				switch cell {
				case "lstm":
					return &LSTM{Units: 3, ReturnSequences: seq, ReturnState: state, GoBackwards: back}
				case "gru":
					return &GRU{Units: 3, ReturnSequences: seq, ReturnState: state, GoBackwards: back}
				}
				return &SimpleRNN{Units: 3, ReturnSequences: seq, ReturnState: state, GoBackwards: back}
			}
		}
		states, outs := []string{"h0"}, []string{"y", "h"}
		biOuts := []string{"y", "forward_h", "backward_h"}
		if cell == "lstm" {
			states, outs = []string{"h0", "c0"}, []string{"y", "h", "c"}
			biOuts = []string{"y", "forward_h", "forward_c", "backward_h", "backward_c"}
		}
		bi := mk(true, true, false)
		cases = append(cases,
			tcase{cell, mk(true, true, false), states, outs, false},
			tcase{cell + "_backwards", mk(true, true, true), nil, outs, false},
			tcase{cell + "_bidirectional", func() Layer { return &Bidirectional{Layer: bi()} }, nil, biOuts, false},
			tcase{cell + "_masked", mk(true, true, false), states, outs, true},
			tcase{cell + "_masked_backwards_last", mk(false, true, true), states, outs, true},
		)
	}
	cases = append(cases, tcase{"lstm_bidirectional_masked_sum", func() Layer {
		return &Bidirectional{Layer: &LSTM{Units: 3, ReturnSequences: true}, MergeMode: "sum"}
	}, nil, []string{"y"}, true})

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := torchRNNCase(t, tc.name)
			for _, p := range rnnPrecisions {
				xs := []*tensor.Dense{c.get(t, "x").tensor(p.dt)}
				for _, s := range tc.states {
					xs = append(xs, c.get(t, s).tensor(p.dt))
				}
				var mask *tensor.Dense
				if tc.masked {
					mask = c.get(t, "mask").tensor(p.dt)
				}
				var ups []*tensor.Dense
				for _, o := range tc.outputs {
					ups = append(ups, c.get(t, "up_"+o).tensor(p.dt))
				}
				for _, phase := range []graph.Phase{graph.Infer, graph.Train} {
					l := tc.make()
					outs, gin, gw := rnnLayerRun(t, l, phase, c, p.dt, xs, mask, ups)
					what := func(s string) string { return fmt.Sprintf("%s %v %s", tc.name, phase, s) }
					for i, o := range tc.outputs {
						p.check(t, what(o), outs[i], c.get(t, o))
					}
					p.check(t, what("grad_x"), gin[0], c.get(t, "grad_x"))
					for i, s := range tc.states {
						p.check(t, what("grad_"+s), gin[i+1], c.get(t, "grad_"+s))
					}
					if len(gw) != len(l.base().Weights()) {
						t.Errorf("%s: %d weight gradients, want %d", what(""), len(gw), len(l.base().Weights()))
					}
					for k, v := range gw {
						p.check(t, what("grad_"+k), v, c.get(t, "grad_"+k))
					}
				}
			}
		})
	}
}
