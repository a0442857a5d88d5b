package sgemm

import (
	"math/rand/v2"
	"testing"
)

// benchShapes are the products of the bench's workloads (m, n, k, transA,
// transB): a 1024³ product, the MNIST MLP's forward and backward products
// at batch 128, the LSTM's per-step products on a block of 32 rows and
// its recurrent kernel's gradient, batch-1 inference.
var benchShapes = []struct {
	name    string
	m, n, k int
	ta, tb  bool
}{
	{"1024cube", 1024, 1024, 1024, false, false},
	{"mlp-fwd1", 128, 512, 784, false, false},
	{"mlp-fwd2", 128, 512, 512, false, false},
	{"mlp-dW1", 784, 512, 128, true, false},
	{"mlp-dX2", 128, 512, 512, false, true},
	{"lstm-rec", 32, 512, 128, false, false},
	{"lstm-dh", 32, 128, 512, false, false},
	{"lstm-dR", 128, 512, 128, true, false},
	{"batch1", 1, 512, 784, false, false},
}

// BenchmarkSgemm times one call per shape, on up to GOMAXPROCS goroutines;
// GFLOP/cpu-s is the speed per second of CPU used, which a loaded machine
// disturbs less than the wall clock (with more than one goroutine it
// counts the helpers' spinning between calls too):
//
//	GOMAXPROCS=1 go test ./internal/sgemm -run '^$' -bench Sgemm
func BenchmarkSgemm(b *testing.B) {
	if !Available {
		b.Skip("no kernel")
	}
	for _, s := range benchShapes {
		b.Run(s.name, func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 2))
			a, bb, c := random(rng, s.m*s.k), random(rng, s.k*s.n), make([]float32, s.m*s.n)
			lda, ldb := s.k, s.n
			if s.ta {
				lda = s.m
			}
			if s.tb {
				ldb = s.k
			}
			b.ResetTimer()
			cpu := cpuSeconds()
			for range b.N {
				Sgemm(s.ta, s.tb, s.m, s.n, s.k, 1, a, lda, bb, ldb, 0, c, s.n)
			}
			flop := 2 * float64(s.m*s.n*s.k) * float64(b.N)
			b.ReportMetric(flop/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			if cpu > 0 {
				// Per second of CPU: the speed per core, whatever the load.
				b.ReportMetric(flop/(cpuSeconds()-cpu)/1e9, "GFLOP/cpu-s")
			}
		})
	}
}

// BenchmarkKernel times the register tile alone on packed panels in L1:
// the ceiling of one core.
func BenchmarkKernel(b *testing.B) {
	if !Available {
		b.Skip("no kernel")
	}
	const k = 256
	a, bb, c := make([]float32, mr*k), make([]float32, nr*k), make([]float32, mr*nr)
	for range b.N {
		kerns[0][mr](k, &a[0], mr, &bb[0], nr, &c[0], nr, 1, 0, 0, 0xffff, 0xffff)
	}
	b.ReportMetric(2*float64(mr*nr*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}
