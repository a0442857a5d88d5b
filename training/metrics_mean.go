package training

import (
	"gorgonia.org/tensor"
)

// Mean is a running weighted mean of values, Keras' Mean metric. The
// training loop keeps the loss with it: Add(batchLoss, batchSize) per batch,
// as Keras' loss tracker does, so Result is the mean loss per sample.
type Mean struct {
	// LogName is the name in logs; "" means "mean".
	LogName string

	state metricMean
	buf   metricBuffers
}

var _ Metric = (*Mean)(nil)

// Name returns LogName or "mean".
func (m *Mean) Name() string { return metricName(m.LogName, "mean") }

// Reset clears the mean.
func (m *Mean) Reset() { m.state = metricMean{} }

// Add adds one value with a weight (a batch's mean loss weighted by the
// batch size, say).
func (m *Mean) Add(value, weight float64) {
	m.state.total += value * weight
	m.state.count += weight
}

// Update adds the values in yPred; yTrue is ignored and may be nil. A
// (batch, ...) tensor adds one value per sample, the mean of its entries,
// weighted by sampleWeight when given; a scalar adds one value (weighted by
// sampleWeight[0] when sampleWeight has one entry).
func (m *Mean) Update(yTrue, yPred *tensor.Dense, sampleWeight []float64) error {
	const name = "mean"
	var err error
	if m.buf.yp, err = metricFloats(name, "yPred", yPred, m.buf.yp); err != nil {
		return err
	}
	batch := 1
	if s := yPred.Shape(); len(s) > 0 {
		batch = s[0]
	}
	if sampleWeight != nil && len(sampleWeight) != batch {
		return metricWeightsError(name, len(sampleWeight), batch, yPred.Shape())
	}
	m.buf.vals = metricPerSampleMean(m.buf.yp, batch, m.buf.vals)
	if len(m.buf.vals) != batch {
		return nil // samples without entries carry no values
	}
	m.state.addSamples(m.buf.vals, sampleWeight)
	return nil
}

// Result is the weighted mean so far, 0 when nothing was added.
func (m *Mean) Result() float64 { return m.state.result() }

// metricName returns logName, or def when logName is empty.
func metricName(logName, def string) string {
	if logName != "" {
		return logName
	}
	return def
}
