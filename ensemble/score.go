package ensemble

import (
	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// Accuracy returns the fraction of predictions equal to the labels, as
// scikit-learn's accuracy_score. Both are (n) or (n, 1) tensors of class
// indices.
func Accuracy(yTrue, yPred *tensor.Dense) (float64, error) {
	a, b, err := pair(yTrue, yPred)
	if err != nil {
		return 0, err
	}
	return accuracy(a, b), nil
}

// R2 returns the coefficient of determination 1 − Σ(y−ŷ)²/Σ(y−ȳ)², as
// scikit-learn's r2_score: 1 for perfect predictions, 0 for predicting the
// mean, negative for worse. Constant targets give 1 if predicted exactly
// and 0 otherwise, as scikit-learn.
func R2(yTrue, yPred *tensor.Dense) (float64, error) {
	a, b, err := pair(yTrue, yPred)
	if err != nil {
		return 0, err
	}
	return r2(a, b), nil
}

func pair(yTrue, yPred *tensor.Dense) ([]float64, []float64, error) {
	if yTrue == nil || yPred == nil {
		return nil, nil, errors.Wrap(ErrInput, "ensemble: a score of nil labels")
	}
	a, err := labelVector(yTrue, yTrue.Shape()[0])
	if err != nil {
		return nil, nil, err
	}
	b, err := labelVector(yPred, len(a))
	if err != nil {
		return nil, nil, errors.WithMessage(err, "ensemble: predictions")
	}
	if len(a) == 0 {
		return nil, nil, errors.Wrap(ErrInput, "ensemble: a score of no samples")
	}
	return a, b, nil
}

func accuracy(yTrue, yPred []float64) float64 {
	right := 0
	for i := range yTrue {
		if yTrue[i] == yPred[i] {
			right++
		}
	}
	return float64(right) / float64(len(yTrue))
}

func r2(yTrue, yPred []float64) float64 {
	mean := 0.0
	for _, v := range yTrue {
		mean += v
	}
	mean /= float64(len(yTrue))
	var res, tot float64
	for i, v := range yTrue {
		res += (v - yPred[i]) * (v - yPred[i])
		tot += (v - mean) * (v - mean)
	}
	if tot == 0 {
		if res == 0 {
			return 1
		}
		return 0
	}
	return 1 - res/tot
}

// score is accuracy or R² of predictions of x against y.
func score(l Learner, x, y *tensor.Dense, regression bool) (float64, error) {
	p, err := l.Predict(x)
	if err != nil {
		return 0, err
	}
	if regression {
		return R2(y, p)
	}
	return Accuracy(y, p)
}
