package onnx_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/keragon/keragon/keras"
	"github.com/keragon/keragon/keras/onnx"
)

// Import a convnet PyTorch exported: its layers are Keragon's own.
func ExampleImport() {
	m, err := onnx.Import(filepath.Join("testdata", "convnet.onnx"))
	if err != nil {
		fmt.Println(err)
		return
	}
	var classes []string
	for _, l := range m.Layers() {
		classes = append(classes, keras.ClassName(l))
	}
	fmt.Println(strings.Join(classes, " "))
	fmt.Println("input:", m.Inputs()[0].Shape())
	// Output:
	// Input Conv2D BatchNormalization Activation MaxPooling2D Conv2D BatchNormalization Activation Flatten Dense
	// input: (None, 10, 10, 2)
}

// Export a model and read it back.
func ExampleExport() {
	m := keras.NewSequential(
		&keras.Input{Shape: []int{4}},
		&keras.Dense{Units: 8, Activation: "relu"},
		&keras.Dense{Units: 3, Activation: "softmax"},
	)
	m.SetSeed(1)
	dir, err := os.MkdirTemp("", "onnx-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "mlp.onnx")
	if err := onnx.Export(m, path); err != nil {
		fmt.Println(err)
		return
	}
	back, err := onnx.Import(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, l := range back.Layers() {
		if d, ok := l.(*keras.Dense); ok {
			fmt.Println("Dense", d.Units, d.Activation)
		}
	}
	// Output:
	// Dense 8 relu
	// Dense 3 softmax
}
