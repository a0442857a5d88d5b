package keras

import (
	"encoding/json"
	"os"
	"testing"

	"gorgonia.org/tensor"
)

// sklearnLinearCase is one model of testdata/sklearn_linear.json, written
// by testdata/sklearn_linear.py with scikit-learn.
type sklearnLinearCase struct {
	Name         string    `json:"name"`
	Model        string    `json:"model"`
	X            []float64 `json:"x"`
	Features     int       `json:"features"`
	Y            []float64 `json:"y"`
	Classes      int       `json:"classes"`
	Eta0         float64   `json:"eta0"`
	FitIntercept bool      `json:"fit_intercept"`
	Epochs       int       `json:"epochs"`
	Loss         string    `json:"loss"`
	C            float64   `json:"C"`
	Coef         []float64 `json:"coef"` // (scores, features): the transpose of the kernel
	Intercept    []float64 `json:"intercept"`
	Decision     []float64 `json:"decision"`
	Score        float64   `json:"score"`
}

func loadSklearnLinear(t *testing.T) []sklearnLinearCase {
	t.Helper()
	data, err := os.ReadFile("testdata/sklearn_linear.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Cases []sklearnLinearCase `json:"cases"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	return f.Cases
}

// transposed turns scikit-learn's coef_ (scores, features) into Keras'
// kernel layout (features, scores).
func transposed(coef []float64, features int) []float64 {
	scores := len(coef) / features
	out := make([]float64, len(coef))
	for k := range scores {
		for j := range features {
			out[j*scores+k] = coef[k*features+j]
		}
	}
	return out
}

// TestLinearModelsAgainstSklearn compares the weights, decision values
// and accuracy with scikit-learn's. Perceptron(shuffle=False, tol=None) is
// reproduced exactly by Fit with BatchSize 1 and NoShuffle. LinearSVC
// penalises its intercept, so the SVM has PenalizeIntercept; it is trained
// full-batch towards the optimum LinearSVC solves for exactly.
func TestLinearModelsAgainstSklearn(t *testing.T) {
	for _, c := range loadSklearnLinear(t) {
		n := len(c.Y)
		x, y := denseOf(tensor.Float64, c.X, n, c.Features), denseOf(tensor.Float64, c.Y, n)
		var m *Model
		var err error
		tol := 1e-12
		switch c.Model {
		case "perceptron":
			m, err = NewPerceptron(PerceptronConfig{Features: c.Features, Classes: c.Classes, LearningRate: c.Eta0,
				NoIntercept: !c.FitIntercept, Dtype: "float64"})
			if err == nil {
				_, err = m.Fit(x, y, FitConfig{Epochs: c.Epochs, BatchSize: 1, NoShuffle: true})
			}
		case "svm":
			m, err = NewLinearSVM(SVMConfig{Features: c.Features, Classes: c.Classes, C: c.C, Samples: n, Loss: c.Loss,
				PenalizeIntercept: true, Dtype: "float64", Optimizer: convergingAdam()})
			if err == nil {
				_, err = m.Fit(x, y, FitConfig{Epochs: 4000, BatchSize: n})
			}
			// The squared hinge is smooth and Adam lands on its optimum; the
			// hinge's kinks leave it within a few 1e-4.
			tol = 1e-6
			if c.Loss == "hinge" {
				tol = 2e-3
			}
		}
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		ws := m.Weights()
		if err := closeTo(floatsOf(ws[0].Value), transposed(c.Coef, c.Features), tol, 0); err != nil {
			t.Errorf("%s: kernel: %v", c.Name, err)
		}
		if len(c.Intercept) > 0 {
			if err := closeTo(floatsOf(ws[1].Value), c.Intercept, tol, 0); err != nil {
				t.Errorf("%s: intercept: %v", c.Name, err)
			}
		} else if len(ws) != 1 {
			t.Errorf("%s: %d weights, want no intercept", c.Name, len(ws))
		}
		s, err := DecisionFunction(m, x)
		if err != nil {
			t.Fatal(err)
		}
		if err := closeTo(floatsOf(s), c.Decision, 5*tol, 0); err != nil {
			t.Errorf("%s: decision function: %v", c.Name, err)
		}
		if acc, err := ClassAccuracy(m, x, y); err != nil || acc != c.Score {
			t.Errorf("%s: accuracy %v (error %v), scikit-learn's %v", c.Name, acc, err, c.Score)
		}
	}
}
