package keras

import (
	"encoding/json"
	"testing"

	"gorgonia.org/tensor"
)

// TestZeroSettings checks the pointer fields of keras' layers: Float(0)
// is 0, nil is Keras' default, and a saved config keeps the 0.
func TestZeroSettings(t *testing.T) {
	runLayerTest(t, layerCase{name: "bn_momentum_0", make: func() Layer { return &BatchNormalization{Momentum: Float(0)} },
		input: []int{3}, output: []int{3}, weights: []weightSpec{
			{"gamma", []int{3}, true}, {"beta", []int{3}, true},
			{"moving_mean", []int{3}, false}, {"moving_variance", []int{3}, false}}})
	runLayerTest(t, layerCase{name: "leaky_relu_0", make: func() Layer { return &LeakyReLU{NegativeSlope: Float(0)} },
		input: []int{4}, output: []int{4}})

	// Momentum 0: after one step the moving mean is the batch's mean.
	bn := &BatchNormalization{Momentum: Float(0)}
	m := oneLayerModel(t, bn, []int{2}, tensor.Float64)
	if err := m.Compile(CompileConfig{Optimizer: "sgd", Loss: "mse"}); err != nil {
		t.Fatal(err)
	}
	x := denseOf(tensor.Float64, []float64{1, 10, 3, 20, 5, 60}, 3, 2)
	if _, err := m.Fit(x, x, FitConfig{Epochs: 1, BatchSize: 3}); err != nil {
		t.Fatal(err)
	}
	if got := Values(bn.movingMean.Value); got[0] != 3 || got[1] != 30 {
		t.Errorf("moving mean after one step with momentum 0 = %v, want [3 30]", got)
	}

	// Slope 0 is a ReLU; nil is Keras' 0.3.
	for _, c := range []struct {
		l    *LeakyReLU
		want float64
	}{{&LeakyReLU{NegativeSlope: Float(0)}, 0}, {&LeakyReLU{}, -0.3}} {
		y, err := oneLayerModel(t, c.l, []int{1}, tensor.Float64).Predict(denseOf(tensor.Float64, []float64{-1}, 1, 1))
		if err != nil {
			t.Fatal(err)
		}
		if got := Values(y)[0]; got != c.want {
			t.Errorf("LeakyReLU(%v) of -1 = %v, want %v", c.l.NegativeSlope, got, c.want)
		}
	}
	raw, err := json.Marshal(&BatchNormalization{Momentum: Float(0)})
	if err != nil || string(raw) != `{"momentum":0}` {
		t.Errorf("config of BatchNormalization{Momentum: Float(0)} = %s (%v), want {\"momentum\":0}", raw, err)
	}
}
