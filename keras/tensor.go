package keras

import (
	"github.com/pkg/errors"
)

// A Tensor is a symbolic value of the functional API: the output of a layer
// applied to other Tensors. It has a shape (batch axis excluded) but no
// numbers; a Model turns Tensors into graphs.
//
//	x := keras.NewInput(784)
//	h := keras.Apply(&keras.Dense{Units: 64, Activation: "relu"}, x)
//	y := keras.Apply(&keras.Dense{Units: 10, Activation: "softmax"}, h)
//	model, err := keras.NewModel([]*keras.Tensor{x}, []*keras.Tensor{y})
type Tensor struct {
	layer  Layer
	inputs []*Tensor
	shape  Shape
	err    error
}

// Shape is the tensor's shape without the batch axis.
func (t *Tensor) Shape() Shape { return append(Shape(nil), t.shape...) }

// Layer is the layer that produces t.
func (t *Tensor) Layer() Layer { return t.layer }

// Err is the first error met while building t (a bad shape, say); NewModel
// reports it too.
func (t *Tensor) Err() error { return t.err }

// NewInput starts a functional model: a Tensor fed with samples of the
// given shape (batch axis excluded), in the model's default dtype float32.
func NewInput(shape ...int) *Tensor { return Apply(&Input{Shape: shape}) }

// Apply applies a layer to symbolic inputs, as calling a layer does in
// Keras. Errors are kept in the result (see Tensor.Err) so that calls can be
// chained; NewModel returns the first one. Applying one layer several times
// shares its weights.
func Apply(l Layer, inputs ...*Tensor) *Tensor {
	if l == nil {
		return &Tensor{err: errors.New("keras: Apply: nil layer")}
	}
	shapes := make([]Shape, len(inputs))
	for i, in := range inputs {
		if in == nil {
			return &Tensor{layer: l, err: errors.Errorf("keras: Apply %s: input %d is nil", ClassName(l), i)}
		}
		if in.err != nil {
			return &Tensor{layer: l, inputs: inputs, err: in.err}
		}
		shapes[i] = in.shape
	}
	if _, isInput := l.(*Input); isInput && len(inputs) > 0 {
		return &Tensor{layer: l, err: errors.New("keras: an Input layer takes no inputs")}
	}
	if _, isInput := l.(*Input); !isInput && len(inputs) == 0 {
		return &Tensor{layer: l, err: errors.Errorf("keras: Apply %s: no inputs", ClassName(l))}
	}
	out, err := l.OutputShape(shapes)
	if err != nil {
		name := configName(l)
		if name == "" {
			name = snake(ClassName(l))
		}
		return &Tensor{layer: l, inputs: inputs, err: errors.WithMessagef(err, "layer %q (%s)", name, ClassName(l))}
	}
	return &Tensor{layer: l, inputs: inputs, shape: out}
}
