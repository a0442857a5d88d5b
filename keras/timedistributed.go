package keras

import (
	"encoding/json"

	"github.com/keragon/keragon/graph"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TimeDistributed applies a layer to every step of a sequence, with the
// same weights, as keras.layers.TimeDistributed: the steps are folded
// into the batch (batch·steps samples), the layer is applied once, and
// the result is unfolded. The wrapped layer's weights are named
// "<time_distributed>/<layer>/kernel" and so on.
//
// Input shape: (batch, steps, …). Output shape: (batch, steps, …the
// layer's output shape for one step). A mask passes through.
type TimeDistributed struct {
	Name string `json:"name,omitempty"`
	// Layer is applied to each step; required.
	Layer Layer `json:"-"`

	Base
}

var _ MaskPasser = (*TimeDistributed)(nil)

func init() { Register("TimeDistributed", func() Layer { return &TimeDistributed{} }) }

type timeDistributedJSON struct {
	Name  string       `json:"name,omitempty"`
	Layer *nestedLayer `json:"layer"`
}

// MarshalJSON writes the wrapped layer as {"class_name", "config"}.
func (l *TimeDistributed) MarshalJSON() ([]byte, error) {
	n, err := encodeNested(l.Layer)
	if err != nil {
		return nil, err
	}
	return json.Marshal(timeDistributedJSON{Name: l.Name, Layer: n})
}

// UnmarshalJSON reads what MarshalJSON wrote, rejecting unknown fields.
func (l *TimeDistributed) UnmarshalJSON(b []byte) error {
	var j timeDistributedJSON
	if err := strictUnmarshal(b, &j); err != nil {
		return err
	}
	inner, err := decodeNested(j.Layer)
	if err != nil {
		return err
	}
	l.Name, l.Layer = j.Name, inner
	return nil
}

// OutputShape implements Layer.
func (l *TimeDistributed) OutputShape(in []Shape) (Shape, error) {
	s, err := single("TimeDistributed", in)
	if err != nil {
		return nil, err
	}
	if l.Layer == nil {
		return nil, errors.New("keras: TimeDistributed needs a Layer")
	}
	if _, ok := l.Layer.(*Input); ok {
		return nil, errors.New("keras: TimeDistributed cannot wrap an Input")
	}
	if len(s) < 2 {
		return nil, errors.Errorf("keras: TimeDistributed takes (steps, …) samples with at least one axis per step, got %v", s)
	}
	step, err := l.Layer.OutputShape([]Shape{s[1:]})
	if err != nil {
		return nil, errors.WithMessagef(err, "keras: TimeDistributed(%s)", ClassName(l.Layer))
	}
	return append(Shape{s[0]}, step...), nil
}

// Build implements Layer.
func (l *TimeDistributed) Build(in []Shape) error {
	return buildInner(&l.Base, l.Layer, innerName(l.Layer), []Shape{in[0][1:]})
}

// Call implements Layer.
func (l *TimeDistributed) Call(ctx *graph.Context, in []*gorgonia.Node) (*gorgonia.Node, error) {
	xs := in[0].Shape()
	batch, steps := xs[0], xs[1]
	x, err := reshapeNode(in[0], append(tensor.Shape{batch * steps}, xs[2:]...))
	if err != nil {
		return nil, err
	}
	// The wrapped layer sees batch·steps samples.
	saved := ctx.Batch
	ctx.Batch = batch * steps
	y, err := l.Layer.Call(ctx, []*gorgonia.Node{x})
	ctx.Batch = saved
	if err != nil {
		return nil, errors.WithMessagef(err, "keras: TimeDistributed(%s)", ClassName(l.Layer))
	}
	ys := y.Shape()
	return reshapeNode(y, append(tensor.Shape{batch, steps}, ys[1:]...))
}

// PassesMask implements MaskPasser: the output keeps the input's mask.
func (l *TimeDistributed) PassesMask() bool { return true }
