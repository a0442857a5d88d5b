package keras

import (
	"github.com/keragon/keragon/graph"
	"github.com/keragon/keragon/ops"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
)

// Dropout zeroes a random fraction Rate of its inputs while training and
// scales the rest by 1/(1−Rate), as keras.layers.Dropout; at inference it
// is the identity. Masks come from the model's seeded source, so a seeded
// run is repeatable. Output shape = input shape.
type Dropout struct {
	Name string `json:"name,omitempty"`
	// Rate is the fraction dropped, in [0, 1).
	Rate float64 `json:"rate"`
	Base
}

func init() { Register("Dropout", func() Layer { return &Dropout{} }) }

// OutputShape implements Layer.
func (l *Dropout) OutputShape(in []Shape) (Shape, error) {
	if !(l.Rate >= 0 && l.Rate < 1) { // NaN too
		return nil, errors.Errorf("keras: Dropout rate must be in [0, 1), got %v", l.Rate)
	}
	return single("Dropout", in)
}

// Call implements Layer.
func (l *Dropout) Call(ctx *graph.Context, in []*gorgonia.Node) (*gorgonia.Node, error) {
	if !ctx.Training() || l.Rate == 0 {
		return in[0], nil
	}
	mask := ctx.RandomInput(l.name+"/mask", in[0].Shape(), ops.DropoutMaskFiller(l.Rate))
	return ops.Dropout(in[0], mask)
}

// PassesMask implements MaskPasser: the output keeps the input's mask.
func (l *Dropout) PassesMask() bool { return true }
