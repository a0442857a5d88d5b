package keras

import (
	"github.com/keragon/keragon/graph"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Flatten reshapes each sample to one axis, as keras.layers.Flatten.
// Input shape: (batch, d1, d2, ...). Output shape: (batch, d1·d2·...).
type Flatten struct {
	Name string `json:"name,omitempty"`
	Base
}

func init() { Register("Flatten", func() Layer { return &Flatten{} }) }

// OutputShape implements Layer.
func (l *Flatten) OutputShape(in []Shape) (Shape, error) {
	s, err := single("Flatten", in)
	if err != nil {
		return nil, err
	}
	return Shape{s.Size()}, nil
}

// Call implements Layer.
func (l *Flatten) Call(ctx *graph.Context, in []*gorgonia.Node) (*gorgonia.Node, error) {
	return reshapeNode(in[0], tensor.Shape{ctx.Batch, in[0].Shape().TotalSize() / ctx.Batch})
}

// Reshape gives each sample a new shape with the same number of values, as
// keras.layers.Reshape; one dimension may be -1 and is then inferred.
type Reshape struct {
	Name string `json:"name,omitempty"`
	// TargetShape excludes the batch axis.
	TargetShape []int `json:"target_shape"`
	Base
}

func init() { Register("Reshape", func() Layer { return &Reshape{} }) }

// OutputShape implements Layer.
func (l *Reshape) OutputShape(in []Shape) (Shape, error) {
	s, err := single("Reshape", in)
	if err != nil {
		return nil, err
	}
	out := append(Shape(nil), l.TargetShape...)
	if len(out) == 0 {
		return nil, errors.New("keras: Reshape needs a TargetShape")
	}
	unknown, known := -1, 1
	for i, d := range out {
		switch {
		case d == -1 && unknown < 0:
			unknown = i
		case d <= 0:
			return nil, errors.Errorf("keras: Reshape target %v: dimensions must be positive (one may be -1)", l.TargetShape)
		default:
			known *= d
		}
	}
	if unknown >= 0 {
		if s.Size()%known != 0 {
			return nil, errors.Errorf("keras: cannot reshape %v into %v", s, l.TargetShape)
		}
		out[unknown] = s.Size() / known
	}
	if out.Size() != s.Size() {
		return nil, errors.Errorf("keras: cannot reshape %v (%d values) into %v (%d values)", s, s.Size(), Shape(l.TargetShape), out.Size())
	}
	return out, nil
}

// Call implements Layer.
func (l *Reshape) Call(ctx *graph.Context, in []*gorgonia.Node) (*gorgonia.Node, error) {
	out, err := l.OutputShape([]Shape{Shape(in[0].Shape()[1:])})
	if err != nil {
		return nil, err
	}
	return reshapeNode(in[0], append(tensor.Shape{ctx.Batch}, out...))
}

func reshapeNode(x *gorgonia.Node, to tensor.Shape) (*gorgonia.Node, error) {
	if x.Shape().Eq(to) {
		return x, nil
	}
	y, err := gorgonia.Reshape(x, to)
	return y, errors.Wrapf(err, "keras: reshaping %v to %v", x.Shape(), to)
}
