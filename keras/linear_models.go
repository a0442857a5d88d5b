package keras

import (
	"math"

	"github.com/keragon/keragon/ops"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Helpers shared by the linear classifiers (NewPerceptron, NewLinearSVM),
// and usable with any model whose one output holds decision scores: one
// score per sample for two classes (positive means class 1), or one score
// per class.

// linearLoss adapts an ops loss to lossKinds.
func linearLoss(f ops.LossFunc) func(Loss) func(a, b *gorgonia.Node) (*gorgonia.Node, error) {
	return func(Loss) func(a, b *gorgonia.Node) (*gorgonia.Node, error) { return f }
}

// linearModel checks the common configuration and builds the model
// Input(features) → dense, with the weights starting at zero (as
// scikit-learn's), seeded for shuffling.
func linearModel(who string, features, classes int, dtype string, seed uint64, dense *Dense) (*Model, error) {
	switch {
	case features <= 0:
		return nil, errors.Errorf("keras: %s needs a positive Features, got %d", who, features)
	case classes < 2:
		return nil, errors.Errorf("keras: %s needs Classes >= 2, got %d", who, classes)
	case dtype != "" && dtype != "float32" && dtype != "float64":
		return nil, errors.Errorf("keras: %s: Dtype must be \"float32\" or \"float64\", got %q", who, dtype)
	}
	dense.Units = scoreColumns(classes)
	dense.KernelInitializer, dense.BiasInitializer = "zeros", "zeros"
	m := NewSequential(&Input{Shape: []int{features}, Dtype: dtype}, dense)
	if err := m.Err(); err != nil {
		return nil, errors.WithMessage(err, who)
	}
	m.SetSeed(seed)
	return m, nil
}

// scoreColumns is the number of decision scores for a number of classes:
// one for two classes, one per class otherwise.
func scoreColumns(classes int) int {
	if classes == 2 {
		return 1
	}
	return classes
}

// linearLossName picks the binary or the one-vs-rest (sparse) form.
func linearLossName(base string, classes int) string {
	if classes == 2 {
		return base
	}
	return "sparse_" + base
}

// DecisionFunction returns the decision scores of a classifier whose output
// holds them (NewPerceptron, NewLinearSVM), as scikit-learn's
// decision_function: shape (n) for a binary classifier (positive means
// class 1) and (n, classes) otherwise.
func DecisionFunction(m *Model, x *tensor.Dense, cfg ...EvalConfig) (*tensor.Dense, error) {
	s, err := m.Predict(x, cfg...)
	if err != nil {
		return nil, err
	}
	if s.Dims() != 2 {
		return nil, errors.Errorf("keras: DecisionFunction needs a model with one score per class (output (n, classes)) or one score (n, 1), got output shape %v", s.Shape())
	}
	if s.Shape()[1] == 1 {
		return reshaped(s, []int{s.Shape()[0]}), nil
	}
	return s, nil
}

// PredictClasses returns the class of every sample of x from the decision
// scores of m (as scikit-learn's predict): for a binary classifier, 1 where
// the score is positive and 0 elsewhere (0 stands for −1 when the labels
// are {−1, 1}); otherwise the index of the largest score (the first on a
// tie).
func PredictClasses(m *Model, x *tensor.Dense, cfg ...EvalConfig) ([]int, error) {
	s, err := DecisionFunction(m, x, cfg...)
	if err != nil {
		return nil, err
	}
	n := s.Shape()[0]
	scores := floatsOf(s)
	classes := make([]int, n)
	if s.Dims() == 1 {
		for i, v := range scores {
			if v > 0 {
				classes[i] = 1
			}
		}
		return classes, nil
	}
	k := s.Shape()[1]
	for i := range classes {
		row := scores[i*k : (i+1)*k]
		for j, v := range row {
			if v > row[classes[i]] {
				classes[i] = j
			}
		}
	}
	return classes, nil
}

// ClassAccuracy is the fraction of samples of x whose class PredictClasses
// gives right, as scikit-learn's score. Labels y hold, for a binary
// classifier, 1 for the positive class and 0 or −1 for the negative one;
// otherwise class indices. A label of neither kind is an error.
func ClassAccuracy(m *Model, x, y *tensor.Dense, cfg ...EvalConfig) (float64, error) {
	pred, err := PredictClasses(m, x, cfg...)
	if err != nil {
		return math.NaN(), err
	}
	if y == nil || y.Shape().TotalSize() != len(pred) {
		var shape tensor.Shape
		if y != nil {
			shape = y.Shape()
		}
		return math.NaN(), errors.Errorf("keras: ClassAccuracy: labels of shape %v for %d samples", shape, len(pred))
	}
	binary := m.outputs[0].shape[0] == 1
	right := 0
	for i, v := range floatsOf(y) {
		want, ok := classOfLabel(v, binary, m.outputs[0].shape[0])
		if !ok {
			if binary {
				return math.NaN(), errors.Errorf("keras: ClassAccuracy: label %v at sample %d is not binary (1, or 0 or -1)", v, i)
			}
			return math.NaN(), errors.Errorf("keras: ClassAccuracy: label %v at sample %d is not a class index in [0, %d)", v, i, m.outputs[0].shape[0])
		}
		if pred[i] == want {
			right++
		}
	}
	return float64(right) / float64(len(pred)), nil
}

// classOfLabel maps a label to the class PredictClasses would give.
func classOfLabel(v float64, binary bool, classes int) (int, bool) {
	if binary {
		switch v {
		case 1:
			return 1, true
		case 0, -1:
			return 0, true
		}
		return 0, false
	}
	if v != math.Trunc(v) || v < 0 || v >= float64(classes) {
		return 0, false
	}
	return int(v), true
}
