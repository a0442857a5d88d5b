package keras

import (
	"math/rand/v2"
	"testing"

	"github.com/keragon/keragon/graph"
	"github.com/keragon/keragon/training"
	"gorgonia.org/tensor"
)

// benchStep measures one training step (forward, backward, optimizer) of m
// on a batch of random data; run with -benchmem to see the memory a step
// allocates.
func benchStep(b *testing.B, m *Model, batch int, in []int, classes int) {
	b.Helper()
	m.SetSeed(1)
	if err := m.Compile(CompileConfig{Optimizer: &training.Adam{}, Loss: "sparse_categorical_crossentropy"}); err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	x := tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(append([]int{batch}, in...)...))
	for i := range x.Data().([]float32) {
		x.Data().([]float32)[i] = rng.Float32()
	}
	y := tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(batch))
	for i := range y.Data().([]float32) {
		y.Data().([]float32)[i] = float32(rng.IntN(classes))
	}
	sw := tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(batch))
	for i := range sw.Data().([]float32) {
		sw.Data().([]float32)[i] = 1
	}
	p, err := m.Program(graph.Key{Mode: graph.Fit, Batch: batch})
	if err != nil {
		b.Fatal(err)
	}
	opt := m.Optimizer()
	step := func() {
		if err := p.Run(x, y, sw); err != nil {
			b.Fatal(err)
		}
		g, err := p.Gradients()
		if err != nil {
			b.Fatal(err)
		}
		if err := opt.Step(g); err != nil {
			b.Fatal(err)
		}
		if err := p.ApplyUpdates(); err != nil {
			b.Fatal(err)
		}
	}
	step() // first run allocates the program's reusable buffers
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		step()
	}
}

// BenchmarkFitStepMLP is one step of Keras' mnist_mlp at batch 128.
func BenchmarkFitStepMLP(b *testing.B) {
	m := NewSequential(&Input{Shape: []int{784}}, &Dense{Units: 512, Activation: "relu"}, &Dropout{Rate: 0.2},
		&Dense{Units: 512, Activation: "relu"}, &Dropout{Rate: 0.2}, &Dense{Units: 10, Activation: "softmax"})
	benchStep(b, m, 128, []int{784}, 10)
}

// BenchmarkFitStepCNN is one step of Keras' mnist_convnet at batch 128.
func BenchmarkFitStepCNN(b *testing.B) {
	m := NewSequential(&Input{Shape: []int{28, 28, 1}},
		&Conv2D{Filters: 32, KernelSize: []int{3}, Activation: "relu"}, &MaxPooling2D{},
		&Conv2D{Filters: 64, KernelSize: []int{3}, Activation: "relu"}, &MaxPooling2D{},
		&Flatten{}, &Dropout{Rate: 0.5}, &Dense{Units: 10, Activation: "softmax"})
	benchStep(b, m, 128, []int{28, 28, 1}, 10)
}
