package datasets

import (
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/keragon/keragon/keras/tree"
	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// ListOps token ids, shared by the sequences and the trees.
const (
	ListOpsPad   = 0  // padding of the sequences
	ListOpsDigit = 1  // digits 0–9 are ids 1–10
	ListOpsMax   = 11 // "[MAX"
	ListOpsMin   = 12 // "[MIN"
	ListOpsMed   = 13 // "[MED"
	ListOpsSum   = 14 // "[SM": sum modulo 10
	ListOpsClose = 15 // "]"
	ListOpsJoin  = 16 // the inner nodes of BinaryTrees
	// ListOpsVocabSize is the number of token ids, padding included.
	ListOpsVocabSize = 17
)

// ListOpsVocab names the token ids.
var ListOpsVocab = []string{"<pad>", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "[MAX", "[MIN", "[MED", "[SM", "]", "<join>"}

// ListOpsConfig configures ListOps. A zero field takes its default.
type ListOpsConfig struct {
	// Samples is the number of expressions (default 1000).
	Samples int
	// MaxDepth bounds the nesting of operators: 1 is a flat list such as
	// [MAX 2 9 0 ]; default 6.
	MaxDepth int
	// MaxArgs bounds the arguments of an operator, at least 2 (default 5).
	MaxArgs int
	// MaxLength bounds an expression's tokens, brackets included; longer
	// draws are discarded (default 100). It is also the width of the
	// sequences.
	MaxLength int
	// BranchProb is the chance that an argument above MaxDepth is itself a
	// list (default 0.25, Nangia and Bowman's).
	BranchProb float64
	// Unique draws no expression twice (the sample count must be reachable).
	Unique bool
	// Seed makes the draw repeatable.
	Seed uint64
}

// ListOpsData is a ListOps sample set.
type ListOpsData struct {
	// Sequences (n, MaxLength) holds token ids, the padding first
	// (Keras' pad_sequences default), so a recurrent layer ends on the
	// expression's last token.
	Sequences *tensor.Dense
	// Trees are the same expressions: an operator node (its token id)
	// with its arguments as children, digits as leaves. Every node's
	// Label is its value (a digit's is the digit), for training on every
	// sub-expression (tree.Encoder.EncodeLabels).
	Trees []*tree.Tree
	// BinaryTrees are the same trees binarised as Nangia and Bowman parse
	// ListOps (the shape tree.Binarize gives): a list is the
	// left-branching chain ((((op a1) a2) …) ]) of nodes with token
	// ListOpsJoin, every token of the sequence a leaf, for an N-ary cell
	// with Arity 2. Every node's Label is the value read so far: a join
	// node's is its operator over the arguments up to it (the last one's,
	// with the bracket, the list's value), a digit's the digit; operator
	// and bracket leaves, which have no value, carry 0.
	BinaryTrees []*tree.Tree
	// Labels (n) are the values 0–9.
	Labels *tensor.Dense
	// Exprs are the expressions as text, "[MAX 2 9 [MIN 4 7 ] 0 ]".
	Exprs []string
	// Depths are the nesting depths (1 for a flat list).
	Depths []int
}

// ListOps draws the ListOps task of Nangia and Bowman (2018): nested
// lists of digits under the operators MAX, MIN, MED (the median, rounded
// down for an even count) and SM (the sum modulo 10), to be evaluated;
// labels are the values 0–9. The root is always an operator, with 2 to
// MaxArgs arguments, each a digit or, with probability BranchProb while
// the depth allows, another list. The same draw gives token sequences (for
// sequence models) and trees (for keras.TreeLSTM), with shared token ids
// (ListOpsVocab).
func ListOps(cfg ListOpsConfig) (*ListOpsData, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(c.Seed, 0x6c6973746f7073)) // "listops"
	d := &ListOpsData{}
	seq := make([]float32, c.Samples*c.MaxLength)
	labels := make([]float32, c.Samples)
	seen := map[string]bool{}
	tries := 0
	for i := 0; i < c.Samples; {
		tries++
		if tries > 1000*c.Samples+100000 {
			return nil, errors.Errorf("datasets: ListOps found only %d of %d expressions within MaxLength %d (unique: %v); raise MaxLength or BranchProb, or lower Samples", i, c.Samples, c.MaxLength, c.Unique)
		}
		e := c.draw(rng, 1)
		toks := e.tokens(nil)
		if len(toks) > c.MaxLength {
			continue
		}
		text := tokenText(toks)
		if c.Unique {
			if seen[text] {
				continue
			}
			seen[text] = true
		}
		row := seq[i*c.MaxLength : (i+1)*c.MaxLength]
		for j, tk := range toks {
			row[c.MaxLength-len(toks)+j] = float32(tk)
		}
		labels[i] = float32(e.value())
		d.Trees = append(d.Trees, e.tree())
		d.BinaryTrees = append(d.BinaryTrees, e.binary())
		d.Exprs = append(d.Exprs, text)
		d.Depths = append(d.Depths, e.depth())
		i++
	}
	d.Sequences = tensor.New(tensor.WithShape(c.Samples, c.MaxLength), tensor.WithBacking(seq))
	d.Labels = tensor.New(tensor.WithShape(c.Samples), tensor.WithBacking(labels))
	return d, nil
}

func (c ListOpsConfig) withDefaults() (ListOpsConfig, error) {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.Samples, 1000)
	def(&c.MaxDepth, 6)
	def(&c.MaxArgs, 5)
	def(&c.MaxLength, 100)
	if c.BranchProb == 0 {
		c.BranchProb = 0.25
	}
	switch {
	case c.Samples < 0:
		return c, errors.Errorf("datasets: ListOps needs Samples ≥ 1, got %d", c.Samples)
	case c.MaxDepth < 1:
		return c, errors.Errorf("datasets: ListOps needs MaxDepth ≥ 1, got %d", c.MaxDepth)
	case c.MaxArgs < 2:
		return c, errors.Errorf("datasets: ListOps needs MaxArgs ≥ 2, got %d", c.MaxArgs)
	case c.MaxLength < 4:
		return c, errors.Errorf("datasets: ListOps needs MaxLength ≥ 4 (the shortest list, [MAX 1 2 ]), got %d", c.MaxLength)
	case !(c.BranchProb > 0 && c.BranchProb <= 1):
		return c, errors.Errorf("datasets: ListOps needs BranchProb in (0, 1], got %v", c.BranchProb)
	}
	return c, nil
}

// listExpr is a drawn expression: a digit, or an operator with arguments.
type listExpr struct {
	op    int // 0 for a digit
	digit int
	args  []*listExpr
}

func (c ListOpsConfig) draw(rng *rand.Rand, depth int) *listExpr {
	e := &listExpr{op: ListOpsMax + rng.IntN(4)}
	for range 2 + rng.IntN(c.MaxArgs-1) {
		if depth < c.MaxDepth && rng.Float64() < c.BranchProb {
			e.args = append(e.args, c.draw(rng, depth+1))
		} else {
			e.args = append(e.args, &listExpr{digit: rng.IntN(10)})
		}
	}
	return e
}

func (e *listExpr) tokens(out []int) []int {
	if e.op == 0 {
		return append(out, ListOpsDigit+e.digit)
	}
	out = append(out, e.op)
	for _, a := range e.args {
		out = a.tokens(out)
	}
	return append(out, ListOpsClose)
}

func (e *listExpr) value() int {
	if e.op == 0 {
		return e.digit
	}
	v := make([]int, len(e.args))
	for i, a := range e.args {
		v[i] = a.value()
	}
	return listOp(e.op, v)
}

// listOp applies an operator to argument values.
func listOp(op int, v []int) int {
	switch op {
	case ListOpsMax:
		return slices.Max(v)
	case ListOpsMin:
		return slices.Min(v)
	case ListOpsMed:
		s := slices.Clone(v)
		slices.Sort(s)
		n := len(s)
		if n%2 == 1 {
			return s[n/2]
		}
		return (s[n/2-1] + s[n/2]) / 2
	}
	sum := 0
	for _, x := range v {
		sum += x
	}
	return sum % 10
}

func (e *listExpr) depth() int {
	d := 0
	for _, a := range e.args {
		d = max(d, a.depth())
	}
	if e.op == 0 {
		return 0
	}
	return d + 1
}

func (e *listExpr) tree() *tree.Tree {
	if e.op == 0 {
		return &tree.Tree{Token: ListOpsDigit + e.digit, Label: e.digit}
	}
	t := &tree.Tree{Token: e.op, Label: e.value()}
	for _, a := range e.args {
		t.Children = append(t.Children, a.tree())
	}
	return t
}

// binary is the expression as a left-branching binary tree (see
// ListOpsData.BinaryTrees), every node labelled with the value so far.
func (e *listExpr) binary() *tree.Tree {
	if e.op == 0 {
		return e.tree()
	}
	acc := &tree.Tree{Token: e.op}
	var vals []int
	for _, a := range e.args {
		vals = append(vals, a.value())
		acc = &tree.Tree{Token: ListOpsJoin, Label: listOp(e.op, vals), Children: []*tree.Tree{acc, a.binary()}}
	}
	return &tree.Tree{Token: ListOpsJoin, Label: e.value(), Children: []*tree.Tree{acc, {Token: ListOpsClose}}}
}

func tokenText(toks []int) string {
	words := make([]string, len(toks))
	for i, t := range toks {
		words[i] = ListOpsVocab[t]
	}
	return strings.Join(words, " ")
}
