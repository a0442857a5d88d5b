package training

import (
	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// Precision is tp / (tp + fp) over every entry of yTrue and yPred, Keras'
// Precision with one threshold: an entry is predicted positive when
// yPred > Threshold and is positive when yTrue is not 0. yTrue and yPred
// have the same shape, (batch, ...); with several classes every entry counts
// on its own, as Keras flattens them. A sample's weight applies to each of
// its entries.
type Precision struct {
	// LogName is the name in logs; "" means "precision".
	LogName string
	// Threshold must lie in [0, 1]; nil means Keras' default 0.5. For
	// logits give Float(0) (Keras' thresholds=0): yPred > 0.
	Threshold *float64

	tp, fp float64
	buf    metricBuffers
}

// Recall is tp / (tp + fn) over every entry of yTrue and yPred, Keras'
// Recall with one threshold. Conventions as Precision.
type Recall struct {
	// LogName is the name in logs; "" means "recall".
	LogName string
	// Threshold as Precision's.
	Threshold *float64

	tp, fn float64
	buf    metricBuffers
}

var (
	_ Metric = (*Precision)(nil)
	_ Metric = (*Recall)(nil)
)

// Name returns LogName or "precision".
func (m *Precision) Name() string { return metricName(m.LogName, "precision") }

// Reset clears the counts.
func (m *Precision) Reset() { m.tp, m.fp = 0, 0 }

// Result is the weighted precision so far; 0 when nothing was predicted
// positive.
func (m *Precision) Result() float64 { return metricDivNoNaN(m.tp, m.tp+m.fp) }

// Update adds a batch.
func (m *Precision) Update(yTrue, yPred *tensor.Dense, sampleWeight []float64) error {
	th, err := metricThreshold(m.Name(), m.Threshold)
	if err != nil {
		return err
	}
	var tp, fp float64
	err = metricEntries(m.Name(), &m.buf, yTrue, yPred, sampleWeight, func(t, p, w float64) {
		if p > th {
			if t != 0 {
				tp += w
			} else {
				fp += w
			}
		}
	})
	if err != nil {
		return err
	}
	m.tp += tp
	m.fp += fp
	return nil
}

// Name returns LogName or "recall".
func (m *Recall) Name() string { return metricName(m.LogName, "recall") }

// Reset clears the counts.
func (m *Recall) Reset() { m.tp, m.fn = 0, 0 }

// Result is the weighted recall so far; 0 when no entry was positive.
func (m *Recall) Result() float64 { return metricDivNoNaN(m.tp, m.tp+m.fn) }

// Update adds a batch.
func (m *Recall) Update(yTrue, yPred *tensor.Dense, sampleWeight []float64) error {
	th, err := metricThreshold(m.Name(), m.Threshold)
	if err != nil {
		return err
	}
	var tp, fn float64
	err = metricEntries(m.Name(), &m.buf, yTrue, yPred, sampleWeight, func(t, p, w float64) {
		if t != 0 {
			if p > th {
				tp += w
			} else {
				fn += w
			}
		}
	})
	if err != nil {
		return err
	}
	m.tp += tp
	m.fn += fn
	return nil
}

// metricThreshold applies the default 0.5 and checks the range [0, 1].
func metricThreshold(name string, p *float64) (float64, error) {
	th := floatOr(p, 0.5)
	if !(th >= 0 && th <= 1) {
		return 0, errors.Errorf("training: %s: Threshold %v is not in [0, 1]", name, th)
	}
	return th, nil
}

// metricEntries calls f(true, pred, weight) for every entry of aligned yTrue
// and yPred, weight being the entry's sample weight (1 without weights).
// Nothing is called when the shapes or dtypes are wrong.
func metricEntries(name string, buf *metricBuffers, yTrue, yPred *tensor.Dense, sampleWeight []float64, f func(t, p, w float64)) error {
	batch, err := metricCheckAligned(name, yTrue, yPred, sampleWeight)
	if err != nil {
		return err
	}
	if buf.yt, err = metricFloats(name, "yTrue", yTrue, buf.yt); err != nil {
		return err
	}
	if buf.yp, err = metricFloats(name, "yPred", yPred, buf.yp); err != nil {
		return err
	}
	if batch == 0 {
		return nil
	}
	per := len(buf.yp) / batch
	for i, p := range buf.yp {
		w := 1.0
		if sampleWeight != nil {
			w = sampleWeight[i/per]
		}
		f(buf.yt[i], p, w)
	}
	return nil
}
