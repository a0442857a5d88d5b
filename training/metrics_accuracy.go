package training

import (
	"math"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// Accuracy is how often yPred equals yTrue exactly, Keras' Accuracy class
// (what keras.metrics.get("accuracy") returns; compile's "accuracy" is
// resolved by ResolveAccuracy instead). yTrue and yPred have the same
// shape, (batch, ...); each sample scores the fraction of its entries that
// match. yTrue is rounded to yPred's dtype before comparing, as Keras casts.
type Accuracy struct {
	// LogName is the name in logs; "" means "accuracy".
	LogName string

	state metricMean
	buf   metricBuffers
}

// BinaryAccuracy is how often thresholded predictions match binary labels,
// Keras' BinaryAccuracy: an entry counts when (yPred > Threshold) equals
// yTrue (so yTrue must hold 0 or 1). yTrue and yPred have the same shape,
// (batch, ...); each sample scores the fraction of its entries that match.
type BinaryAccuracy struct {
	// LogName is the name in logs; "" means "binary_accuracy".
	LogName string
	// Threshold separates predicted 1 from 0 and must lie in (0, 1), as in
	// Keras; 0 means 0.5.
	Threshold float64

	state metricMean
	buf   metricBuffers
}

// CategoricalAccuracy is how often the argmax of yPred matches the argmax
// of one-hot yTrue, Keras' CategoricalAccuracy. yTrue and yPred are
// (batch, ..., classes); ties go to the first index, as argmax does. yPred
// may be probabilities or logits.
type CategoricalAccuracy struct {
	// LogName is the name in logs; "" means "categorical_accuracy".
	LogName string

	state metricMean
	buf   metricBuffers
}

// SparseCategoricalAccuracy is how often the argmax of yPred equals the
// class index in yTrue, Keras' SparseCategoricalAccuracy. yPred is
// (batch, ..., classes); yTrue is (batch, ...) or (batch, ..., 1), of any
// float or integer dtype.
type SparseCategoricalAccuracy struct {
	// LogName is the name in logs; "" means "sparse_categorical_accuracy".
	LogName string

	state metricMean
	buf   metricBuffers
}

// TopKCategoricalAccuracy is how often the class of one-hot yTrue is among
// the K largest entries of yPred, Keras' TopKCategoricalAccuracy. Shapes as
// CategoricalAccuracy. As in TensorFlow's in_top_k, classes tied with the
// K-th largest count as in the top K.
type TopKCategoricalAccuracy struct {
	// LogName is the name in logs; "" means "top_k_categorical_accuracy".
	LogName string
	// K is how many of the largest predictions count; 0 means 5.
	K int

	state metricMean
	buf   metricBuffers
}

// SparseTopKCategoricalAccuracy is how often the class index in yTrue is
// among the K largest entries of yPred, Keras'
// SparseTopKCategoricalAccuracy. Shapes as SparseCategoricalAccuracy; yTrue
// is truncated to an integer, as Keras casts it, and an index outside
// [0, classes) never counts.
type SparseTopKCategoricalAccuracy struct {
	// LogName is the name in logs; "" means
	// "sparse_top_k_categorical_accuracy".
	LogName string
	// K is how many of the largest predictions count; 0 means 5.
	K int

	state metricMean
	buf   metricBuffers
}

var (
	_ Metric = (*Accuracy)(nil)
	_ Metric = (*BinaryAccuracy)(nil)
	_ Metric = (*CategoricalAccuracy)(nil)
	_ Metric = (*SparseCategoricalAccuracy)(nil)
	_ Metric = (*TopKCategoricalAccuracy)(nil)
	_ Metric = (*SparseTopKCategoricalAccuracy)(nil)
)

// Name returns LogName or "accuracy".
func (m *Accuracy) Name() string { return metricName(m.LogName, "accuracy") }

// Reset clears the accumulated state.
func (m *Accuracy) Reset() { m.state = metricMean{} }

// Result is the weighted fraction of matches so far; 0 when empty.
func (m *Accuracy) Result() float64 { return m.state.result() }

// Update adds a batch.
func (m *Accuracy) Update(yTrue, yPred *tensor.Dense, sampleWeight []float64) error {
	round32 := yPred != nil && yPred.Dtype() == tensor.Float32
	return metricElementwise(m.Name(), &m.state, &m.buf, yTrue, yPred, sampleWeight,
		func(t, p float64) float64 {
			if round32 {
				t = float64(float32(t))
			}
			return metricBool(t == p)
		})
}

// Name returns LogName or "binary_accuracy".
func (m *BinaryAccuracy) Name() string { return metricName(m.LogName, "binary_accuracy") }

// Reset clears the accumulated state.
func (m *BinaryAccuracy) Reset() { m.state = metricMean{} }

// Result is the weighted fraction of matches so far; 0 when empty.
func (m *BinaryAccuracy) Result() float64 { return m.state.result() }

// Update adds a batch.
func (m *BinaryAccuracy) Update(yTrue, yPred *tensor.Dense, sampleWeight []float64) error {
	th := m.Threshold
	if th == 0 {
		th = 0.5
	}
	if !(th > 0 && th < 1) {
		return errors.Errorf("training: %s: Threshold %v is not in (0, 1)", m.Name(), m.Threshold)
	}
	return metricElementwise(m.Name(), &m.state, &m.buf, yTrue, yPred, sampleWeight,
		func(t, p float64) float64 { return metricBool(t == metricBool(p > th)) })
}

// Name returns LogName or "categorical_accuracy".
func (m *CategoricalAccuracy) Name() string {
	return metricName(m.LogName, "categorical_accuracy")
}

// Reset clears the accumulated state.
func (m *CategoricalAccuracy) Reset() { m.state = metricMean{} }

// Result is the weighted fraction of matches so far; 0 when empty.
func (m *CategoricalAccuracy) Result() float64 { return m.state.result() }

// Update adds a batch.
func (m *CategoricalAccuracy) Update(yTrue, yPred *tensor.Dense, sampleWeight []float64) error {
	return metricClasswise(m.Name(), &m.state, &m.buf, yTrue, yPred, sampleWeight, false,
		func(t, p []float64) float64 { return metricBool(metricArgMax(t) == metricArgMax(p)) })
}

// Name returns LogName or "sparse_categorical_accuracy".
func (m *SparseCategoricalAccuracy) Name() string {
	return metricName(m.LogName, "sparse_categorical_accuracy")
}

// Reset clears the accumulated state.
func (m *SparseCategoricalAccuracy) Reset() { m.state = metricMean{} }

// Result is the weighted fraction of matches so far; 0 when empty.
func (m *SparseCategoricalAccuracy) Result() float64 { return m.state.result() }

// Update adds a batch.
func (m *SparseCategoricalAccuracy) Update(yTrue, yPred *tensor.Dense, sampleWeight []float64) error {
	return metricClasswise(m.Name(), &m.state, &m.buf, yTrue, yPred, sampleWeight, true,
		func(t, p []float64) float64 { return metricBool(t[0] == float64(metricArgMax(p))) })
}

// Name returns LogName or "top_k_categorical_accuracy".
func (m *TopKCategoricalAccuracy) Name() string {
	return metricName(m.LogName, "top_k_categorical_accuracy")
}

// Reset clears the accumulated state.
func (m *TopKCategoricalAccuracy) Reset() { m.state = metricMean{} }

// Result is the weighted fraction of hits so far; 0 when empty.
func (m *TopKCategoricalAccuracy) Result() float64 { return m.state.result() }

// Update adds a batch.
func (m *TopKCategoricalAccuracy) Update(yTrue, yPred *tensor.Dense, sampleWeight []float64) error {
	k, err := metricTopK(m.Name(), m.K)
	if err != nil {
		return err
	}
	return metricClasswise(m.Name(), &m.state, &m.buf, yTrue, yPred, sampleWeight, false,
		func(t, p []float64) float64 { return metricBool(metricInTopK(p, metricArgMax(t), k)) })
}

// Name returns LogName or "sparse_top_k_categorical_accuracy".
func (m *SparseTopKCategoricalAccuracy) Name() string {
	return metricName(m.LogName, "sparse_top_k_categorical_accuracy")
}

// Reset clears the accumulated state.
func (m *SparseTopKCategoricalAccuracy) Reset() { m.state = metricMean{} }

// Result is the weighted fraction of hits so far; 0 when empty.
func (m *SparseTopKCategoricalAccuracy) Result() float64 { return m.state.result() }

// Update adds a batch.
func (m *SparseTopKCategoricalAccuracy) Update(yTrue, yPred *tensor.Dense, sampleWeight []float64) error {
	k, err := metricTopK(m.Name(), m.K)
	if err != nil {
		return err
	}
	return metricClasswise(m.Name(), &m.state, &m.buf, yTrue, yPred, sampleWeight, true,
		func(t, p []float64) float64 {
			if math.IsNaN(t[0]) || t[0] <= -1 || t[0] >= float64(len(p)) {
				return 0
			}
			return metricBool(metricInTopK(p, int(t[0]), k))
		})
}

// metricTopK applies the default K of 5 and rejects a negative K.
func metricTopK(name string, k int) (int, error) {
	if k < 0 {
		return 0, errors.Errorf("training: %s: K is %d; want K > 0 (0 means 5)", name, k)
	}
	if k == 0 {
		k = 5
	}
	return k, nil
}

// metricInTopK reports whether class target is among the k largest entries
// of row: fewer than k entries are strictly larger (TensorFlow's in_top_k,
// where ties at the boundary count as in).
func metricInTopK(row []float64, target, k int) bool {
	s := row[target]
	if math.IsNaN(s) {
		return false
	}
	larger := 0
	for _, v := range row {
		if v > s {
			larger++
		}
	}
	return larger < k
}

func metricBool(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
