package keras

import (
	"github.com/keragon/keragon/graph"
	"github.com/keragon/keragon/ops"
	"gorgonia.org/gorgonia"
)

// GRU is a gated recurrent unit layer, as keras.layers.GRU with its
// default reset_after=True (Cho et al. 2014, the variant cuDNN and PyTorch
// use). Its gates come in Keras' order z, r, h, each a block of Units
// columns of the weights; the bias holds an input row b and a recurrent
// row rb:
//
//	z = σ(x·K_z + b_z + h·R_z + rb_z)   r = σ(x·K_r + b_r + h·R_r + rb_r)
//	ĥ = tanh(x·K_h + b_h + r⊙(h·R_h + rb_h))
//	h = z⊙h + (1−z)⊙ĥ
//
// PyTorch's torch.nn.GRU computes the same with its gates in the order
// r, z, n: its weight_ih is kernelᵀ with the z and r blocks swapped (and
// likewise weight_hh, bias_ih = b, bias_hh = rb). The steps are unrolled
// into the graph and share the weights (see ops.Recurrent).
//
// Input shape: (batch, steps, features); applied to [x, h0] the layer
// starts from the state h0 (batch, Units), as Keras' initial_state.
// Output shape: (batch, Units), or (batch, steps, Units) with
// ReturnSequences; with ReturnState the outputs are [output, h].
// Weights: kernel (features, 3·Units), recurrent_kernel (Units, 3·Units),
// bias (2, 3·Units).
//
// With ResetBefore (Keras' reset_after=False, the original formulation)
// the reset gate applies before the recurrent product and there is one
// bias row: ĥ = tanh(x·K_h + b_h + (r⊙h)·R_h), bias (3·Units). PyTorch has
// no such GRU.
//
// Masking: with a mask (from Embedding with MaskZero, or Masking) padded
// steps leave the state unchanged and output the last real output (zeros
// before the first), as Keras; a returned sequence keeps the mask.
type GRU struct {
	Name string `json:"name,omitempty"`
	// Units is the size of the output and of the state; required.
	Units int `json:"units"`
	// Activation, of the candidate state, defaults to "tanh" ("linear"
	// for none); see ops.RecurrentActivationNames.
	Activation string `json:"activation,omitempty"`
	// RecurrentActivation, of the gates, defaults to "sigmoid".
	RecurrentActivation string `json:"recurrent_activation,omitempty"`
	// NoBias drops the bias (Keras' use_bias=False).
	NoBias bool `json:"no_bias,omitempty"`
	// ResetBefore is Keras' reset_after=False (see above); false is
	// Keras' default reset_after=True.
	ResetBefore bool `json:"reset_before,omitempty"`
	// KernelInitializer defaults to "glorot_uniform", RecurrentInitializer
	// to "orthogonal", BiasInitializer to "zeros".
	KernelInitializer    string `json:"kernel_initializer,omitempty"`
	RecurrentInitializer string `json:"recurrent_initializer,omitempty"`
	BiasInitializer      string `json:"bias_initializer,omitempty"`
	// KernelRegularizer, RecurrentRegularizer and BiasRegularizer add
	// penalties to the loss.
	KernelRegularizer    *ops.L1L2 `json:"kernel_regularizer,omitempty"`
	RecurrentRegularizer *ops.L1L2 `json:"recurrent_regularizer,omitempty"`
	BiasRegularizer      *ops.L1L2 `json:"bias_regularizer,omitempty"`
	// Dropout is the fraction of the input features dropped while
	// training, RecurrentDropout that of the state's, both in [0, 1); each
	// mask is drawn once per sequence (one per gate when RecurrentDropout
	// > 0, as Keras does).
	Dropout          float64 `json:"dropout,omitempty"`
	RecurrentDropout float64 `json:"recurrent_dropout,omitempty"`
	// ReturnSequences outputs every step (batch, steps, Units) instead of
	// the last (batch, Units).
	ReturnSequences bool `json:"return_sequences,omitempty"`
	// ReturnState adds the final state h as an output (see ApplyMulti).
	ReturnState bool `json:"return_state,omitempty"`
	// GoBackwards processes the sequence last step first; a returned
	// sequence is then in that reversed order, as in Keras.
	GoBackwards bool `json:"go_backwards,omitempty"`
	// ZeroOutputForMask outputs zeros at padded steps of a returned
	// sequence instead of the last real output.
	ZeroOutputForMask bool `json:"zero_output_for_mask,omitempty"`

	Base
	w          rnnWeights
	inputOrder bool
}

var _ recurrentLayer = (*GRU)(nil)

func init() { Register("GRU", func() Layer { return &GRU{} }) }

func (l *GRU) spec() rnnSpec {
	cell := ops.GRUCell
	if l.ResetBefore {
		cell = ops.GRUResetBeforeCell
	}
	return rnnSpec{
		class: "GRU", cell: cell, units: l.Units,
		activation: l.Activation, recurrentActivation: l.RecurrentActivation,
		noBias:     l.NoBias,
		kernelInit: l.KernelInitializer, recurrentInit: l.RecurrentInitializer, biasInit: l.BiasInitializer,
		kernelReg: l.KernelRegularizer, recurrentReg: l.RecurrentRegularizer, biasReg: l.BiasRegularizer,
		dropout: l.Dropout, recurrentDropout: l.RecurrentDropout,
		returnSequences: l.ReturnSequences, returnState: l.ReturnState,
		goBackwards: l.GoBackwards, zeroOutputForMask: l.ZeroOutputForMask, inputOrder: l.inputOrder,
	}
}

func (l *GRU) setDirection(goBackwards, zeroOutput, inputOrder bool) {
	l.GoBackwards, l.ZeroOutputForMask, l.inputOrder = goBackwards, zeroOutput, inputOrder
}

// OutputShapes implements MultiOutputLayer: the output, then with
// ReturnState the final state h.
func (l *GRU) OutputShapes(in []Shape) ([]Shape, error) { return rnnOutputShapes(l.spec(), &l.w, in) }

// OutputShape implements Layer.
func (l *GRU) OutputShape(in []Shape) (Shape, error) { return firstShape(l.OutputShapes(in)) }

// Build implements Layer.
func (l *GRU) Build(in []Shape) error { return rnnBuild(&l.Base, l.spec(), &l.w, in) }

// CallMasked implements MaskedLayer.
func (l *GRU) CallMasked(ctx *graph.Context, in, masks []*gorgonia.Node) ([]*gorgonia.Node, []*gorgonia.Node, error) {
	return rnnCall(ctx, &l.Base, l.spec(), &l.w, in, masks)
}

// CallMulti implements MultiOutputLayer.
func (l *GRU) CallMulti(ctx *graph.Context, in []*gorgonia.Node) ([]*gorgonia.Node, error) {
	outs, _, err := l.CallMasked(ctx, in, nil)
	return outs, err
}

// Call implements Layer.
func (l *GRU) Call(ctx *graph.Context, in []*gorgonia.Node) (*gorgonia.Node, error) {
	return firstNode(l.CallMulti(ctx, in))
}
