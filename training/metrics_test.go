package training

import (
	"math"
	"reflect"
	"strings"
	"testing"

	"gorgonia.org/tensor"
)

// Reference values marked "Keras doc" are the outputs printed in the
// docstrings of keras/src/metrics/{accuracy,confusion,regression,reduction}
// _metrics.py (Keras 3); the others are worked by hand in the comments.

// metricTestBatch is one Update: shapes and values of yTrue and yPred, and
// the sample weights (nil for none).
type metricTestBatch struct {
	tShape []int
	t      []float64
	pShape []int
	p      []float64
	w      []float64
}

func metricB(tShape []int, t []float64, pShape []int, p []float64, w ...float64) metricTestBatch {
	return metricTestBatch{tShape, t, pShape, p, w}
}

func metricS(d ...int) []int         { return d }
func metricV(v ...float64) []float64 { return v }

// metricTestDense makes a tensor of dtype dt (Float32 or Float64).
func metricTestDense(dt tensor.Dtype, shape []int, vals []float64) *tensor.Dense {
	if dt == tensor.Float32 {
		b := make([]float32, len(vals))
		for i, v := range vals {
			b[i] = float32(v)
		}
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(b))
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(append([]float64(nil), vals...)))
}

// metricTestRun resets m, feeds it the batches in dtype dt and returns its
// result.
func metricTestRun(t *testing.T, m Metric, dt tensor.Dtype, batches []metricTestBatch) float64 {
	t.Helper()
	m.Reset()
	for i, b := range batches {
		err := m.Update(metricTestDense(dt, b.tShape, b.t), metricTestDense(dt, b.pShape, b.p), b.w)
		if err != nil {
			t.Fatalf("batch %d: Update: %+v", i, err)
		}
	}
	return m.Result()
}

// metricTestClose compares with a tolerance fit for the dtype's inputs.
func metricTestClose(dt tensor.Dtype, got, want float64) bool {
	tol := 1e-12
	if dt == tensor.Float32 {
		tol = 1e-6
	}
	return math.Abs(got-want) <= tol*math.Max(1, math.Abs(want))
}

func TestMetricValues(t *testing.T) {
	// The Keras docstring data shared by several cases.
	binT, binP := metricV(1, 1, 0, 0), metricV(0.98, 1, 0, 0.6)
	catT, catP := metricV(0, 0, 1, 0, 1, 0), metricV(0.1, 0.9, 0.8, 0.05, 0.95, 0)
	confT, confP := metricV(0, 1, 1, 1), metricV(1, 0, 1, 1)
	regT, regP := metricV(0, 1, 0, 0), metricV(1, 1, 0, 0)
	// Multi-class entries for Precision/Recall: predicted positive (> 0.5)
	// are (0,0) true, (0,1) false, (1,2) false; positives are (0,0), (1,1).
	mcT, mcP := metricV(1, 0, 0, 0, 1, 0), metricV(0.9, 0.6, 0.1, 0.2, 0.4, 0.7)
	aucT, aucP := metricV(0, 0, 1, 1), metricV(0, 0.5, 0.3, 0.9)

	cases := []struct {
		name    string
		m       Metric
		batches []metricTestBatch
		want    float64
	}{
		// Accuracy.
		{"accuracy/keras doc", &Accuracy{},
			[]metricTestBatch{metricB(metricS(4, 1), metricV(1, 2, 3, 4), metricS(4, 1), metricV(0, 2, 3, 4))}, 0.75},
		{"accuracy/keras doc weighted", &Accuracy{},
			[]metricTestBatch{metricB(metricS(4, 1), metricV(1, 2, 3, 4), metricS(4, 1), metricV(0, 2, 3, 4), 1, 1, 0, 0)}, 0.5},
		// per sample [1/2, 1], weights [3, 1]: (1.5 + 1) / 4.
		{"accuracy/per-sample mean weighted", &Accuracy{},
			[]metricTestBatch{metricB(metricS(2, 2), metricV(1, 2, 3, 4), metricS(2, 2), metricV(1, 0, 3, 4), 3, 1)}, 0.625},
		// 1 of 2, then 3 of 3: 4 of 5 samples.
		{"accuracy/two batches", &Accuracy{}, []metricTestBatch{
			metricB(metricS(2, 1), metricV(1, 2), metricS(2, 1), metricV(1, 0)),
			metricB(metricS(3, 1), metricV(5, 5, 5), metricS(3, 1), metricV(5, 5, 5))}, 0.8},
		{"accuracy/(batch) vs (batch, 1)", &Accuracy{},
			[]metricTestBatch{metricB(metricS(3), metricV(1, 2, 3), metricS(3, 1), metricV(1, 2, 0))}, 2.0 / 3},

		// BinaryAccuracy.
		{"binary_accuracy/keras doc", &BinaryAccuracy{},
			[]metricTestBatch{metricB(metricS(4, 1), binT, metricS(4, 1), binP)}, 0.75},
		{"binary_accuracy/keras doc weighted", &BinaryAccuracy{},
			[]metricTestBatch{metricB(metricS(4, 1), binT, metricS(4, 1), binP, 1, 0, 0, 1)}, 0.5},
		// 0.5 is not > 0.5: predicted [0, 0] against [0, 1].
		{"binary_accuracy/threshold is strict", &BinaryAccuracy{},
			[]metricTestBatch{metricB(metricS(2, 1), metricV(0, 1), metricS(2, 1), metricV(0.5, 0.5))}, 0.5},
		// > 0.7: [0, 1, 0] against [0, 1, 1].
		{"binary_accuracy/threshold 0.7", &BinaryAccuracy{Threshold: 0.7},
			[]metricTestBatch{metricB(metricS(3), metricV(0, 1, 1), metricS(3), metricV(0.6, 0.8, 0.7))}, 2.0 / 3},
		// sample 0 matches 2 of 3 entries, sample 1 none; weights [1, 3].
		{"binary_accuracy/entries per sample weighted", &BinaryAccuracy{},
			[]metricTestBatch{metricB(metricS(2, 3), metricV(1, 0, 1, 0, 0, 0), metricS(2, 3), metricV(0.9, 0.1, 0.2, 0.6, 0.6, 0.6), 1, 3)}, (2.0 / 3) / 4},
		// 3 of 4, then 2 of 2.
		{"binary_accuracy/two batches", &BinaryAccuracy{}, []metricTestBatch{
			metricB(metricS(4, 1), binT, metricS(4, 1), binP),
			metricB(metricS(2, 1), metricV(1, 0), metricS(2, 1), metricV(0.7, 0.2))}, 5.0 / 6},
		{"binary_accuracy/zero weights give 0", &BinaryAccuracy{},
			[]metricTestBatch{metricB(metricS(2, 1), metricV(1, 0), metricS(2, 1), metricV(0.7, 0.2), 0, 0)}, 0},

		// CategoricalAccuracy.
		{"categorical_accuracy/keras doc", &CategoricalAccuracy{},
			[]metricTestBatch{metricB(metricS(2, 3), catT, metricS(2, 3), catP)}, 0.5},
		{"categorical_accuracy/keras doc weighted", &CategoricalAccuracy{},
			[]metricTestBatch{metricB(metricS(2, 3), catT, metricS(2, 3), catP, 0.7, 0.3)}, 0.3},
		// argmax of [0.4, 0.4, 0.2] is 0: matches class 0, not class 1.
		{"categorical_accuracy/ties go to the first", &CategoricalAccuracy{},
			[]metricTestBatch{metricB(metricS(2, 3), metricV(1, 0, 0, 0, 1, 0), metricS(2, 3), metricV(0.4, 0.4, 0.2, 0.4, 0.4, 0.2))}, 0.5},
		// sample 0 rows hit [1, 0] = 1/2, sample 1 [1, 1] = 1; weights [1, 3].
		{"categorical_accuracy/sequence weighted", &CategoricalAccuracy{},
			[]metricTestBatch{metricB(metricS(2, 2, 2), metricV(1, 0, 0, 1, 0, 1, 0, 1), metricS(2, 2, 2), metricV(0.9, 0.1, 0.8, 0.2, 0.3, 0.7, 0.1, 0.9), 1, 3)}, 3.5 / 4},
		{"categorical_accuracy/logits", &CategoricalAccuracy{},
			[]metricTestBatch{metricB(metricS(1, 2), metricV(0, 1), metricS(1, 2), metricV(-3, -1))}, 1},

		// SparseCategoricalAccuracy.
		{"sparse_categorical_accuracy/keras doc", &SparseCategoricalAccuracy{},
			[]metricTestBatch{metricB(metricS(2, 1), metricV(2, 1), metricS(2, 3), metricV(0.1, 0.6, 0.3, 0.05, 0.95, 0))}, 0.5},
		{"sparse_categorical_accuracy/keras doc weighted", &SparseCategoricalAccuracy{},
			[]metricTestBatch{metricB(metricS(2, 1), metricV(2, 1), metricS(2, 3), metricV(0.1, 0.6, 0.3, 0.05, 0.95, 0), 0.7, 0.3)}, 0.3},
		{"sparse_categorical_accuracy/(batch) labels", &SparseCategoricalAccuracy{},
			[]metricTestBatch{metricB(metricS(2), metricV(2, 1), metricS(2, 3), metricV(0.1, 0.6, 0.3, 0.05, 0.95, 0))}, 0.5},
		// argmax 1 is compared as a number: 1.5 never matches.
		{"sparse_categorical_accuracy/non-integer label", &SparseCategoricalAccuracy{},
			[]metricTestBatch{metricB(metricS(1), metricV(1.5), metricS(1, 2), metricV(0.1, 0.9))}, 0},
		// sample 0 rows hit [1, 0], sample 1 [1, 1]: (1/2 + 1) / 2.
		{"sparse_categorical_accuracy/sequence", &SparseCategoricalAccuracy{},
			[]metricTestBatch{metricB(metricS(2, 2), metricV(0, 1, 1, 1), metricS(2, 2, 2), metricV(0.9, 0.1, 0.8, 0.2, 0.3, 0.7, 0.1, 0.9))}, 0.75},
		// 1 of 2, then 1 of 1.
		{"sparse_categorical_accuracy/two batches", &SparseCategoricalAccuracy{}, []metricTestBatch{
			metricB(metricS(2), metricV(2, 1), metricS(2, 3), metricV(0.1, 0.6, 0.3, 0.05, 0.95, 0)),
			metricB(metricS(1), metricV(0), metricS(1, 3), metricV(0.5, 0.2, 0.3))}, 2.0 / 3},

		// TopKCategoricalAccuracy and SparseTopKCategoricalAccuracy.
		{"top_k/keras doc k=1", &TopKCategoricalAccuracy{K: 1},
			[]metricTestBatch{metricB(metricS(2, 3), catT, metricS(2, 3), catP)}, 0.5},
		{"top_k/keras doc k=1 weighted", &TopKCategoricalAccuracy{K: 1},
			[]metricTestBatch{metricB(metricS(2, 3), catT, metricS(2, 3), catP, 0.7, 0.3)}, 0.3},
		{"top_k/default k=5 of 3 classes", &TopKCategoricalAccuracy{},
			[]metricTestBatch{metricB(metricS(2, 3), catT, metricS(2, 3), catP)}, 1},
		// class 2 (0.8) is 2nd: in; class 0 (0.05) is 3rd: out.
		{"top_k/k=2", &TopKCategoricalAccuracy{K: 2},
			[]metricTestBatch{metricB(metricS(2, 3), metricV(0, 0, 1, 1, 0, 0), metricS(2, 3), metricV(0.1, 0.9, 0.8, 0.05, 0.95, 0.5))}, 0.5},
		// class 1 ties the largest: in the top 1, as in TensorFlow's in_top_k.
		{"top_k/ties count as in", &TopKCategoricalAccuracy{K: 1},
			[]metricTestBatch{metricB(metricS(1, 3), metricV(0, 1, 0), metricS(1, 3), metricV(0.5, 0.5, 0))}, 1},
		{"sparse_top_k/keras doc k=1", &SparseTopKCategoricalAccuracy{K: 1},
			[]metricTestBatch{metricB(metricS(2), metricV(2, 1), metricS(2, 3), catP)}, 0.5},
		{"sparse_top_k/keras doc k=1 weighted", &SparseTopKCategoricalAccuracy{K: 1},
			[]metricTestBatch{metricB(metricS(2), metricV(2, 1), metricS(2, 3), catP, 0.7, 0.3)}, 0.3},
		// 1.7 truncates to class 1 (the top); class 3 does not exist.
		{"sparse_top_k/truncation and range", &SparseTopKCategoricalAccuracy{K: 1},
			[]metricTestBatch{metricB(metricS(2, 1), metricV(1.7, 3), metricS(2, 3), metricV(0.1, 0.9, 0.8, 0.1, 0.2, 0.3))}, 0.5},

		// Precision and Recall.
		{"precision/keras doc", &Precision{},
			[]metricTestBatch{metricB(metricS(4), confT, metricS(4), confP)}, 2.0 / 3},
		{"precision/keras doc weighted", &Precision{},
			[]metricTestBatch{metricB(metricS(4), confT, metricS(4), confP, 0, 0, 1, 0)}, 1},
		// tp 1, fp 2.
		{"precision/classes count entrywise", &Precision{},
			[]metricTestBatch{metricB(metricS(2, 3), mcT, metricS(2, 3), mcP)}, 1.0 / 3},
		// weights [2, 1]: tp 2, fp 2 + 1.
		{"precision/classes weighted", &Precision{},
			[]metricTestBatch{metricB(metricS(2, 3), mcT, metricS(2, 3), mcP, 2, 1)}, 2.0 / 5},
		{"precision/nothing predicted positive", &Precision{},
			[]metricTestBatch{metricB(metricS(2), metricV(1, 0), metricS(2), metricV(0.5, 0.5))}, 0},
		// > 0.3: tp (0.4), fp (0.35).
		{"precision/threshold 0.3", &Precision{Threshold: Float(0.3)},
			[]metricTestBatch{metricB(metricS(3), metricV(1, 0, 1), metricS(3), metricV(0.4, 0.35, 0.1))}, 0.5},
		// tp 2 fp 1, then tp 0 fp 1 (2 counts as positive): 2 / 4.
		{"precision/two batches", &Precision{}, []metricTestBatch{
			metricB(metricS(4), confT, metricS(4), confP),
			metricB(metricS(2, 1), metricV(2, 0), metricS(2, 1), metricV(0.2, 0.9))}, 0.5},
		{"recall/keras doc", &Recall{},
			[]metricTestBatch{metricB(metricS(4), confT, metricS(4), confP)}, 2.0 / 3},
		{"recall/keras doc weighted", &Recall{},
			[]metricTestBatch{metricB(metricS(4), confT, metricS(4), confP, 0, 0, 1, 0)}, 1},
		// tp (0,0), fn (1,1).
		{"recall/classes count entrywise", &Recall{},
			[]metricTestBatch{metricB(metricS(2, 3), mcT, metricS(2, 3), mcP)}, 0.5},
		// weights [2, 1]: tp 2, fn 1.
		{"recall/classes weighted", &Recall{},
			[]metricTestBatch{metricB(metricS(2, 3), mcT, metricS(2, 3), mcP, 2, 1)}, 2.0 / 3},
		{"recall/no positives", &Recall{},
			[]metricTestBatch{metricB(metricS(2), metricV(0, 0), metricS(2), metricV(0.9, 0.1))}, 0},
		// tp 2 fn 1, then tp 1 fn 0: 3 / 4.
		{"recall/two batches", &Recall{}, []metricTestBatch{
			metricB(metricS(4), confT, metricS(4), confP),
			metricB(metricS(2, 1), metricV(2, 0), metricS(2, 1), metricV(0.8, 0.9))}, 0.75},

		// Regression.
		{"mse/keras doc", &MeanSquaredError{},
			[]metricTestBatch{metricB(metricS(2, 2), regT, metricS(2, 2), regP)}, 0.25},
		// sample 0: (1 + 0) / 2 with weight 1; sample 1 weight 0.
		{"mse/weighted", &MeanSquaredError{},
			[]metricTestBatch{metricB(metricS(2, 2), regT, metricS(2, 2), regP, 1, 0)}, 0.5},
		// per sample [0.5, 0], then [(4 + 0) / 2]: 2.5 / 3.
		{"mse/two batches", &MeanSquaredError{}, []metricTestBatch{
			metricB(metricS(2, 2), regT, metricS(2, 2), regP),
			metricB(metricS(1, 2), metricV(1, 1), metricS(1, 2), metricV(3, 1))}, 2.5 / 3},
		{"mae/keras doc", &MeanAbsoluteError{},
			[]metricTestBatch{metricB(metricS(2, 2), regT, metricS(2, 2), regP)}, 0.25},
		{"mae/keras doc weighted", &MeanAbsoluteError{},
			[]metricTestBatch{metricB(metricS(2, 2), regT, metricS(2, 2), regP, 1, 0)}, 0.5},
		// per sample (1 + 2) / 2 and (0 + 3) / 2; weights [1, 3].
		{"mae/weighted", &MeanAbsoluteError{},
			[]metricTestBatch{metricB(metricS(2, 2), metricV(1, 2, 3, 4), metricS(2, 2), metricV(2, 0, 3, 1), 1, 3)}, 1.5},
		{"rmse/keras doc", &RootMeanSquaredError{},
			[]metricTestBatch{metricB(metricS(2, 2), regT, metricS(2, 2), regP)}, 0.5},
		{"rmse/keras doc weighted", &RootMeanSquaredError{},
			[]metricTestBatch{metricB(metricS(2, 2), regT, metricS(2, 2), regP, 1, 0)}, math.Sqrt(0.5)},
		{"rmse/two batches", &RootMeanSquaredError{}, []metricTestBatch{
			metricB(metricS(2, 2), regT, metricS(2, 2), regP),
			metricB(metricS(1, 2), metricV(1, 1), metricS(1, 2), metricV(3, 1))}, math.Sqrt(2.5 / 3)},

		// Mean: yPred holds the values.
		{"mean/keras doc", &Mean{},
			[]metricTestBatch{metricB(metricS(4), metricV(0, 0, 0, 0), metricS(4), metricV(1, 3, 5, 7))}, 4},
		{"mean/keras doc weighted", &Mean{},
			[]metricTestBatch{metricB(metricS(4), metricV(0, 0, 0, 0), metricS(4), metricV(1, 3, 5, 7), 1, 1, 0, 0)}, 2},
		// per sample [2, 6], weights [3, 1]: (6 + 6) / 4.
		{"mean/per-sample weighted", &Mean{},
			[]metricTestBatch{metricB(metricS(2, 2), metricV(0, 0, 0, 0), metricS(2, 2), metricV(1, 3, 5, 7), 3, 1)}, 3},

		// AUC.
		{"auc/keras doc", &AUC{NumThresholds: 3},
			[]metricTestBatch{metricB(metricS(4), aucT, metricS(4), aucP)}, 0.75},
		{"auc/keras doc weighted", &AUC{NumThresholds: 3},
			[]metricTestBatch{metricB(metricS(4), aucT, metricS(4), aucP, 1, 0, 0, 1)}, 1},
		// From the Keras doc's counts: fpr [1, 0, 0], tpr [1, 0.5, 0].
		{"auc/roc minoring", &AUC{NumThresholds: 3, SummationMethod: "minoring"},
			[]metricTestBatch{metricB(metricS(4), aucT, metricS(4), aucP)}, 0.5},
		{"auc/roc majoring", &AUC{NumThresholds: 3, SummationMethod: "majoring"},
			[]metricTestBatch{metricB(metricS(4), aucT, metricS(4), aucP)}, 1},
		// recall [1, 0.5, 0], precision [0.5, 1, 0]: 0.5·0.5 + 0.5·0.
		{"auc/pr minoring", &AUC{NumThresholds: 3, Curve: "PR", SummationMethod: "minoring"},
			[]metricTestBatch{metricB(metricS(4), aucT, metricS(4), aucP)}, 0.25},
		{"auc/pr majoring", &AUC{NumThresholds: 3, Curve: "PR", SummationMethod: "majoring"},
			[]metricTestBatch{metricB(metricS(4), aucT, metricS(4), aucP)}, 1},
		// tp [2, 1, 0], p = tp + fp [4, 1, 0], fn [0, 1, 2]. Interval 0:
		// slope 1/3, intercept 2/3, area (1/3)(1 + (2/3)·ln 4) / 2; interval
		// 1: slope 1, intercept 0, area 1 / 2.
		{"auc/pr interpolation", &AUC{NumThresholds: 3, Curve: "PR"},
			[]metricTestBatch{metricB(metricS(4), aucT, metricS(4), aucP)}, (1+2.0/3*math.Log(4))/6 + 0.5},
		// sigmoid gives ≈ [0, 0.5, 0.3, 0.9], the Keras doc's predictions.
		{"auc/from logits", &AUC{NumThresholds: 3, FromLogits: true},
			[]metricTestBatch{metricB(metricS(4), aucT, metricS(4), metricV(-10, 0, math.Log(0.3/0.7), math.Log(9)))}, 0.75},
		// 200 thresholds, every prediction in its own bucket: the exact AUC,
		// the fraction of (positive, negative) pairs ranked right: 7 of 9.
		{"auc/200 thresholds exact", &AUC{}, []metricTestBatch{
			metricB(metricS(6), metricV(0, 0, 1, 1, 0, 1), metricS(6), metricV(0.1, 0.4, 0.35, 0.8, 0.7, 0.95))}, 7.0 / 9},
		{"auc/200 thresholds two batches", &AUC{}, []metricTestBatch{
			metricB(metricS(2), metricV(0, 0), metricS(2), metricV(0.1, 0.4)),
			metricB(metricS(4, 1), metricV(1, 1, 0, 1), metricS(4, 1), metricV(0.35, 0.8, 0.7, 0.95))}, 7.0 / 9},
	}
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		for i, c := range cases {
			got := metricTestRun(t, c.m, dt, c.batches)
			if !metricTestClose(dt, got, c.want) {
				t.Errorf("%d %s (%v): got %.10g, want %.10g", i, c.name, dt, got, c.want)
			}
		}
	}
}

// TestMetricAccuracyCastsLabels checks that yTrue is rounded to yPred's
// dtype before comparing, as Keras casts it: float64 0.1 equals float32 0.1.
func TestMetricAccuracyCastsLabels(t *testing.T) {
	m := &Accuracy{}
	yTrue := tensor.New(tensor.WithShape(2, 1), tensor.WithBacking([]float64{0.1, 0.3}))
	yPred := tensor.New(tensor.WithShape(2, 1), tensor.WithBacking([]float32{0.1, 0.2}))
	if err := m.Update(yTrue, yPred, nil); err != nil {
		t.Fatalf("Update: %+v", err)
	}
	if got := m.Result(); got != 0.5 {
		t.Errorf("got %v, want 0.5", got)
	}
}

// TestMetricIntegerLabels feeds class indices as int and int64 tensors.
func TestMetricIntegerLabels(t *testing.T) {
	yPred := metricTestDense(tensor.Float32, metricS(2, 3), metricV(0.1, 0.6, 0.3, 0.05, 0.95, 0))
	for _, yTrue := range []*tensor.Dense{
		tensor.New(tensor.WithShape(2), tensor.WithBacking([]int{2, 1})),
		tensor.New(tensor.WithShape(2, 1), tensor.WithBacking([]int64{2, 1})),
		tensor.New(tensor.WithShape(2), tensor.WithBacking([]int32{2, 1})),
	} {
		m := &SparseCategoricalAccuracy{}
		if err := m.Update(yTrue, yPred, nil); err != nil {
			t.Fatalf("%v: Update: %+v", yTrue.Dtype(), err)
		}
		if got := m.Result(); got != 0.5 { // Keras doc value
			t.Errorf("%v: got %v, want 0.5", yTrue.Dtype(), got)
		}
	}
}

// TestMetricViews feeds a non-contiguous view (columns 1..2 of a 2×4
// tensor), which must be read in its own row-major order.
func TestMetricViews(t *testing.T) {
	full := metricTestDense(tensor.Float64, metricS(2, 4), metricV(9, 1, 1, 9, 9, 0, 0, 9))
	v, err := full.Slice(nil, tensor.S(1, 3))
	if err != nil {
		t.Fatal(err)
	}
	yPred := v.(*tensor.Dense)
	yTrue := metricTestDense(tensor.Float64, metricS(2, 2), metricV(0, 1, 0, 0))
	m := &MeanSquaredError{}
	if err := m.Update(yTrue, yPred, nil); err != nil {
		t.Fatalf("Update: %+v", err)
	}
	// Keras doc values again: yPred [[1, 1], [0, 0]] gives 0.25.
	if got := m.Result(); got != 0.25 {
		t.Errorf("got %v, want 0.25", got)
	}
}

func TestMetricMeanAddAndScalar(t *testing.T) {
	m := &Mean{LogName: "loss"}
	m.Add(2, 32) // a batch of 32 with mean loss 2
	m.Add(4, 16)
	if got, want := m.Result(), (2*32+4*16)/48.0; got != want {
		t.Errorf("Add: got %v, want %v", got, want)
	}
	m.Reset()
	if err := m.Update(nil, tensor.New(tensor.FromScalar(2.5)), nil); err != nil {
		t.Fatalf("Update scalar: %+v", err)
	}
	if err := m.Update(nil, tensor.New(tensor.FromScalar(float32(4.5))), []float64{3}); err != nil {
		t.Fatalf("Update weighted scalar: %+v", err)
	}
	if got, want := m.Result(), (2.5+3*4.5)/4; got != want {
		t.Errorf("scalars: got %v, want %v", got, want)
	}
	if m.Name() != "loss" {
		t.Errorf("Name: got %q, want %q", m.Name(), "loss")
	}
}

func TestMetricErrors(t *testing.T) {
	f := func(shape []int) *tensor.Dense {
		return metricTestDense(tensor.Float32, shape, make([]float64, tensor.Shape(shape).TotalSize()))
	}
	boolT := tensor.New(tensor.WithShape(2, 1), tensor.WithBacking([]bool{true, false}))
	cases := []struct {
		name         string
		m            Metric
		yTrue, yPred *tensor.Dense
		w            []float64
		want         []string // substrings of the message
	}{
		{"categorical shapes", &CategoricalAccuracy{}, f(metricS(2, 3)), f(metricS(2, 2)), nil, []string{"(2, 3)", "(2, 2)"}},
		{"binary batch", &BinaryAccuracy{}, f(metricS(3, 1)), f(metricS(2, 1)), nil, []string{"(3, 1)", "(2, 1)"}},
		{"mse entries", &MeanSquaredError{}, f(metricS(2, 3)), f(metricS(2, 2)), nil, []string{"(2, 3)", "(2, 2)"}},
		{"precision one-hot vs indices", &Precision{}, f(metricS(2)), f(metricS(2, 3)), nil, []string{"(2)", "(2, 3)"}},
		{"sparse labels", &SparseCategoricalAccuracy{}, f(metricS(3)), f(metricS(2, 3)), nil, []string{"(3)", "(2, 3)"}},
		{"sparse one-hot labels", &SparseTopKCategoricalAccuracy{}, f(metricS(2, 3)), f(metricS(2, 3)), nil, []string{"(2, 3)", "class indices"}},
		{"sparse without classes", &SparseCategoricalAccuracy{}, f(metricS(2)), f(metricS(2)), nil, []string{"(2)", "classes"}},
		{"weights length", &Accuracy{}, f(metricS(2, 1)), f(metricS(2, 1)), []float64{1, 2, 3}, []string{"3 sample weights", "batch of 2"}},
		{"mean weights length", &Mean{}, nil, f(metricS(2)), []float64{1}, []string{"1 sample weights", "batch of 2"}},
		{"nil yTrue", &Recall{}, nil, f(metricS(2)), nil, []string{"nil"}},
		{"nil yPred", &Mean{}, nil, nil, nil, []string{"yPred is nil"}},
		{"scalar yPred", &AUC{}, f(metricS(2)), tensor.New(tensor.FromScalar(float32(1))), nil, []string{"batch axis"}},
		{"bool dtype", &BinaryAccuracy{}, boolT, f(metricS(2, 1)), nil, []string{"yTrue", "bool"}},
		{"binary threshold", &BinaryAccuracy{Threshold: 1.5}, f(metricS(2, 1)), f(metricS(2, 1)), nil, []string{"1.5"}},
		{"precision threshold", &Precision{Threshold: Float(-0.1)}, f(metricS(2, 1)), f(metricS(2, 1)), nil, []string{"-0.1"}},
		{"top k", &TopKCategoricalAccuracy{K: -1}, f(metricS(2, 3)), f(metricS(2, 3)), nil, []string{"-1"}},
		{"auc thresholds", &AUC{NumThresholds: 1}, f(metricS(2)), f(metricS(2)), nil, []string{"NumThresholds is 1"}},
		{"auc curve", &AUC{Curve: "XY"}, f(metricS(2)), f(metricS(2)), nil, []string{`"XY"`}},
		{"auc summation", &AUC{SummationMethod: "simpson"}, f(metricS(2)), f(metricS(2)), nil, []string{`"simpson"`}},
	}
	for i, c := range cases {
		err := c.m.Update(c.yTrue, c.yPred, c.w)
		if err == nil {
			t.Errorf("%d %s: got no error", i, c.name)
			continue
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, "training: ") {
			t.Errorf("%d %s: message %q lacks the package prefix", i, c.name, msg)
		}
		for _, s := range c.want {
			if !strings.Contains(msg, s) {
				t.Errorf("%d %s: message %q does not contain %q", i, c.name, msg, s)
			}
		}
		if got := c.m.Result(); got != 0 {
			t.Errorf("%d %s: a failed Update changed Result to %v", i, c.name, got)
		}
	}
}

// TestMetricEmptyAndReset checks every metric NewMetric makes: 0 before any
// Update, a value after one, 0 after Reset, and the same value again after
// the same Update.
func TestMetricEmptyAndReset(t *testing.T) {
	for _, name := range MetricNames() {
		m, err := NewMetric(name)
		if err != nil {
			t.Fatalf("NewMetric(%q): %+v", name, err)
		}
		if got := m.Result(); got != 0 {
			t.Errorf("%s: empty Result %v, want 0", name, got)
		}
		// yTrue suits both one-hot (same shape) and the sparse metrics.
		yPred := metricTestDense(tensor.Float64, metricS(2, 3), metricV(0.1, 0.6, 0.3, 0.7, 0.2, 0)) // the last entry matches exactly
		yTrue := metricTestDense(tensor.Float64, metricS(2, 3), metricV(0, 1, 0, 0, 1, 0))
		if strings.Contains(strings.ToLower(name), "sparse") {
			yTrue = metricTestDense(tensor.Float64, metricS(2), metricV(1, 1))
		}
		if err := m.Update(yTrue, yPred, []float64{1, 2}); err != nil {
			t.Fatalf("%s: Update: %+v", name, err)
		}
		first := m.Result()
		if first == 0 || math.IsNaN(first) {
			t.Errorf("%s: Result after Update %v; want a non-zero number", name, first)
		}
		m.Reset()
		if got := m.Result(); got != 0 {
			t.Errorf("%s: Result after Reset %v, want 0", name, got)
		}
		if err := m.Update(yTrue, yPred, []float64{1, 2}); err != nil {
			t.Fatalf("%s: Update after Reset: %+v", name, err)
		}
		if got := m.Result(); got != first {
			t.Errorf("%s: Result after Reset and Update %v, want %v", name, got, first)
		}
	}
}

func TestNewMetric(t *testing.T) {
	cases := []struct {
		name string
		want Metric
	}{
		{"accuracy", &Accuracy{}},
		{"acc", &Accuracy{}},
		{"Accuracy", &Accuracy{}},
		{"binary_accuracy", &BinaryAccuracy{}},
		{"BinaryAccuracy", &BinaryAccuracy{}},
		{"categorical_accuracy", &CategoricalAccuracy{}},
		{"sparse_categorical_accuracy", &SparseCategoricalAccuracy{}},
		{"top_k_categorical_accuracy", &TopKCategoricalAccuracy{}},
		{"sparse_top_k_categorical_accuracy", &SparseTopKCategoricalAccuracy{}},
		{"precision", &Precision{}},
		{"recall", &Recall{}},
		{"auc", &AUC{}},
		{"AUC", &AUC{}},
		{"mse", &MeanSquaredError{}},
		{"MSE", &MeanSquaredError{}},
		{"mean_squared_error", &MeanSquaredError{}},
		{"mae", &MeanAbsoluteError{}},
		{"mean_absolute_error", &MeanAbsoluteError{}},
		{"rmse", &RootMeanSquaredError{}},
		{"root_mean_squared_error", &RootMeanSquaredError{}},
		{"RootMeanSquaredError", &RootMeanSquaredError{}},
		{"mean", &Mean{}},
		// Other spellings of known names.
		{"rootmeansquarederror", &RootMeanSquaredError{}},
		{"Binary_Accuracy", &BinaryAccuracy{}},
		{"Mse", &MeanSquaredError{}},
	}
	for i, c := range cases {
		m, err := NewMetric(c.name)
		if err != nil {
			t.Errorf("%d NewMetric(%q): %+v", i, c.name, err)
			continue
		}
		if reflect.TypeOf(m) != reflect.TypeOf(c.want) {
			t.Errorf("%d NewMetric(%q): got %T, want %T", i, c.name, m, c.want)
		}
		if m.Name() != c.name {
			t.Errorf("%d NewMetric(%q).Name() = %q, want the name given", i, c.name, m.Name())
		}
	}

	_, err := NewMetric("accuarcy")
	if err == nil {
		t.Fatal(`NewMetric("accuarcy"): got no error`)
	}
	for _, s := range []string{`"accuarcy"`, "binary_accuracy", "rmse", "precision"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("unknown-name error %q does not contain %q", err, s)
		}
	}

	m, err := NewMetricNamed("binary_accuracy", "accuracy")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := m.(*BinaryAccuracy); !ok || m.Name() != "accuracy" {
		t.Errorf(`NewMetricNamed("binary_accuracy", "accuracy"): got %T named %q`, m, m.Name())
	}
	m, err = NewMetricNamed("mae", "")
	if err != nil {
		t.Fatal(err)
	}
	if m.Name() != "mean_absolute_error" {
		t.Errorf(`NewMetricNamed("mae", "").Name() = %q, want "mean_absolute_error"`, m.Name())
	}
}

func TestMetricResolveAccuracy(t *testing.T) {
	cases := []struct {
		loss  string
		shape []int
		want  string
	}{
		{"binary_crossentropy", metricS(1), "binary_accuracy"},
		{"sparse_categorical_crossentropy", metricS(10), "sparse_categorical_accuracy"},
		{"SparseCategoricalCrossentropy", metricS(10), "sparse_categorical_accuracy"},
		{"categorical_crossentropy", metricS(10), "categorical_accuracy"},
		{"categorical_crossentropy", metricS(7, 10), "categorical_accuracy"},
		{"sparse_categorical_crossentropy", metricS(7, 10), "sparse_categorical_accuracy"},
		// Keras tests for a last dimension of 1 first.
		{"sparse_categorical_crossentropy", metricS(1), "binary_accuracy"},
		// Multi-label: Keras picks categorical accuracy.
		{"binary_crossentropy", metricS(5), "categorical_accuracy"},
		{"mse", metricS(), "binary_accuracy"},
	}
	for i, c := range cases {
		if got := ResolveAccuracy(c.loss, c.shape); got != c.want {
			t.Errorf("%d ResolveAccuracy(%q, %v) = %q, want %q", i, c.loss, c.shape, got, c.want)
		}
	}
}
