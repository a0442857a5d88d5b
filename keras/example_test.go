package keras_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/keragon/keragon/keras"
	"github.com/keragon/keragon/keras/datasets"
	"github.com/keragon/keragon/training"
	"gorgonia.org/tensor"
)

// The main flow: a Sequential model is compiled, trained, evaluated, saved
// and loaded back; the loaded model predicts exactly what the trained one
// does and can go on training.
func Example() {
	x, y, err := datasets.XOR(200, 1) // x (200, 2), y (200) of 0s and 1s
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := y.Reshape(200, 1); err != nil { // one target per output unit
		fmt.Println(err)
		return
	}

	model := keras.NewSequential(
		&keras.Input{Shape: []int{2}},
		&keras.Dense{Units: 16, Activation: "tanh"},
		&keras.Dense{Units: 1, Activation: "sigmoid"},
	)
	model.SetSeed(1) // initial weights and shuffling: a repeatable run
	err = model.Compile(keras.CompileConfig{
		Optimizer: &training.Adam{LearningRate: 0.02},
		Loss:      "binary_crossentropy",
		Metrics:   []string{"accuracy"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	history, err := model.Fit(x, y, keras.FitConfig{Epochs: 100, BatchSize: 20})
	if err != nil {
		fmt.Println(err)
		return
	}
	_, metrics, err := model.Evaluate(x, y)
	if err != nil {
		fmt.Println(err)
		return
	}
	loss := history.Get("loss")
	fmt.Printf("%d epochs, loss fell: %v\n", len(loss), loss[len(loss)-1] < loss[0])
	fmt.Printf("accuracy: %.2f\n", metrics["accuracy"])

	dir, err := os.MkdirTemp("", "keragon-example-")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "xor.keragon")
	if err := model.Save(path); err != nil {
		fmt.Println(err)
		return
	}
	loaded, err := keras.Load(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	before, _ := model.Predict(x)
	after, _ := loaded.Predict(x)
	same := true
	for i, v := range before.Data().([]float32) {
		same = same && v == after.Data().([]float32)[i]
	}
	fmt.Println("loaded model predicts the same:", same)
	fmt.Println("optimizer steps restored:", loaded.Optimizer().Iterations())
	// Output:
	// 100 epochs, loss fell: true
	// accuracy: 1.00
	// loaded model predicts the same: true
	// optimizer steps restored: 1000
}

// The functional API wires layers into a graph: here one input, a shared
// hidden layer and two heads, each with its own loss, trained together on
// Fisher's irises: the species, and whether the flower is a setosa.
func ExampleNewModel() {
	x, species, _, err := datasets.Iris() // x (150, 4), species (150): 0, 1 or 2
	if err != nil {
		fmt.Println(err)
		return
	}
	isSetosa := make([]float32, 150)
	for i, s := range species.Data().([]float32) {
		if s == 0 {
			isSetosa[i] = 1
		}
	}
	setosa, err := keras.Data32(isSetosa, 150, 1)
	if err != nil {
		fmt.Println(err)
		return
	}

	in := keras.NewInput(4)
	hidden := keras.Apply(&keras.Dense{Units: 16, Activation: "relu", Name: "hidden"}, in)
	speciesOut := keras.Apply(&keras.Dense{Units: 3, Activation: "softmax", Name: "species"}, hidden)
	setosaOut := keras.Apply(&keras.Dense{Units: 1, Activation: "sigmoid", Name: "setosa"}, hidden)
	model, err := keras.NewModel(keras.Tensors(in), keras.Tensors(speciesOut, setosaOut))
	if err != nil {
		fmt.Println(err)
		return
	}
	model.SetSeed(2)
	err = model.Compile(keras.CompileConfig{
		Optimizer: &training.Adam{LearningRate: 0.02},
		Loss:      map[string]any{"species": "sparse_categorical_crossentropy", "setosa": "binary_crossentropy"},
		Metrics:   []string{"accuracy"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := model.Summary(nil); err != nil {
		fmt.Println(err)
		return
	}
	xs, ys := []*tensor.Dense{x}, []*tensor.Dense{species, setosa}
	if _, err := model.FitMulti(xs, ys, keras.FitConfig{Epochs: 100, BatchSize: 16}); err != nil {
		fmt.Println(err)
		return
	}
	_, metrics, err := model.EvaluateMulti(xs, ys)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("species accuracy: %.2f\n", metrics["species_accuracy"])
	fmt.Printf("setosa accuracy: %.2f\n", metrics["setosa_accuracy"])
	// Output:
	// Model: "functional"
	// _______________________________________________________________________________________________
	//  Layer (type)                 Output Shape              Param #   Connected to
	// ===============================================================================================
	//  input_layer (Input)          (None, 4)                 0
	//
	//  hidden (Dense)               (None, 16)                80        input_layer
	//
	//  species (Dense)              (None, 3)                 51        hidden
	//
	//  setosa (Dense)               (None, 1)                 17        hidden
	// ===============================================================================================
	// Total params: 148
	// Trainable params: 148
	// Non-trainable params: 0
	// _______________________________________________________________________________________________
	// species accuracy: 0.99
	// setosa accuracy: 1.00
}
