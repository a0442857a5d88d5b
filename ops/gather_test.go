package ops

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/keragon/keragon/internal/gradcheck"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func TestGatherGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	table := gradcheck.Random(rng, -1, 1, 5, 3)
	// Row 1 is used three times, row 4 never: the gradient must sum and skip.
	idx := tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]float64{1, 0, 1, 3, 1, 2}))
	err := gradcheck.Check(func(g *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
		return Gather(in[0], in[1])
	}, []*tensor.Dense{table, idx}, gradcheck.Options{Wrt: []int{0}})
	if err != nil {
		t.Error(err)
	}
}

func TestGatherValuesAndErrors(t *testing.T) {
	g := gorgonia.NewGraph()
	table := gorgonia.NodeFromAny(g, tensor.New(tensor.WithShape(3, 2), tensor.WithBacking([]float32{0, 1, 10, 11, 20, 21})), gorgonia.WithName("t"))
	ids := tensor.New(tensor.WithShape(3), tensor.WithBacking([]float32{2, 0, 2}))
	idn := gorgonia.NodeFromAny(g, ids, gorgonia.WithName("i"))
	out, err := Gather(table, idn)
	if err != nil {
		t.Fatal(err)
	}
	var v gorgonia.Value
	gorgonia.Read(out, &v)
	m := gorgonia.NewTapeMachine(g)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		t.Fatal(err)
	}
	want := []float32{20, 21, 0, 1, 20, 21}
	got := v.(*tensor.Dense).Data().([]float32)
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("Gather = %v, want %v", got, want)
		}
	}
	ids.Data().([]float32)[1] = 3 // outside the table
	m.Reset()
	if err := m.RunAll(); err == nil || !strings.Contains(err.Error(), "index 3 at position 1 is not a row of a table of 3") {
		t.Errorf("out-of-range index: got %v", err)
	}
}

func TestSumGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	for _, shape := range [][]int{{3}, {2, 3}, {2, 3, 2, 2}} {
		x := gradcheck.Random(rng, -1, 1, shape...)
		err := gradcheck.Check(func(g *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
			y, err := Tanh(in[0])
			if err != nil {
				return nil, err
			}
			return Sum(y)
		}, []*tensor.Dense{x}, gradcheck.Options{})
		if err != nil {
			t.Errorf("shape %v: %v", shape, err)
		}
	}
}
