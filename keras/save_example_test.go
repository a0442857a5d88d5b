package keras_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/keragon/keragon/keras"
)

// Save and Load a model; LoadFrom reads from any io.Reader (a network
// stream, an archive entry), bounded by the same limits as Load.
func ExampleLoad() {
	model := keras.NewSequential(&keras.Input{Shape: []int{4}}, &keras.Dense{Units: 3, Activation: "softmax"})
	model.SetSeed(1)
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "model.safetensors")
	fmt.Println(model.Save(path))
	loaded, err := keras.Load(path)
	fmt.Println(err, loaded.Layers()[1].(*keras.Dense).Units)

	var buf bytes.Buffer
	fmt.Println(model.SaveTo(&buf))
	_, err = keras.LoadFrom(&buf)
	fmt.Println(err)
	// Output:
	// <nil>
	// <nil> 3
	// <nil>
	// <nil>
}

// A file from an untrusted source is checked against limits before Load
// builds anything; raise a limit to load a larger model.
func ExampleLoadOptions() {
	model := keras.NewSequential(&keras.Input{Shape: []int{5000, 8}}, &keras.LSTM{Units: 16}, &keras.Dense{Units: 1})
	model.SetSeed(1)
	var buf bytes.Buffer
	if err := model.SaveTo(&buf); err != nil {
		fmt.Println(err)
		return
	}
	file := buf.Bytes()
	_, err := keras.LoadFrom(bytes.NewReader(file))
	fmt.Println(errors.Is(err, keras.ErrLoadLimit))
	fmt.Println(err)
	_, err = keras.LoadOptions{MaxSteps: 5000}.LoadFrom(bytes.NewReader(file))
	fmt.Println(err)
	// Output:
	// true
	// keras: LoadFrom: rebuilding the architecture: output 0: layer "lstm" (LSTM) unrolls 5000 time steps or tree levels, more than LoadOptions.MaxSteps allows (4096)
	// <nil>
}

// SaveWeights and LoadWeights move the weights alone, by name, between
// models of the same architecture.
func ExampleModel_LoadWeights() {
	build := func(seed uint64) *keras.Model {
		m := keras.NewSequential(&keras.Input{Shape: []int{4}}, &keras.Dense{Units: 2})
		m.SetSeed(seed)
		return m
	}
	trained, fresh := build(1), build(2)
	var buf bytes.Buffer
	fmt.Println(trained.SaveWeightsTo(&buf))
	fmt.Println(fresh.LoadWeightsFrom(&buf))

	other := keras.NewSequential(&keras.Input{Shape: []int{4}}, &keras.Dense{Units: 3})
	buf.Reset()
	trained.SaveWeightsTo(&buf)
	fmt.Println(other.LoadWeightsFrom(&buf))
	// Output:
	// <nil>
	// <nil>
	// keras: LoadWeightsFrom: weight "dense/kernel" has shape [4 2] in the file, the model's layer makes [4 3]
}
