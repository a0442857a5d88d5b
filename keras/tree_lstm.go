package keras

import (
	"github.com/keragon/keragon/graph"
	"github.com/keragon/keragon/ops"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TreeLSTM is the tree-structured LSTM of Tai, Socher and Manning (2015).
// Each node j with input x_j and children k has
//
//	i = σ(W_i x + U_i h̃ + b_i)    o = σ(W_o x + U_o h̃ + b_o)
//	u = tanh(W_u x + U_u h̃ + b_u) f_k = σ(W_f x + U_f h_k + b_f)
//	c = i⊙u + Σ_k f_k⊙c_k         h = o⊙tanh(c)
//
// With Arity 0 (the default) it is the child-sum cell: h̃ = Σ_k h_k, any
// number of children, their order ignored. With Arity N it is the N-ary
// cell: every inner node has exactly N ordered children and each position
// has its own weights, U_g h̃ standing for Σ_l U_g^l h_l and U_f h_k for
// Σ_l U_fk^l h_l. Leaves have no children (h_k = c_k = 0).
//
// Inputs: node features (batch, nodes, F), or token ids (batch, nodes) with
// VocabSize, and a structure (batch, levels, width, 1+children) from
// keras/tree.Encoder (see the tree layers' overview in tree.go). Output:
// the root's h (batch, Units), or with ReturnNodes every node's h (batch,
// nodes, Units), zero on padding slots.
//
// Weights, gates in the order i, o, u, f (d = Units):
//
//	kernel           (F, 4d), or (VocabSize, 4d)
//	recurrent_kernel (d, 4d) child-sum; (N·d, (3+N)·d) N-ary, rows per
//	                 child position, columns i, o, u, f_1 … f_N
//	bias             (4d)
type TreeLSTM struct {
	Name string `json:"name,omitempty"`
	// Units is the size of h and c; required, > 0.
	Units int `json:"units"`
	// VocabSize, if positive, makes the first input token ids (nodes) in
	// [0, VocabSize) and the kernel a (VocabSize, ·) table; 0 means node
	// features (nodes, F).
	VocabSize int `json:"vocab_size,omitempty"`
	// Arity is 0 for the child-sum cell, N ≥ 1 for the N-ary cell.
	Arity int `json:"arity,omitempty"`
	// ReturnNodes returns every node's h rather than the root's.
	ReturnNodes bool `json:"return_nodes,omitempty"`
	// KernelInitializer defaults to "glorot_uniform".
	KernelInitializer string `json:"kernel_initializer,omitempty"`
	// RecurrentInitializer defaults to "orthogonal".
	RecurrentInitializer string `json:"recurrent_initializer,omitempty"`
	// BiasInitializer defaults to "zeros".
	BiasInitializer string `json:"bias_initializer,omitempty"`
	// NoUnitForgetBias leaves the forget gate's bias to BiasInitializer;
	// by default it starts at 1, as Keras' unit_forget_bias.
	NoUnitForgetBias bool `json:"no_unit_forget_bias,omitempty"`
	// Regularizers add penalties to the loss.
	KernelRegularizer    *ops.L1L2 `json:"kernel_regularizer,omitempty"`
	RecurrentRegularizer *ops.L1L2 `json:"recurrent_regularizer,omitempty"`
	BiasRegularizer      *ops.L1L2 `json:"bias_regularizer,omitempty"`

	Base
	kernel, recurrent, bias *graph.Weight
}

var _ MaskedLayer = (*TreeLSTM)(nil)

// CallMasked implements MaskedLayer: with ReturnNodes the output is
// masked to the trees' nodes.
func (l *TreeLSTM) CallMasked(ctx *graph.Context, in, _ []*gorgonia.Node) ([]*gorgonia.Node, []*gorgonia.Node, error) {
	y, err := l.Call(ctx, in)
	return treeMasked(y, err, in, l.ReturnNodes)
}

func init() { Register("TreeLSTM", func() Layer { return &TreeLSTM{} }) }

// OutputShape implements Layer.
func (l *TreeLSTM) OutputShape(in []Shape) (Shape, error) {
	g, err := treeInputs("TreeLSTM", in, l.Arity, l.VocabSize)
	if err != nil {
		return nil, err
	}
	if l.Units <= 0 {
		return nil, errors.Errorf("keras: TreeLSTM needs a positive Units, got %d", l.Units)
	}
	if err := checkBuilt("TreeLSTM", l.kernel, 0, g.features); err != nil {
		return nil, err
	}
	if l.ReturnNodes {
		return Shape{g.nodes, l.Units}, nil
	}
	return Shape{l.Units}, nil
}

// Build implements Layer.
func (l *TreeLSTM) Build(in []Shape) error {
	g, err := treeInputs("TreeLSTM", in, l.Arity, l.VocabSize)
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
	bi, err := initializer(l.BiasInitializer, "zeros")
	if err != nil {
		return err
	}
	if !l.NoUnitForgetBias {
		bi = unitForgetBias{inner: bi, from: 3 * d, to: 4 * d}
	}
	l.kernel = l.AddWeight("kernel", []int{g.features, 4 * d}, ki, true)
	if l.Arity == 0 {
		l.recurrent = l.AddWeight("recurrent_kernel", []int{d, 4 * d}, ri, true)
	} else {
		l.recurrent = l.AddWeight("recurrent_kernel", []int{l.Arity * d, (3 + l.Arity) * d}, ri, true)
	}
	l.bias = l.AddWeight("bias", []int{4 * d}, bi, true)
	return nil
}

// Call implements Layer.
func (l *TreeLSTM) Call(ctx *graph.Context, in []*gorgonia.Node) (*gorgonia.Node, error) {
	inputs, err := newTreeIn(ctx, in, l.Arity, l.VocabSize > 0, l.kernel, l.bias)
	if err != nil {
		return nil, err
	}
	st := inputs.st
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
	var uiou, uf *gorgonia.Node
	if l.Arity == 0 {
		if uiou, err = ops.Columns(u, 0, 3*d); err != nil {
			return nil, err
		}
		if uf, err = ops.Columns(u, 3*d, 4*d); err != nil {
			return nil, err
		}
	}
	state, err := ops.TreeLSTMLeaf(xw, st) // [h | c] of every node as a leaf
	if err != nil {
		return nil, err
	}
	for level := range levels {
		xl, err := inputs.level(level)
		if err != nil {
			return nil, err
		}
		// One gather of the children's [h | c], split in two.
		children, err := ops.TreeChildren(state, st, level, 0, 2*d)
		if err != nil {
			return nil, err
		}
		hk, err := ops.Columns(children, 0, d)
		if err != nil {
			return nil, err
		}
		ck, err := ops.Columns(children, d, 2*d)
		if err != nil {
			return nil, err
		}
		var next *gorgonia.Node
		if l.Arity == 0 {
			hs, err := ops.SumGroups(hk, k)
			if err != nil {
				return nil, err
			}
			zs, err := levelMul(hs, uiou, st, level, ops.TreeSlotRows)
			if err != nil {
				return nil, err
			}
			zf, err := levelMul(hk, uf, st, level, ops.TreeChildRows)
			if err != nil {
				return nil, err
			}
			if next, err = ops.ChildSumTreeLSTM(xl, zs, zf, ck, ops.TreeLevel{Structure: st, Level: level}); err != nil {
				return nil, err
			}
		} else {
			hcat, err := gorgonia.Reshape(hk, tensor.Shape{xl.Shape()[0], k * d})
			if err != nil {
				return nil, errors.Wrap(err, "keras: TreeLSTM")
			}
			z, err := levelMul(hcat, u, st, level, ops.TreeSlotRows)
			if err != nil {
				return nil, err
			}
			if next, err = ops.NaryTreeLSTM(xl, z, ck, ops.TreeLevel{Structure: st, Level: level}); err != nil {
				return nil, err
			}
		}
		if state, err = ops.TreeUpdate(state, next, st, level); err != nil {
			return nil, err
		}
	}
	h, err := ops.Columns(state, 0, d)
	if err != nil {
		return nil, err
	}
	err = addPenalties(ctx, penalty{l.KernelRegularizer, l.kernel}, penalty{l.RecurrentRegularizer, l.recurrent}, penalty{l.BiasRegularizer, l.bias})
	if err != nil {
		return nil, err
	}
	return treeOutput(ctx, h, st, in[0].Shape()[1], l.ReturnNodes)
}
