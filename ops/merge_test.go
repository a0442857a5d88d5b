package ops

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/keragon/keragon/internal/gradcheck"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// stepMaskTensor is a (2, 3) time-step mask with padding in both rows.
func stepMaskTensor() *tensor.Dense {
	return tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]float64{1, 1, 0, 0, 1, 1}))
}

func TestMergeOpGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	r := func(shape ...int) *tensor.Dense { return gradcheck.Random(rng, -1, 1, shape...) }
	cases := []struct {
		name string
		f    gradcheck.Func
		in   []*tensor.Dense
		wrt  []int
	}{
		{"Maximum", func(_ *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) { return Maximum(in[0], in[1]) },
			[]*tensor.Dense{r(2, 3, 4), r(2, 3, 4)}, nil},
		{"Minimum", func(_ *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) { return Minimum(in[0], in[1]) },
			[]*tensor.Dense{r(3, 5), r(3, 5)}, nil},
		{"MaskSelect", func(_ *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
			return MaskSelect(in[0], in[1], in[2])
		}, []*tensor.Dense{stepMaskTensor(), r(2, 3, 2), r(2, 3, 2)}, []int{1, 2}},
		{"MaskFill", func(_ *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
			return MaskFill(in[0], in[1], 1)
		},
			[]*tensor.Dense{stepMaskTensor(), r(2, 3, 4)}, []int{1}},
		{"BroadcastTo", func(_ *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
			return BroadcastTo(in[0], tensor.Shape{2, 3, 4})
		}, []*tensor.Dense{r(2, 1, 4)}, nil},
		{"BroadcastTo two axes", func(_ *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
			return BroadcastTo(in[0], tensor.Shape{2, 3, 4})
		}, []*tensor.Dense{r(1, 3, 1)}, nil},
		{"ReduceTo", func(_ *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
			return ReduceTo(in[0], tensor.Shape{1, 3, 1})
		}, []*tensor.Dense{r(2, 3, 4)}, nil},
		{"Permute", func(_ *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
			return Permute(in[0], 0, 2, 1, 3)
		},
			[]*tensor.Dense{r(2, 3, 4, 2)}, nil},
		{"Permute cycle", func(_ *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
			return Permute(in[0], 2, 0, 1)
		},
			[]*tensor.Dense{r(2, 3, 4)}, nil},
		{"L2Normalize last", func(_ *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
			return L2Normalize(in[0], 2, 1e-7)
		},
			[]*tensor.Dense{r(2, 3, 4)}, nil},
		{"L2Normalize middle", func(_ *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
			return L2Normalize(in[0], 1, 1e-7)
		},
			[]*tensor.Dense{r(2, 3, 4)}, nil},
		{"AttentionSoftmax", func(_ *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
			return AttentionSoftmax(in[0], nil)
		},
			[]*tensor.Dense{r(2, 2, 3, 4)}, nil},
		{"AttentionSoftmax masked", func(_ *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
			return AttentionSoftmax(in[0], in[1])
		}, []*tensor.Dense{r(2, 2, 3, 4), tensor.New(tensor.WithShape(2, 3, 4), tensor.WithBacking([]float64{
			1, 0, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, // a query that sees nothing
			1, 1, 0, 0, 0, 1, 1, 0, 1, 1, 1, 0,
		}))}, []int{0}},
		{"AttentionSoftmax shared mask", func(_ *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
			return AttentionSoftmax(in[0], in[1])
		}, []*tensor.Dense{r(2, 1, 3, 3), tensor.New(tensor.WithShape(1, 3, 3), tensor.WithBacking([]float64{1, 0, 0, 1, 1, 0, 1, 1, 1}))}, []int{0}},
	}
	for _, tr := range [][2]bool{{false, false}, {false, true}, {true, false}, {true, true}} {
		a, b := r(2, 3, 4), r(2, 4, 5)
		if tr[0] {
			a = r(2, 4, 3)
		}
		if tr[1] {
			b = r(2, 5, 4)
		}
		ta, tb := tr[0], tr[1]
		cases = append(cases, struct {
			name string
			f    gradcheck.Func
			in   []*tensor.Dense
			wrt  []int
		}{"BatchMatMul", func(_ *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
			return BatchMatMul(in[0], in[1], ta, tb)
		}, []*tensor.Dense{a, b}, nil})
	}
	for i, c := range cases {
		if err := gradcheck.Check(c.f, c.in, gradcheck.Options{Wrt: c.wrt, Seed: uint64(i)}); err != nil {
			t.Errorf("case %d (%s): %v", i, c.name, err)
		}
	}
}

// run1 evaluates f on constant float64 inputs and returns its values.
func run1(t *testing.T, f func(g *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error), in ...*tensor.Dense) []float64 {
	t.Helper()
	g := gorgonia.NewGraph()
	nodes := make([]*gorgonia.Node, len(in))
	for i, x := range in {
		nodes[i] = gorgonia.NodeFromAny(g, x, gorgonia.WithName(string(rune('a'+i))))
	}
	out, err := f(g, nodes)
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
	return append([]float64(nil), v.(*tensor.Dense).Data().([]float64)...)
}

func vec(shape []int, v ...float64) *tensor.Dense {
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(v))
}

func TestMergeOpValues(t *testing.T) {
	cases := []struct {
		name string
		f    func(g *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error)
		in   []*tensor.Dense
		want []float64
	}{
		{"Maximum", func(_ *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) { return Maximum(in[0], in[1]) },
			[]*tensor.Dense{vec([]int{3}, 1, -2, 3), vec([]int{3}, 0, 5, 3)}, []float64{1, 5, 3}},
		{"Minimum", func(_ *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) { return Minimum(in[0], in[1]) },
			[]*tensor.Dense{vec([]int{3}, 1, -2, 3), vec([]int{3}, 0, 5, 3)}, []float64{0, -2, 3}},
		{"MaskSelect", func(_ *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
			return MaskSelect(in[0], in[1], in[2])
		}, []*tensor.Dense{vec([]int{1, 2}, 1, 0), vec([]int{1, 2, 2}, 1, 2, 3, 4), vec([]int{1, 2, 2}, 5, 6, 7, 8)}, []float64{1, 2, 7, 8}},
		{"MaskFill", func(_ *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
			return MaskFill(in[0], in[1], -1)
		},
			[]*tensor.Dense{vec([]int{1, 2}, 0, 1), vec([]int{1, 2, 2}, 1, 2, 3, 4)}, []float64{-1, -1, 3, 4}},
		{"MaskAny", func(_ *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
			return MaskAny(false, in[0], in[1])
		},
			[]*tensor.Dense{vec([]int{1, 3}, 0, 1, 0), vec([]int{1, 3}, 0, 0, 2)}, []float64{0, 1, 1}},
		{"MaskAll", func(_ *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
			return MaskAny(true, in[0], in[1])
		},
			[]*tensor.Dense{vec([]int{1, 3}, 0, 1, 1), vec([]int{1, 3}, 1, 0, 2)}, []float64{0, 0, 1}},
		{"BroadcastTo", func(_ *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
			return BroadcastTo(in[0], tensor.Shape{2, 3})
		}, []*tensor.Dense{vec([]int{2, 1}, 1, 2)}, []float64{1, 1, 1, 2, 2, 2}},
		{"ReduceTo", func(_ *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
			return ReduceTo(in[0], tensor.Shape{1, 3})
		}, []*tensor.Dense{vec([]int{2, 3}, 1, 2, 3, 10, 20, 30)}, []float64{11, 22, 33}},
		{"Permute", func(_ *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) { return Permute(in[0], 1, 0) },
			[]*tensor.Dense{vec([]int{2, 3}, 1, 2, 3, 4, 5, 6)}, []float64{1, 4, 2, 5, 3, 6}},
		// (1,2,2)·(1,2,2)ᵀ: [[1,2],[3,4]]·[[5,6],[7,8]]ᵀ = [[17,23],[39,53]].
		{"BatchMatMul", func(_ *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
			return BatchMatMul(in[0], in[1], false, true)
		}, []*tensor.Dense{vec([]int{1, 2, 2}, 1, 2, 3, 4), vec([]int{1, 2, 2}, 5, 6, 7, 8)}, []float64{17, 23, 39, 53}},
		// (3, 4) → (0.6, 0.8); a zero row stays zero.
		{"L2Normalize", func(_ *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
			return L2Normalize(in[0], 1, 1e-7)
		},
			[]*tensor.Dense{vec([]int{2, 2}, 3, 4, 0, 0)}, []float64{0.6, 0.8, 0, 0}},
		// Row 1: softmax(1, 1) over the two visible keys; row 2 sees nothing: uniform.
		{"AttentionSoftmax", func(_ *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
			return AttentionSoftmax(in[0], in[1])
		}, []*tensor.Dense{vec([]int{1, 1, 2, 3}, 1, 1, 5, 2, 3, 4), vec([]int{1, 2, 3}, 1, 1, 0, 0, 0, 0)},
			[]float64{0.5, 0.5, 0, 1. / 3, 1. / 3, 1. / 3}},
	}
	for _, c := range cases {
		got := run1(t, c.f, c.in...)
		if len(got) != len(c.want) {
			t.Errorf("%s = %v, want %v", c.name, got, c.want)
			continue
		}
		for i := range got {
			if math.Abs(got[i]-c.want[i]) > 1e-12 {
				t.Errorf("%s = %v, want %v", c.name, got, c.want)
				break
			}
		}
	}
}

func TestAttentionMask(t *testing.T) {
	g := gorgonia.NewGraph()
	q := gorgonia.NodeFromAny(g, vec([]int{1, 3}, 1, 1, 0), gorgonia.WithName("q"))
	v := gorgonia.NodeFromAny(g, vec([]int{1, 3}, 1, 0, 1), gorgonia.WithName("v"))
	m, err := AttentionMask(g, AttentionMaskConfig{Batch: 1, T: 3, S: 3, Causal: true, QueryMask: q, ValueMask: v})
	if err != nil {
		t.Fatal(err)
	}
	var val gorgonia.Value
	gorgonia.Read(m, &val)
	vm := gorgonia.NewTapeMachine(g)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	// Causal ∧ query row real ∧ value column real.
	want := []float64{1, 0, 0, 1, 0, 0, 0, 0, 0}
	got := val.(*tensor.Dense).Data().([]float64)
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("AttentionMask = %v, want %v", got, want)
		}
	}
	c, err := AttentionMask(g, AttentionMaskConfig{Batch: 4, T: 2, S: 3, Causal: true, Dtype: tensor.Float64})
	if err != nil {
		t.Fatal(err)
	}
	if !c.Shape().Eq(tensor.Shape{1, 2, 3}) || c.Dtype() != tensor.Float64 {
		t.Errorf("causal mask alone is %v %v, want (1, 2, 3) float64", c.Shape(), c.Dtype())
	}
	if n, err := AttentionMask(g, AttentionMaskConfig{Batch: 1, T: 2, S: 2}); n != nil || err != nil {
		t.Errorf("no mask: got %v, %v; want nil, nil", n, err)
	}
}

func TestMergeOpErrors(t *testing.T) {
	g := gorgonia.NewGraph()
	n := func(name string, shape ...int) *gorgonia.Node {
		return gorgonia.NewTensor(g, tensor.Float64, len(shape), gorgonia.WithShape(shape...), gorgonia.WithName(name))
	}
	a, b := n("a", 2, 3), n("b", 3, 2)
	if _, err := Maximum(a, b); err == nil {
		t.Error("Maximum of (2,3) and (3,2) succeeded")
	}
	if _, err := BroadcastTo(a, tensor.Shape{4, 3}); err == nil {
		t.Error("BroadcastTo (4,3) from (2,3) succeeded")
	}
	if _, err := Permute(a, 0, 0); err == nil {
		t.Error("Permute(0, 0) succeeded")
	}
	if _, err := BatchMatMul(n("c", 2, 3, 4), n("d", 2, 5, 4), false, false); err == nil {
		t.Error("BatchMatMul with mismatched inner sizes succeeded")
	}
	if _, err := MaskSelect(n("m", 3, 3), n("x", 2, 3, 1), n("y", 2, 3, 1)); err == nil {
		t.Error("MaskSelect with a (3,3) mask for (2,3,1) succeeded")
	}
	if _, err := AttentionSoftmax(n("s", 2, 1, 3, 3), n("am", 2, 3, 2)); err == nil {
		t.Error("AttentionSoftmax with a (2,3,2) mask for (2,1,3,3) succeeded")
	}
	if _, err := L2Normalize(a, 2, 1e-7); err == nil {
		t.Error("L2Normalize on axis 2 of a matrix succeeded")
	}
}

func TestMaskedMean1D(t *testing.T) {
	rng := rand.New(rand.NewPCG(71, 72))
	mask := vec([]int{2, 3}, 1, 0, 1, 0, 0, 0)
	err := gradcheck.Check(func(_ *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
		return MaskedMean1D(in[0], in[1])
	}, []*tensor.Dense{gradcheck.Random(rng, -1, 1, 2, 3, 2), mask}, gradcheck.Options{Wrt: []int{0}})
	if err != nil {
		t.Error(err)
	}
	got := run1(t, func(_ *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
		return MaskedMean1D(in[0], in[1])
	}, vec([]int{2, 3, 1}, 1, 5, 3, 7, 7, 7), mask)
	if want := []float64{2, 0}; got[0] != want[0] || got[1] != want[1] {
		t.Errorf("MaskedMean1D = %v, want %v", got, want)
	}
}
