package ops

import (
	"math/rand/v2"
	"syscall"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Benchmarks of one forward and backward pass of the layers of Keras'
// MNIST convnet on a float32 batch of 128, against Gorgonia's own NCHW
// ops on the same problem. Run them one at a time, e.g.
//
//	go test ./ops/ -run '^$' -bench 'MNIST' -benchtime=20x
//
// Each reports GFLOP/s: 2 flops per multiply-add of the forward pass and
// of each gradient computed.

// mnistConv is a convolution layer of the MNIST convnet: a 3×3 valid
// convolution of (n, h, w, c) images to o channels. wrtX: the input is a
// hidden layer, so its gradient is needed too (not for the first layer,
// whose input is the data).
type mnistConv struct {
	n, h, w, c, o int
	wrtX          bool
}

var (
	mnistConv1 = mnistConv{n: 128, h: 28, w: 28, c: 1, o: 32}
	mnistConv2 = mnistConv{n: 128, h: 13, w: 13, c: 32, o: 64, wrtX: true}
)

func (p mnistConv) flops() float64 {
	macs := float64(p.n * (p.h - 2) * (p.w - 2) * 9 * p.c * p.o)
	passes := 2.0 // forward and kernel gradient
	if p.wrtX {
		passes++
	}
	return 2 * macs * passes
}

func randomF32(rng *rand.Rand, shape ...int) *tensor.Dense {
	t := tensor.New(tensor.WithShape(shape...), tensor.Of(tensor.Float32))
	d := t.Data().([]float32)
	for i := range d {
		d[i] = float32(rng.NormFloat64())
	}
	return t
}

// benchPass times forward and backward of y = build(x, k) (k nil for an
// op without a kernel), feeding a fixed upstream gradient to y and
// differentiating with respect to k and, if wrtX, x.
func benchPass(b *testing.B, flops float64, xShape, kShape []int, wrtX bool, build func(x, k *gorgonia.Node) (*gorgonia.Node, error)) {
	rng := rand.New(rand.NewPCG(1, 2))
	g := gorgonia.NewGraph()
	x := gorgonia.NodeFromAny(g, randomF32(rng, xShape...), gorgonia.WithName("x"))
	var k *gorgonia.Node
	var wrt gorgonia.Nodes
	if kShape != nil {
		k = gorgonia.NodeFromAny(g, randomF32(rng, kShape...), gorgonia.WithName("k"))
		wrt = append(wrt, k)
	}
	if wrtX {
		wrt = append(wrt, x)
	}
	y, err := build(x, k)
	if err != nil {
		b.Fatal(err)
	}
	up := gorgonia.NodeFromAny(g, randomF32(rng, y.Shape()...), gorgonia.WithName("upstream"))
	grads, err := gorgonia.Backpropagate(gorgonia.Nodes{y}, gorgonia.Nodes{up}, wrt)
	if err != nil {
		b.Fatal(err)
	}
	// Gorgonia's SymDiff makes a gradient node for every input of an op,
	// wanted or not, and a machine on the whole graph runs them all. Like
	// a training program should, run only what y and the wanted gradients
	// need: for the first layer that skips the gradient of the data.
	m := gorgonia.NewTapeMachine(g.ExactSubgraphRoots(append(gorgonia.Nodes{y}, grads...)...))
	defer m.Close()
	if err := m.RunAll(); err != nil { // warm up the scratch buffers
		b.Fatal(err)
	}
	m.Reset()
	cpu0 := cpuTime()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := m.RunAll(); err != nil {
			b.Fatal(err)
		}
		m.Reset()
	}
	b.StopTimer()
	b.ReportMetric(flops*float64(b.N)/float64(b.Elapsed().Nanoseconds()), "GFLOP/s")
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
}

// cpuTime is the CPU time (user and system) this process has used, in
// nanoseconds. On a shared machine it varies less than the wall time: with
// GOMAXPROCS=1 it is the cost of one core's work, however many other
// processes want the cores.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

func benchConv2D(b *testing.B, p mnistConv) {
	benchPass(b, p.flops(), []int{p.n, p.h, p.w, p.c}, []int{3, 3, p.c, p.o}, p.wrtX, func(x, k *gorgonia.Node) (*gorgonia.Node, error) {
		return Conv2D(x, k, ConvConfig{})
	})
}

// benchGorgoniaConv2d is the same problem with gorgonia.Conv2d, NCHW
// images and (out, in, kh, kw) kernels.
func benchGorgoniaConv2d(b *testing.B, p mnistConv) {
	benchPass(b, p.flops(), []int{p.n, p.c, p.h, p.w}, []int{p.o, p.c, 3, 3}, p.wrtX, func(x, k *gorgonia.Node) (*gorgonia.Node, error) {
		return gorgonia.Conv2d(x, k, tensor.Shape{3, 3}, []int{0, 0}, []int{1, 1}, []int{1, 1})
	})
}

func BenchmarkConv2DMNIST1(b *testing.B)           { benchConv2D(b, mnistConv1) }
func BenchmarkConv2DMNIST2(b *testing.B)           { benchConv2D(b, mnistConv2) }
func BenchmarkGorgoniaConv2dMNIST1(b *testing.B)   { benchGorgoniaConv2d(b, mnistConv1) }
func BenchmarkGorgoniaConv2dMNIST2(b *testing.B)   { benchGorgoniaConv2d(b, mnistConv2) }
func BenchmarkMaxPool2DMNIST(b *testing.B)         { benchMaxPool(b, false) }
func BenchmarkGorgoniaMaxPool2DMNIST(b *testing.B) { benchMaxPool(b, true) }

// benchMaxPool times 2×2 max pooling of the MNIST convnet's (128, 26, 26,
// 32) activations, forward and backward; its "flops" are the comparisons,
// one per input element and pass.
func benchMaxPool(b *testing.B, gorgoniaOp bool) {
	const n, h, w, c = 128, 26, 26, 32
	flops := 2.0 * n * h * w * c
	if gorgoniaOp {
		benchPass(b, flops, []int{n, c, h, w}, nil, true, func(x, _ *gorgonia.Node) (*gorgonia.Node, error) {
			return gorgonia.MaxPool2D(x, tensor.Shape{2, 2}, []int{0, 0}, []int{2, 2})
		})
		return
	}
	benchPass(b, flops, []int{n, h, w, c}, nil, true, func(x, _ *gorgonia.Node) (*gorgonia.Node, error) {
		return MaxPool2D(x, PoolConfig{})
	})
}
