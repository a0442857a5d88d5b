package keras

import (
	"github.com/keragon/keragon/graph"
	"gorgonia.org/gorgonia"
)

// Add sums its inputs elementwise, as keras.layers.Add: it takes a list of
// tensors of the same shape (or shapes that broadcast, see the merge
// layers' notes in merge.go) and returns one of that shape.
//
//	x1 := keras.Apply(&keras.Dense{Units: 8}, in1)
//	x2 := keras.Apply(&keras.Dense{Units: 8}, in2)
//	sum := keras.Apply(&keras.Add{}, x1, x2)
//
// Output shape: the inputs' (broadcast) shape. No weights.
type Add struct {
	Name string `json:"name,omitempty"`
	Base
}

var _ MaskedLayer = (*Add)(nil)

func init() { Register("Add", func() Layer { return &Add{} }) }

// OutputShape implements Layer.
func (l *Add) OutputShape(in []Shape) (Shape, error) { return mergeShape("Add", in, 0) }

// Call implements Layer.
func (l *Add) Call(ctx *graph.Context, in []*gorgonia.Node) (*gorgonia.Node, error) {
	outs, _, err := l.CallMasked(ctx, in, nil)
	if err != nil {
		return nil, err
	}
	return outs[0], nil
}

// CallMasked implements MaskedLayer: the output is masked (the OR of the
// masks) when every input is masked.
func (l *Add) CallMasked(ctx *graph.Context, in, masks []*gorgonia.Node) ([]*gorgonia.Node, []*gorgonia.Node, error) {
	return mergeCall(ctx, mergeAdd, "Add", in, masks)
}
