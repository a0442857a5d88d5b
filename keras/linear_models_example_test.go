package keras_test

import (
	"fmt"

	"github.com/keragon/keragon/keras"
	"gorgonia.org/tensor"
)

// Rosenblatt's perceptron learns logical AND: with BatchSize 1 Fit makes
// the textbook update w += y·x, b += y on every misclassified sample, and
// ends where scikit-learn's Perceptron(shuffle=False, max_iter=10, tol=None)
// does.
func ExampleNewPerceptron() {
	x := tensor.New(tensor.WithShape(4, 2), tensor.WithBacking([]float32{0, 0, 0, 1, 1, 0, 1, 1}))
	y := tensor.New(tensor.WithShape(4), tensor.WithBacking([]float32{0, 0, 0, 1}))
	model, err := keras.NewPerceptron(keras.PerceptronConfig{Features: 2, Classes: 2})
	if err != nil {
		fmt.Println(err)
		return
	}
	if _, err := model.Fit(x, y, keras.FitConfig{Epochs: 10, BatchSize: 1, NoShuffle: true}); err != nil {
		fmt.Println(err)
		return
	}
	classes, _ := keras.PredictClasses(model, x)
	acc, _ := keras.ClassAccuracy(model, x, y)
	w := model.Weights()
	fmt.Println("classes:", classes, "accuracy:", acc)
	fmt.Println("w:", w[0].Value.Data(), "b:", w[1].Value.Data())
	// Output:
	// classes: [0 0 0 1] accuracy: 1
	// w: [3 2] b: [-4]
}

// A linear SVM with the hinge loss finds the maximum-margin line between
// x₁ = 1 and x₁ = 3: w = (1, 0), b = −2, every point on the margin.
func ExampleNewLinearSVM() {
	x := tensor.New(tensor.WithShape(4, 2), tensor.WithBacking([]float64{3, 1, 3, -1, 1, 1, 1, -1}))
	y := tensor.New(tensor.WithShape(4), tensor.WithBacking([]float64{1, 1, -1, -1}))
	model, err := keras.NewLinearSVM(keras.SVMConfig{Features: 2, Classes: 2, C: 1, Samples: 4,
		Loss: "hinge", Dtype: "float64"})
	if err != nil {
		fmt.Println(err)
		return
	}
	if _, err := model.Fit(x, y, keras.FitConfig{Epochs: 2000, BatchSize: 4}); err != nil {
		fmt.Println(err)
		return
	}
	scores, _ := keras.DecisionFunction(model, x)
	w := model.Weights()
	fmt.Printf("w: %.1f b: %.1f\n", w[0].Value.Data(), w[1].Value.Data())
	fmt.Printf("decision: %.1f\n", scores.Data())
	// Output:
	// w: [1.0 0.0] b: [-2.0]
	// decision: [1.0 1.0 -1.0 -1.0]
}
