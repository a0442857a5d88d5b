package vmath

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func sigmoid64(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

// kernels are the implementations this machine runs: the Go functions
// and, where the processor has them, each assembly kernel.
func kernels() []struct {
	name          string
	sigmoid, tanh func(dst, x []float32)
} {
	type k = struct {
		name          string
		sigmoid, tanh func(dst, x []float32)
	}
	with := func(l int, s, t func(dst, x *float32, n int)) func() {
		ol, os, ot := lanes, sigmoidVec, tanhVec
		lanes, sigmoidVec, tanhVec = l, s, t
		return func() { lanes, sigmoidVec, tanhVec = ol, os, ot }
	}
	out := []k{{name: "go", sigmoid: func(d, x []float32) {
		r := with(0, nil, nil)
		defer r()
		Sigmoid(d, x)
	}, tanh: func(d, x []float32) {
		r := with(0, nil, nil)
		defer r()
		Tanh(d, x)
	}}}
	for _, v := range vectorKernels() {
		v := v
		out = append(out, k{name: v.name,
			sigmoid: func(d, x []float32) { r := with(v.lanes, v.sigmoid, v.tanh); defer r(); Sigmoid(d, x) },
			tanh:    func(d, x []float32) { r := with(v.lanes, v.sigmoid, v.tanh); defer r(); Tanh(d, x) }})
	}
	return out
}

// TestAccuracy: every implementation stays within a few float32 ulps of
// the float64 functions on [-20, 20] (relative, with an absolute floor of
// 1e-3 for sigmoid's tail), and gets the limits, zeros and NaN right.
func TestAccuracy(t *testing.T) {
	xs := make([]float32, 0, 400001)
	for i := -200000; i <= 200000; i++ {
		xs = append(xs, float32(i)*1e-4)
	}
	special := []float32{0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)),
		100, -100, 1e-30, -1e-30, 88, -88, 90, -90, 200, -200, 1e-3, -1e-3}
	for _, k := range kernels() {
		for _, f := range []struct {
			name string
			vec  func(dst, x []float32)
			ref  func(float64) float64
		}{{"sigmoid", k.sigmoid, sigmoid64}, {"tanh", k.tanh, math.Tanh}} {
			got := make([]float32, len(xs))
			f.vec(got, xs)
			worst, at := 0.0, float32(0)
			for i, x := range xs {
				want := f.ref(float64(x))
				ulps := math.Abs(float64(got[i])-want) / (math.Max(math.Abs(want), 1e-3) * 0x1p-24)
				if ulps > worst {
					worst, at = ulps, x
				}
			}
			if worst > 8 {
				t.Errorf("%s %s: %.1f ulps from float64 at x = %v", k.name, f.name, worst, at)
			}
			gs := make([]float32, len(special))
			f.vec(gs, special)
			for i, x := range special {
				want := f.ref(float64(x))
				if math.Abs(float64(gs[i])-want) > 1e-7*math.Max(1, math.Abs(want)) || (want == 0 && gs[i] != 0) {
					t.Errorf("%s %s(%v) = %v, want %v", k.name, f.name, x, gs[i], want)
				}
			}
			nan := []float32{float32(math.NaN()), 1, float32(math.NaN())}
			f.vec(nan, nan)
			if nan[0] == nan[0] || nan[2] == nan[2] {
				t.Errorf("%s %s(NaN) = %v", k.name, f.name, nan)
			}
		}
	}
}

// TestTailsAndInPlace: an element gives the same bits wherever it sits
// (in a whole vector or in the tail), and dst may be x.
func TestTailsAndInPlace(t *testing.T) {
	for _, k := range kernels() {
		for _, f := range []struct {
			name string
			vec  func(dst, x []float32)
		}{{"sigmoid", k.sigmoid}, {"tanh", k.tanh}} {
			base := make([]float32, 37)
			for i := range base {
				base[i] = float32(i-18) * 0.37
			}
			want := make([]float32, len(base))
			f.vec(want, base)
			for off := 0; off < len(base); off++ {
				x := append([]float32(nil), base[off:]...)
				f.vec(x, x)
				for i, v := range x {
					if math.Float32bits(v) != math.Float32bits(want[off+i]) {
						t.Fatalf("%s %s: x=%v at offset %d gives %v, at %d %v", k.name, f.name, base[off+i], i, v, off+i, want[off+i])
					}
				}
			}
		}
	}
}

// BenchmarkActivations times a 128×128 block, an LSTM gate's worth.
func BenchmarkActivations(b *testing.B) {
	x := make([]float32, 128*128)
	for i := range x {
		x[i] = float32(i%200-100) * 0.05
	}
	y := make([]float32, len(x))
	for _, k := range kernels() {
		for _, f := range []struct {
			name string
			vec  func(dst, x []float32)
		}{{"sigmoid", k.sigmoid}, {"tanh", k.tanh}} {
			b.Run(fmt.Sprintf("%s-%s", f.name, k.name), func(b *testing.B) {
				for range b.N {
					f.vec(y, x)
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(x)), "ns/elem")
			})
		}
	}
}

// TestRMSprop: every implementation gives the bits of the Go loop that
// training's RMSprop runs, on random values, tails and special cases.
func TestRMSprop(t *testing.T) {
	const n = 1000
	rng := rand.New(rand.NewPCG(3, 4))
	w0, g0, v0 := make([]float32, n), make([]float32, n), make([]float32, n)
	for i := range w0 {
		w0[i], g0[i], v0[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64()*math.Pow(10, float64(rng.IntN(12)-6))), float32(rng.Float64())
	}
	copy(g0[:6], []float32{0, float32(math.Copysign(0, -1)), 1e30, -1e30, 1e-30, float32(math.Inf(1))})
	lr, rho, eps := float32(1e-3), float32(0.9), float32(1e-7)
	rho1 := 1 - rho
	want, wv := append([]float32(nil), w0...), append([]float32(nil), v0...)
	for i := range want {
		gi := g0[i]
		wv[i] = float32(rho*wv[i]) + float32(rho1*float32(gi*gi))
		den := wv[i] + eps
		want[i] -= float32(lr*gi) / float32(math.Sqrt(float64(den)))
	}
	same := func(a, b float32) bool { return math.Float32bits(a) == math.Float32bits(b) || (a != a && b != b) }
	impls := []struct {
		name  string
		lanes int
		vec   func(w, g, v *float32, n int, lr, rho, rho1, eps float32)
	}{{"go", 0, nil}}
	for _, k := range vectorKernels() {
		impls = append(impls, struct {
			name  string
			lanes int
			vec   func(w, g, v *float32, n int, lr, rho, rho1, eps float32)
		}{k.name, k.lanes, k.rmsprop})
	}
	for _, k := range impls {
		for _, size := range []int{n, 37, 5} {
			ol, ov := lanes, rmspropVec
			lanes, rmspropVec = k.lanes, k.vec
			w, v := append([]float32(nil), w0[:size]...), append([]float32(nil), v0[:size]...)
			RMSprop(w, g0[:size], v, lr, rho, rho1, eps)
			lanes, rmspropVec = ol, ov
			for i := range w {
				if !same(w[i], want[i]) || !same(v[i], wv[i]) {
					t.Fatalf("%s, %d values: w[%d] = %v, v = %v; want %v, %v (g %v)", k.name, size, i, w[i], v[i], want[i], wv[i], g0[i])
				}
			}
		}
	}
}

// BenchmarkRMSprop updates the MNIST MLP's 669,706 weights once.
func BenchmarkRMSprop(b *testing.B) {
	const n = 669706
	w, g, v := make([]float32, n), make([]float32, n), make([]float32, n)
	for i := range g {
		g[i] = float32(i%97) * 1e-3
	}
	b.SetBytes(5 * 4 * n)
	for range b.N {
		RMSprop(w, g, v, 1e-3, 0.9, 0.1, 1e-7)
	}
}

// TestLSTMCellGrad: every implementation gives the bits of the formulas
// computed one float32 operation at a time, whole vectors and tails.
func TestLSTMCellGrad(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, u := range []int{128, 37, 3} {
		in := make([][]float32, 8) // gh, gc, i, f, g, o, tc, cp
		for k := range in {
			in[k] = make([]float32, u)
			for j := range in[k] {
				in[k][j] = float32(rng.Float64()*2 - 1)
			}
		}
		wgh, wgc := make([]float32, u), make([]float32, u)
		want := make([][]float32, 4) // di, df, dg, do
		for k := range want {
			want[k] = make([]float32, u)
		}
		for j := 0; j < u; j++ {
			gh, gc, i, f, g, o, tc, cp := in[0][j], in[1][j], in[2][j], in[3][j], in[4][j], in[5][j], in[6][j], in[7][j]
			// Conversions round each product: no fused multiply-add.
			a := float32(gh * o)
			b := 1 - float32(tc*tc)
			dc := gc + float32(a*b)
			want[3][j] = float32(gh*tc) * float32(o*(1-o))
			want[0][j] = float32(dc*g) * float32(i*(1-i))
			want[1][j] = float32(dc*cp) * float32(f*(1-f))
			want[2][j] = float32(dc*i) * (1 - float32(g*g))
			wgc[j] = dc * f
		}
		impls := []struct {
			name  string
			lanes int
			a     func(gh, gc, o, tc, do *float32, n int)
			b     func(gh, gc, i, f, gg, cp, di, df, dg *float32, n int)
		}{{"go", 0, nil, nil}}
		for _, k := range vectorKernels() {
			impls = append(impls, struct {
				name  string
				lanes int
				a     func(gh, gc, o, tc, do *float32, n int)
				b     func(gh, gc, i, f, gg, cp, di, df, dg *float32, n int)
			}{k.name, k.lanes, k.lstmA, k.lstmB})
		}
		for _, k := range impls {
			gh, gc := append([]float32(nil), in[0]...), append([]float32(nil), in[1]...)
			got := make([][]float32, 4)
			for k := range got {
				got[k] = make([]float32, u)
			}
			ol, oa, ob := lanes, lstmGradAVec, lstmGradBVec
			lanes, lstmGradAVec, lstmGradBVec = k.lanes, k.a, k.b
			LSTMCellGrad(gh, gc, in[2], in[3], in[4], in[5], in[6], in[7], got[0], got[1], got[2], got[3])
			lanes, lstmGradAVec, lstmGradBVec = ol, oa, ob
			for j := 0; j < u; j++ {
				for q, name := range []string{"di", "df", "dg", "do"} {
					if math.Float32bits(got[q][j]) != math.Float32bits(want[q][j]) {
						t.Fatalf("%s, u=%d: %s[%d] = %v, want %v", k.name, u, name, j, got[q][j], want[q][j])
					}
				}
				if math.Float32bits(gc[j]) != math.Float32bits(wgc[j]) || gh[j] != 0 || wgh[j] != 0 {
					t.Fatalf("%s, u=%d: carry gc[%d] = %v, gh = %v; want %v, 0", k.name, u, j, gc[j], gh[j], wgc[j])
				}
			}
		}
	}
}

// TestAdam: every implementation gives the bits of the Go loop that
// training's Adam runs.
func TestAdam(t *testing.T) {
	const n = 1000
	rng := rand.New(rand.NewPCG(7, 8))
	w0, g0, m0, v0 := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
	for i := range w0 {
		w0[i], g0[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64()*math.Pow(10, float64(rng.IntN(12)-6)))
		m0[i], v0[i] = float32(rng.NormFloat64()*1e-2), float32(rng.Float64()*1e-3)
	}
	copy(g0[:5], []float32{0, float32(math.Copysign(0, -1)), 1e30, -1e-30, float32(math.Inf(-1))})
	b1, b2, alpha, eps := float32(0.1), float32(0.001), float32(1e-3*math.Sqrt(1-0.999)/(1-0.9)), float32(1e-7)
	want, wm, wv := append([]float32(nil), w0...), append([]float32(nil), m0...), append([]float32(nil), v0...)
	for i := range want {
		gi := g0[i]
		wm[i] += float32(gi-wm[i]) * b1
		wv[i] += float32(float32(gi*gi)-wv[i]) * b2
		want[i] -= float32(wm[i]*alpha) / (float32(math.Sqrt(float64(wv[i]))) + eps)
	}
	same := func(a, b float32) bool { return math.Float32bits(a) == math.Float32bits(b) || (a != a && b != b) }
	impls := []vectorKernel{{name: "go"}}
	impls = append(impls, vectorKernels()...)
	for _, k := range impls {
		for _, size := range []int{n, 37, 5} {
			ol, ov := lanes, adamVec
			lanes, adamVec = k.lanes, k.adam
			w, m, v := append([]float32(nil), w0[:size]...), append([]float32(nil), m0[:size]...), append([]float32(nil), v0[:size]...)
			Adam(w, g0[:size], m, v, b1, b2, alpha, eps)
			lanes, adamVec = ol, ov
			for i := range w {
				if !same(w[i], want[i]) || !same(m[i], wm[i]) || !same(v[i], wv[i]) {
					t.Fatalf("%s, %d values: w, m, v[%d] = %v, %v, %v; want %v, %v, %v (g %v)", k.name, size, i, w[i], m[i], v[i], want[i], wm[i], wv[i], g0[i])
				}
			}
		}
	}
}

// TestFirstNonFinite: every implementation finds the first NaN or
// infinity wherever it sits (and nothing among finite extremes).
func TestFirstNonFinite(t *testing.T) {
	impls := append([]vectorKernel{{name: "go"}}, vectorKernels()...)
	finite := []float32{0, float32(math.Copysign(0, -1)), math.MaxFloat32, -math.MaxFloat32, math.SmallestNonzeroFloat32, 1}
	for _, k := range impls {
		ol, ov := lanes, nonFiniteVec
		lanes, nonFiniteVec = k.lanes, k.nonFinite
		for _, n := range []int{0, 1, 15, 16, 17, 100} {
			x := make([]float32, n)
			for i := range x {
				x[i] = finite[i%len(finite)]
			}
			if got := FirstNonFinite32(x); got != -1 {
				t.Errorf("%s: %d finite values: got %d, want -1", k.name, n, got)
			}
			for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))} {
				for at := 0; at < n; at += 7 {
					y := append([]float32(nil), x...)
					y[at] = bad
					if at+3 < n {
						y[at+3] = bad
					}
					if got := FirstNonFinite32(y); got != at {
						t.Errorf("%s: %v at %d of %d: got %d", k.name, bad, at, n, got)
					}
				}
			}
		}
		lanes, nonFiniteVec = ol, ov
	}
}
