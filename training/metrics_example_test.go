package training_test

import (
	"fmt"

	"github.com/keragon/keragon/training"
	"gorgonia.org/tensor"
)

func ExampleNewMetric() {
	m, err := training.NewMetric("binary_accuracy")
	if err != nil {
		fmt.Println(err)
		return
	}
	yTrue := tensor.New(tensor.WithShape(4, 1), tensor.WithBacking([]float32{1, 1, 0, 0}))
	yPred := tensor.New(tensor.WithShape(4, 1), tensor.WithBacking([]float32{0.98, 1, 0, 0.6}))
	if err := m.Update(yTrue, yPred, nil); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s: %.2f\n", m.Name(), m.Result())
	// Output: binary_accuracy: 0.75
}

func ExampleResolveAccuracy() {
	// Keras compiles metrics=["accuracy"] into the accuracy that suits the
	// labels, and logs it as "accuracy".
	kind := training.ResolveAccuracy("sparse_categorical_crossentropy", []int{10})
	m, _ := training.NewMetricNamed(kind, "accuracy")
	fmt.Printf("%s logged as %q\n", kind, m.Name())
	// Output: sparse_categorical_accuracy logged as "accuracy"
}
