package tree

import (
	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// An Encoder turns trees into fixed-size tensors, one row per tree, that a
// Keras model takes as inputs (see keras.TreeLSTM):
//
//	tokens    (n, MaxNodes)                          token id per node
//	structure (n, MaxHeight, MaxWidth, 1+MaxChildren) the schedule below
//
// Nodes are numbered children before parents (post-order), the root last;
// slots past a tree's nodes hold token 0 and no structure.
//
// The structure lists a tree's inner nodes level by level, in the order a
// tree layer composes them: level MaxHeight−1 holds the root alone (in slot
// 0, even when the root is a leaf), level MaxHeight−2 the root's inner
// children, and so on down: an inner node at depth δ sits in level
// MaxHeight−1−δ. A slot is a row [node, child 1, …, child MaxChildren] of
// node indices, −1 where there is no node or no child. Leaves not at the
// root appear only as children. Every child is thus a leaf or a node of the
// level below, so a layer composes all trees of a batch in MaxHeight steps
// with shared weights, each step over MaxWidth slots per tree.
//
// The zero value of a size is not usable: set every size, or let
// EncoderFor measure them.
type Encoder struct {
	// MaxNodes is the number of node slots per tree.
	MaxNodes int `json:"max_nodes"`
	// MaxChildren is the largest number of children a node may have.
	MaxChildren int `json:"max_children"`
	// MaxHeight is the number of levels: the height of the highest tree
	// (edges from root to deepest leaf), at least 1.
	MaxHeight int `json:"max_height"`
	// MaxWidth is the largest number of inner nodes at one depth.
	MaxWidth int `json:"max_width"`
	// Arity, if positive, requires every inner node to have exactly Arity
	// children, as an N-ary cell does (TreeLSTM with Arity N).
	Arity int `json:"arity,omitempty"`
	// Dtype of the tensors: "float32" (the default) or "float64".
	Dtype string `json:"dtype,omitempty"`
}

// EncoderFor returns the smallest Encoder that fits every tree, with the
// given Arity (0 for any number of children).
func EncoderFor(trees []*Tree, arity int) (Encoder, error) {
	if len(trees) == 0 {
		return Encoder{}, errors.New("tree: EncoderFor needs at least one tree")
	}
	e := Encoder{MaxHeight: 1, MaxWidth: 1, MaxChildren: max(arity, 1), Arity: arity}
	for i, t := range trees {
		nodes, err := flatten(t)
		if err != nil {
			return Encoder{}, errors.WithMessagef(err, "tree %d", i)
		}
		e.MaxNodes = max(e.MaxNodes, len(nodes))
		widths := map[int]int{}
		for _, n := range nodes {
			e.MaxChildren = max(e.MaxChildren, len(n.t.Children))
			if !n.t.IsLeaf() {
				widths[n.depth]++
				e.MaxWidth = max(e.MaxWidth, widths[n.depth])
				e.MaxHeight = max(e.MaxHeight, n.depth+1)
			}
		}
	}
	return e, e.check()
}

// StructureShape is the shape of one tree's structure:
// (MaxHeight, MaxWidth, 1+MaxChildren).
func (e Encoder) StructureShape() []int {
	return []int{e.MaxHeight, e.MaxWidth, 1 + e.MaxChildren}
}

func (e Encoder) check() error {
	if e.MaxNodes < 1 || e.MaxChildren < 1 || e.MaxHeight < 1 || e.MaxWidth < 1 {
		return errors.Errorf("tree: Encoder sizes must be positive, got MaxNodes %d, MaxChildren %d, MaxHeight %d, MaxWidth %d",
			e.MaxNodes, e.MaxChildren, e.MaxHeight, e.MaxWidth)
	}
	if e.Dtype != "" && e.Dtype != "float32" && e.Dtype != "float64" {
		return errors.Errorf("tree: Encoder Dtype must be \"float32\" or \"float64\", got %q", e.Dtype)
	}
	if e.Arity < 0 || e.Arity > e.MaxChildren {
		return errors.Errorf("tree: Encoder Arity %d must be in [0, MaxChildren = %d]", e.Arity, e.MaxChildren)
	}
	return nil
}

// Encode returns the tokens (n, MaxNodes) and the structure
// (n, MaxHeight, MaxWidth, 1+MaxChildren) of n trees. It fails, naming the
// tree and the node, on a nil tree or child, a cycle, a node shared by two
// parents, a negative token, a tree larger than MaxNodes, higher than
// MaxHeight or wider than MaxWidth, a node with more than MaxChildren
// children and, with Arity set, an inner node with another number of
// children.
func (e Encoder) Encode(trees []*Tree) (tokens, structure *tensor.Dense, err error) {
	tok, st, err := e.encode(trees, 0)
	if err != nil {
		return nil, nil, err
	}
	return e.dense(tok, len(trees), e.MaxNodes), e.dense(st, append([]int{len(trees)}, e.StructureShape()...)...), nil
}

// EncodeVectors is Encode for trees whose nodes carry feature vectors of
// dim values each: it returns features (n, MaxNodes, dim) instead of
// tokens. Every node needs a Vector of that length.
func (e Encoder) EncodeVectors(trees []*Tree, dim int) (features, structure *tensor.Dense, err error) {
	if dim < 1 {
		return nil, nil, errors.Errorf("tree: EncodeVectors needs a positive dimension, got %d", dim)
	}
	feat, st, err := e.encode(trees, dim)
	if err != nil {
		return nil, nil, err
	}
	return e.dense(feat, len(trees), e.MaxNodes, dim), e.dense(st, append([]int{len(trees)}, e.StructureShape()...)...), nil
}

// EncodeLabels returns every node's Label (n, MaxNodes), in the node
// order of Encode, 0 on padding slots: the targets of a model whose tree
// layer returns every node (ReturnNodes), which masks the padding slots
// out of the loss. It fails as Encode does, and on a negative label.
func (e Encoder) EncodeLabels(trees []*Tree) (*tensor.Dense, error) {
	if _, _, err := e.encode(trees, 0); err != nil {
		return nil, err
	}
	labels := make([]float64, len(trees)*e.MaxNodes)
	for s, t := range trees {
		flat, _ := flatten(t)
		for i, n := range flat {
			if n.t.Label < 0 {
				return nil, errors.Errorf("tree: tree %d: node %d (token %d) has a negative label %d", s, i, n.t.Token, n.t.Label)
			}
			labels[s*e.MaxNodes+i] = float64(n.t.Label)
		}
	}
	return e.dense(labels, len(trees), e.MaxNodes), nil
}

func (e Encoder) dense(v []float64, shape ...int) *tensor.Dense {
	if e.Dtype == "float64" {
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(v))
	}
	f := make([]float32, len(v))
	for i, x := range v {
		f[i] = float32(x)
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(f))
}

// encode fills tokens (dim 0) or features and the structure.
func (e Encoder) encode(trees []*Tree, dim int) (nodes, structure []float64, err error) {
	if err := e.check(); err != nil {
		return nil, nil, err
	}
	if len(trees) == 0 {
		return nil, nil, errors.New("tree: no trees to encode")
	}
	per := max(dim, 1)
	L, W, K := e.MaxHeight, e.MaxWidth, e.MaxChildren
	row := 1 + K
	nodes = make([]float64, len(trees)*e.MaxNodes*per)
	structure = make([]float64, len(trees)*L*W*row)
	for i := range structure {
		structure[i] = -1
	}
	for s, t := range trees {
		if err := e.encodeOne(t, dim, nodes[s*e.MaxNodes*per:(s+1)*e.MaxNodes*per], structure[s*L*W*row:(s+1)*L*W*row]); err != nil {
			return nil, nil, errors.WithMessagef(err, "tree %d", s)
		}
	}
	return nodes, structure, nil
}

func (e Encoder) encodeOne(t *Tree, dim int, nodes, structure []float64) error {
	flat, err := flatten(t)
	if err != nil {
		return err
	}
	if len(flat) > e.MaxNodes {
		return errors.Errorf("tree: %d nodes, more than MaxNodes = %d", len(flat), e.MaxNodes)
	}
	index := make(map[*Tree]int, len(flat))
	for i, n := range flat {
		index[n.t] = i
	}
	L, W, K := e.MaxHeight, e.MaxWidth, e.MaxChildren
	row := 1 + K
	used := make([]int, L)
	for i, n := range flat {
		if n.t.Token < 0 {
			return errors.Errorf("tree: node %d (token %d) has a negative token %d", i, n.t.Token, n.t.Token)
		}
		if dim == 0 {
			nodes[i] = float64(n.t.Token)
		} else {
			if len(n.t.Vector) != dim {
				return errors.Errorf("tree: node %d (token %d) has a vector of %d values, want %d", i, n.t.Token, len(n.t.Vector), dim)
			}
			copy(nodes[i*dim:(i+1)*dim], n.t.Vector)
		}
		nc := len(n.t.Children)
		if nc > K {
			return errors.Errorf("tree: node %d (token %d) has %d children, more than MaxChildren = %d", i, n.t.Token, nc, K)
		}
		if nc > 0 && e.Arity > 0 && nc != e.Arity {
			return errors.Errorf("tree: node %d (token %d) has %d children; an N-ary cell with Arity %d needs exactly %d", i, n.t.Token, nc, e.Arity, e.Arity)
		}
		if nc == 0 && n.depth > 0 {
			continue // a leaf below the root: only a child
		}
		level := L - 1 - n.depth
		if level < 0 {
			return errors.Errorf("tree: height %d, more than MaxHeight = %d", height(t), L)
		}
		if used[level] == W {
			return errors.Errorf("tree: more than MaxWidth = %d inner nodes at depth %d", W, n.depth)
		}
		slot := structure[(level*W+used[level])*row : (level*W+used[level]+1)*row]
		used[level]++
		slot[0] = float64(i)
		for k, c := range n.t.Children {
			slot[1+k] = float64(index[c])
		}
	}
	return nil
}

// flatNode is a node with its depth, in post-order.
type flatNode struct {
	t     *Tree
	depth int
}

// flatten lists t's nodes children first, checking that t is a tree: no
// nil node, no cycle, no node reached twice.
func flatten(t *Tree) ([]flatNode, error) {
	if t == nil {
		return nil, errors.New("tree: nil tree")
	}
	var out []flatNode
	state := map[*Tree]int{} // 1 on the current path, 2 done
	var visit func(t *Tree, depth int, path string) error
	visit = func(t *Tree, depth int, path string) error {
		switch state[t] {
		case 1:
			return errors.Errorf("tree: a cycle: the node at %s (token %d) is its own descendant", path, t.Token)
		case 2:
			return errors.Errorf("tree: the node at %s (token %d) is reached twice: a tree node has one parent", path, t.Token)
		}
		state[t] = 1
		for k, c := range t.Children {
			p := path + "." + itoa(k)
			if c == nil {
				return errors.Errorf("tree: child %s is nil", p)
			}
			if err := visit(c, depth+1, p); err != nil {
				return err
			}
		}
		state[t] = 2
		out = append(out, flatNode{t: t, depth: depth})
		return nil
	}
	if err := visit(t, 0, "root"); err != nil {
		return nil, err
	}
	return out, nil
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}
