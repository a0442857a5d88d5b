package training

import (
	"github.com/keragon/keragon/graph"
	"gorgonia.org/tensor"
)

// An Optimizer updates trainable weights in place from their gradients.
//
// Keragon's optimizers follow Keras 3's update rules and defaults. They keep
// their state (moments, accumulators) per weight and allocate it once, on
// the first step that sees a weight; later steps allocate nothing.
type Optimizer interface {
	// Name is the optimizer's Keras name, such as "adam".
	Name() string
	// Step applies one update to every weight in grads and counts one
	// iteration.
	Step(grads []graph.Gradient) error
	// Iterations is the number of steps taken so far.
	Iterations() int
	// CurrentLearningRate is the rate the next step will use (after any
	// schedule). (Not LearningRate: that is the optimizers' config field, as
	// in &Adam{LearningRate: 1e-3}, and Go forbids a field and a method of
	// one name.)
	CurrentLearningRate() float64
	// SetLearningRate fixes the rate from now on, replacing any schedule
	// (ReduceLROnPlateau uses it).
	SetLearningRate(lr float64)
	// State returns the optimizer's state tensors, named
	// "<weight name>/<slot>" (e.g. "dense/kernel/m"), plus "iterations",
	// for saving. weights gives the order.
	State(weights []*graph.Weight) []NamedTensor
	// SetState restores what State returned, for weights matched by name.
	SetState(weights []*graph.Weight, state []NamedTensor) error
}

// A NamedTensor is a named piece of saved state.
type NamedTensor struct {
	Name  string
	Value *tensor.Dense
}
