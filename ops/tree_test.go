package ops

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/keragon/keragon/internal/gradcheck"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// testSchedule is two trees of up to 5 nodes in 2 levels of 2 slots with up
// to 2 children:
//
//	tree 0: 4(2(0, 1), 3)   level 0: [2 0 1]; level 1: [4 2 3]
//	tree 1: 2(0, 1)         level 1: [2 0 1]; nodes 3 and 4 are padding
func testSchedule() *tensor.Dense {
	return tensor.New(tensor.WithShape(2, 2, 2, 3), tensor.WithBacking([]float64{
		2, 0, 1, -1, -1, -1,
		4, 2, 3, -1, -1, -1,

		-1, -1, -1, -1, -1, -1,
		2, 0, 1, -1, -1, -1,
	}))
}

// runOp builds f on constant inputs and returns its value.
func runOp(t *testing.T, f func(g *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error), inputs ...*tensor.Dense) ([]float64, error) {
	t.Helper()
	g := gorgonia.NewGraph()
	nodes := make([]*gorgonia.Node, len(inputs))
	for i, x := range inputs {
		nodes[i] = gorgonia.NodeFromAny(g, x, gorgonia.WithName(string(rune('a'+i))))
	}
	out, err := f(g, nodes)
	if err != nil {
		return nil, err
	}
	var v gorgonia.Value
	gorgonia.Read(out, &v)
	m := gorgonia.NewTapeMachine(g)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		return nil, err
	}
	return append([]float64(nil), v.(*tensor.Dense).Data().([]float64)...), nil
}

func TestTreeGatherValues(t *testing.T) {
	// table row r = [10r, 10r+1, 10r+2], rows b·5 + node.
	tab := make([]float64, 10*3)
	for r := range 10 {
		for j := range 3 {
			tab[r*3+j] = float64(10*r + j)
		}
	}
	table := tensor.New(tensor.WithShape(10, 3), tensor.WithBacking(tab))
	cases := []struct {
		name string
		f    func(tb, st *gorgonia.Node) (*gorgonia.Node, error)
		want []float64
	}{
		{"nodes of level 0, columns 1:3", func(tb, st *gorgonia.Node) (*gorgonia.Node, error) { return TreeNodes(tb, st, 0, 1, 3) },
			[]float64{21, 22, 0, 0, 0, 0, 0, 0}},
		{"roots, column 0", func(tb, st *gorgonia.Node) (*gorgonia.Node, error) { return TreeRoots(tb, st, 0, 1) },
			[]float64{40, 70}},
		{"children of level 1, column 2", func(tb, st *gorgonia.Node) (*gorgonia.Node, error) { return TreeChildren(tb, st, 1, 2, 3) },
			[]float64{22, 32, 0, 0, 52, 62, 0, 0}},
		{"child sums of level 1, columns 0:2", func(tb, st *gorgonia.Node) (*gorgonia.Node, error) { return TreeChildSum(tb, st, 1, 0, 2) },
			[]float64{20 + 30, 21 + 31, 0, 0, 50 + 60, 51 + 61, 0, 0}},
	}
	for _, c := range cases {
		got, err := runOp(t, func(g *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) { return c.f(in[0], in[1]) }, table, testSchedule())
		if err != nil {
			t.Errorf("%s: %+v", c.name, err)
			continue
		}
		if err := sameFloats(got, c.want); err != nil {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}

// sameFloats reports the first difference between got and want.
func sameFloats(got, want []float64) error {
	if len(got) != len(want) {
		return errors.Errorf("%d values, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			return errors.Errorf("value %d is %v, want %v", i, got[i], want[i])
		}
	}
	return nil
}

func TestSumGroupsValues(t *testing.T) {
	x := tensor.New(tensor.WithShape(4, 2), tensor.WithBacking([]float64{1, 2, 3, 4, 5, 6, 7, 8}))
	got, err := runOp(t, func(g *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) { return SumGroups(in[0], 2) }, x)
	if err != nil {
		t.Fatal(err)
	}
	if err := sameFloats(got, []float64{4, 6, 12, 14}); err != nil {
		t.Errorf("SumGroups: %v", err)
	}
}

func TestTreeUpdateAndMaskValues(t *testing.T) {
	table := tensor.New(tensor.WithShape(10, 1), tensor.WithBacking([]float64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}))
	src := tensor.New(tensor.WithShape(4, 1), tensor.WithBacking([]float64{-1, -2, -3, -4}))
	got, err := runOp(t, func(g *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
		return TreeUpdate(in[0], in[1], in[2], 1)
	}, table, src, testSchedule())
	if err != nil {
		t.Fatal(err)
	}
	// Level 1: tree 0 slot 0 is node 4 (row 4), tree 1 slot 0 node 2 (row 7).
	if want := []float64{0, 1, 2, 3, -1, 5, 6, -3, 8, 9}; sameFloats(got, want) != nil {
		t.Errorf("TreeUpdate = %v, want %v", got, want)
	}
	got, err = runOp(t, func(g *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
		return TreeMaskNodes(in[0], in[1])
	}, table, testSchedule())
	if err != nil {
		t.Fatal(err)
	}
	// Tree 1's nodes 3 and 4 (rows 8, 9) are padding.
	if want := []float64{0, 1, 2, 3, 4, 5, 6, 7, 0, 0}; sameFloats(got, want) != nil {
		t.Errorf("TreeMaskNodes = %v, want %v", got, want)
	}
	got, err = runOp(t, func(g *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
		return TreeNodeMask(in[0], 5)
	}, testSchedule())
	if err != nil {
		t.Fatal(err)
	}
	if want := []float64{1, 1, 1, 1, 1, 1, 1, 1, 0, 0}; sameFloats(got, want) != nil {
		t.Errorf("TreeNodeMask = %v, want %v", got, want)
	}
}

func TestTreeOpGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	st := testSchedule()
	cases := []struct {
		name   string
		inputs []*tensor.Dense
		f      gradcheck.Func
	}{
		{"TreeNodes", []*tensor.Dense{gradcheck.Random(rng, -1, 1, 10, 4), st},
			func(g *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
				return TreeNodes(in[0], in[1], 0, 1, 4)
			}},
		{"TreeRoots", []*tensor.Dense{gradcheck.Random(rng, -1, 1, 10, 4), st},
			func(g *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
				return TreeRoots(in[0], in[1], 0, 2)
			}},
		{"TreeChildren", []*tensor.Dense{gradcheck.Random(rng, -1, 1, 10, 4), st},
			func(g *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
				return TreeChildren(in[0], in[1], 1, 2, 4)
			}},
		{"TreeChildSum", []*tensor.Dense{gradcheck.Random(rng, -1, 1, 10, 4), st},
			func(g *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
				return TreeChildSum(in[0], in[1], 1, 0, 3)
			}},
		{"TreeMaskNodes", []*tensor.Dense{gradcheck.Random(rng, -1, 1, 10, 2), st},
			func(g *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
				return TreeMaskNodes(in[0], in[1])
			}},
		{"SumGroups", []*tensor.Dense{gradcheck.Random(rng, -1, 1, 6, 2)},
			func(g *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) { return SumGroups(in[0], 3) }},
		{"Columns", []*tensor.Dense{gradcheck.Random(rng, -1, 1, 3, 6)},
			func(g *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
				return columns(in[0], 1, 5, 2)
			}},
		{"TreeLSTMLeaf", []*tensor.Dense{gradcheck.Random(rng, -2, 2, 3, 8)},
			func(g *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) { return TreeLSTMLeaf(in[0]) }},
		{"ChildSumTreeLSTM", []*tensor.Dense{gradcheck.Random(rng, -2, 2, 2, 8), gradcheck.Random(rng, -2, 2, 2, 6),
			gradcheck.Random(rng, -2, 2, 6, 2), gradcheck.Random(rng, -2, 2, 6, 2)},
			func(g *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
				return ChildSumTreeLSTM(in[0], in[1], in[2], in[3])
			}},
		{"NaryTreeLSTM", []*tensor.Dense{gradcheck.Random(rng, -2, 2, 2, 8), gradcheck.Random(rng, -2, 2, 2, 10),
			gradcheck.Random(rng, -2, 2, 4, 2)},
			func(g *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
				return NaryTreeLSTM(in[0], in[1], in[2])
			}},
	}
	for _, c := range cases {
		wrt := []int{0}
		if len(c.inputs) > 1 && c.inputs[len(c.inputs)-1] != st {
			wrt = nil
		}
		if err := gradcheck.Check(c.f, c.inputs, gradcheck.Options{Wrt: wrt}); err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
	}
	// The cells at a level of a schedule, which skip empty slots and
	// absent children: level 1 of testSchedule with tree 1's second
	// child removed.
	sched := testSchedule()
	sched.Data().([]float64)[20] = -1
	level := func(g *gorgonia.ExprGraph, in []*gorgonia.Node) TreeLevel { return TreeLevel{in[len(in)-1], 1} }
	for _, c := range []struct {
		name   string
		inputs []*tensor.Dense
		f      gradcheck.Func
	}{
		{"ChildSumTreeLSTM at a level", []*tensor.Dense{gradcheck.Random(rng, -2, 2, 4, 8), gradcheck.Random(rng, -2, 2, 4, 6),
			gradcheck.Random(rng, -2, 2, 8, 2), gradcheck.Random(rng, -2, 2, 8, 2), sched},
			func(g *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
				return ChildSumTreeLSTM(in[0], in[1], in[2], in[3], level(g, in))
			}},
		{"NaryTreeLSTM at a level", []*tensor.Dense{gradcheck.Random(rng, -2, 2, 4, 8), gradcheck.Random(rng, -2, 2, 4, 10),
			gradcheck.Random(rng, -2, 2, 8, 2), sched},
			func(g *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
				return NaryTreeLSTM(in[0], in[1], in[2], level(g, in))
			}},
	} {
		wrt := []int{0, 1, 2}
		if len(c.inputs) == 5 {
			wrt = append(wrt, 3)
		}
		if err := gradcheck.Check(c.f, c.inputs, gradcheck.Options{Wrt: wrt}); err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
	}
	// The leaf cell on the trees' nodes (rows 8 and 9 are padding).
	leafOnNodes := func(g *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
		return TreeLSTMLeaf(in[0], in[1])
	}
	xw := gradcheck.Random(rng, -2, 2, 10, 8)
	if err := gradcheck.Check(leafOnNodes, []*tensor.Dense{xw, st}, gradcheck.Options{Wrt: []int{0}}); err != nil {
		t.Errorf("TreeLSTMLeaf on nodes: %v", err)
	}
	onNodes, err := runOp(t, leafOnNodes, xw, st)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := runOp(t, func(g *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) { return TreeLSTMLeaf(in[0]) }, xw)
	if err != nil {
		t.Fatal(err)
	}
	if err := sameFloats(onNodes, append(plain[:8*4:8*4], make([]float64, 2*4)...)); err != nil {
		t.Errorf("TreeLSTMLeaf on nodes: %v", err)
	}
	// TreeUpdate: both the table and the new rows.
	err = gradcheck.Check(func(g *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
		return TreeUpdate(in[0], in[1], in[2], 1)
	}, []*tensor.Dense{gradcheck.Random(rng, -1, 1, 10, 3), gradcheck.Random(rng, -1, 1, 4, 3), st}, gradcheck.Options{Wrt: []int{0, 1}})
	if err != nil {
		t.Errorf("TreeUpdate: %v", err)
	}
}

// TestTreeLSTMCellValues checks the cells against values worked by hand:
// d = 1, every pre-activation 0 except where noted.
// TestTreeMatMul checks TreeMatMul against the plain product with the
// unselected rows zeroed, and its gradients by central differences, for
// each kind of rows of testSchedule (B = 2, L = 2, W = 2, K = 2, M = 5).
func TestTreeMatMul(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	cases := []struct {
		kind    TreeRowKind
		level   int
		rows    int
		present []int
	}{
		{TreeSlotRows, 1, 4, []int{0, 2}},
		{TreeSlotRows, 0, 4, []int{0}},
		{TreeChildRows, 1, 8, []int{0, 1, 4, 5}},
		{TreeNodeRows, 0, 10, []int{0, 1, 2, 3, 4, 5, 6, 7}},
	}
	for _, c := range cases {
		a := gradcheck.Random(rng, -1, 1, c.rows, 3)
		b := gradcheck.Random(rng, -1, 1, 3, 2)
		f := func(g *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
			return TreeMatMul(in[0], in[1], TreeRows{Structure: in[2], Level: c.level, Kind: c.kind})
		}
		got, err := runOp(t, f, a, b, testSchedule())
		if err != nil {
			t.Fatalf("%v level %d: %+v", c.kind, c.level, err)
		}
		want := make([]float64, c.rows*2)
		av, bv := a.Data().([]float64), b.Data().([]float64)
		for _, r := range c.present {
			for j := range 2 {
				for k := range 3 {
					want[r*2+j] += av[r*3+k] * bv[k*2+j]
				}
			}
		}
		for i := range want {
			if abs(got[i]-want[i]) > 1e-14 {
				t.Errorf("%v level %d: got %v, want %v", c.kind, c.level, got, want)
				break
			}
		}
		if err := gradcheck.Check(f, []*tensor.Dense{a, b, testSchedule()}, gradcheck.Options{Wrt: []int{0, 1}}); err != nil {
			t.Errorf("%v level %d: %v", c.kind, c.level, err)
		}
	}
}

func TestTreeLSTMCellValues(t *testing.T) {
	// Leaf with i = o = σ(0) = ½, u = tanh(a): c = ½·tanh(a), h = ½·tanh(c).
	a := 0.5
	got, err := runOp(t, func(g *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) { return TreeLSTMLeaf(in[0]) },
		tensor.New(tensor.WithShape(1, 4), tensor.WithBacking([]float64{0, 0, a, 0})))
	if err != nil {
		t.Fatal(err)
	}
	c := 0.5 * 0.46211715726000974 // tanh(0.5)
	h := 0.5 * 0.22703260871745428 // tanh(c), c = 0.23105857863000487
	if d0, d1 := got[0]-h, got[1]-c; d0*d0+d1*d1 > 1e-24 {
		t.Errorf("leaf [h c] = %v, want [%v %v]", got, h, c)
	}
	// Child-sum, two children with c = 1 and 2, forget pre-activations 0
	// and ln 3 (f = ½ and ¾), all else 0: c = ½·0 + ½·1 + ¾·2 = 2.
	got, err = runOp(t, func(g *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
		return ChildSumTreeLSTM(in[0], in[1], in[2], in[3])
	},
		tensor.New(tensor.WithShape(1, 4), tensor.WithBacking([]float64{0, 0, 0, 0})),
		tensor.New(tensor.WithShape(1, 3), tensor.WithBacking([]float64{0, 0, 0})),
		tensor.New(tensor.WithShape(2, 1), tensor.WithBacking([]float64{0, 1.0986122886681098})),
		tensor.New(tensor.WithShape(2, 1), tensor.WithBacking([]float64{1, 2})))
	if err != nil {
		t.Fatal(err)
	}
	if want := []float64{0.5 * 0.9640275800758169, 2}; abs(got[0]-want[0]) > 1e-12 || abs(got[1]-want[1]) > 1e-12 {
		t.Errorf("child-sum [h c] = %v, want %v", got, want)
	}
}

// TestTreeLSTMCellSkips checks that a cell given its level equals the
// plain cell when the inputs of empty slots and absent children are zero,
// as the tree gathers make them, and is zero on empty slots.
func TestTreeLSTMCellSkips(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	sched := testSchedule()
	sched.Data().([]float64)[20] = -1 // tree 1's root keeps child 0 only
	// Level 1 rows: tree 0 slot 0 (present, 2 children), slot 1 (empty),
	// tree 1 slot 0 (present, child 0), slot 1 (empty).
	xw := gradcheck.Random(rng, -2, 2, 4, 8)
	zs := gradcheck.Random(rng, -2, 2, 4, 6)
	zf := gradcheck.Random(rng, -2, 2, 8, 2)
	ck := gradcheck.Random(rng, -2, 2, 8, 2)
	for _, r := range []int{1, 3} {
		clear(xw.Data().([]float64)[r*8 : (r+1)*8])
		clear(zs.Data().([]float64)[r*6 : (r+1)*6])
	}
	for _, child := range []int{2, 3, 5, 6, 7} { // (row, k) = (1, *), (2, 1), (3, *)
		clear(zf.Data().([]float64)[child*2 : (child+1)*2])
		clear(ck.Data().([]float64)[child*2 : (child+1)*2])
	}
	plain, err := runOp(t, func(g *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
		return ChildSumTreeLSTM(in[0], in[1], in[2], in[3])
	}, xw, zs, zf, ck)
	if err != nil {
		t.Fatal(err)
	}
	skipping, err := runOp(t, func(g *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
		return ChildSumTreeLSTM(in[0], in[1], in[2], in[3], TreeLevel{in[4], 1})
	}, xw, zs, zf, ck, sched)
	if err != nil {
		t.Fatal(err)
	}
	if err := sameFloats(skipping, plain); err != nil {
		t.Errorf("a cell at its level: %v (got %v, plain %v)", err, skipping, plain)
	}
	for _, v := range plain[4:8] {
		if v != 0 {
			t.Errorf("the row of an empty slot is %v, want zeros", plain[4:8])
		}
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

func TestCheckTreeScheduleErrors(t *testing.T) {
	cases := []struct {
		name  string
		edit  func(v []float64) // tree 0: level 0 at 0..5, level 1 at 6..11
		arity int
		want  string
	}{
		{"valid", func([]float64) {}, 0, ""},
		{"valid N-ary", func([]float64) {}, 2, ""},
		{"index out of range", func(v []float64) { v[1] = 5 }, 0, "tree 0, level 0, slot 0, column 1: index 5 is not −1 or a node in [0, 5)"},
		{"fractional index", func(v []float64) { v[1] = 0.5 }, 0, "index 0.5 is not"},
		{"children of an empty slot", func(v []float64) { v[4] = 3 }, 0, "tree 0, level 0, slot 1: an empty slot has children [3 -1]"},
		{"empty root slot", func(v []float64) { v[6], v[7], v[8] = -1, -1, -1 }, 0, "tree 0, level 1, slot 0: the root slot is empty"},
		{"node scheduled twice", func(v []float64) { v[9], v[10] = 2, 0 }, 0, "node 2 is scheduled twice"},
		{"two parents", func(v []float64) { v[8] = 1 }, 0, "node 1 has two parents (2 and 4)"},
		{"own child", func(v []float64) { v[2] = 2 }, 0, "node 2 is its own child"},
		{"child scheduled later", func(v []float64) {
			copy(v[0:6], []float64{4, 2, 3, 2, 0, 1})
			copy(v[6:12], []float64{-1, -1, -1, -1, -1, -1})
		}, 0, "the root slot is empty"},
		{"cycle through levels", func(v []float64) { copy(v[0:3], []float64{2, 0, 4}) }, 0, "child 4 is scheduled at level 1, not before its parent 2"},
		{"N-ary child count", func(v []float64) { v[2] = -1 }, 2, "node 2 has children [0 -1]; an N-ary cell with arity 2 needs all 2 or none"},
		{"cycle 4 → 3 → 4", func(v []float64) { v[9], v[10] = 3, 4 }, 0, "child 3 is scheduled at level 1, not before its parent 4"},
	}
	for _, c := range cases {
		st := testSchedule()
		c.edit(st.Data().([]float64))
		_, err := runOp(t, func(g *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
			return CheckTreeSchedule(in[0], 5, c.arity)
		}, st)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: got error %v, want one containing %q", c.name, err, c.want)
		}
	}
}
