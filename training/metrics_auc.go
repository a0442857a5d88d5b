package training

import (
	"math"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// AUC approximates the area under the ROC or the precision-recall curve,
// Keras' AUC (single label: every entry of yTrue and yPred counts on its
// own, as Keras flattens them). Predictions are bucketed on NumThresholds
// evenly spaced thresholds (the first just below 0, the last just above 1);
// an entry is positive when yTrue is not 0. yPred holds probabilities
// (clipped to [0, 1]) or, with FromLogits, logits. A sample's weight applies
// to each of its entries.
type AUC struct {
	// LogName is the name in logs; "" means "auc".
	LogName string
	// NumThresholds is the number of thresholds, > 1; 0 means 200.
	NumThresholds int
	// Curve is "ROC" or "PR" (lower case works too); "" means "ROC".
	Curve string
	// SummationMethod is "interpolation", "minoring" or "majoring", as in
	// Keras; "" means "interpolation".
	SummationMethod string
	// FromLogits applies a sigmoid to yPred first.
	FromLogits bool

	tp, fp, tn, fn []float64 // per threshold, since Reset
	tpB, fpB       []float64 // per bucket, one batch
	seen           bool      // an Update has counted since Reset
	buf            metricBuffers
}

var _ Metric = (*AUC)(nil)

// Name returns LogName or "auc".
func (m *AUC) Name() string { return metricName(m.LogName, "auc") }

// Reset clears the counts.
func (m *AUC) Reset() {
	for _, s := range [][]float64{m.tp, m.fp, m.tn, m.fn} {
		clear(s)
	}
	m.seen = false
}

// config returns the number of thresholds, whether the curve is PR, and the
// summation method, checking them.
func (m *AUC) config() (n int, pr bool, sum string, err error) {
	n = m.NumThresholds
	if n == 0 {
		n = 200
	}
	if n < 2 {
		return 0, false, "", errors.Errorf("training: %s: NumThresholds is %d; want > 1 (0 means 200)", m.Name(), m.NumThresholds)
	}
	switch m.Curve {
	case "", "ROC", "roc":
	case "PR", "pr":
		pr = true
	default:
		return 0, false, "", errors.Errorf("training: %s: Curve %q; want \"ROC\" or \"PR\"", m.Name(), m.Curve)
	}
	switch m.SummationMethod {
	case "", "interpolation", "Interpolation":
		sum = "interpolation"
	case "minoring", "Minoring":
		sum = "minoring"
	case "majoring", "Majoring":
		sum = "majoring"
	default:
		return 0, false, "", errors.Errorf("training: %s: SummationMethod %q; want \"interpolation\", \"minoring\" or \"majoring\"", m.Name(), m.SummationMethod)
	}
	return n, pr, sum, nil
}

// Update adds a batch.
func (m *AUC) Update(yTrue, yPred *tensor.Dense, sampleWeight []float64) error {
	n, _, _, err := m.config()
	if err != nil {
		return err
	}
	if len(m.tp) != n {
		if m.seen {
			return errors.Errorf("training: %s: NumThresholds changed to %d since Reset (was %d)", m.Name(), n, len(m.tp))
		}
		m.tp, m.fp, m.tn, m.fn = make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
		m.tpB, m.fpB = make([]float64, n), make([]float64, n)
	}
	clear(m.tpB)
	clear(m.fpB)
	var pos, neg float64
	// Keras' optimised update for evenly spaced thresholds: a prediction p
	// lands in bucket ceil(p·(n−1))−1 (at least 0) and counts as above every
	// threshold up to that bucket's.
	err = metricEntries(m.Name(), &m.buf, yTrue, yPred, sampleWeight, func(t, p, w float64) {
		if m.FromLogits {
			p = 1 / (1 + math.Exp(-p))
		}
		if !(p > 0) { // also NaN
			p = 0
		} else if p > 1 {
			p = 1
		}
		b := int(math.Ceil(p*float64(n-1))) - 1
		if b < 0 {
			b = 0
		}
		if t != 0 {
			m.tpB[b] += w
			pos += w
		} else {
			m.fpB[b] += w
			neg += w
		}
	})
	if err != nil {
		return err
	}
	var tp, fp float64
	for i := n - 1; i >= 0; i-- {
		tp += m.tpB[i]
		fp += m.fpB[i]
		m.tp[i] += tp
		m.fp[i] += fp
		m.fn[i] += pos - tp
		m.tn[i] += neg - fp
	}
	m.seen = true
	return nil
}

// Result is the area so far, Keras' AUC.result; 0 when empty.
func (m *AUC) Result() float64 {
	n, pr, sum, err := m.config()
	if err != nil || len(m.tp) != n {
		return 0
	}
	if pr && sum == "interpolation" {
		return m.interpolatePR()
	}
	area := 0.0
	x := func(i int) float64 { // false-positive rate, or recall for PR
		if pr {
			return metricDivNoNaN(m.tp[i], m.tp[i]+m.fn[i])
		}
		return metricDivNoNaN(m.fp[i], m.fp[i]+m.tn[i])
	}
	y := func(i int) float64 { // recall, or precision for PR
		if pr {
			return metricDivNoNaN(m.tp[i], m.tp[i]+m.fp[i])
		}
		return metricDivNoNaN(m.tp[i], m.tp[i]+m.fn[i])
	}
	for i := 0; i < n-1; i++ {
		var h float64
		switch sum {
		case "minoring":
			h = math.Min(y(i), y(i+1))
		case "majoring":
			h = math.Max(y(i), y(i+1))
		default:
			h = (y(i) + y(i+1)) / 2
		}
		area += (x(i) - x(i+1)) * h
	}
	return area
}

// interpolatePR is Keras' interpolate_pr_auc (Davis & Goadrich 2006):
// within each bucket tp and tp+fp vary linearly, and the area under the
// resulting precision is integrated in closed form.
func (m *AUC) interpolatePR() float64 {
	area := 0.0
	for i := 0; i < len(m.tp)-1; i++ {
		pA, pB := m.tp[i]+m.fp[i], m.tp[i+1]+m.fp[i+1]
		dtp := m.tp[i] - m.tp[i+1]
		slope := metricDivNoNaN(dtp, math.Max(pA-pB, 0))
		intercept := m.tp[i+1] - slope*pB
		ratio := 1.0
		if pA > 0 && pB > 0 {
			ratio = metricDivNoNaN(pA, math.Max(pB, 0))
		}
		area += metricDivNoNaN(slope*(dtp+intercept*math.Log(ratio)),
			math.Max(m.tp[i+1]+m.fn[i+1], 0))
	}
	return area
}
