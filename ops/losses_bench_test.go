package ops

import (
	"math/rand/v2"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// benchCrossentropy times one forward and backward pass of mean categorical
// cross-entropy from logits on a (128, 10) float32 batch, as in an MNIST
// step, built by build.
func benchCrossentropy(b *testing.B, build func(t, x *gorgonia.Node) (*gorgonia.Node, error)) {
	const batch, classes = 128, 10
	rng := rand.New(rand.NewPCG(1, 2))
	xs, ts := make([]float32, batch*classes), make([]float32, batch*classes)
	for i := range xs {
		xs[i] = float32(rng.NormFloat64())
	}
	for r := range batch {
		ts[r*classes+rng.IntN(classes)] = 1
	}
	g := gorgonia.NewGraph()
	x := gorgonia.NodeFromAny(g, tensor.New(tensor.WithShape(batch, classes), tensor.WithBacking(xs)), gorgonia.WithName("x"))
	t := gorgonia.NodeFromAny(g, tensor.New(tensor.WithShape(batch, classes), tensor.WithBacking(ts)), gorgonia.WithName("t"))
	loss, err := build(t, x)
	if err != nil {
		b.Fatal(err)
	}
	cost, err := gorgonia.Mean(loss)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := gorgonia.Grad(cost, x); err != nil {
		b.Fatal(err)
	}
	m := gorgonia.NewTapeMachine(g)
	defer m.Close()
	b.ResetTimer()
	for range b.N {
		if err := m.RunAll(); err != nil {
			b.Fatal(err)
		}
		m.Reset()
	}
}

// BenchmarkCrossentropyFused is this package's one-op loss. Its backward
// pass also computes the gradient with respect to the targets (a leaf here,
// so it is not needed), which costs about a third of the loss's time.
func BenchmarkCrossentropyFused(b *testing.B) {
	benchCrossentropy(b, func(t, x *gorgonia.Node) (*gorgonia.Node, error) {
		return CategoricalCrossentropy(t, x, true)
	})
}

// BenchmarkCrossentropyChain is the same loss from this package's fused
// LogSoftmax and Gorgonia's primitives: −Σ t ⊙ LogSoftmax(x) over the class
// axis.
func BenchmarkCrossentropyChain(b *testing.B) {
	benchCrossentropy(b, func(t, x *gorgonia.Node) (*gorgonia.Node, error) {
		ls, err := LogSoftmax(x)
		if err != nil {
			return nil, err
		}
		p, err := gorgonia.HadamardProd(t, ls)
		if err != nil {
			return nil, err
		}
		s, err := gorgonia.Sum(p, 1)
		if err != nil {
			return nil, err
		}
		return gorgonia.Neg(s)
	})
}
