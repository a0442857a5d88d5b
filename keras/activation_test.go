package keras

import (
	"math"
	"strings"
	"testing"

	"github.com/keragon/keragon/ops"
	"gorgonia.org/tensor"
)

// TestActivationContract runs the contract on the Activation layer with
// every activation, on rank-3 inputs (softmax then works on the last axis
// of each row), and on LeakyReLU.
func TestActivationContract(t *testing.T) {
	for _, c := range activationContractCases() {
		runLayerTest(t, c)
	}
}

// activationContractCases are TestActivationContract's cases (also listed in allContractCases).
func activationContractCases() []layerCase {
	var cases []layerCase
	for _, act := range ops.ActivationNames() {
		act := act
		cases = append(cases, layerCase{name: "activation_" + act,
			make:  func() Layer { return &Activation{Activation: act} },
			input: []int{2, 3}, output: []int{2, 3}, lo: -2, hi: 2})
	}
	cases = append(cases,
		layerCase{name: "leaky_relu_default", make: func() Layer { return &LeakyReLU{} },
			input: []int{5}, output: []int{5}, lo: -2, hi: 2},
		layerCase{name: "leaky_relu_0.1", make: func() Layer { return &LeakyReLU{NegativeSlope: Float(0.1), Name: "leaky"} },
			input: []int{2, 2}, output: []int{2, 2}, lo: -2, hi: 2},
	)
	return cases
}

// TestActivationValues checks a few outputs worked by hand.
func TestActivationValues(t *testing.T) {
	x := []float64{-2, -0.5, 0, 1.5}
	cases := []struct {
		layer Layer
		want  []float64
	}{
		{&Activation{Activation: "relu"}, []float64{0, 0, 0, 1.5}},
		{&Activation{Activation: "linear"}, x},
		{&Activation{Activation: "RELU6"}, []float64{0, 0, 0, 1.5}},
		// Keras' LeakyReLU layer defaults to a slope of 0.3: −2·0.3 = −0.6.
		{&LeakyReLU{}, []float64{-0.6, -0.15, 0, 1.5}},
		{&LeakyReLU{NegativeSlope: Float(0.5)}, []float64{-1, -0.25, 0, 1.5}},
		// softmax of (−2, −0.5, 0, 1.5): e^x / Σ e^x, Σ = 0.135335 + 0.606531 + 1 + 4.481689 = 6.223555.
		{&Activation{Activation: "softmax"}, []float64{0.02174565548913305, 0.09745726653298452, 0.1606798683172233, 0.7201172096606592}},
	}
	for i, c := range cases {
		m := oneLayerModel(t, c.layer, []int{4}, tensor.Float64)
		y, err := m.Predict(denseOf(tensor.Float64, x, 1, 4))
		if err != nil {
			t.Fatalf("case %d: %+v", i, err)
		}
		if err := closeTo(floatsOf(y), c.want, 1e-8, 0); err != nil {
			t.Errorf("case %d (%s %+v): %v", i, ClassName(c.layer), c.layer, err)
		}
	}
}

func TestActivationErrors(t *testing.T) {
	cases := []struct {
		layer Layer
		want  string
	}{
		{&Activation{Activation: "relux"}, `unknown activation "relux"`},
		{&Dense{Units: 2, Activation: "sigmoidd"}, `unknown activation "sigmoidd"`},
		{&LeakyReLU{NegativeSlope: Float(-0.1)}, "slope must be >= 0, got -0.1"},
		{&LeakyReLU{NegativeSlope: Float(math.NaN())}, "slope must be >= 0, got NaN"},
	}
	for i, c := range cases {
		m := NewSequential(&Input{Shape: []int{3}}, c.layer)
		err := m.Err()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("case %d: error %v, want it to contain %q", i, err, c.want)
		}
	}
}
