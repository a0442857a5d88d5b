package keras

import (
	"testing"

	"github.com/keragon/keragon/graph"
	"github.com/keragon/keragon/ops"
)

func denseWeights(in, units int, bias bool) []weightSpec {
	ws := []weightSpec{{"kernel", []int{in, units}, true}}
	if bias {
		ws = append(ws, weightSpec{"bias", []int{units}, true})
	}
	return ws
}

// TestDenseContract runs the layer contract on Dense for rank 2 and rank 3
// inputs, with and without bias, with regularisers, and with every
// activation Keragon knows.
func TestDenseContract(t *testing.T) {
	for _, c := range denseContractCases() {
		runLayerTest(t, c)
	}
}

// denseContractCases are TestDenseContract's cases (also listed in allContractCases).
func denseContractCases() []layerCase {
	cases := []layerCase{
		{name: "rank2", make: func() Layer { return &Dense{Units: 3} },
			input: []int{4}, output: []int{3}, weights: denseWeights(4, 3, true)},
		{name: "rank2_no_bias", make: func() Layer { return &Dense{Units: 3, NoBias: true, Name: "proj"} },
			input: []int{4}, output: []int{3}, weights: denseWeights(4, 3, false)},
		{name: "rank3", make: func() Layer { return &Dense{Units: 3, Activation: "tanh"} },
			input: []int{2, 4}, output: []int{2, 3}, weights: denseWeights(4, 3, true)},
		{name: "rank3_no_bias", make: func() Layer { return &Dense{Units: 2, NoBias: true} },
			input: []int{3, 2}, output: []int{3, 2}, weights: denseWeights(2, 2, false)},
		{name: "rank4", make: func() Layer { return &Dense{Units: 2, Activation: "relu"} },
			input: []int{2, 2, 3}, output: []int{2, 2, 2}, weights: denseWeights(3, 2, true)},
		{name: "regularized", make: func() Layer {
			return &Dense{Units: 3, KernelRegularizer: &ops.L1L2{L1: 0.01, L2: 0.1}, BiasRegularizer: &ops.L1L2{L2: 0.5},
				KernelInitializer: "he_normal", BiasInitializer: "ones"}
		}, input: []int{4}, output: []int{3}, weights: denseWeights(4, 3, true)},
	}
	for _, act := range ops.ActivationNames() {
		act := act
		cases = append(cases, layerCase{name: "activation_" + act,
			make:  func() Layer { return &Dense{Units: 3, Activation: act} },
			input: []int{4}, output: []int{3}, weights: denseWeights(4, 3, true),
			phases: []graph.Phase{graph.Infer}})
	}
	return cases
}
