package training

import (
	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// The machinery shared by the metrics: reading tensors, checking shapes,
// reducing to per-sample values and the running weighted mean.

// metricMean is a running weighted mean, the state of Keras' Mean.
type metricMean struct {
	total, count float64
}

// addSamples adds one value per sample, weighted when w is not nil.
func (m *metricMean) addSamples(vals, w []float64) {
	if w == nil {
		for _, v := range vals {
			m.total += v
		}
		m.count += float64(len(vals))
		return
	}
	for i, v := range vals {
		m.total += w[i] * v
		m.count += w[i]
	}
}

func (m *metricMean) result() float64 { return metricDivNoNaN(m.total, m.count) }

// metricDivNoNaN is Keras' divide_no_nan: 0 when the denominator is 0.
func metricDivNoNaN(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// metricBuffers holds the float64 copies of a batch, reused across Updates.
type metricBuffers struct {
	yt, yp, vals []float64
}

// metricFloats appends t's elements, in row-major order, to buf[:0] as
// float64. Views and transposes are read through a materialised copy.
func metricFloats(name, role string, t *tensor.Dense, buf []float64) ([]float64, error) {
	if t == nil {
		return buf, errors.Errorf("training: %s: %s is nil", name, role)
	}
	if t.RequiresIterator() {
		if m, ok := t.Materialize().(*tensor.Dense); ok {
			t = m
		}
	}
	buf = buf[:0]
	if t.IsScalar() {
		v, ok := metricScalar(t.Data())
		if !ok {
			return buf, errors.Errorf("training: %s: %s has dtype %v; want a float or integer type", name, role, t.Dtype())
		}
		return append(buf, v), nil
	}
	n := t.Shape().TotalSize()
	short := func(l int) error {
		return errors.Errorf("training: %s: %s of shape %v holds %d values", name, role, t.Shape(), l)
	}
	switch d := t.Data().(type) {
	case []float32:
		if len(d) < n {
			return buf, short(len(d))
		}
		for _, v := range d[:n] {
			buf = append(buf, float64(v))
		}
	case []float64:
		if len(d) < n {
			return buf, short(len(d))
		}
		buf = append(buf, d[:n]...)
	case []int:
		if len(d) < n {
			return buf, short(len(d))
		}
		for _, v := range d[:n] {
			buf = append(buf, float64(v))
		}
	case []int32:
		if len(d) < n {
			return buf, short(len(d))
		}
		for _, v := range d[:n] {
			buf = append(buf, float64(v))
		}
	case []int64:
		if len(d) < n {
			return buf, short(len(d))
		}
		for _, v := range d[:n] {
			buf = append(buf, float64(v))
		}
	default:
		return buf, errors.Errorf("training: %s: %s has dtype %v; want float32, float64 or an integer type", name, role, t.Dtype())
	}
	return buf, nil
}

func metricScalar(v interface{}) (float64, bool) {
	switch x := v.(type) {
	case float32:
		return float64(x), true
	case float64:
		return x, true
	case int:
		return float64(x), true
	case int32:
		return float64(x), true
	case int64:
		return float64(x), true
	}
	return 0, false
}

// metricSqueeze drops one trailing axis of size 1 from a shape of rank ≥ 2.
func metricSqueeze(s tensor.Shape) tensor.Shape {
	if len(s) >= 2 && s[len(s)-1] == 1 {
		return s[:len(s)-1]
	}
	return s
}

func metricShapesEqual(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// metricBatch checks that yPred has a batch axis and that sampleWeight, when
// given, has one weight per sample; it returns the batch size.
func metricBatch(name string, pred tensor.Shape, sampleWeight []float64) (int, error) {
	if len(pred) == 0 {
		return 0, errors.Errorf("training: %s: yPred has shape %v; want a batch axis first", name, pred)
	}
	if sampleWeight != nil && len(sampleWeight) != pred[0] {
		return 0, metricWeightsError(name, len(sampleWeight), pred[0], pred)
	}
	return pred[0], nil
}

func metricWeightsError(name string, n, batch int, pred tensor.Shape) error {
	return errors.Errorf("training: %s: %d sample weights for a batch of %d (yPred shape %v)",
		name, n, batch, pred)
}

// metricCheckAligned checks the shapes of an element-wise metric: equal, up
// to a trailing axis of 1 on either side. It returns the batch size.
func metricCheckAligned(name string, yTrue, yPred *tensor.Dense, sampleWeight []float64) (int, error) {
	if yTrue == nil || yPred == nil {
		return 0, errors.Errorf("training: %s: yTrue and yPred must not be nil", name)
	}
	ts, ps := yTrue.Shape(), yPred.Shape()
	batch, err := metricBatch(name, ps, sampleWeight)
	if err != nil {
		return 0, err
	}
	if !metricShapesEqual(metricSqueeze(ts), metricSqueeze(ps)) {
		return 0, errors.Errorf("training: %s: yTrue shape %v does not match yPred shape %v", name, ts, ps)
	}
	return batch, nil
}

// metricCheckClasses checks the shapes of a metric over a class axis:
// yPred is (batch, ..., classes) and yTrue has the same shape (one-hot), or,
// when sparse, yPred's shape without the class axis (optionally with a
// trailing 1). It returns the batch size and the number of classes.
func metricCheckClasses(name string, yTrue, yPred *tensor.Dense, sampleWeight []float64, sparse bool) (batch, classes int, err error) {
	if yTrue == nil || yPred == nil {
		return 0, 0, errors.Errorf("training: %s: yTrue and yPred must not be nil", name)
	}
	ts, ps := yTrue.Shape(), yPred.Shape()
	if batch, err = metricBatch(name, ps, sampleWeight); err != nil {
		return 0, 0, err
	}
	if len(ps) < 2 {
		return 0, 0, errors.Errorf("training: %s: yPred has shape %v; want (batch, ..., classes)", name, ps)
	}
	classes = ps[len(ps)-1]
	ok := metricShapesEqual(ts, ps)
	want := "the same shape"
	if sparse {
		lead := ps[:len(ps)-1]
		ok = metricShapesEqual(ts, lead) ||
			(len(ts) == len(ps) && ts[len(ts)-1] == 1 && metricShapesEqual(ts[:len(ts)-1], lead))
		want = "yPred's shape without its last axis (class indices)"
	}
	if !ok {
		return 0, 0, errors.Errorf("training: %s: yTrue shape %v does not match yPred shape %v; want %s",
			name, ts, ps, want)
	}
	if classes == 0 {
		return 0, 0, errors.Errorf("training: %s: yPred has shape %v; want at least one class", name, ps)
	}
	return batch, classes, nil
}

// metricPerSampleMean reduces per-entry values (batch·per of them, sample by
// sample) to per-sample means in out.
func metricPerSampleMean(vals []float64, batch int, out []float64) []float64 {
	out = out[:0]
	if batch == 0 {
		return out
	}
	per := len(vals) / batch
	if per == 0 {
		return out
	}
	for b := 0; b < batch; b++ {
		s := 0.0
		for _, v := range vals[b*per : (b+1)*per] {
			s += v
		}
		out = append(out, s/float64(per))
	}
	return out
}

// metricArgMax returns the index of the first largest value of row.
func metricArgMax(row []float64) int {
	best := 0
	for i, v := range row {
		if v > row[best] {
			best = i
		}
	}
	return best
}

// metricElementwise adds, for an element-wise metric, the per-sample means
// of f(true, pred) over the entries of each sample.
func metricElementwise(name string, st *metricMean, buf *metricBuffers, yTrue, yPred *tensor.Dense, sampleWeight []float64, f func(t, p float64) float64) error {
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
	for i, p := range buf.yp {
		buf.yp[i] = f(buf.yt[i], p)
	}
	buf.vals = metricPerSampleMean(buf.yp, batch, buf.vals)
	if len(buf.vals) == batch {
		st.addSamples(buf.vals, sampleWeight)
	}
	return nil
}

// metricClasswise adds, for a metric over a class axis, the per-sample means
// of hit(trueRow, predRow) over yPred's rows (its last axis). trueRow is the
// matching one-hot row of yTrue, or, when sparse, a one-entry slice holding
// the class index.
func metricClasswise(name string, st *metricMean, buf *metricBuffers, yTrue, yPred *tensor.Dense, sampleWeight []float64, sparse bool, hit func(trueRow, predRow []float64) float64) error {
	batch, classes, err := metricCheckClasses(name, yTrue, yPred, sampleWeight, sparse)
	if err != nil {
		return err
	}
	if buf.yt, err = metricFloats(name, "yTrue", yTrue, buf.yt); err != nil {
		return err
	}
	if buf.yp, err = metricFloats(name, "yPred", yPred, buf.yp); err != nil {
		return err
	}
	rows := len(buf.yp) / classes
	for r := 0; r < rows; r++ {
		t := buf.yt[r : r+1]
		if !sparse {
			t = buf.yt[r*classes : (r+1)*classes]
		}
		// Row r's result goes to index r, which the loop has already read.
		buf.yp[r] = hit(t, buf.yp[r*classes:(r+1)*classes])
	}
	buf.vals = metricPerSampleMean(buf.yp[:rows], batch, buf.vals)
	if len(buf.vals) == batch {
		st.addSamples(buf.vals, sampleWeight)
	}
	return nil
}
