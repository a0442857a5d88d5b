package keras_test

import (
	"fmt"

	"github.com/keragon/keragon/keras"
)

// Summary prints the layers, their output shapes and parameter counts; a
// nil writer means os.Stdout.
func ExampleModel_Summary() {
	model := keras.NewSequential(
		&keras.Input{Shape: []int{4}},
		&keras.Dense{Units: 8, Activation: "relu"}, // 4·8 + 8 = 40
		&keras.Dense{Units: 3},                     // 8·3 + 3 = 27
	)
	if err := model.Summary(nil); err != nil {
		fmt.Println(err)
	}
	// Output:
	// Model: "sequential"
	// _________________________________________________________________
	//  Layer (type)                 Output Shape              Param #
	// =================================================================
	//  dense (Dense)                (None, 8)                 40
	//
	//  dense_1 (Dense)              (None, 3)                 27
	// =================================================================
	// Total params: 67
	// Trainable params: 67
	// Non-trainable params: 0
	// _________________________________________________________________
}
