package keras

import (
	"math/rand/v2"

	"github.com/keragon/keragon/graph"
	"github.com/keragon/keragon/ops"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Tree layers.
//
// TreeRNN and TreeLSTM compose the nodes of trees bottom-up with shared
// weights (recursive networks). Trees differ from sample to sample, yet a
// model's graph is static, so a tree is given as two fixed-size inputs that
// keras/tree.Encoder makes:
//
//	features  (batch, nodes, F)                        each node's input vector
//	structure (batch, levels, width, 1+children)       the composition schedule
//
// features usually come from an Embedding of the encoder's token ids; with
// VocabSize set, the layer takes the token ids (batch, nodes) themselves
// and its kernel is a (VocabSize, ·) table of input pre-activations, an
// Embedding and the kernel folded into one lookup. The
// layer computes every node as a leaf first (one matrix product over all
// nodes), then, for each of the levels, recomputes the inner nodes that the
// structure schedules there from their children's states, for all trees of
// the batch at once. Each tree is one row of each input, so Fit shuffles,
// batches and evaluates trees like any other samples:
//
//	enc, _ := tree.EncoderFor(trees, 0)
//	tokens, structure, _ := enc.Encode(trees)
//	tok := keras.NewInput(enc.MaxNodes)
//	st := keras.NewInput(enc.StructureShape()...)
//	x := keras.Apply(&keras.Embedding{InputDim: vocab, OutputDim: 32}, tok)
//	h := keras.Apply(&keras.TreeLSTM{Units: 64}, x, st)
//	y := keras.Apply(&keras.Dense{Units: 10, Activation: "softmax"}, h)
//	model, _ := keras.NewModel([]*keras.Tensor{tok, st}, []*keras.Tensor{y})
//	model.FitMulti([]*tensor.Dense{tokens, structure}, []*tensor.Dense{labels}, cfg)
//
// The output is each tree's root state (batch, Units), or with ReturnNodes
// every node's (batch, nodes, Units), zero on padding slots. A malformed
// structure (an index out of range, a node scheduled twice or before its
// children, a wrong child count for an N-ary cell) is an error of the run
// naming the tree, level and slot.

// treeMasked returns a tree layer's output with its mask: with
// ReturnNodes, 1 on the trees' nodes and 0 on padding slots, so a loss
// and metrics on every node (targets from tree.Encoder.EncodeLabels) leave
// the padding out; no mask for a root output. The features' own mask
// (from an Embedding with MaskZero) is not needed: the structure says
// which slots are nodes.
func treeMasked(y *gorgonia.Node, err error, in []*gorgonia.Node, nodes bool) ([]*gorgonia.Node, []*gorgonia.Node, error) {
	if err != nil {
		return nil, nil, err
	}
	if !nodes {
		return []*gorgonia.Node{y}, []*gorgonia.Node{nil}, nil
	}
	mask, err := ops.TreeNodeMask(in[1], in[0].Shape()[1])
	if err != nil {
		return nil, nil, err
	}
	return []*gorgonia.Node{y}, []*gorgonia.Node{mask}, nil
}

// treeGeometry is what a tree layer reads from its input shapes.
type treeGeometry struct {
	nodes, features, levels, width, children int
}

// treeInputs checks a tree layer's two input shapes; with vocab > 0 the
// first input is token ids (nodes) rather than features (nodes, F).
func treeInputs(layer string, in []Shape, arity, vocab int) (treeGeometry, error) {
	if len(in) != 2 {
		return treeGeometry{}, errors.Errorf("keras: %s takes two inputs, node features (nodes, features) or token ids (nodes), and a structure (levels, width, 1+children); got %d", layer, len(in))
	}
	x, s := in[0], in[1]
	switch {
	case vocab < 0:
		return treeGeometry{}, errors.Errorf("keras: %s needs VocabSize ≥ 0, got %d", layer, vocab)
	case vocab > 0 && len(x) != 1:
		return treeGeometry{}, errors.Errorf("keras: %s with VocabSize %d takes token ids of shape (nodes), got %v", layer, vocab, x)
	case vocab == 0 && len(x) != 2:
		return treeGeometry{}, errors.Errorf("keras: %s takes node features of shape (nodes, features), got %v (token ids need VocabSize)", layer, x)
	}
	if len(s) != 3 || s[2] < 2 {
		return treeGeometry{}, errors.Errorf("keras: %s takes a structure of shape (levels, width, 1+children) with children ≥ 1, got %v", layer, s)
	}
	g := treeGeometry{nodes: x[0], features: vocab, levels: s[0], width: s[1], children: s[2] - 1}
	if vocab == 0 {
		g.features = x[1]
	}
	if arity < 0 {
		return g, errors.Errorf("keras: %s needs Arity ≥ 0 (0: child-sum), got %d", layer, arity)
	}
	if arity > 0 && arity != g.children {
		return g, errors.Errorf("keras: %s with Arity %d needs a structure with %d child columns (shape (levels, width, %d)), got %v", layer, arity, arity, arity+1, s)
	}
	return g, nil
}

// treeIn gives a tree layer's input pre-activations x·kernel + bias, for
// every node or for a level's slots. x is every node's features
// (batch·nodes, F), or with tokens their ids (batch·nodes, 1), whose
// pre-activations are rows of the kernel.
type treeIn struct {
	ctx    *graph.Context
	x, st  *gorgonia.Node
	tokens bool
	w, b   *graph.Weight
}

// newTreeIn checks the structure and flattens the first input.
func newTreeIn(ctx *graph.Context, in []*gorgonia.Node, arity int, tokens bool, w, b *graph.Weight) (treeIn, error) {
	xs := in[0].Shape()
	st, err := ops.CheckTreeSchedule(in[1], xs[1], arity)
	if err != nil {
		return treeIn{}, err
	}
	f := 1
	if !tokens {
		f = xs[2]
	}
	x, err := gorgonia.Reshape(in[0], tensor.Shape{ctx.Batch * xs[1], f})
	if err != nil {
		return treeIn{}, errors.Wrap(err, "keras: tree inputs")
	}
	return treeIn{ctx: ctx, x: x, st: st, tokens: tokens, w: w, b: b}, nil
}

// all is every node's pre-activations, computed on the trees' nodes only
// (padding rows are bias only).
func (t treeIn) all() (*gorgonia.Node, error) {
	return t.product(t.x, ops.TreeRows{Structure: t.st, Kind: ops.TreeNodeRows})
}

// level is the pre-activations of a level's slots (batch·width, ·):
// gathering the features (F wide) rather than every node's product keeps
// the gradient's scatter narrow.
func (t treeIn) level(level int) (*gorgonia.Node, error) {
	xl, err := ops.TreeNodes(t.x, t.st, level, 0, t.x.Shape()[1])
	if err != nil {
		return nil, err
	}
	return t.product(xl, ops.TreeRows{Structure: t.st, Level: level, Kind: ops.TreeSlotRows})
}

// product is x·w + b on the rows that hold nodes, or, for token ids, the
// kernel's rows + b.
func (t treeIn) product(x *gorgonia.Node, rows ops.TreeRows) (*gorgonia.Node, error) {
	wn, err := t.ctx.Param(t.w)
	if err != nil {
		return nil, err
	}
	var y *gorgonia.Node
	if t.tokens {
		ids, err := gorgonia.Reshape(x, tensor.Shape{x.Shape()[0]})
		if err != nil {
			return nil, errors.Wrap(err, "keras: tree token ids")
		}
		y, err = ops.Gather(wn, ids)
		if err != nil {
			return nil, err
		}
	} else if y, err = ops.TreeMatMul(x, wn, rows); err != nil {
		return nil, err
	}
	if t.b == nil {
		return y, nil
	}
	bn, err := t.ctx.Param(t.b)
	if err != nil {
		return nil, err
	}
	return ops.BiasAdd(y, bn)
}

// treeOutput returns the roots' rows of h (batch·nodes, d), or with all
// every node's, masked, as (batch, nodes, d).
func treeOutput(ctx *graph.Context, h, st *gorgonia.Node, nodes int, all bool) (*gorgonia.Node, error) {
	d := h.Shape()[1]
	if !all {
		return ops.TreeRoots(h, st, 0, d)
	}
	h, err := ops.TreeMaskNodes(h, st)
	if err != nil {
		return nil, err
	}
	h, err = gorgonia.Reshape(h, tensor.Shape{ctx.Batch, nodes, d})
	return h, errors.Wrap(err, "keras: tree node states")
}

// levelMul is a·b for a level's slot rows (or child rows), computed on
// the slots that hold nodes (or the children that exist) only.
func levelMul(a, b, st *gorgonia.Node, level int, kind ops.TreeRowKind) (*gorgonia.Node, error) {
	return ops.TreeMatMul(a, b, ops.TreeRows{Structure: st, Level: level, Kind: kind})
}

// unitForgetBias initialises a bias with inner, then sets columns [from,
// to) (the forget gate's) to 1, as Keras' unit_forget_bias.
type unitForgetBias struct {
	inner    ops.Initializer
	from, to int
}

func (u unitForgetBias) Initialize(rng *rand.Rand, t *tensor.Dense) error {
	if err := u.inner.Initialize(rng, t); err != nil {
		return err
	}
	switch d := t.Data().(type) {
	case []float32:
		for i := u.from; i < u.to; i++ {
			d[i] = 1
		}
	case []float64:
		for i := u.from; i < u.to; i++ {
			d[i] = 1
		}
	}
	return nil
}

// penalty is a weight and its regulariser.
type penalty struct {
	reg *ops.L1L2
	w   *graph.Weight
}

// addPenalties adds each regulariser's penalty to the loss (nil weights
// and regularisers are skipped).
func addPenalties(ctx *graph.Context, ps ...penalty) error {
	for _, p := range ps {
		if p.w == nil || p.reg == nil {
			continue
		}
		wn, err := ctx.Param(p.w)
		if err != nil {
			return err
		}
		if err := regularize(ctx, p.reg, wn); err != nil {
			return err
		}
	}
	return nil
}
