package training

import (
	"math"

	"gorgonia.org/tensor"
)

// MeanSquaredError is the mean of (yTrue − yPred)², Keras'
// MeanSquaredError. yTrue and yPred have the same shape, (batch, ...); each
// sample scores the mean over its entries.
type MeanSquaredError struct {
	// LogName is the name in logs; "" means "mean_squared_error".
	LogName string

	state metricMean
	buf   metricBuffers
}

// MeanAbsoluteError is the mean of |yTrue − yPred|, Keras'
// MeanAbsoluteError. Shapes as MeanSquaredError.
type MeanAbsoluteError struct {
	// LogName is the name in logs; "" means "mean_absolute_error".
	LogName string

	state metricMean
	buf   metricBuffers
}

// RootMeanSquaredError is the square root of the (weighted) mean squared
// error so far, Keras' RootMeanSquaredError. Shapes as MeanSquaredError.
type RootMeanSquaredError struct {
	// LogName is the name in logs; "" means "root_mean_squared_error".
	LogName string

	state metricMean
	buf   metricBuffers
}

var (
	_ Metric = (*MeanSquaredError)(nil)
	_ Metric = (*MeanAbsoluteError)(nil)
	_ Metric = (*RootMeanSquaredError)(nil)
)

func metricSquaredError(t, p float64) float64 { return (t - p) * (t - p) }

// Name returns LogName or "mean_squared_error".
func (m *MeanSquaredError) Name() string { return metricName(m.LogName, "mean_squared_error") }

// Reset clears the accumulated state.
func (m *MeanSquaredError) Reset() { m.state = metricMean{} }

// Result is the weighted mean squared error so far; 0 when empty.
func (m *MeanSquaredError) Result() float64 { return m.state.result() }

// Update adds a batch.
func (m *MeanSquaredError) Update(yTrue, yPred *tensor.Dense, sampleWeight []float64) error {
	return metricElementwise(m.Name(), &m.state, &m.buf, yTrue, yPred, sampleWeight, metricSquaredError)
}

// Name returns LogName or "mean_absolute_error".
func (m *MeanAbsoluteError) Name() string { return metricName(m.LogName, "mean_absolute_error") }

// Reset clears the accumulated state.
func (m *MeanAbsoluteError) Reset() { m.state = metricMean{} }

// Result is the weighted mean absolute error so far; 0 when empty.
func (m *MeanAbsoluteError) Result() float64 { return m.state.result() }

// Update adds a batch.
func (m *MeanAbsoluteError) Update(yTrue, yPred *tensor.Dense, sampleWeight []float64) error {
	return metricElementwise(m.Name(), &m.state, &m.buf, yTrue, yPred, sampleWeight,
		func(t, p float64) float64 { return math.Abs(t - p) })
}

// Name returns LogName or "root_mean_squared_error".
func (m *RootMeanSquaredError) Name() string {
	return metricName(m.LogName, "root_mean_squared_error")
}

// Reset clears the accumulated state.
func (m *RootMeanSquaredError) Reset() { m.state = metricMean{} }

// Result is the root of the weighted mean squared error so far; 0 when
// empty.
func (m *RootMeanSquaredError) Result() float64 { return math.Sqrt(m.state.result()) }

// Update adds a batch.
func (m *RootMeanSquaredError) Update(yTrue, yPred *tensor.Dense, sampleWeight []float64) error {
	return metricElementwise(m.Name(), &m.state, &m.buf, yTrue, yPred, sampleWeight, metricSquaredError)
}
