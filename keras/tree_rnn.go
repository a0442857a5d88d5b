package keras

import (
	"github.com/keragon/keragon/graph"
	"github.com/keragon/keragon/ops"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TreeRNN is a plain recursive network (Socher et al. 2011): each node j
// with input x_j has
//
//	h_j = activation(W x_j + Σ_k U h_k + b)
//
// summing over its children (none for a leaf). With Arity N, every inner
// node has exactly N ordered children and each position has its own
// weights: Σ_l U_l h_l.
//
// Inputs: node features (batch, nodes, F), or token ids (batch, nodes) with
// VocabSize, and a structure (batch, levels, width, 1+children) from
// keras/tree.Encoder (see the tree layers' overview in tree.go). Output:
// the root's h (batch, Units), or with ReturnNodes every node's h (batch,
// nodes, Units), zero on padding slots.
//
// Weights: kernel (F, Units), or (VocabSize, Units); recurrent_kernel
// (Units, Units), or (N·Units, Units) with Arity N, rows per child
// position; bias (Units).
type TreeRNN struct {
	Name string `json:"name,omitempty"`
	// Units is the size of h; required, > 0.
	Units int `json:"units"`
	// Activation defaults to "tanh".
	Activation string `json:"activation,omitempty"`
	// VocabSize, if positive, makes the first input token ids (nodes) in
	// [0, VocabSize) and the kernel a (VocabSize, Units) table; 0 means
	// node features (nodes, F).
	VocabSize int `json:"vocab_size,omitempty"`
	// Arity is 0 to sum the children, N ≥ 1 for N ordered positions.
	Arity int `json:"arity,omitempty"`
	// ReturnNodes returns every node's h rather than the root's.
	ReturnNodes bool `json:"return_nodes,omitempty"`
	// NoBias drops the bias.
	NoBias bool `json:"no_bias,omitempty"`
	// KernelInitializer defaults to "glorot_uniform".
	KernelInitializer string `json:"kernel_initializer,omitempty"`
	// RecurrentInitializer defaults to "orthogonal".
	RecurrentInitializer string `json:"recurrent_initializer,omitempty"`
	// BiasInitializer defaults to "zeros".
	BiasInitializer string `json:"bias_initializer,omitempty"`
	// Regularizers add penalties to the loss.
	KernelRegularizer    *ops.L1L2 `json:"kernel_regularizer,omitempty"`
	RecurrentRegularizer *ops.L1L2 `json:"recurrent_regularizer,omitempty"`
	BiasRegularizer      *ops.L1L2 `json:"bias_regularizer,omitempty"`

	Base
	kernel, recurrent, bias *graph.Weight
}

var _ MaskedLayer = (*TreeRNN)(nil)

// CallMasked implements MaskedLayer: with ReturnNodes the output is
// masked to the trees' nodes.
func (l *TreeRNN) CallMasked(ctx *graph.Context, in, _ []*gorgonia.Node) ([]*gorgonia.Node, []*gorgonia.Node, error) {
	y, err := l.Call(ctx, in)
	return treeMasked(y, err, in, l.ReturnNodes)
}

func init() { Register("TreeRNN", func() Layer { return &TreeRNN{} }) }

func (l *TreeRNN) activation() string {
	if l.Activation == "" {
		return "tanh"
	}
	return l.Activation
}

// OutputShape implements Layer.
func (l *TreeRNN) OutputShape(in []Shape) (Shape, error) {
	g, err := treeInputs("TreeRNN", in, l.Arity, l.VocabSize)
	if err != nil {
		return nil, err
	}
	if l.Units <= 0 {
		return nil, errors.Errorf("keras: TreeRNN needs a positive Units, got %d", l.Units)
	}
	if _, err := ops.Activation(l.activation()); err != nil {
		return nil, err
	}
	if err := checkBuilt("TreeRNN", l.kernel, 0, g.features); err != nil {
		return nil, err
	}
	if l.ReturnNodes {
		return Shape{g.nodes, l.Units}, nil
	}
	return Shape{l.Units}, nil
}

// Build implements Layer.
func (l *TreeRNN) Build(in []Shape) error {
	g, err := treeInputs("TreeRNN", in, l.Arity, l.VocabSize)
	if err != nil {
		return err
	}
	d := l.Units
	ki, err := initializer(l.KernelInitializer, "glorot_uniform")
	if err != nil {
		return err
	}
	ri, err := initializer(l.RecurrentInitializer, "orthogonal")
	if err != nil {
		return err
	}
	l.kernel = l.AddWeight("kernel", []int{g.features, d}, ki, true)
	l.recurrent = l.AddWeight("recurrent_kernel", []int{max(l.Arity, 1) * d, d}, ri, true)
	if !l.NoBias {
		bi, err := initializer(l.BiasInitializer, "zeros")
		if err != nil {
			return err
		}
		l.bias = l.AddWeight("bias", []int{d}, bi, true)
	}
	return nil
}

// Call implements Layer.
func (l *TreeRNN) Call(ctx *graph.Context, in []*gorgonia.Node) (*gorgonia.Node, error) {
	inputs, err := newTreeIn(ctx, in, l.Arity, l.VocabSize > 0, l.kernel, l.bias)
	if err != nil {
		return nil, err
	}
	st := inputs.st
	act, err := ops.Activation(l.activation())
	if err != nil {
		return nil, err
	}
	d := l.Units
	ss := st.Shape()
	levels, k := ss[1], ss[3]-1
	xw, err := inputs.all()
	if err != nil {
		return nil, err
	}
	u, err := ctx.Param(l.recurrent)
	if err != nil {
		return nil, err
	}
	h, err := act(xw) // every node as a leaf
	if err != nil {
		return nil, err
	}
	for level := range levels {
		xl, err := inputs.level(level)
		if err != nil {
			return nil, err
		}
		var hk *gorgonia.Node
		if l.Arity == 0 {
			hk, err = ops.TreeChildSum(h, st, level, 0, d)
		} else if hk, err = ops.TreeChildren(h, st, level, 0, d); err == nil {
			hk, err = gorgonia.Reshape(hk, tensor.Shape{xl.Shape()[0], k * d})
			err = errors.Wrap(err, "keras: TreeRNN")
		}
		if err != nil {
			return nil, err
		}
		z, err := levelMul(hk, u, st, level, ops.TreeSlotRows)
		if err != nil {
			return nil, err
		}
		pre, err := gorgonia.Add(xl, z)
		if err != nil {
			return nil, errors.Wrap(err, "keras: TreeRNN")
		}
		next, err := act(pre)
		if err != nil {
			return nil, err
		}
		if h, err = ops.TreeUpdate(h, next, st, level); err != nil {
			return nil, err
		}
	}
	err = addPenalties(ctx, penalty{l.KernelRegularizer, l.kernel}, penalty{l.RecurrentRegularizer, l.recurrent}, penalty{l.BiasRegularizer, l.bias})
	if err != nil {
		return nil, err
	}
	return treeOutput(ctx, h, st, in[0].Shape()[1], l.ReturnNodes)
}
