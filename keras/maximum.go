package keras

import (
	"github.com/keragon/keragon/graph"
	"gorgonia.org/gorgonia"
)

// Maximum returns the elementwise maximum of its inputs, as
// keras.layers.Maximum. No weights.
type Maximum struct {
	Name string `json:"name,omitempty"`
	Base
}

var _ MaskedLayer = (*Maximum)(nil)

func init() { Register("Maximum", func() Layer { return &Maximum{} }) }

// OutputShape implements Layer.
func (l *Maximum) OutputShape(in []Shape) (Shape, error) { return mergeShape("Maximum", in, 0) }

// Call implements Layer.
func (l *Maximum) Call(ctx *graph.Context, in []*gorgonia.Node) (*gorgonia.Node, error) {
	outs, _, err := l.CallMasked(ctx, in, nil)
	if err != nil {
		return nil, err
	}
	return outs[0], nil
}

// CallMasked implements MaskedLayer: a padded entry of an input gives
// way to the other inputs' entries; the output is masked (the OR of the
// masks) when every input is masked, as Keras 3.
func (l *Maximum) CallMasked(ctx *graph.Context, in, masks []*gorgonia.Node) ([]*gorgonia.Node, []*gorgonia.Node, error) {
	return mergeCall(ctx, mergeMaximum, "Maximum", in, masks)
}
