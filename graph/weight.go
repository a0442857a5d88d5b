package graph

import (
	"math/rand/v2"

	"github.com/keragon/keragon/internal/dense"
	"github.com/keragon/keragon/ops"
	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// A Weight is a model parameter or a piece of non-trainable state.
type Weight struct {
	// Name is unique within a model, like Keras' "dense/kernel".
	Name string
	// Shape is the weight's shape, in Keras' layout.
	Shape []int
	// Dtype is tensor.Float32 or tensor.Float64.
	Dtype tensor.Dtype
	// Init fills Value when the weight is first initialised.
	Init ops.Initializer
	// Trainable weights receive gradients and optimizer updates.
	Trainable bool
	// Value is the one tensor every program of the model reads; nil until
	// Alloc, Initialize or Set.
	Value *tensor.Dense
}

// NewWeight returns a weight with an allocated (zero) value.
func NewWeight(name string, dt tensor.Dtype, shape []int, init ops.Initializer, trainable bool) *Weight {
	w := DeclareWeight(name, dt, shape, init, trainable)
	w.Alloc()
	return w
}

// DeclareWeight returns a weight without a value: memory is taken only
// when the weight is initialised or set, so that a model's architecture (a
// loaded file's, say) can be checked before its weights are allocated.
func DeclareWeight(name string, dt tensor.Dtype, shape []int, init ops.Initializer, trainable bool) *Weight {
	return &Weight{Name: name, Shape: append([]int(nil), shape...), Dtype: dt, Init: init, Trainable: trainable}
}

// Alloc gives the weight a zero value if it has none.
func (w *Weight) Alloc() {
	if w.Value == nil {
		w.Value = tensor.New(tensor.Of(w.Dtype), tensor.WithShape(w.Shape...))
	}
}

// Initialize fills the weight's value with its initialiser, drawing from rng.
func (w *Weight) Initialize(rng *rand.Rand) error {
	w.Alloc()
	if w.Init == nil {
		return nil
	}
	return errors.WithMessagef(w.Init.Initialize(rng, w.Value), "graph: initialising %s", w.Name)
}

// Size is the number of scalars in the weight.
func (w *Weight) Size() int {
	n := 1
	for _, s := range w.Shape {
		n *= s
	}
	return n
}

// Set copies src into the weight's value; the shapes must match.
func (w *Weight) Set(src *tensor.Dense) error {
	src, err := dense.Contiguous(src)
	if err != nil {
		return errors.WithMessagef(err, "graph: setting %s", w.Name)
	}
	if src == nil {
		return errors.Errorf("graph: setting %s from nil", w.Name)
	}
	if !src.Shape().Eq(tensor.Shape(w.Shape)) && src.Shape().TotalSize() != w.Size() {
		return errors.Errorf("graph: %s has shape %v, cannot set it from %v", w.Name, w.Shape, src.Shape())
	}
	if src.Dtype() != w.Dtype {
		return errors.Errorf("graph: %s is %v, cannot set it from %v", w.Name, w.Dtype, src.Dtype())
	}
	w.Alloc()
	switch d := w.Value.Data().(type) {
	case []float32:
		copy(d, src.Data().([]float32))
	case []float64:
		copy(d, src.Data().([]float64))
	default:
		return errors.Errorf("graph: %s has unsupported dtype %v", w.Name, w.Dtype)
	}
	return nil
}
