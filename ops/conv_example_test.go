package ops_test

import (
	"fmt"

	"github.com/keragon/keragon/ops"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// A Keras-style convolution block on a batch of 28×28 grey images:
// Conv2D(32, 3, activation="relu") then MaxPooling2D(2), channel-last.
func ExampleConv2D() {
	g := gorgonia.NewGraph()
	x := gorgonia.NewTensor(g, tensor.Float32, 4, gorgonia.WithShape(8, 28, 28, 1), gorgonia.WithName("x"))
	kernel := gorgonia.NewTensor(g, tensor.Float32, 4, gorgonia.WithShape(3, 3, 1, 32), gorgonia.WithName("kernel"))
	bias := gorgonia.NewVector(g, tensor.Float32, gorgonia.WithShape(32), gorgonia.WithName("bias"))

	y, err := ops.Conv2D(x, kernel, ops.ConvConfig{})
	if err == nil {
		y, err = ops.BiasAdd(y, bias)
	}
	if err == nil {
		y, err = ops.ReLU(y)
	}
	if err == nil {
		y, err = ops.MaxPool2D(y, ops.PoolConfig{})
	}
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(y.Shape())

	// The same sizes without a graph, as a layer's output shape.
	h, _ := ops.ConvOutputLength(28, 3, 1, 1, ops.Valid)
	h, _ = ops.ConvOutputLength(h, 2, 2, 1, ops.Valid)
	fmt.Println(h)

	// "same" padding keeps ceil(in/stride).
	same, _ := ops.ConvOutputLength(28, 3, 2, 1, ops.Same)
	fmt.Println(same)
	// Output:
	// (8, 13, 13, 32)
	// 13
	// 14
}
