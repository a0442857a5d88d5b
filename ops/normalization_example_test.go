package ops_test

import (
	"fmt"

	"github.com/keragon/keragon/ops"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Batch normalisation in a training step, as Keras' BatchNormalization
// computes it: normalise each channel (last axis) with the statistics of
// the batch. In inference, Normalize takes the moving averages instead.
func ExampleNormalize() {
	g := gorgonia.NewGraph()
	// Two samples, two channels: channel means (2, 12), variances (1, 4).
	x := gorgonia.NodeFromAny(g, tensor.New(tensor.WithShape(2, 2), tensor.WithBacking([]float64{1, 10, 3, 14})), gorgonia.WithName("x"))
	gamma := gorgonia.NodeFromAny(g, tensor.New(tensor.WithShape(2), tensor.WithBacking([]float64{1, 2})), gorgonia.WithName("gamma"))
	beta := gorgonia.NodeFromAny(g, tensor.New(tensor.WithShape(2), tensor.WithBacking([]float64{0, 1})), gorgonia.WithName("beta"))

	mean, variance, err := ops.BatchMoments(x)
	if err != nil {
		fmt.Println(err)
		return
	}
	y, err := ops.Normalize(x, mean, variance, gamma, beta, 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	m := gorgonia.NewTapeMachine(g)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("mean", mean.Value().Data(), "variance", variance.Value().Data())
	fmt.Println("y", y.Value().Data())
	// Output:
	// mean [2 12] variance [1 4]
	// y [-1 -1 1 3]
}
