package keras

import (
	"github.com/keragon/keragon/graph"
	"gorgonia.org/gorgonia"
)

// Average returns the elementwise mean of its inputs, as
// keras.layers.Average. No weights.
type Average struct {
	Name string `json:"name,omitempty"`
	Base
}

var _ MaskedLayer = (*Average)(nil)

func init() { Register("Average", func() Layer { return &Average{} }) }

// OutputShape implements Layer.
func (l *Average) OutputShape(in []Shape) (Shape, error) { return mergeShape("Average", in, 0) }

// Call implements Layer.
func (l *Average) Call(ctx *graph.Context, in []*gorgonia.Node) (*gorgonia.Node, error) {
	outs, _, err := l.CallMasked(ctx, in, nil)
	if err != nil {
		return nil, err
	}
	return outs[0], nil
}

// CallMasked implements MaskedLayer: the output is masked (the OR of the
// masks) when every input is masked.
func (l *Average) CallMasked(ctx *graph.Context, in, masks []*gorgonia.Node) ([]*gorgonia.Node, []*gorgonia.Node, error) {
	return mergeCall(ctx, mergeAverage, "Average", in, masks)
}
