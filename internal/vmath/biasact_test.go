package vmath

import (
	"math"
	"testing"
)

// TestBiasActBitwise: BiasAct, ReLU and ReLUGrad give the bits of plain
// Go loops in every implementation (Go, AVX2, AVX-512), for rows shorter
// than, equal to and longer than a vector, with NaN, ±Inf, −0 and
// negatives in the data, in place and not.
func TestBiasActBitwise(t *testing.T) {
	nan, inf, negZero := float32(math.NaN()), float32(math.Inf(1)), float32(math.Copysign(0, -1))
	special := []float32{nan, inf, -inf, negZero, 0, -1, 1, 1e-38, -1e-38, 3.5}
	type impl struct {
		name              string
		lanes             int
		biasReLU, addBias func(dst, x, b *float32, n int)
		relu              func(dst, x *float32, n int)
		reluGrad          func(dst, x, g *float32, n int)
	}
	impls := []impl{{name: "go"}}
	for _, k := range vectorKernels() {
		impls = append(impls, impl{k.name, k.lanes, k.biasReLU, k.addBias, k.relu, k.reluGrad})
	}
	use := func(k impl) func() {
		ol, o1, o2, o3, o4 := lanes, biasReLUVec, addBiasVec, reluVec, reluGradVec
		lanes, biasReLUVec, addBiasVec, reluVec, reluGradVec = k.lanes, k.biasReLU, k.addBias, k.relu, k.reluGrad
		return func() { lanes, biasReLUVec, addBiasVec, reluVec, reluGradVec = ol, o1, o2, o3, o4 }
	}
	same := func(a, b float32) bool { return math.Float32bits(a) == math.Float32bits(b) || (a != a && b != b) }
	relu := func(v float32) float32 {
		if v > 0 {
			return v
		}
		return 0
	}
	for _, k := range impls {
		for _, cols := range []int{1, 10, 16, 37, 512} {
			const rows = 3
			x, b, g := make([]float32, rows*cols), make([]float32, cols), make([]float32, rows*cols)
			for i := range x {
				x[i] = float32(i%13) - 6.25
				g[i] = float32(i%7) + 0.5
				if i%5 == 0 {
					x[i] = special[(i/5)%len(special)]
				}
				if i%11 == 0 {
					g[i] = nan
				}
			}
			for j := range b {
				b[j] = float32(j%3) - 1
				if j%4 == 0 {
					b[j] = special[(j/4)%len(special)]
				}
			}
			for _, withRelu := range []bool{false, true} {
				for _, withBias := range []bool{false, true} {
					want := make([]float32, len(x))
					for i, v := range x {
						if withBias {
							v += b[i%cols]
						}
						if withRelu {
							v = relu(v)
						}
						want[i] = v
					}
					bb := b
					if !withBias {
						bb = nil
					}
					got := make([]float32, len(x))
					inPlace := append([]float32(nil), x...)
					r := use(k)
					BiasAct(got, x, bb, withRelu)
					BiasAct(inPlace, inPlace, bb, withRelu)
					r()
					for i := range want {
						if !same(got[i], want[i]) || !same(inPlace[i], want[i]) {
							t.Fatalf("%s, %d columns, bias %v, relu %v: [%d] = %v (in place %v), want %v (x %v)",
								k.name, cols, withBias, withRelu, i, got[i], inPlace[i], want[i], x[i])
						}
					}
				}
			}
			want := make([]float32, len(x))
			for i := range x {
				if x[i] > 0 {
					want[i] = g[i]
				}
			}
			got := make([]float32, len(x))
			r := use(k)
			ReLUGrad(got, x, g)
			r()
			for i := range want {
				if !same(got[i], want[i]) {
					t.Fatalf("%s, %d values: ReLUGrad[%d] = %v, want %v (x %v, g %v)", k.name, len(x), i, got[i], want[i], x[i], g[i])
				}
			}
		}
	}
}

// BenchmarkBiasReLU: the MNIST MLP's hidden layer epilogue at batch 128.
func BenchmarkBiasReLU(b *testing.B) {
	const rows, cols = 128, 512
	x, bias := make([]float32, rows*cols), make([]float32, cols)
	for i := range x {
		x[i] = float32(i%13) - 6
	}
	b.SetBytes(2 * 4 * rows * cols)
	for b.Loop() {
		BiasAct(x, x, bias, true)
	}
}
