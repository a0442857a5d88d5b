package keras

import (
	"github.com/keragon/keragon/graph"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
)

// Input declares a model input: samples of Shape (batch axis excluded).
// In a Sequential model it comes first; in the functional API use
// NewInput or Apply(&Input{...}).
type Input struct {
	Name string `json:"name,omitempty"`
	// Shape of one sample, e.g. [28, 28, 1] for an image (NHWC: height,
	// width, channels, like Keras). An empty, non-nil shape ([]int{}) is
	// one number per sample, Keras' Input(shape=()): data of shape
	// (batch), such as one token id per sample for an Embedding. A nil
	// Shape is an error (the shape is required).
	Shape []int `json:"shape"`
	// Dtype is "float32" (the default) or "float64", which sets the whole
	// model's dtype, or "string" for strings that a StringLookup turns into
	// indices (see Strings).
	Dtype string `json:"dtype,omitempty"`
	Base
}

func init() { Register("Input", func() Layer { return &Input{} }) }

// OutputShape implements Layer.
func (l *Input) OutputShape(in []Shape) (Shape, error) {
	if len(in) != 0 {
		return nil, errors.New("keras: Input takes no inputs")
	}
	if l.Shape == nil {
		return nil, errors.New("keras: Input needs a Shape (e.g. Shape: []int{784}; []int{} for one number per sample)")
	}
	for _, d := range l.Shape {
		if d <= 0 {
			return nil, errors.Errorf("keras: Input shape must be positive, got %v", l.Shape)
		}
	}
	if l.Dtype != "" && l.Dtype != "float32" && l.Dtype != "float64" && l.Dtype != "string" {
		return nil, errors.Errorf("keras: Input dtype must be \"float32\", \"float64\" or \"string\", got %q", l.Dtype)
	}
	return append(Shape{}, l.Shape...), nil
}

// Call implements Layer; the model feeds inputs itself.
func (l *Input) Call(*graph.Context, []*gorgonia.Node) (*gorgonia.Node, error) {
	return nil, errors.New("keras: Input is fed, not called")
}
