package ops

import (
	"math/rand/v2"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// BenchmarkRecurrentLSTM times one forward and backward pass of the MNIST
// example's LSTM(128) over 28 steps of 28 features, batch 128, float32:
//
//	go test ./ops -run '^$' -bench RecurrentLSTM -benchtime 10x
//
// "float64-activations" turns off the vector float32 sigmoid and tanh.
func BenchmarkRecurrentLSTM(b *testing.B) {
	b.Run("fast-activations", benchmarkRecurrentLSTM)
	s32, t32 := sigmoidK.vec32, tanhK.vec32
	sigmoidK.vec32, tanhK.vec32 = nil, nil
	defer func() { sigmoidK.vec32, tanhK.vec32 = s32, t32 }()
	b.Run("float64-activations", benchmarkRecurrentLSTM)
}

func benchmarkRecurrentLSTM(b *testing.B) {
	const batch, steps, feat, units = 128, 28, 28, 128
	rng := rand.New(rand.NewPCG(1, 2))
	rnd := func(scale float32, shape ...int) *tensor.Dense {
		t := tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(shape...))
		for i := range t.Data().([]float32) {
			t.Data().([]float32)[i] = scale * (2*rng.Float32() - 1)
		}
		return t
	}
	g := gorgonia.NewGraph()
	x := gorgonia.NodeFromAny(g, rnd(1, batch, steps, feat), gorgonia.WithName("x"))
	k := gorgonia.NodeFromAny(g, rnd(0.1, feat, 4*units), gorgonia.WithName("k"))
	r := gorgonia.NodeFromAny(g, rnd(0.1, units, 4*units), gorgonia.WithName("r"))
	bias := gorgonia.NodeFromAny(g, rnd(0.1, 4*units), gorgonia.WithName("b"))
	out, err := Recurrent(RecurrentConfig{Cell: LSTMCell}, RecurrentInputs{X: x, Kernel: k, RecurrentKernel: r, Bias: bias})
	if err != nil {
		b.Fatal(err)
	}
	cost := gorgonia.Must(gorgonia.Sum(out.Output))
	if _, err := gorgonia.Grad(cost, k, r, bias); err != nil {
		b.Fatal(err)
	}
	m := gorgonia.NewTapeMachine(g)
	defer m.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := m.RunAll(); err != nil {
			b.Fatal(err)
		}
		m.Reset()
	}
}
