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
// features usually come from an Embedding of the encoder's token ids. The
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

// treeInputs checks a tree layer's two input shapes.
func treeInputs(layer string, in []Shape, arity int) (treeGeometry, error) {
	if len(in) != 2 {
		return treeGeometry{}, errors.Errorf("keras: %s takes two inputs, node features (nodes, features) and structure (levels, width, 1+children); got %d", layer, len(in))
	}
	x, s := in[0], in[1]
	if len(x) != 2 {
		return treeGeometry{}, errors.Errorf("keras: %s takes node features of shape (nodes, features), got %v", layer, x)
	}
	if len(s) != 3 || s[2] < 2 {
		return treeGeometry{}, errors.Errorf("keras: %s takes a structure of shape (levels, width, 1+children) with children ≥ 1, got %v", layer, s)
	}
	g := treeGeometry{nodes: x[0], features: x[1], levels: s[0], width: s[1], children: s[2] - 1}
	if arity < 0 {
		return g, errors.Errorf("keras: %s needs Arity ≥ 0 (0: child-sum), got %d", layer, arity)
	}
	if arity > 0 && arity != g.children {
		return g, errors.Errorf("keras: %s with Arity %d needs a structure with %d child columns (shape (levels, width, %d)), got %v", layer, arity, arity, arity+1, s)
	}
	return g, nil
}

// treeFeatures checks the structure and returns the node features as a
// (batch·nodes, F) matrix.
func treeFeatures(ctx *graph.Context, x, st *gorgonia.Node, arity int) (xm, checked *gorgonia.Node, err error) {
	xs := x.Shape()
	if checked, err = ops.CheckTreeSchedule(st, xs[1], arity); err != nil {
		return nil, nil, err
	}
	xm, err = gorgonia.Reshape(x, tensor.Shape{ctx.Batch * xs[1], xs[2]})
	return xm, checked, errors.Wrap(err, "keras: tree features")
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

// inputProduct is x·w (+ b) for node features x, computed on the rows
// that hold nodes only (other rows are bias only): every node's features
// (batch·nodes, F) with ops.TreeNodeRows, a level's (batch·width, F) with
// ops.TreeSlotRows.
func inputProduct(ctx *graph.Context, x *gorgonia.Node, rows ops.TreeRows, w, b *graph.Weight) (*gorgonia.Node, error) {
	wn, err := ctx.Param(w)
	if err != nil {
		return nil, err
	}
	y, err := ops.TreeMatMul(x, wn, rows)
	if err != nil {
		return nil, err
	}
	if b == nil {
		return y, nil
	}
	bn, err := ctx.Param(b)
	if err != nil {
		return nil, err
	}
	return ops.BiasAdd(y, bn)
}

// levelInput is a level's nodes' x·w + b, (batch·width, columns of w):
// gathering the features (F wide) rather than every node's product keeps
// the gradient's scatter narrow.
func levelInput(ctx *graph.Context, x, st *gorgonia.Node, level int, w, b *graph.Weight) (*gorgonia.Node, error) {
	xl, err := ops.TreeNodes(x, st, level, 0, x.Shape()[1])
	if err != nil {
		return nil, err
	}
	return inputProduct(ctx, xl, ops.TreeRows{Structure: st, Level: level, Kind: ops.TreeSlotRows}, w, b)
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
