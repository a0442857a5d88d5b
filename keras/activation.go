package keras

import (
	"github.com/keragon/keragon/graph"
	"github.com/keragon/keragon/ops"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
)

// Activation applies a named activation function, as
// keras.layers.Activation("relu"). Output shape = input shape.
type Activation struct {
	Name string `json:"name,omitempty"`
	// Activation is the function's Keras name.
	Activation string `json:"activation"`
	Base
}

func init() { Register("Activation", func() Layer { return &Activation{} }) }

// OutputShape implements Layer.
func (l *Activation) OutputShape(in []Shape) (Shape, error) {
	s, err := single("Activation", in)
	if err != nil {
		return nil, err
	}
	if _, err := ops.Activation(l.Activation); err != nil {
		return nil, err
	}
	return s, nil
}

// Call implements Layer.
func (l *Activation) Call(_ *graph.Context, in []*gorgonia.Node) (*gorgonia.Node, error) {
	return activate(l.Activation, in[0])
}

// LeakyReLU is max(x, NegativeSlope·x), as keras.layers.LeakyReLU, whose
// default slope is 0.3.
type LeakyReLU struct {
	Name string `json:"name,omitempty"`
	// NegativeSlope is >= 0; nil means Keras' layer default 0.3. Set it
	// with Float (Float(0) is a ReLU).
	NegativeSlope *float64 `json:"negative_slope,omitempty"`
	Base
}

func init() { Register("LeakyReLU", func() Layer { return &LeakyReLU{} }) }

// OutputShape implements Layer.
func (l *LeakyReLU) OutputShape(in []Shape) (Shape, error) {
	if a := floatOr(l.NegativeSlope, 0.3); !(a >= 0) { // NaN too
		return nil, errors.Errorf("keras: LeakyReLU slope must be >= 0, got %v", a)
	}
	return single("LeakyReLU", in)
}

// Call implements Layer.
func (l *LeakyReLU) Call(_ *graph.Context, in []*gorgonia.Node) (*gorgonia.Node, error) {
	return ops.LeakyReLU(in[0], floatOr(l.NegativeSlope, 0.3))
}

// PassesMask implements MaskPasser: the output keeps the input's mask.
func (l *Activation) PassesMask() bool { return true }

// PassesMask implements MaskPasser: the output keeps the input's mask.
func (l *LeakyReLU) PassesMask() bool { return true }
