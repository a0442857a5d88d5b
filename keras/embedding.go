package keras

import (
	"github.com/keragon/keragon/graph"
	"github.com/keragon/keragon/ops"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
)

// Embedding maps integer token ids to dense vectors, as
// keras.layers.Embedding. Ids are given as floats holding integers in
// [0, InputDim); an id outside that range is an error naming it.
//
// Input shape: (batch, ...) ids, (batch) included (one id per sample,
// from an Input with Shape []int{}). Output shape: (batch, ...,
// OutputDim).
// Weight: embeddings (InputDim, OutputDim).
//
// With MaskZero, id 0 is padding: the layer masks it (inputs must then be
// (batch, steps)), so recurrent layers skip those steps and the loss and
// metrics of a masked sequence output leave them out. As in Keras, the
// vocabulary then needs InputDim = vocabulary size + 1.
type Embedding struct {
	Name string `json:"name,omitempty"`
	// InputDim is the vocabulary size; required.
	InputDim int `json:"input_dim"`
	// OutputDim is the vector size; required.
	OutputDim int `json:"output_dim"`
	// EmbeddingsInitializer defaults to "uniform" (−0.05..0.05, Keras').
	EmbeddingsInitializer string    `json:"embeddings_initializer,omitempty"`
	EmbeddingsRegularizer *ops.L1L2 `json:"embeddings_regularizer,omitempty"`
	// MaskZero treats id 0 as padding (see above).
	MaskZero bool `json:"mask_zero,omitempty"`

	Base
	table *graph.Weight
}

var _ MaskedLayer = (*Embedding)(nil)

func init() { Register("Embedding", func() Layer { return &Embedding{} }) }

// OutputShape implements Layer.
func (l *Embedding) OutputShape(in []Shape) (Shape, error) {
	s, err := single("Embedding", in)
	if err != nil {
		return nil, err
	}
	if l.InputDim <= 0 || l.OutputDim <= 0 {
		return nil, errors.Errorf("keras: Embedding needs positive InputDim and OutputDim, got %d and %d", l.InputDim, l.OutputDim)
	}
	if l.MaskZero && len(s) != 1 {
		return nil, errors.Errorf("keras: Embedding with MaskZero takes (steps) id sequences, got %v", s)
	}
	if l.table != nil && (l.table.Shape[0] != l.InputDim || l.table.Shape[1] != l.OutputDim) {
		return nil, errors.Errorf("keras: Embedding was built for %v, its config now says (%d, %d)", l.table.Shape, l.InputDim, l.OutputDim)
	}
	return append(append(Shape(nil), s...), l.OutputDim), nil
}

// Build implements Layer.
func (l *Embedding) Build([]Shape) error {
	name := l.EmbeddingsInitializer
	if name == "" {
		name = "uniform"
	}
	init, err := ops.InitializerByName(name)
	if err != nil {
		return err
	}
	l.table = l.AddWeight("embeddings", []int{l.InputDim, l.OutputDim}, init, true)
	return nil
}

// Call implements Layer.
func (l *Embedding) Call(ctx *graph.Context, in []*gorgonia.Node) (*gorgonia.Node, error) {
	t, err := ctx.Param(l.table)
	if err != nil {
		return nil, err
	}
	if err := regularize(ctx, l.EmbeddingsRegularizer, t); err != nil {
		return nil, err
	}
	return ops.Gather(t, in[0])
}

// CallMasked implements MaskedLayer: the output is masked where the id is
// 0 when MaskZero is set.
func (l *Embedding) CallMasked(ctx *graph.Context, in, _ []*gorgonia.Node) ([]*gorgonia.Node, []*gorgonia.Node, error) {
	out, err := l.Call(ctx, in)
	if err != nil {
		return nil, nil, err
	}
	var mask *gorgonia.Node
	if l.MaskZero {
		if mask, err = ops.NotEqualMask(in[0], 0); err != nil {
			return nil, nil, err
		}
	}
	return []*gorgonia.Node{out}, []*gorgonia.Node{mask}, nil
}

// Masking marks the time steps whose features all equal MaskValue as
// padding, as keras.layers.Masking: it zeroes them and masks them for the
// layers that follow. Input and output shape: (batch, steps, features).
type Masking struct {
	Name string `json:"name,omitempty"`
	// MaskValue is the padding value (Keras' default 0).
	MaskValue float64 `json:"mask_value,omitempty"`
	Base
}

var _ MaskedLayer = (*Masking)(nil)

func init() { Register("Masking", func() Layer { return &Masking{} }) }

// OutputShape implements Layer.
func (l *Masking) OutputShape(in []Shape) (Shape, error) {
	s, err := single("Masking", in)
	if err != nil {
		return nil, err
	}
	if len(s) != 2 {
		return nil, errors.Errorf("keras: Masking takes (steps, features) samples, got %v", s)
	}
	return s, nil
}

// Call implements Layer.
func (l *Masking) Call(ctx *graph.Context, in []*gorgonia.Node) (*gorgonia.Node, error) {
	outs, _, err := l.CallMasked(ctx, in, nil)
	if err != nil {
		return nil, err
	}
	return outs[0], nil
}

// CallMasked implements MaskedLayer.
func (l *Masking) CallMasked(_ *graph.Context, in, _ []*gorgonia.Node) ([]*gorgonia.Node, []*gorgonia.Node, error) {
	mask, err := ops.StepMask(in[0], l.MaskValue)
	if err != nil {
		return nil, nil, err
	}
	out, err := ops.ApplyStepMask(in[0], mask)
	if err != nil {
		return nil, nil, err
	}
	return []*gorgonia.Node{out}, []*gorgonia.Node{mask}, nil
}
