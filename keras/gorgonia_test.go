package keras

import (
	"math/rand/v2"
	"testing"

	"github.com/keragon/keragon/graph"
	"github.com/keragon/keragon/training"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// One test per behaviour of Gorgonia v0.9.18 that the keras package relies
// on. Weights are bound to graphs by reference (gorgonia.WithValue on the
// one tensor of each graph.Weight): every program reads the same numbers,
// no run may write to them, and an optimizer step made in place must be
// seen by programs compiled before it.

// everyLayerModel uses each core layer, with a rank-3 Dense (reshapes on
// the way in and out) and reshapes of the fed input.
func everyLayerModel(t *testing.T, dt tensor.Dtype) *Model {
	t.Helper()
	m := NewSequential(
		&Input{Shape: []int{2, 3}, Dtype: dt.String()},
		&Dense{Units: 4, Activation: "tanh"},
		&LayerNormalization{},
		&Reshape{TargetShape: []int{4, 2}},
		&BatchNormalization{},
		&LeakyReLU{},
		&Flatten{},
		&Dropout{Rate: 0.25},
		&Dense{Units: 3, Activation: "softmax"},
	)
	m.SetSeed(2)
	if err := m.Compile(CompileConfig{Optimizer: &training.SGD{LearningRate: 0.1}, Loss: "sparse_categorical_crossentropy"}); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestGorgoniaRunLeavesBoundTensorsAlone: a forward and backward run of a
// Fit program writes neither to the weights it is bound to nor to the
// tensors it is fed; only the optimizer and ApplyUpdates change weights.
func TestGorgoniaRunLeavesBoundTensorsAlone(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		m := everyLayerModel(t, dt)
		const n = 5
		x, y := randomTensor(newTestRand(1), dt, -2, 2, n, 2, 3), denseOf(dt, []float64{0, 2, 1, 1, 0}, n)
		sw := onesTensor(dt, n)
		feeds := []*tensor.Dense{x, y, sw}
		p, err := m.Program(graph.Key{Mode: graph.Fit, Batch: n})
		if err != nil {
			t.Fatal(err)
		}
		weights := make([]*tensor.Dense, len(m.Weights()))
		for i, w := range m.Weights() {
			weights[i] = w.Value.Clone().(*tensor.Dense)
		}
		fed := make([]*tensor.Dense, len(feeds))
		for i, f := range feeds {
			fed[i] = f.Clone().(*tensor.Dense)
		}
		for run := 0; run < 2; run++ {
			if err := p.Run(feeds...); err != nil {
				t.Fatal(err)
			}
			if _, err := p.Gradients(); err != nil {
				t.Fatal(err)
			}
		}
		for i, w := range m.Weights() {
			if err := identicalBits(w.Value, weights[i]); err != nil {
				t.Errorf("%v: a Fit-mode run changed weight %s: %v", dt, w.Name, err)
			}
			if !w.Value.Shape().Eq(tensor.Shape(w.Shape)) {
				t.Errorf("%v: a Fit-mode run reshaped weight %s to %v", dt, w.Name, w.Value.Shape())
			}
		}
		for i, f := range feeds {
			if err := identicalBits(f, fed[i]); err != nil {
				t.Errorf("%v: a Fit-mode run changed feed %d: %v", dt, i, err)
			}
		}
	}
}

// TestGorgoniaProgramsSeeOptimizerSteps: programs compiled before an
// optimizer step (a Predict program and the Fit program itself) compute
// with the updated weights on their next run, giving exactly what a
// program compiled afterwards gives.
func TestGorgoniaProgramsSeeOptimizerSteps(t *testing.T) {
	m := everyLayerModel(t, tensor.Float64)
	const n = 4
	x, y := randomTensor(newTestRand(2), tensor.Float64, -2, 2, n, 2, 3), denseOf(tensor.Float64, []float64{0, 2, 1, 1}, n)
	pred, err := m.Program(graph.Key{Mode: graph.Predict, Batch: n})
	if err != nil {
		t.Fatal(err)
	}
	predict := func(p *graph.Program) []float64 {
		t.Helper()
		if err := p.Run(x); err != nil {
			t.Fatal(err)
		}
		o, _ := p.Output(0)
		return append([]float64(nil), floatsOf(o)...)
	}
	before := predict(pred)
	kernel := m.Weights()[0]
	valueBefore := kernel.Value
	if _, err := m.Fit(x, y, FitConfig{Epochs: 3, BatchSize: n}); err != nil {
		t.Fatal(err)
	}
	if kernel.Value != valueBefore {
		t.Fatal("Fit replaced a weight's tensor instead of updating it in place")
	}
	after := predict(pred)
	if sameFloats(before, after) {
		t.Fatal("the Predict program gives the same output after three optimizer steps")
	}
	m.cache.Clear()
	fresh, err := m.Program(graph.Key{Mode: graph.Predict, Batch: n})
	if err != nil {
		t.Fatal(err)
	}
	if err := closeTo(after, predict(fresh), 0, 0); err != nil {
		t.Errorf("a program compiled before the steps and one compiled after disagree: %v", err)
	}

	// The same holds for a weight set by hand between two runs.
	last := m.Weights()[len(m.Weights())-1] // the softmax layer's bias
	setWeight(t, last, []float64{5, -5, 0})
	if got, want := predict(pred), predict(fresh); sameFloats(got, after) || !sameFloats(got, want) {
		t.Errorf("after Weight.Set: old program %v, new program %v (before the change %v)", got, want, after)
	}
}

// TestGorgoniaReshapeAliasesBoundValue pins an upstream behaviour: a
// Reshape shares its input's memory, and Gorgonia's compiler lets the next
// element-wise op (here ⊙) write its result into that memory when nothing
// else reads the reshape, so a bound weight (or a fed input) is
// overwritten by a run. Keragon's own ops never overwrite their inputs
// (OverwritesInput = −1) and the keras layers feed reshapes only to them
// and to matrix products, which is why TestGorgoniaRunLeavesBoundTensorsAlone
// holds; a layer that applies Gorgonia's arithmetic to a reshaped
// parameter or input must copy it first. If this test fails, the upstream
// behaviour changed.
func TestGorgoniaReshapeAliasesBoundValue(t *testing.T) {
	ctx := graph.NewContext(graph.Infer, 2, tensor.Float64, rand.New(rand.NewPCG(1, 0)))
	w := graph.NewWeight("w", tensor.Float64, []int{2, 3}, nil, true)
	setFloats(w.Value, []float64{1, 2, 3, 4, 5, 6})
	wn, err := ctx.Param(w)
	if err != nil {
		t.Fatal(err)
	}
	flat := gorgonia.Must(gorgonia.Reshape(wn, tensor.Shape{6}))
	twos := gorgonia.NodeFromAny(ctx.G, denseOf(tensor.Float64, []float64{2, 2, 2, 2, 2, 2}, 6), gorgonia.WithName("twos"))
	loss := gorgonia.Must(gorgonia.Sum(gorgonia.Must(gorgonia.HadamardProd(flat, twos))))
	p, err := graph.Compile(ctx, graph.Spec{Loss: loss})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for run := 0; run < 2; run++ {
		if err := p.Run(); err != nil {
			t.Fatal(err)
		}
	}
	// Two runs doubled the weight twice: 4·(1..6).
	if got, want := floatsOf(w.Value), []float64{4, 8, 12, 16, 20, 24}; !sameFloats(got, want) {
		t.Errorf("weight after two runs %v, want %v: Gorgonia no longer writes through a reshape of a bound value", got, want)
	}
}
