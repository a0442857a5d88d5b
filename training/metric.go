package training

import "gorgonia.org/tensor"

// A Metric accumulates a figure of merit over batches, like a Keras metric
// object: Reset at the start of an epoch, Update per batch, Result at any
// time.
type Metric interface {
	// Name is the Keras name used in logs: "accuracy", "precision", "mae".
	Name() string
	// Reset clears the accumulated state.
	Reset()
	// Update adds a batch. yTrue has the shape the loss takes (class indices
	// of shape (batch) for sparse metrics); yPred is the model's output.
	// sampleWeight, when not nil, has one weight per sample.
	Update(yTrue, yPred *tensor.Dense, sampleWeight []float64) error
	// Result is the metric over everything since Reset.
	Result() float64
}
