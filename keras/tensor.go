package keras

import (
	"github.com/pkg/errors"
)

// A Tensor is a symbolic value of the functional API: an output of a layer
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
	app    *application
	index  int // which output of app
	shape  Shape
	err    error
}

// An application is one call of a layer on symbolic inputs; a layer with
// several outputs (an LSTM with ReturnState) gives several Tensors.
type application struct {
	layer   Layer
	inputs  []*Tensor
	outputs []*Tensor
}

// Shape is the tensor's shape without the batch axis.
func (t *Tensor) Shape() Shape { return append(Shape(nil), t.shape...) }

// Layer is the layer that produces t.
func (t *Tensor) Layer() Layer { return t.layer }

// Inputs are the Tensors the layer was applied to to make t (none for an
// Input), so that a model's graph can be walked from its outputs, as an
// exporter does.
func (t *Tensor) Inputs() []*Tensor { return append([]*Tensor(nil), t.inputs...) }

// OutputIndex is which output of its layer's application t is: 0, or
// for an LSTM with ReturnState 1 for h and 2 for c.
func (t *Tensor) OutputIndex() int { return t.index }

// Err is the first error met while building t (a bad shape, say); NewModel
// reports it too.
func (t *Tensor) Err() error { return t.err }

// NewInput starts a functional model: a Tensor fed with samples of the
// given shape (batch axis excluded), in the model's default dtype float32.
// NewInput() takes one number per sample (data of shape (batch)), as
// Keras' Input(shape=()).
func NewInput(shape ...int) *Tensor { return Apply(&Input{Shape: append([]int{}, shape...)}) }

// Apply applies a layer to symbolic inputs, as calling a layer does in
// Keras, and returns its (first) output. Errors are kept in the result
// (see Tensor.Err) so that calls can be chained; NewModel returns the first
// one. Applying one layer several times shares its weights.
func Apply(l Layer, inputs ...*Tensor) *Tensor { return ApplyMulti(l, inputs...)[0] }

// ApplyMulti is Apply for layers with several outputs, such as an LSTM
// with ReturnState: it returns every output, in the layer's order.
func ApplyMulti(l Layer, inputs ...*Tensor) []*Tensor {
	fail := func(err error) []*Tensor { return []*Tensor{{layer: l, inputs: inputs, err: err}} }
	if l == nil {
		return fail(errors.New("keras: Apply: nil layer"))
	}
	shapes := make([]Shape, len(inputs))
	for i, in := range inputs {
		if in == nil {
			return fail(errors.Errorf("keras: Apply %s: input %d is nil", ClassName(l), i))
		}
		if in.err != nil {
			return fail(in.err)
		}
		shapes[i] = in.shape
	}
	if _, isInput := l.(*Input); isInput && len(inputs) > 0 {
		return fail(errors.New("keras: an Input layer takes no inputs"))
	}
	if _, isInput := l.(*Input); !isInput && len(inputs) == 0 {
		return fail(errors.Errorf("keras: Apply %s: no inputs", ClassName(l)))
	}
	outs, err := outputShapes(l, shapes)
	if err != nil {
		name := configName(l)
		if name == "" {
			name = snake(ClassName(l))
		}
		return fail(errors.WithMessagef(err, "layer %q (%s)", name, ClassName(l)))
	}
	app := &application{layer: l, inputs: inputs}
	for i, s := range outs {
		app.outputs = append(app.outputs, &Tensor{layer: l, inputs: inputs, app: app, index: i, shape: s})
	}
	return app.outputs
}

// outputShapes asks a layer for all its output shapes.
func outputShapes(l Layer, in []Shape) ([]Shape, error) {
	if ml, ok := l.(MultiOutputLayer); ok {
		shapes, err := ml.OutputShapes(in)
		if err == nil && len(shapes) == 0 {
			err = errors.New("keras: the layer declares no outputs")
		}
		return shapes, err
	}
	s, err := l.OutputShape(in)
	if err != nil {
		return nil, err
	}
	return []Shape{s}, nil
}
