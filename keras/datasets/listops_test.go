package datasets

import (
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/keragon/keragon/keras/tree"
)

// evalListOps evaluates an expression's text on its own, with a stack, as
// a check of the generator's labels: MED is the median (the mean of the
// two middle values for an even count) rounded down, SM the sum mod 10.
func evalListOps(t *testing.T, text string) int {
	t.Helper()
	type frame struct {
		op   string
		args []float64
	}
	var stack []frame
	var result float64
	for _, w := range strings.Fields(text) {
		switch {
		case strings.HasPrefix(w, "["):
			stack = append(stack, frame{op: w[1:]})
		case w == "]":
			f := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			a := append([]float64(nil), f.args...)
			sort.Float64s(a)
			var v float64
			switch f.op {
			case "MAX":
				v = a[len(a)-1]
			case "MIN":
				v = a[0]
			case "MED":
				if n := len(a); n%2 == 1 {
					v = a[n/2]
				} else {
					v = math.Floor((a[n/2-1] + a[n/2]) / 2)
				}
			case "SM":
				for _, x := range a {
					v += x
				}
				v = math.Mod(v, 10)
			default:
				t.Fatalf("unknown operator %q in %q", f.op, text)
			}
			if len(stack) == 0 {
				result = v
			} else {
				stack[len(stack)-1].args = append(stack[len(stack)-1].args, v)
			}
		default:
			d, err := strconv.Atoi(w)
			if err != nil || len(stack) == 0 {
				t.Fatalf("bad token %q in %q", w, text)
			}
			stack[len(stack)-1].args = append(stack[len(stack)-1].args, float64(d))
		}
	}
	if len(stack) != 0 {
		t.Fatalf("unbalanced %q", text)
	}
	return int(result)
}

// treeText writes a ListOps tree back as tokens.
func treeText(tr *tree.Tree) string {
	if tr.IsLeaf() {
		return ListOpsVocab[tr.Token]
	}
	words := []string{ListOpsVocab[tr.Token]}
	for _, c := range tr.Children {
		words = append(words, treeText(c))
	}
	return strings.Join(append(words, "]"), " ")
}

// checkNodeLabels checks that every node's label is its sub-expression's
// value.
func checkNodeLabels(t *testing.T, tr *tree.Tree) {
	t.Helper()
	text := treeText(tr)
	want := 0
	if tr.IsLeaf() {
		want, _ = strconv.Atoi(text)
	} else {
		want = evalListOps(t, text)
	}
	if tr.Label != want {
		t.Errorf("node %q has label %d, evaluates to %d", text, tr.Label, want)
	}
	for _, c := range tr.Children {
		checkNodeLabels(t, c)
	}
}

// leaves lists a binary tree's leaves left to right, checking that inner
// nodes are joins of two.
func leaves(tr *tree.Tree, out []string) []string {
	if tr.IsLeaf() {
		return append(out, ListOpsVocab[tr.Token])
	}
	if tr.Token != ListOpsJoin || len(tr.Children) != 2 {
		return append(out, "<bad inner node>")
	}
	return leaves(tr.Children[1], leaves(tr.Children[0], out))
}

func TestListOpsHandWorked(t *testing.T) {
	cases := []struct {
		text string
		want int
	}{
		{"[MAX 2 9 [MIN 4 7 ] 0 ]", 9},
		{"[MED 3 1 8 6 ]", 4}, // (3 + 6) / 2 rounded down
		{"[SM 9 8 [MAX 1 3 ] ]", 0},
		{"[MIN [MED 5 5 1 ] 7 ]", 5},
	}
	for _, c := range cases {
		if got := evalListOps(t, c.text); got != c.want {
			t.Errorf("%s = %d, want %d", c.text, got, c.want)
		}
	}
}

func TestListOps(t *testing.T) {
	cfg := ListOpsConfig{Samples: 2000, MaxDepth: 4, MaxArgs: 4, MaxLength: 60, BranchProb: 0.3, Seed: 5}
	d, err := ListOps(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !d.Sequences.Shape().Eq([]int{2000, 60}) || !d.Labels.Shape().Eq([]int{2000}) || len(d.Trees) != 2000 || len(d.Exprs) != 2000 {
		t.Fatalf("shapes: sequences %v, labels %v, %d trees, %d exprs", d.Sequences.Shape(), d.Labels.Shape(), len(d.Trees), len(d.Exprs))
	}
	seq := d.Sequences.Data().([]float32)
	labels := d.Labels.Data().([]float32)
	classes := map[int]int{}
	depths := map[int]int{}
	ops := map[string]bool{}
	for i, text := range d.Exprs {
		want := evalListOps(t, text)
		if int(labels[i]) != want {
			t.Errorf("sample %d %q: label %v, evaluates to %d", i, text, labels[i], want)
		}
		classes[want]++
		// The sequence is the text, padding first.
		var words []string
		row := seq[i*60 : (i+1)*60]
		started := false
		for _, id := range row {
			if id == ListOpsPad && !started {
				continue
			}
			started = true
			words = append(words, ListOpsVocab[int(id)])
		}
		if got := strings.Join(words, " "); got != text {
			t.Errorf("sample %d: sequence %q, text %q", i, got, text)
		}
		if got := treeText(d.Trees[i]); got != text {
			t.Errorf("sample %d: tree %q, text %q", i, got, text)
		}
		checkNodeLabels(t, d.Trees[i])
		if got := strings.Join(leaves(d.BinaryTrees[i], nil), " "); got != text {
			t.Errorf("sample %d: binary tree leaves %q, text %q", i, got, text)
		}
		if h := d.Trees[i].Height(); h != d.Depths[i] || h < 1 || h > 4 {
			t.Errorf("sample %d %q: depth %d, tree height %d, want equal and in [1, 4]", i, text, d.Depths[i], h)
		}
		depths[d.Depths[i]]++
		for _, w := range strings.Fields(text) {
			if strings.HasPrefix(w, "[") {
				ops[w] = true
			}
		}
		if n := len(d.Trees[i].Children); n < 2 || n > 4 {
			t.Errorf("sample %d: the root has %d arguments, want 2 to 4", i, n)
		}
	}
	if len(classes) != 10 || len(ops) != 4 || len(depths) != 4 {
		t.Errorf("the draw covers labels %v, operators %v and depths %v; want all 10, all 4, depths 1–4", classes, ops, depths)
	}
	t.Logf("labels %v; depths %v", classes, depths)
}

func TestListOpsDeterministic(t *testing.T) {
	cfg := ListOpsConfig{Samples: 50, Seed: 9}
	a, err := ListOps(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := ListOps(cfg)
	if !reflect.DeepEqual(a.Exprs, b.Exprs) || !reflect.DeepEqual(a.Sequences.Data(), b.Sequences.Data()) || !reflect.DeepEqual(a.Labels.Data(), b.Labels.Data()) {
		t.Error("two draws with seed 9 differ")
	}
	cfg.Seed = 10
	c, _ := ListOps(cfg)
	if reflect.DeepEqual(a.Exprs, c.Exprs) {
		t.Error("seeds 9 and 10 drew the same expressions")
	}
}

func TestListOpsUnique(t *testing.T) {
	d, err := ListOps(ListOpsConfig{Samples: 400, MaxDepth: 1, MaxArgs: 2, Unique: true, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range d.Exprs {
		if seen[e] {
			t.Fatalf("%q drawn twice", e)
		}
		seen[e] = true
	}
	// Only 4 operators × 10 × 10 flat pairs exist, all drawn above.
	if _, err := ListOps(ListOpsConfig{Samples: 401, MaxDepth: 1, MaxArgs: 2, Unique: true}); err == nil || !strings.Contains(err.Error(), "found only 400 of 401") {
		t.Errorf("asking for more unique expressions than exist: %v", err)
	}
}

func TestListOpsBadConfig(t *testing.T) {
	cases := []struct {
		cfg  ListOpsConfig
		want string
	}{
		{ListOpsConfig{Samples: -1}, "Samples ≥ 1, got -1"},
		{ListOpsConfig{MaxDepth: -2}, "MaxDepth ≥ 1, got -2"},
		{ListOpsConfig{MaxArgs: 1}, "MaxArgs ≥ 2, got 1"},
		{ListOpsConfig{MaxLength: 3}, "MaxLength ≥ 4"},
		{ListOpsConfig{BranchProb: 1.5}, "BranchProb in (0, 1], got 1.5"},
		{ListOpsConfig{BranchProb: math.NaN()}, "BranchProb in (0, 1], got NaN"},
	}
	for _, c := range cases {
		if _, err := ListOps(c.cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: got %v, want an error containing %q", c.cfg, err, c.want)
		}
	}
}

// The binary trees have tree.Binarize's shape and label every node with
// the value read so far: worked by hand on [SM 7 5 [MED 1 9 4 6 ] ].
func TestListOpsBinaryLabels(t *testing.T) {
	d := func(v int) *listExpr { return &listExpr{digit: v} }
	med := &listExpr{op: ListOpsMed, args: []*listExpr{d(1), d(9), d(4), d(6)}}
	e := &listExpr{op: ListOpsSum, args: []*listExpr{d(7), d(5), med}}
	got := e.binary()
	want, err := tree.Binarize(e.tree(), ListOpsJoin, ListOpsClose)
	if err != nil {
		t.Fatal(err)
	}
	if got.String() != want.String() {
		t.Fatalf("binary tree %s, tree.Binarize gives %s", got, want)
	}
	// Post-order labels: SM-chain: [SM 0, 7 7, join 7, 5 5, join 2 (7+5),
	// MED-chain: [MED 0, 1 1, join 1, 9 9, join 5 (median 1 9), 4 4,
	// join 4 (1 4 9), 6 6, join 5 ((4+6)/2), ] 0, join 5; join 7 (12+5),
	// ] 0, join 7.
	wantLabels := []int{0, 7, 7, 5, 2, 0, 1, 1, 9, 5, 4, 4, 6, 5, 0, 5, 7, 0, 7}
	var labels []int
	var walk func(n *tree.Tree)
	walk = func(n *tree.Tree) {
		for _, c := range n.Children {
			walk(c)
		}
		labels = append(labels, n.Label)
	}
	walk(got)
	if !reflect.DeepEqual(labels, wantLabels) {
		t.Errorf("post-order labels %v, want %v", labels, wantLabels)
	}
}
