package training

import (
	"sort"
	"strings"
	"sync"

	"github.com/pkg/errors"
)

// Metrics follow Keras 3 (keras/src/metrics):
//
//   - yPred is the model output, (batch, ...); yTrue has the same shape, or,
//     for the sparse metrics, the shape of yPred without its last axis
//     (class indices), optionally with a trailing axis of 1. As in Keras, a
//     trailing axis of 1 on either side is squeezed, so (batch) and
//     (batch, 1) match.
//   - Element-wise metrics reduce each sample to the mean over its entries;
//     the result is the mean of those per-sample values, weighted by
//     sampleWeight when given (Keras' weighted-metric semantics:
//     Σ wᵢ·vᵢ / Σ wᵢ over every sample since Reset).
//   - The result of an empty metric, or of one whose weights sum to zero, is
//     0, as Keras' divide_no_nan gives: never NaN.
//
// Keragon differs from Keras in one corner: a (batch) output compared with
// (batch) labels counts per sample, as (batch, 1) does; Keras reduces such
// a batch to one value and counts it as a single sample.

var (
	metricsMu sync.RWMutex
	// metricMakers maps each name NewMetric accepts (Keras' class names,
	// their snake_case forms and the aliases) to a constructor taking the
	// log name.
	metricMakers = map[string]func(logName string) Metric{}
)

// RegisterMetric makes a custom metric known to NewMetric, and so to
// keras.CompileConfig's Metrics and to keras.Load, which compiles a saved
// model's metrics by name again. newMetric returns a fresh metric whose
// Name is logName (or, when logName is "", its own default name). As
// keras.Register and RegisterSchedule, it returns an error for a name
// already registered; since NewMetric also matches names without regard to
// case and underscores, a name that only differs from a registered one in
// those ("Mean_Squared_Error") is a duplicate too.
func RegisterMetric(name string, newMetric func(logName string) Metric) error {
	if name == "" || newMetric == nil {
		return errors.Errorf("training: RegisterMetric(%q) needs a name and a constructor", name)
	}
	metricsMu.Lock()
	defer metricsMu.Unlock()
	key := metricNormalize(name)
	for n := range metricMakers {
		if metricNormalize(n) == key {
			return errors.Errorf("training: metric %q is already registered (as %q)", name, n)
		}
	}
	metricMakers[name] = newMetric
	return nil
}

func init() {
	add := func(f func(string) Metric, names ...string) {
		for _, n := range names {
			metricMakers[n] = f
		}
	}
	add(func(n string) Metric { return &Accuracy{LogName: n} },
		"accuracy", "acc", "Accuracy")
	add(func(n string) Metric { return &BinaryAccuracy{LogName: n} },
		"binary_accuracy", "BinaryAccuracy")
	add(func(n string) Metric { return &CategoricalAccuracy{LogName: n} },
		"categorical_accuracy", "CategoricalAccuracy")
	add(func(n string) Metric { return &SparseCategoricalAccuracy{LogName: n} },
		"sparse_categorical_accuracy", "SparseCategoricalAccuracy")
	add(func(n string) Metric { return &TopKCategoricalAccuracy{LogName: n} },
		"top_k_categorical_accuracy", "TopKCategoricalAccuracy")
	add(func(n string) Metric { return &SparseTopKCategoricalAccuracy{LogName: n} },
		"sparse_top_k_categorical_accuracy", "SparseTopKCategoricalAccuracy")
	add(func(n string) Metric { return &Precision{LogName: n} },
		"precision", "Precision")
	add(func(n string) Metric { return &Recall{LogName: n} },
		"recall", "Recall")
	add(func(n string) Metric { return &AUC{LogName: n} },
		"auc", "AUC")
	add(func(n string) Metric { return &MeanSquaredError{LogName: n} },
		"mean_squared_error", "mse", "MSE", "MeanSquaredError")
	add(func(n string) Metric { return &MeanAbsoluteError{LogName: n} },
		"mean_absolute_error", "mae", "MAE", "MeanAbsoluteError")
	add(func(n string) Metric { return &RootMeanSquaredError{LogName: n} },
		"root_mean_squared_error", "rmse", "RMSE", "RootMeanSquaredError")
	add(func(n string) Metric { return &Mean{LogName: n} },
		"mean", "Mean")
}

// MetricNames lists, sorted, every name NewMetric accepts.
func MetricNames() []string {
	metricsMu.RLock()
	defer metricsMu.RUnlock()
	names := make([]string, 0, len(metricMakers))
	for n := range metricMakers {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// NewMetric returns a fresh metric for a Keras metric name or alias, such as
// "binary_accuracy", "precision", "mse" or "RootMeanSquaredError" (case and
// underscores aside: "rootmeansquarederror" works too). Its Name is the name
// given, as in Keras' logs.
//
// "accuracy" (and "acc") give the exact-match Accuracy metric, as
// keras.metrics.get does. Keras' compile instead turns a plain "accuracy"
// into binary, categorical or sparse categorical accuracy; ResolveAccuracy
// makes that choice, and NewMetricNamed keeps the name "accuracy" in logs.
func NewMetric(name string) (Metric, error) {
	return NewMetricNamed(name, name)
}

// NewMetricNamed is NewMetric with the name the metric reports in logs, e.g.
// NewMetricNamed(ResolveAccuracy(loss, shape), "accuracy"). An empty
// logName means the metric's Keras default name.
func NewMetricNamed(name, logName string) (Metric, error) {
	metricsMu.RLock()
	mk, ok := metricMakers[name]
	if !ok {
		// Also accept other spellings of a known name: "RMSE",
		// "rootmeansquarederror", "Binary_Accuracy".
		key := metricNormalize(name)
		for n, f := range metricMakers {
			if metricNormalize(n) == key {
				mk, ok = f, true
				break
			}
		}
	}
	metricsMu.RUnlock()
	if !ok {
		return nil, errors.Errorf("training: unknown metric %q; known metrics: %s",
			name, strings.Join(MetricNames(), ", "))
	}
	return mk(logName), nil
}

// ResolveAccuracy returns the metric name Keras 3's compile picks for
// metrics=["accuracy"] (keras/src/trainers/compile_utils.py, get_metric):
// "binary_accuracy" when the output's last dimension is 1,
// "sparse_categorical_accuracy" when the labels are class indices (here:
// the loss is a sparse one, such as "sparse_categorical_crossentropy"), and
// "categorical_accuracy" otherwise (also for multi-label outputs trained
// with binary cross-entropy, as in Keras).
//
// outputShape is the shape of one sample's output, without the batch axis
// (as keras.Input's Shape); only its last dimension matters. An empty shape
// (one scalar per sample) gives "binary_accuracy".
func ResolveAccuracy(lossName string, outputShape []int) string {
	if len(outputShape) == 0 || outputShape[len(outputShape)-1] == 1 {
		return "binary_accuracy"
	}
	if metricSparseLoss(lossName) {
		return "sparse_categorical_accuracy"
	}
	return "categorical_accuracy"
}

// metricNormalize lower-cases a name and drops its underscores.
func metricNormalize(name string) string {
	return strings.ToLower(strings.ReplaceAll(name, "_", ""))
}

// metricSparseLoss reports whether a Keras loss name takes class indices as
// labels ("sparse_categorical_crossentropy", "SparseCategoricalCrossentropy").
func metricSparseLoss(lossName string) bool {
	return strings.HasPrefix(metricNormalize(lossName), "sparse")
}
