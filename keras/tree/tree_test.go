package tree

import (
	"reflect"
	"strings"
	"testing"

	"gorgonia.org/tensor"
)

// sample is 5(4(1, 2), 3): tokens name the nodes.
func sample() *Tree { return New(5, New(4, Leaf(1), Leaf(2)), Leaf(3)) }

func TestTreeBasics(t *testing.T) {
	s := sample()
	if got := s.String(); got != "(5 (4 1 2) 3)" {
		t.Errorf("String = %q", got)
	}
	if s.Size() != 5 || s.Height() != 2 || Leaf(1).Height() != 0 {
		t.Errorf("Size %d, Height %d, leaf height %d; want 5, 2, 0", s.Size(), s.Height(), Leaf(1).Height())
	}
	c := New(1, Leaf(2))
	c.Children[0].Children = []*Tree{c}
	if c.Height() != -1 || c.Size() != 2 || !strings.Contains(c.String(), "<cycle>") {
		t.Errorf("a cyclic tree: Height %d, Size %d, String %q", c.Height(), c.Size(), c.String())
	}
}

func TestFromChildrenAndParents(t *testing.T) {
	// Node i has token 10+i; 2(0, 1) under 4 with 3.
	tokens := []int{10, 11, 12, 13, 14}
	got, err := FromChildren(tokens, [][]int{nil, nil, {0, 1}, nil, {2, 3}}, 4)
	if err != nil {
		t.Fatal(err)
	}
	if s := got.String(); s != "(14 (12 10 11) 13)" {
		t.Errorf("FromChildren = %s", s)
	}
	got, err = FromParents(tokens, []int{2, 2, 4, 4, -1})
	if err != nil {
		t.Fatal(err)
	}
	if s := got.String(); s != "(14 (12 10 11) 13)" {
		t.Errorf("FromParents = %s", s)
	}
	bad := []struct {
		name     string
		children [][]int
		parents  []int
		root     int
		want     string
	}{
		{name: "child out of range", children: [][]int{nil, nil, {0, 7}, nil, {2, 3}}, root: 4, want: "node 2 has child index 7, outside the 5 nodes"},
		{name: "negative child", children: [][]int{nil, nil, {0, -1}, nil, {2, 3}}, root: 4, want: "child index -1"},
		{name: "two parents", children: [][]int{nil, nil, {0, 1}, nil, {2, 1}}, root: 4, want: "node 1 has two parents (2 and 4)"},
		{name: "cycle", children: [][]int{nil, nil, {0, 4}, nil, {2, 3}}, root: 4, want: "the root 4 has a parent (2): the nodes form a cycle"},
		{name: "cycle below the root", children: [][]int{{1}, {0}, nil, nil, {2, 3}}, root: 4, want: "is on a cycle"},
		{name: "unreachable", children: [][]int{nil, nil, {0}, nil, {2, 3}}, root: 4, want: "node 1 (parent -1) is not reachable from the root 4"},
		{name: "root out of range", children: [][]int{nil, nil, nil, nil, nil}, root: 5, want: "root index 5 is not a node"},
		{name: "parent out of range", parents: []int{2, 2, 4, 9, -1}, want: "node 3 has parent index 9, outside the 5 nodes"},
		{name: "two roots", parents: []int{2, 2, -1, 4, -1}, want: "nodes 2 and 4 both have parent −1"},
		{name: "no root", parents: []int{2, 2, 4, 4, 2}, want: "no node has parent −1"},
	}
	for _, c := range bad {
		var err error
		if c.parents != nil {
			_, err = FromParents(tokens, c.parents)
		} else {
			_, err = FromChildren(tokens, c.children, c.root)
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error containing %q", c.name, err, c.want)
		}
	}
}

func TestEncode(t *testing.T) {
	trees := []*Tree{sample(), Leaf(7), New(6, Leaf(8), Leaf(9))}
	e, err := EncoderFor(trees, 0)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Encoder{MaxNodes: 5, MaxChildren: 2, MaxHeight: 2, MaxWidth: 1}); e != want {
		t.Fatalf("EncoderFor = %+v, want %+v", e, want)
	}
	e.MaxWidth = 2 // room to see empty slots
	e.Dtype = "float64"
	tok, st, err := e.Encode(trees)
	if err != nil {
		t.Fatal(err)
	}
	// Post-order: 1 2 4 3 5; a lone leaf; 8 9 6.
	wantTok := []float64{1, 2, 4, 3, 5, 7, 0, 0, 0, 0, 8, 9, 6, 0, 0}
	if !reflect.DeepEqual(tok.Data(), wantTok) || !tok.Shape().Eq(tensor.Shape{3, 5}) {
		t.Errorf("tokens %v %v, want (3, 5) %v", tok.Shape(), tok.Data(), wantTok)
	}
	// Level 1 holds the root, level 0 its inner children.
	wantSt := []float64{
		2, 0, 1, -1, -1, -1, // tree 0, level 0: node 2 (token 4) with 0, 1
		4, 2, 3, -1, -1, -1, // level 1: the root 4 with 2, 3
		-1, -1, -1, -1, -1, -1, // tree 1, level 0: empty
		0, -1, -1, -1, -1, -1, // level 1: the root, a leaf
		-1, -1, -1, -1, -1, -1, // tree 2, level 0: empty
		2, 0, 1, -1, -1, -1, // level 1: the root with 0, 1
	}
	if !reflect.DeepEqual(st.Data(), wantSt) || !st.Shape().Eq(tensor.Shape{3, 2, 2, 3}) {
		t.Errorf("structure %v %v, want (3, 2, 2, 3) %v", st.Shape(), st.Data(), wantSt)
	}
	// float32 by default.
	e.Dtype = ""
	if tok, _, _ := e.Encode(trees); tok.Dtype() != tensor.Float32 {
		t.Errorf("default dtype %v, want float32", tok.Dtype())
	}
}

func TestEncodeVectors(t *testing.T) {
	tr := &Tree{Vector: []float64{1, 2}, Children: []*Tree{{Vector: []float64{3, 4}}}}
	e := Encoder{MaxNodes: 3, MaxChildren: 1, MaxHeight: 1, MaxWidth: 1, Dtype: "float64"}
	f, st, err := e.EncodeVectors([]*Tree{tr}, 2)
	if err != nil {
		t.Fatal(err)
	}
	if want := []float64{3, 4, 1, 2, 0, 0}; !reflect.DeepEqual(f.Data(), want) || !f.Shape().Eq(tensor.Shape{1, 3, 2}) {
		t.Errorf("features %v %v, want (1, 3, 2) %v", f.Shape(), f.Data(), want)
	}
	if want := []float64{1, 0}; !reflect.DeepEqual(st.Data(), want) {
		t.Errorf("structure %v, want %v", st.Data(), want)
	}
	if _, _, err := e.EncodeVectors([]*Tree{New(0, Leaf(1))}, 2); err == nil || !strings.Contains(err.Error(), "node 0 (token 1) has a vector of 0 values, want 2") {
		t.Errorf("missing vector: %v", err)
	}
}

func TestEncodeErrors(t *testing.T) {
	e := Encoder{MaxNodes: 5, MaxChildren: 2, MaxHeight: 2, MaxWidth: 1}
	cyclic := New(1, Leaf(2))
	cyclic.Children[0].Children = []*Tree{cyclic}
	shared := Leaf(3)
	cases := []struct {
		name string
		e    Encoder
		tr   *Tree
		want string
	}{
		{"nil tree", e, nil, "tree 0: tree: nil tree"},
		{"nil child", e, New(1, nil), "child root.0 is nil"},
		{"cycle", e, cyclic, "a cycle: the node at root.0.0 (token 1) is its own descendant"},
		{"shared node", e, New(1, shared, shared), "the node at root.1 (token 3) is reached twice"},
		{"too many nodes", e, New(1, New(2, Leaf(3), Leaf(4)), New(5, Leaf(6))), "6 nodes, more than MaxNodes = 5"},
		{"too many children", e, New(1, Leaf(2), Leaf(3), Leaf(4)), "node 3 (token 1) has 3 children, more than MaxChildren = 2"},
		{"too high", e, New(1, New(2, New(3, Leaf(4)))), "height 3, more than MaxHeight = 2"},
		{"too wide", e, New(1, New(2, Leaf(3)), New(4, Leaf(5))), "more than MaxWidth = 1 inner nodes at depth 1"},
		{"negative token", e, New(1, Leaf(-2)), "node 0 (token -2) has a negative token -2"},
		{"N-ary child count", Encoder{MaxNodes: 5, MaxChildren: 2, MaxHeight: 2, MaxWidth: 1, Arity: 2}, New(1, Leaf(2)),
			"node 1 (token 1) has 1 children; an N-ary cell with Arity 2 needs exactly 2"},
		{"bad sizes", Encoder{MaxNodes: 5}, Leaf(1), "Encoder sizes must be positive"},
		{"bad dtype", Encoder{MaxNodes: 5, MaxChildren: 2, MaxHeight: 2, MaxWidth: 1, Dtype: "int"}, Leaf(1), `Dtype must be "float32" or "float64", got "int"`},
		{"bad arity", Encoder{MaxNodes: 5, MaxChildren: 2, MaxHeight: 2, MaxWidth: 1, Arity: 3}, Leaf(1), "Arity 3 must be in [0, MaxChildren = 2]"},
	}
	for _, c := range cases {
		_, _, err := c.e.Encode([]*Tree{c.tr})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error containing %q", c.name, err, c.want)
		}
	}
	if _, err := EncoderFor(nil, 0); err == nil {
		t.Error("EncoderFor(nil) gave no error")
	}
	if _, err := EncoderFor([]*Tree{cyclic}, 0); err == nil || !strings.Contains(err.Error(), "tree 0: tree: a cycle") {
		t.Errorf("EncoderFor of a cyclic tree: %v", err)
	}
}

func TestBinarize(t *testing.T) {
	// (5 (4 1 2) 3) with join 9 and close 8:
	// 5 becomes the first leaf of its chain, each argument one more join.
	got, err := Binarize(sample(), 9, 8)
	if err != nil {
		t.Fatal(err)
	}
	if want := "(9 (9 (9 5 (9 (9 (9 4 1) 2) 8)) 3) 8)"; got.String() != want {
		t.Errorf("Binarize = %s, want %s", got, want)
	}
	got, _ = Binarize(sample(), 9, -1)
	if want := "(9 (9 5 (9 (9 4 1) 2)) 3)"; got.String() != want {
		t.Errorf("Binarize without close = %s, want %s", got, want)
	}
	if got, _ := Binarize(Leaf(3), 9, 8); got.String() != "3" {
		t.Errorf("Binarize(leaf) = %s", got)
	}
	c := New(1, Leaf(2))
	c.Children[0].Children = []*Tree{c}
	if _, err := Binarize(c, 9, 8); err == nil || !strings.Contains(err.Error(), "a cycle") {
		t.Errorf("Binarize of a cyclic tree: %v", err)
	}
}

func TestEncodeLabels(t *testing.T) {
	tr := &Tree{Label: 3, Children: []*Tree{{Label: 1}, {Label: 2}}}
	e := Encoder{MaxNodes: 4, MaxChildren: 2, MaxHeight: 1, MaxWidth: 1, Dtype: "float64"}
	got, err := e.EncodeLabels([]*Tree{tr, {Label: 7}})
	if err != nil {
		t.Fatal(err)
	}
	if want := []float64{1, 2, 3, 0, 7, 0, 0, 0}; !reflect.DeepEqual(got.Data(), want) {
		t.Errorf("labels %v, want %v", got.Data(), want)
	}
	tr.Children[1].Label = -1
	if _, err := e.EncodeLabels([]*Tree{tr}); err == nil || !strings.Contains(err.Error(), "node 1 (token 0) has a negative label -1") {
		t.Errorf("negative label: %v", err)
	}
	if _, err := e.EncodeLabels([]*Tree{nil}); err == nil {
		t.Error("a nil tree gave no error")
	}
}
