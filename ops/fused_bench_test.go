package ops

import (
	"testing"

	"gorgonia.org/gorgonia"
)

// Benchmarks of the fused ops on the MNIST models' shapes, forward and
// backward at batch 128 (see benchPass; -benchmem or the allocs/op column
// shows that a pass allocates next to nothing once warm):
//
//	go test ./ops -run '^$' -bench 'Fused|BatchNorm' -benchtime=20x

// BenchmarkFusedDenseMNIST is the MLP's first layer, relu(x·W + b) for x
// (128, 784) and W (784, 512): its gradients with respect to W and b.
func BenchmarkFusedDenseMNIST(b *testing.B) {
	const n, in, out = 128, 784, 512
	benchPass(b, 2*2*n*in*out, []int{n, in}, []int{in, out}, false, func(x, k *gorgonia.Node) (*gorgonia.Node, error) {
		bias := gorgonia.NewVector(x.Graph(), x.Dtype(), gorgonia.WithShape(out), gorgonia.WithInit(gorgonia.Zeroes()))
		return Dense(x, k, bias, "relu")
	})
}

// BenchmarkFusedConvBiasReLUMNIST2 is the convnet's second convolution
// with its bias and ReLU, (128, 13, 13, 32) → (128, 11, 11, 64).
func BenchmarkFusedConvBiasReLUMNIST2(b *testing.B) {
	p := mnistConv2
	benchPass(b, p.flops(), []int{p.n, p.h, p.w, p.c}, []int{3, 3, p.c, p.o}, p.wrtX, func(x, k *gorgonia.Node) (*gorgonia.Node, error) {
		bias := gorgonia.NewVector(x.Graph(), x.Dtype(), gorgonia.WithShape(p.o), gorgonia.WithInit(gorgonia.Zeroes()))
		return Conv2DBiasActivation(x, k, bias, ConvConfig{}, "relu")
	})
}

// BenchmarkBatchNormMNIST is BatchMoments and Normalize (training mode)
// on the first convolution's output, (128, 26, 26, 32); "flops" are the
// elements, once per pass.
func BenchmarkBatchNormMNIST(b *testing.B) {
	shape := []int{128, 26, 26, 32}
	benchPass(b, 2*128*26*26*32, shape, nil, true, func(x, _ *gorgonia.Node) (*gorgonia.Node, error) {
		m, v, err := BatchMoments(x)
		if err != nil {
			return nil, err
		}
		return Normalize(x, m, v, nil, nil, 1e-3)
	})
}
