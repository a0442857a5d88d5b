package ops

import (
	"math/rand/v2"
	"testing"

	"github.com/keragon/keragon/internal/gradcheck"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func TestApplyStepMaskGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	x := gradcheck.Random(rng, -1, 1, 2, 3, 4)
	mask := tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]float64{1, 1, 0, 1, 0, 0}))
	err := gradcheck.Check(func(g *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
		return ApplyStepMask(in[0], in[1])
	}, []*tensor.Dense{x, mask}, gradcheck.Options{Wrt: []int{0}})
	if err != nil {
		t.Error(err)
	}
}

// run evaluates f on constant inputs and returns its output's data.
func evalMask(t *testing.T, f func(g *gorgonia.ExprGraph) (*gorgonia.Node, error)) []float64 {
	t.Helper()
	g := gorgonia.NewGraph()
	n, err := f(g)
	if err != nil {
		t.Fatal(err)
	}
	var v gorgonia.Value
	gorgonia.Read(n, &v)
	m := gorgonia.NewTapeMachine(g)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		t.Fatal(err)
	}
	return v.(*tensor.Dense).Data().([]float64)
}

func TestMaskOps(t *testing.T) {
	ids := tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]float64{4, 0, 2, 0, 0, 1}))
	got := evalMask(t, func(g *gorgonia.ExprGraph) (*gorgonia.Node, error) {
		return NotEqualMask(gorgonia.NodeFromAny(g, ids), 0)
	})
	want := []float64{1, 0, 1, 0, 0, 1}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("NotEqualMask = %v, want %v", got, want)
		}
	}
	// Steps 1 and 2 of sample 0 hold only the mask value 9.
	x := tensor.New(tensor.WithShape(1, 3, 2), tensor.WithBacking([]float64{9, 1, 9, 9, 9, 9}))
	got = evalMask(t, func(g *gorgonia.ExprGraph) (*gorgonia.Node, error) { return StepMask(gorgonia.NodeFromAny(g, x), 9) })
	if got[0] != 1 || got[1] != 0 || got[2] != 0 {
		t.Errorf("StepMask = %v, want [1 0 0]", got)
	}
	// Weights: sw (2) and a mask with 3 real steps → sw[b]·mask/3.
	sw := tensor.New(tensor.WithShape(2), tensor.WithBacking([]float64{1, 2}))
	mask := tensor.New(tensor.WithShape(2, 2), tensor.WithBacking([]float64{1, 0, 1, 1}))
	got = evalMask(t, func(g *gorgonia.ExprGraph) (*gorgonia.Node, error) {
		return MaskedLossWeights(gorgonia.NodeFromAny(g, sw), gorgonia.NodeFromAny(g, mask))
	})
	want = []float64{1.0 / 3, 0, 2.0 / 3, 2.0 / 3}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("MaskedLossWeights = %v, want %v", got, want)
		}
	}
	// An all-padding batch divides by 1, not 0.
	zero := tensor.New(tensor.WithShape(2, 2), tensor.Of(tensor.Float64))
	got = evalMask(t, func(g *gorgonia.ExprGraph) (*gorgonia.Node, error) {
		return MaskedLossWeights(gorgonia.NodeFromAny(g, sw), gorgonia.NodeFromAny(g, zero))
	})
	for _, v := range got {
		if v != 0 {
			t.Fatalf("all-padding weights = %v, want zeros", got)
		}
	}
}
