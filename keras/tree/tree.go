package tree

import (
	"fmt"
	"strings"

	"github.com/pkg/errors"
)

// A Tree is a node and, through its Children, the subtree below it. Every
// node carries a token id (a digit, an operator, a word), and optionally a
// feature vector instead; inner nodes have ordered children.
type Tree struct {
	// Token is the node's id in a vocabulary, ≥ 0.
	Token int `json:"token"`
	// Vector holds the node's features when a model reads vectors rather
	// than token ids (see Encoder.EncodeVectors); nil otherwise.
	Vector []float64 `json:"vector,omitempty"`
	// Label is the node's class, for models trained on every node (as Tai
	// et al. train on the Stanford Sentiment Treebank's phrases); see
	// Encoder.EncodeLabels.
	Label int `json:"label,omitempty"`
	// Children are the node's subtrees, in order; none for a leaf.
	Children []*Tree `json:"children,omitempty"`
}

// Leaf returns a node without children.
func Leaf(token int) *Tree { return &Tree{Token: token} }

// New returns a node with the given children.
func New(token int, children ...*Tree) *Tree {
	return &Tree{Token: token, Children: children}
}

// IsLeaf reports whether t has no children.
func (t *Tree) IsLeaf() bool { return len(t.Children) == 0 }

// Size is the number of nodes. On a malformed tree (a cycle) it counts
// each node once.
func (t *Tree) Size() int {
	n := 0
	walkOnce(t, func(*Tree) { n++ })
	return n
}

// Height is the number of edges on the longest path from t down to a
// leaf: 0 for a leaf. It is −1 if t is nil or has a cycle.
func (t *Tree) Height() int {
	if _, err := flatten(t); err != nil {
		return -1
	}
	return height(t)
}

func height(t *Tree) int {
	h := 0
	for _, c := range t.Children {
		h = max(h, height(c)+1)
	}
	return h
}

// String writes t as an s-expression of token ids: a leaf is its token, an
// inner node "(token child child …)".
func (t *Tree) String() string {
	return t.Format(func(tok int) string { return fmt.Sprint(tok) })
}

// Format writes t as an s-expression, naming tokens with name.
func (t *Tree) Format(name func(token int) string) string {
	var b strings.Builder
	path := map[*Tree]bool{}
	var write func(t *Tree)
	write = func(t *Tree) {
		if t == nil {
			b.WriteString("<nil>")
			return
		}
		if path[t] {
			b.WriteString("<cycle>")
			return
		}
		path[t] = true
		defer delete(path, t)
		if t.IsLeaf() {
			b.WriteString(name(t.Token))
			return
		}
		b.WriteString("(" + name(t.Token))
		for _, c := range t.Children {
			b.WriteByte(' ')
			write(c)
		}
		b.WriteByte(')')
	}
	write(t)
	return b.String()
}

// walkOnce calls f on each node reachable from t once, children first.
func walkOnce(t *Tree, f func(*Tree)) {
	seen := map[*Tree]bool{}
	var visit func(*Tree)
	visit = func(t *Tree) {
		if t == nil || seen[t] {
			return
		}
		seen[t] = true
		for _, c := range t.Children {
			visit(c)
		}
		f(t)
	}
	visit(t)
}

// FromChildren builds a tree from node lists: tokens[i] is node i's token,
// children[i] its ordered child indices, root the root's index. It fails
// on a child index outside the nodes, a cycle, a node with two parents and
// a node the root does not reach.
func FromChildren(tokens []int, children [][]int, root int) (*Tree, error) {
	n := len(tokens)
	if len(children) != n {
		return nil, errors.Errorf("tree: %d tokens but %d child lists", n, len(children))
	}
	if root < 0 || root >= n {
		return nil, errors.Errorf("tree: root index %d is not a node (there are %d)", root, n)
	}
	nodes := make([]*Tree, n)
	for i, tok := range tokens {
		nodes[i] = &Tree{Token: tok}
	}
	parent := make([]int, n)
	for i := range parent {
		parent[i] = -1
	}
	for i, cs := range children {
		for _, c := range cs {
			if c < 0 || c >= n {
				return nil, errors.Errorf("tree: node %d has child index %d, outside the %d nodes", i, c, n)
			}
			if parent[c] >= 0 {
				return nil, errors.Errorf("tree: node %d has two parents (%d and %d)", c, parent[c], i)
			}
			parent[c] = i
			nodes[i].Children = append(nodes[i].Children, nodes[c])
		}
	}
	if parent[root] >= 0 {
		return nil, errors.Errorf("tree: the root %d has a parent (%d): the nodes form a cycle", root, parent[root])
	}
	if _, err := flatten(nodes[root]); err != nil {
		return nil, err
	}
	for i, p := range parent {
		if i == root {
			continue
		}
		// Walk up: a node that never reaches the root is unreachable or on
		// a cycle.
		j, steps := i, 0
		for j != root && j >= 0 && steps <= n {
			j, steps = parent[j], steps+1
		}
		if j != root {
			if steps > n {
				return nil, errors.Errorf("tree: node %d is on a cycle", i)
			}
			return nil, errors.Errorf("tree: node %d (parent %d) is not reachable from the root %d", i, p, root)
		}
	}
	return nodes[root], nil
}

// FromParents builds a tree from a parent list, the format of the Stanford
// Sentiment Treebank's parent pointers: parents[i] is node i's parent
// index, −1 for the root. Children keep index order. It fails on a parent
// index outside the nodes, no root or several, and a cycle.
func FromParents(tokens []int, parents []int) (*Tree, error) {
	n := len(tokens)
	if len(parents) != n {
		return nil, errors.Errorf("tree: %d tokens but %d parents", n, len(parents))
	}
	root := -1
	children := make([][]int, n)
	for i, p := range parents {
		switch {
		case p == -1:
			if root >= 0 {
				return nil, errors.Errorf("tree: nodes %d and %d both have parent −1 (two roots)", root, i)
			}
			root = i
		case p < 0 || p >= n:
			return nil, errors.Errorf("tree: node %d has parent index %d, outside the %d nodes", i, p, n)
		default:
			children[p] = append(children[p], i)
		}
	}
	if root < 0 {
		return nil, errors.New("tree: no node has parent −1 (no root): the nodes form a cycle")
	}
	return FromChildren(tokens, children, root)
}

// Binarize returns t as a binary tree read left to right, the form that
// Nangia and Bowman's ListOps and SPINN-style parsers use: every inner node
// with token op and children c1 … cn becomes a left-branching chain
//
//	join(… join(join(op, c1), c2) …, cn)
//
// of new nodes with token join, op becoming the chain's first leaf, and,
// if close ≥ 0, one more join(chain, close) with a leaf close (ListOps'
// closing bracket). Leaves stay leaves (Vectors are not copied). Every
// inner node of the result has two children, so an N-ary cell with Arity
// 2 can compose it in order. It fails on a cycle or a shared node.
func Binarize(t *Tree, join, close int) (*Tree, error) {
	if _, err := flatten(t); err != nil {
		return nil, err
	}
	var bin func(t *Tree) *Tree
	bin = func(t *Tree) *Tree {
		if t.IsLeaf() {
			return Leaf(t.Token)
		}
		acc := Leaf(t.Token)
		for _, c := range t.Children {
			acc = New(join, acc, bin(c))
		}
		if close >= 0 {
			acc = New(join, acc, Leaf(close))
		}
		return acc
	}
	return bin(t), nil
}
