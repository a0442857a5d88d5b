package keras

import (
	"math"

	"github.com/keragon/keragon/graph"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
)

// Rescaling multiplies its input by Scale and adds Offset, as
// keras.layers.Rescaling: Scale 1/255 maps pixels to [0, 1]; Scale 1/127.5
// with Offset −1 to [−1, 1]. Part of the model, it is saved with it, so a
// loaded model takes raw pixels. Output shape = input shape; no weights.
type Rescaling struct {
	Name string `json:"name,omitempty"`
	// Scale is required (Keras has no default) and must not be 0, which
	// would erase the input.
	Scale float64 `json:"scale"`
	// Offset is added after scaling (Keras' default 0).
	Offset float64 `json:"offset,omitempty"`
	Base
}

func init() { Register("Rescaling", func() Layer { return &Rescaling{} }) }

// OutputShape implements Layer.
func (l *Rescaling) OutputShape(in []Shape) (Shape, error) {
	if l.Scale == 0 || math.IsNaN(l.Scale) || math.IsInf(l.Scale, 0) || math.IsNaN(l.Offset) || math.IsInf(l.Offset, 0) {
		return nil, errors.Errorf("keras: Rescaling needs a finite, non-zero Scale and a finite Offset, got %v and %v", l.Scale, l.Offset)
	}
	return single("Rescaling", in)
}

// Call implements Layer.
func (l *Rescaling) Call(ctx *graph.Context, in []*gorgonia.Node) (*gorgonia.Node, error) {
	y, err := gorgonia.Mul(in[0], ctx.Constant(l.Scale))
	if err == nil && l.Offset != 0 {
		y, err = gorgonia.Add(y, ctx.Constant(l.Offset))
	}
	return y, errors.Wrap(err, "keras: Rescaling")
}

// PassesMask implements MaskPasser: the output keeps the input's mask.
func (l *Rescaling) PassesMask() bool { return true }
