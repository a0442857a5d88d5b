package keras_test

import (
	"fmt"

	"github.com/keragon/keragon/keras"
)

// A sequence classifier over padded token ids: Embedding with MaskZero
// marks id 0 as padding, so the LSTM skips it.
func ExampleLSTM() {
	model := keras.NewSequential(
		&keras.Input{Shape: []int{20}}, // 20 token ids, 0 = padding
		&keras.Embedding{InputDim: 1000, OutputDim: 32, MaskZero: true},
		&keras.LSTM{Units: 64},
		&keras.Dense{Units: 1, Activation: "sigmoid"},
	)
	fmt.Println(model.Err())
	fmt.Println(model.Outputs()[0].Shape())
	// Output:
	// <nil>
	// (None, 1)
}

// An encoder–decoder: the encoder's final states start the decoder, as
// Keras' initial_state; ApplyMulti returns [output, h, c].
func ExampleApplyMulti_lstmStates() {
	source, target := keras.NewInput(12, 8), keras.NewInput(10, 8)
	enc := keras.ApplyMulti(&keras.LSTM{Units: 16, ReturnState: true}, source)
	dec := keras.Apply(&keras.LSTM{Units: 16, ReturnSequences: true}, target, enc[1], enc[2])
	probs := keras.Apply(&keras.TimeDistributed{Layer: &keras.Dense{Units: 8, Activation: "softmax"}}, dec)
	model, err := keras.NewModel([]*keras.Tensor{source, target}, []*keras.Tensor{probs})
	fmt.Println(err)
	fmt.Println(enc[0].Shape(), enc[1].Shape(), enc[2].Shape(), model.Outputs()[0].Shape())
	// Output:
	// <nil>
	// (None, 16) (None, 16) (None, 16) (None, 10, 8)
}

// Bidirectional runs a copy of the layer in each direction and
// concatenates their outputs.
func ExampleBidirectional() {
	x := keras.NewInput(30, 4)
	y := keras.Apply(&keras.Bidirectional{Layer: &keras.GRU{Units: 8, ReturnSequences: true}}, x)
	fmt.Println(y.Shape())
	// Output:
	// (None, 30, 16)
}
