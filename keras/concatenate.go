package keras

import (
	"github.com/keragon/keragon/graph"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
)

// Concatenate joins its inputs along one axis, as keras.layers.Concatenate:
// the inputs have the same rank and the same sizes on every other axis.
//
//	joined := keras.Apply(&keras.Concatenate{}, text, features) // last axis
//
// Output shape: the inputs' shape with the Axis sizes added up. No weights.
//
// Masks, as Keras: when some inputs are masked, joining along the time
// axis (Axis 1 of (batch, steps, features) inputs) joins the masks, an
// unmasked input counting as all real steps; joining along the last axis
// keeps a step when any input keeps it (the OR of the masks, no mask when
// an input is unmasked, since that input keeps every step). Keras' other
// cases give masks of other ranks, which Keragon does not carry: they are
// an error.
type Concatenate struct {
	Name string `json:"name,omitempty"`
	// Axis counts the batch axis as 0, as Keras; negative values count from
	// the end. 0 (the zero value) means Keras' default −1, the last axis
	// (the batch axis cannot be joined along).
	Axis int `json:"axis,omitempty"`
	Base
}

var _ MaskedLayer = (*Concatenate)(nil)

func init() { Register("Concatenate", func() Layer { return &Concatenate{} }) }

// axis resolves Axis for inputs of rank (batch axis included) rank.
func (l *Concatenate) axis(rank int) (int, error) {
	a := l.Axis
	if a == 0 {
		a = -1
	}
	if a < 0 {
		a += rank
	}
	if a < 1 || a >= rank {
		return 0, errors.Errorf("keras: Concatenate axis %d is not a sample axis of inputs of rank %d (batch axis included)", l.Axis, rank)
	}
	return a, nil
}

// OutputShape implements Layer.
func (l *Concatenate) OutputShape(in []Shape) (Shape, error) {
	if len(in) == 0 {
		return nil, errors.New("keras: Concatenate takes a list of inputs, got none")
	}
	rank := len(in[0]) + 1
	a, err := l.axis(rank)
	if err != nil {
		return nil, err
	}
	out := append(Shape(nil), in[0]...)
	for _, s := range in[1:] {
		if len(s)+1 != rank {
			return nil, errors.Errorf("keras: Concatenate needs inputs of the same rank, got %v", in)
		}
		for k := range s {
			if k == a-1 {
				continue
			}
			if s[k] != out[k] {
				return nil, errors.Errorf("keras: Concatenate on axis %d needs the other axes to match, got %v", a, in)
			}
		}
		out[a-1] += s[a-1]
	}
	return out, nil
}

// Call implements Layer.
func (l *Concatenate) Call(ctx *graph.Context, in []*gorgonia.Node) (*gorgonia.Node, error) {
	outs, _, err := l.CallMasked(ctx, in, nil)
	if err != nil {
		return nil, err
	}
	return outs[0], nil
}

// CallMasked implements MaskedLayer.
func (l *Concatenate) CallMasked(ctx *graph.Context, in, masks []*gorgonia.Node) ([]*gorgonia.Node, []*gorgonia.Node, error) {
	a, err := l.axis(in[0].Dims())
	if err != nil {
		return nil, nil, err
	}
	var y *gorgonia.Node
	if len(in) == 1 {
		y = in[0]
	} else if y, err = gorgonia.Concat(a, in...); err != nil {
		return nil, nil, errors.Wrap(err, "keras: Concatenate")
	}
	mask, err := concatMask(ctx, a, in, masks)
	if err != nil {
		return nil, nil, err
	}
	return []*gorgonia.Node{y}, []*gorgonia.Node{mask}, nil
}

// concatMask merges the inputs' masks as Keras' Concatenate.compute_mask
// does, for the cases whose result is a (batch, steps) mask.
func concatMask(ctx *graph.Context, axis int, in, masks []*gorgonia.Node) (*gorgonia.Node, error) {
	masked := false
	for _, m := range masks {
		masked = masked || m != nil
	}
	if !masked {
		return nil, nil
	}
	rank := in[0].Dims()
	switch {
	case rank == 3 && axis == 1:
		ms := make([]*gorgonia.Node, len(in))
		for i, x := range in {
			if ms[i] = masks[i]; ms[i] == nil {
				ms[i] = onesMask(ctx, x.Shape()[0], x.Shape()[1])
			}
		}
		if len(ms) == 1 {
			return ms[0], nil
		}
		m, err := gorgonia.Concat(1, ms...)
		return m, errors.Wrap(err, "keras: Concatenate joining masks")
	case rank == 3 && axis == 2:
		return mergeMask(masks)
	}
	return nil, errors.Errorf("keras: Concatenate on axis %d of inputs of rank %d would give a mask Keragon cannot carry (masks are (batch, steps); join masked (batch, steps, features) inputs on axis 1 or 2)", axis, rank)
}

// onesMask is a constant (batch, steps) mask of real steps.
func onesMask(ctx *graph.Context, batch, steps int) *gorgonia.Node {
	v := make([]float64, batch*steps)
	for i := range v {
		v[i] = 1
	}
	return gorgonia.NodeFromAny(ctx.G, denseLike(ctx.Dtype, v, batch, steps), gorgonia.WithName(uniqueConstant("ones_mask")))
}
