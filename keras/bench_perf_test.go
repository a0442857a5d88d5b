package keras

import (
	"math/rand/v2"
	"testing"

	"gorgonia.org/tensor"
)

// More training steps and inference, beside bench_test.go's MLP and CNN
// steps; the bench command (go run ./bench) times whole epochs against
// PyTorch.

// BenchmarkFitStepCNNBatchNorm is the CNN step with BatchNormalization
// after each convolution (as examples/mnist_cnn -batchnorm).
func BenchmarkFitStepCNNBatchNorm(b *testing.B) {
	m := NewSequential(&Input{Shape: []int{28, 28, 1}},
		&Conv2D{Filters: 32, KernelSize: []int{3}, NoBias: true}, &BatchNormalization{}, &Activation{Activation: "relu"}, &MaxPooling2D{},
		&Conv2D{Filters: 64, KernelSize: []int{3}, NoBias: true}, &BatchNormalization{}, &Activation{Activation: "relu"}, &MaxPooling2D{},
		&Flatten{}, &Dropout{Rate: 0.5}, &Dense{Units: 10, Activation: "softmax"})
	benchStep(b, m, 128, []int{28, 28, 1}, 10)
}

// BenchmarkFitStepLSTM reads MNIST images' rows as sequences: LSTM 128,
// Dense 10.
func BenchmarkFitStepLSTM(b *testing.B) {
	m := NewSequential(&Input{Shape: []int{28, 28}}, &LSTM{Units: 128}, &Dense{Units: 10, Activation: "softmax"})
	benchStep(b, m, 128, []int{28, 28}, 10)
}

// BenchmarkPredictMLP is inference of the MNIST MLP (784-512-512-10,
// ReLU, Dropout) on 1024 images, batch 128.
func BenchmarkPredictMLP(b *testing.B) {
	m := NewSequential(&Input{Shape: []int{784}},
		&Dense{Units: 512, Activation: "relu"}, &Dropout{Rate: 0.2},
		&Dense{Units: 512, Activation: "relu"}, &Dropout{Rate: 0.2},
		&Dense{Units: 10, Activation: "softmax"})
	benchPredict(b, m, 784)
}

// BenchmarkPredictCNN is inference of the CNN on 1024 images, batch 128.
func BenchmarkPredictCNN(b *testing.B) {
	m := NewSequential(&Input{Shape: []int{28, 28, 1}},
		&Conv2D{Filters: 32, KernelSize: []int{3}, Activation: "relu"}, &MaxPooling2D{},
		&Conv2D{Filters: 64, KernelSize: []int{3}, Activation: "relu"}, &MaxPooling2D{},
		&Flatten{}, &Dropout{Rate: 0.5}, &Dense{Units: 10, Activation: "softmax"})
	benchPredict(b, m, 28, 28, 1)
}

// benchPredict times Predict of m on 1024 random images of the given
// shape, batch 128, after a first Predict that builds the program.
func benchPredict(b *testing.B, m *Model, shape ...int) {
	m.SetSeed(1)
	rng := rand.New(rand.NewPCG(1, 2))
	x := tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(append([]int{1024}, shape...)...))
	data := x.Data().([]float32)
	for i := range data {
		data[i] = rng.Float32()
	}
	cfg := EvalConfig{BatchSize: 128}
	if _, err := m.Predict(x, cfg); err != nil { // builds the program
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := m.Predict(x, cfg); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(1024*b.N)/b.Elapsed().Seconds(), "images/s")
}
