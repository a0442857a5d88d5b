package keras

import (
	"github.com/keragon/keragon/graph"
	"gorgonia.org/gorgonia"
)

// Minimum returns the elementwise minimum of its inputs, as
// keras.layers.Minimum. No weights.
type Minimum struct {
	Name string `json:"name,omitempty"`
	Base
}

var _ MaskedLayer = (*Minimum)(nil)

func init() { Register("Minimum", func() Layer { return &Minimum{} }) }

// OutputShape implements Layer.
func (l *Minimum) OutputShape(in []Shape) (Shape, error) { return mergeShape("Minimum", in, 0) }

// Call implements Layer.
func (l *Minimum) Call(ctx *graph.Context, in []*gorgonia.Node) (*gorgonia.Node, error) {
	outs, _, err := l.CallMasked(ctx, in, nil)
	if err != nil {
		return nil, err
	}
	return outs[0], nil
}

// CallMasked implements MaskedLayer: a padded entry of an input gives
// way to the other inputs' entries; the output is masked (the OR of the
// masks) when every input is masked, as Keras 3.
func (l *Minimum) CallMasked(ctx *graph.Context, in, masks []*gorgonia.Node) ([]*gorgonia.Node, []*gorgonia.Node, error) {
	return mergeCall(ctx, mergeMinimum, "Minimum", in, masks)
}
