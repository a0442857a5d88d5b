package keras

import (
	"github.com/keragon/keragon/graph"
	"gorgonia.org/gorgonia"
)

// Multiply returns the elementwise product of its inputs, as
// keras.layers.Multiply. No weights.
type Multiply struct {
	Name string `json:"name,omitempty"`
	Base
}

var _ MaskedLayer = (*Multiply)(nil)

func init() { Register("Multiply", func() Layer { return &Multiply{} }) }

// OutputShape implements Layer.
func (l *Multiply) OutputShape(in []Shape) (Shape, error) { return mergeShape("Multiply", in, 0) }

// Call implements Layer.
func (l *Multiply) Call(ctx *graph.Context, in []*gorgonia.Node) (*gorgonia.Node, error) {
	outs, _, err := l.CallMasked(ctx, in, nil)
	if err != nil {
		return nil, err
	}
	return outs[0], nil
}

// CallMasked implements MaskedLayer: padded entries of a masked input
// count as 1; when every input is masked the output is the OR of the
// masks and is 0 where every input is padded, as Keras 3.
func (l *Multiply) CallMasked(ctx *graph.Context, in, masks []*gorgonia.Node) ([]*gorgonia.Node, []*gorgonia.Node, error) {
	return mergeCall(ctx, mergeMultiply, "Multiply", in, masks)
}
