package keras

import (
	"github.com/keragon/keragon/graph"
	"github.com/keragon/keragon/ops"
	"gorgonia.org/gorgonia"
)

// SimpleRNN is a fully connected recurrent layer, as
// keras.layers.SimpleRNN: h_t = activation(x_t·kernel + h_{t−1}·
// recurrent_kernel + bias), the output being h. The steps are unrolled
// into the graph and share the weights (see ops.Recurrent).
//
// Input shape: (batch, steps, features); applied to [x, h0] the layer
// starts from the state h0 (batch, Units) instead of zeros, as Keras'
// initial_state. Output shape: (batch, Units), or (batch, steps, Units)
// with ReturnSequences; with ReturnState the outputs are [output, h].
// Weights: kernel (features, Units), recurrent_kernel (Units, Units),
// bias (Units).
//
// Masking: with a mask (from Embedding with MaskZero, or Masking) padded
// steps leave the state unchanged and output the last real output (zeros
// before the first), as Keras; a returned sequence keeps the mask.
type SimpleRNN struct {
	Name string `json:"name,omitempty"`
	// Units is the size of the output and of the state; required.
	Units int `json:"units"`
	// Activation, which makes the state, defaults to "tanh" ("linear" for
	// none); see ops.RecurrentActivationNames.
	Activation string `json:"activation,omitempty"`
	// NoBias drops the bias (Keras' use_bias=False).
	NoBias bool `json:"no_bias,omitempty"`
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
	// mask is drawn once per sequence.
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

var _ recurrentLayer = (*SimpleRNN)(nil)

func init() { Register("SimpleRNN", func() Layer { return &SimpleRNN{} }) }

func (l *SimpleRNN) spec() rnnSpec {
	return rnnSpec{
		class: "SimpleRNN", cell: ops.SimpleRNNCell, units: l.Units,
		activation: l.Activation, recurrentActivation: "",
		noBias:     l.NoBias,
		kernelInit: l.KernelInitializer, recurrentInit: l.RecurrentInitializer, biasInit: l.BiasInitializer,
		kernelReg: l.KernelRegularizer, recurrentReg: l.RecurrentRegularizer, biasReg: l.BiasRegularizer,
		dropout: l.Dropout, recurrentDropout: l.RecurrentDropout,
		returnSequences: l.ReturnSequences, returnState: l.ReturnState,
		goBackwards: l.GoBackwards, zeroOutputForMask: l.ZeroOutputForMask, inputOrder: l.inputOrder,
	}
}

func (l *SimpleRNN) setDirection(goBackwards, zeroOutput, inputOrder bool) {
	l.GoBackwards, l.ZeroOutputForMask, l.inputOrder = goBackwards, zeroOutput, inputOrder
}

// OutputShapes implements MultiOutputLayer: the output, then with
// ReturnState the final state h.
func (l *SimpleRNN) OutputShapes(in []Shape) ([]Shape, error) {
	return rnnOutputShapes(l.spec(), &l.w, in)
}

// OutputShape implements Layer.
func (l *SimpleRNN) OutputShape(in []Shape) (Shape, error) { return firstShape(l.OutputShapes(in)) }

// Build implements Layer.
func (l *SimpleRNN) Build(in []Shape) error { return rnnBuild(&l.Base, l.spec(), &l.w, in) }

// CallMasked implements MaskedLayer.
func (l *SimpleRNN) CallMasked(ctx *graph.Context, in, masks []*gorgonia.Node) ([]*gorgonia.Node, []*gorgonia.Node, error) {
	return rnnCall(ctx, &l.Base, l.spec(), &l.w, in, masks)
}

// CallMulti implements MultiOutputLayer.
func (l *SimpleRNN) CallMulti(ctx *graph.Context, in []*gorgonia.Node) ([]*gorgonia.Node, error) {
	outs, _, err := l.CallMasked(ctx, in, nil)
	return outs, err
}

// Call implements Layer.
func (l *SimpleRNN) Call(ctx *graph.Context, in []*gorgonia.Node) (*gorgonia.Node, error) {
	return firstNode(l.CallMulti(ctx, in))
}
