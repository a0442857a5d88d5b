package keras

import (
	"github.com/keragon/keragon/graph"
	"github.com/keragon/keragon/ops"
	"gorgonia.org/gorgonia"
)

// LSTM is a long short-term memory layer, as keras.layers.LSTM (Hochreiter
// & Schmidhuber 1997). Its gates come in Keras' order i, f, c, o, each a
// block of Units columns of the weights:
//
//	i = σ(x·K_i + h·R_i + b_i)   f = σ(x·K_f + h·R_f + b_f)
//	o = σ(x·K_o + h·R_o + b_o)   c = f⊙c + i⊙tanh(x·K_c + h·R_c + b_c)
//	h = o⊙tanh(c)
//
// (σ is RecurrentActivation, tanh Activation). PyTorch's torch.nn.LSTM has
// the same gate order (i, f, g, o): its weight_ih is kernelᵀ, weight_hh is
// recurrent_kernelᵀ, and bias_ih + bias_hh is bias. Each step is one fused
// op; the steps are unrolled into the graph and share the weights (see
// ops.Recurrent).
//
// Input shape: (batch, steps, features); applied to [x, h0, c0] the layer
// starts from those states (batch, Units), as Keras' initial_state.
// Output shape: (batch, Units), or (batch, steps, Units) with
// ReturnSequences; with ReturnState the outputs are [output, h, c].
// Weights: kernel (features, 4·Units), recurrent_kernel (Units, 4·Units),
// bias (4·Units).
//
// Masking: with a mask (from Embedding with MaskZero, or Masking) padded
// steps leave h and c unchanged and output the last real output (zeros
// before the first), as Keras; a returned sequence keeps the mask.
type LSTM struct {
	Name string `json:"name,omitempty"`
	// Units is the size of the output and of the state h and c; required.
	Units int `json:"units"`
	// Activation, of the candidate and of the cell state, defaults to
	// "tanh" ("linear" for none); see ops.RecurrentActivationNames.
	Activation string `json:"activation,omitempty"`
	// RecurrentActivation, of the gates, defaults to "sigmoid".
	RecurrentActivation string `json:"recurrent_activation,omitempty"`
	// NoBias drops the bias (Keras' use_bias=False).
	NoBias bool `json:"no_bias,omitempty"`
	// KernelInitializer defaults to "glorot_uniform", RecurrentInitializer
	// to "orthogonal", BiasInitializer to "zeros".
	KernelInitializer    string `json:"kernel_initializer,omitempty"`
	RecurrentInitializer string `json:"recurrent_initializer,omitempty"`
	BiasInitializer      string `json:"bias_initializer,omitempty"`
	// NoUnitForgetBias turns off Keras' unit_forget_bias, which starts the
	// forget gate's bias at 1.
	NoUnitForgetBias bool `json:"no_unit_forget_bias,omitempty"`
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
	// ReturnState adds the final states h and c as outputs (see
	// ApplyMulti).
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

var _ recurrentLayer = (*LSTM)(nil)

func init() { Register("LSTM", func() Layer { return &LSTM{} }) }

func (l *LSTM) spec() rnnSpec {
	return rnnSpec{
		class: "LSTM", cell: ops.LSTMCell, units: l.Units,
		activation: l.Activation, recurrentActivation: l.RecurrentActivation,
		noBias: l.NoBias, unitForgetBias: !l.NoUnitForgetBias,
		kernelInit: l.KernelInitializer, recurrentInit: l.RecurrentInitializer, biasInit: l.BiasInitializer,
		kernelReg: l.KernelRegularizer, recurrentReg: l.RecurrentRegularizer, biasReg: l.BiasRegularizer,
		dropout: l.Dropout, recurrentDropout: l.RecurrentDropout,
		returnSequences: l.ReturnSequences, returnState: l.ReturnState,
		goBackwards: l.GoBackwards, zeroOutputForMask: l.ZeroOutputForMask, inputOrder: l.inputOrder,
	}
}

func (l *LSTM) setDirection(goBackwards, zeroOutput, inputOrder bool) {
	l.GoBackwards, l.ZeroOutputForMask, l.inputOrder = goBackwards, zeroOutput, inputOrder
}

// OutputShapes implements MultiOutputLayer: the output, then with
// ReturnState the final states h and c.
func (l *LSTM) OutputShapes(in []Shape) ([]Shape, error) { return rnnOutputShapes(l.spec(), &l.w, in) }

// OutputShape implements Layer.
func (l *LSTM) OutputShape(in []Shape) (Shape, error) { return firstShape(l.OutputShapes(in)) }

// Build implements Layer.
func (l *LSTM) Build(in []Shape) error { return rnnBuild(&l.Base, l.spec(), &l.w, in) }

// CallMasked implements MaskedLayer.
func (l *LSTM) CallMasked(ctx *graph.Context, in, masks []*gorgonia.Node) ([]*gorgonia.Node, []*gorgonia.Node, error) {
	return rnnCall(ctx, &l.Base, l.spec(), &l.w, in, masks)
}

// CallMulti implements MultiOutputLayer.
func (l *LSTM) CallMulti(ctx *graph.Context, in []*gorgonia.Node) ([]*gorgonia.Node, error) {
	outs, _, err := l.CallMasked(ctx, in, nil)
	return outs, err
}

// Call implements Layer.
func (l *LSTM) Call(ctx *graph.Context, in []*gorgonia.Node) (*gorgonia.Node, error) {
	return firstNode(l.CallMulti(ctx, in))
}
