package keras

import (
	"github.com/keragon/keragon/graph"
	"gorgonia.org/gorgonia"
)

// Subtract returns its first input minus its second, elementwise, as
// keras.layers.Subtract; it takes exactly two inputs of the same (or
// broadcastable) shape. No weights.
type Subtract struct {
	Name string `json:"name,omitempty"`
	Base
}

var _ MaskedLayer = (*Subtract)(nil)

func init() { Register("Subtract", func() Layer { return &Subtract{} }) }

// OutputShape implements Layer.
func (l *Subtract) OutputShape(in []Shape) (Shape, error) { return mergeShape("Subtract", in, 2) }

// Call implements Layer.
func (l *Subtract) Call(ctx *graph.Context, in []*gorgonia.Node) (*gorgonia.Node, error) {
	outs, _, err := l.CallMasked(ctx, in, nil)
	if err != nil {
		return nil, err
	}
	return outs[0], nil
}

// CallMasked implements MaskedLayer: the output is masked (the OR of the
// masks) when every input is masked.
func (l *Subtract) CallMasked(ctx *graph.Context, in, masks []*gorgonia.Node) ([]*gorgonia.Node, []*gorgonia.Node, error) {
	return mergeCall(ctx, mergeSubtract, "Subtract", in, masks)
}
