// Package vmath has float32 kernels over slices, with AVX-512 or AVX2/FMA
// assembly where the processor has it (16 or 8 lanes at a time) and the
// same formulas in Go elsewhere: the RMSprop and Adam updates, the LSTM
// cell's gradient, a Dense layer's bias + ReLU epilogue, ReLU and its
// gradient, bitwise as their Go loops, the search for a value
// that is not finite, and sigmoid and tanh by Cephes' expf (range reduction,
// a degree-6 polynomial, the power of two put in the exponent) and its
// tanhf (an odd polynomial below 0.625). Results are within a few float32
// ulps of the float64 functions; they differ in the last bits between the
// assembly (fused multiply-adds) and the Go code, and do not depend on
// where an element sits in the slice.
package vmath

//go:generate go run gen_amd64.go

import "math"

// lanes is the vector width of the assembly kernels in use, 0 without.
var lanes = vectorLanes()

// Sigmoid sets dst[i] = 1/(1+exp(−x[i])); dst may be x.
func Sigmoid(dst, x []float32) { apply(dst, x, sigmoidVec, Sigmoid32) }

// Tanh sets dst[i] = tanh(x[i]); dst may be x.
func Tanh(dst, x []float32) { apply(dst, x, tanhVec, Tanh32) }

// apply runs the vector kernel over whole vectors and over the tail copied
// into a vector of its own, so that every element gets the same
// arithmetic wherever it sits.
func apply(dst, x []float32, vec func(dst, x *float32, n int), scalar func(float32) float32) {
	dst = dst[:len(x)]
	if lanes == 0 {
		for i, v := range x {
			dst[i] = scalar(v)
		}
		return
	}
	n := len(x) / lanes * lanes
	if n > 0 {
		vec(&dst[0], &x[0], n)
	}
	if n < len(x) {
		var buf [16]float32
		copy(buf[:], x[n:])
		vec(&buf[0], &buf[0], lanes)
		copy(dst[n:], buf[:len(x)-n])
	}
}

// RMSprop applies the plain RMSprop update (no momentum, not centered)
// to w, g and the velocity v: v = rho·v + rho1·g², w −= lr·g/√(v+eps),
// each operation rounded to float32 apart, so that every implementation
// gives the bits of the Go loop.
func RMSprop(w, g, v []float32, lr, rho, rho1, eps float32) {
	g, v = g[:len(w)], v[:len(w)]
	n := 0
	if lanes > 0 {
		n = len(w) / lanes * lanes
		if n > 0 {
			rmspropVec(&w[0], &g[0], &v[0], n, lr, rho, rho1, eps)
		}
	}
	for i := n; i < len(w); i++ {
		gi := g[i]
		v[i] = float32(rho*v[i]) + float32(rho1*float32(gi*gi))
		w[i] -= float32(lr*gi) / float32(math.Sqrt(float64(v[i]+eps)))
	}
}

// Adam applies Adam's plain update (no weight decay, no AMSGrad) to w, g
// and the moments m and v: m += (g−m)·b1, v += (g²−v)·b2, w −=
// m·alpha/(√v+eps), b1 and b2 being 1−β₁ and 1−β₂ and alpha the step's
// bias-corrected learning rate, each operation rounded to float32 apart,
// so that every implementation gives the bits of the Go loop.
func Adam(w, g, m, v []float32, b1, b2, alpha, eps float32) {
	g, m, v = g[:len(w)], m[:len(w)], v[:len(w)]
	n := 0
	if lanes > 0 {
		n = len(w) / lanes * lanes
		if n > 0 {
			adamVec(&w[0], &g[0], &m[0], &v[0], n, b1, b2, alpha, eps)
		}
	}
	for i := n; i < len(w); i++ {
		gi := g[i]
		m[i] += float32(gi-m[i]) * b1
		v[i] += float32(float32(gi*gi)-v[i]) * b2
		w[i] -= float32(m[i]*alpha) / (float32(math.Sqrt(float64(v[i]))) + eps)
	}
}

// LSTMCellGrad takes a step of an LSTM with sigmoid gates and tanh back,
// for one row of u units: gh and gc hold the gradients of h and c after
// the step, i, f, g, o the gate activations, tc = tanh(c) and cp the cell
// state before the step. It writes the gradients of the gate inputs di,
// df, dg, do and leaves in gc the gradient of cp and in gh zeros (h
// before the step gets its gradient through the recurrent product only):
//
//	dc = gc + gh·o·(1−tc²)
//	do = gh·tc·o(1−o)   di = dc·g·i(1−i)   df = dc·cp·f(1−f)   dg = dc·i·(1−g²)
//	gc = dc·f
//
// each operation rounded apart, the same bits in every implementation.
func LSTMCellGrad(gh, gc, i, f, g, o, tc, cp, di, df, dg, do []float32) {
	u := len(gh)
	gc, i, f, g, o, tc, cp = gc[:u], i[:u], f[:u], g[:u], o[:u], tc[:u], cp[:u]
	di, df, dg, do = di[:u], df[:u], dg[:u], do[:u]
	n := 0
	if lanes > 0 {
		n = u / lanes * lanes
		if n > 0 {
			lstmGradAVec(&gh[0], &gc[0], &o[0], &tc[0], &do[0], n)
			lstmGradBVec(&gh[0], &gc[0], &i[0], &f[0], &g[0], &cp[0], &di[0], &df[0], &dg[0], n)
		}
	}
	for j := n; j < u; j++ {
		t := float32(gh[j]*o[j]) * float32(1-float32(tc[j]*tc[j]))
		gc[j] += t
		do[j] = float32(gh[j]*tc[j]) * float32(o[j]*float32(1-o[j]))
		c := gc[j]
		di[j] = float32(c*g[j]) * float32(i[j]*float32(1-i[j]))
		df[j] = float32(c*cp[j]) * float32(f[j]*float32(1-f[j]))
		dg[j] = float32(c*i[j]) * float32(1-float32(g[j]*g[j]))
		gc[j] = c * f[j]
		gh[j] = 0
	}
}

// BiasAct sets dst = x + b row by row (x holds rows of len(b); b nil adds
// nothing), then, when relu, max(·, 0) with NaN and −0 made 0, as a Go
// loop testing v > 0 does; dst may be x. It is the epilogue of a Dense
// layer: bias and ReLU in one pass.
func BiasAct(dst, x, b []float32, relu bool) {
	dst = dst[:len(x)]
	if b == nil {
		if relu {
			ReLU(dst, x)
		} else {
			copy(dst, x)
		}
		return
	}
	c := len(b)
	if c == 0 {
		return
	}
	n := 0
	if lanes > 0 {
		n = c / lanes * lanes
	}
	vec := addBiasVec
	if relu {
		vec = biasReLUVec
	}
	for i := 0; i+c <= len(x); i += c {
		xr, dr := x[i:i+c], dst[i:i+c]
		if n > 0 {
			vec(&dr[0], &xr[0], &b[0], n)
		}
		for j := n; j < c; j++ {
			v := xr[j] + b[j]
			if relu {
				v = relu32(v)
			}
			dr[j] = v
		}
	}
}

// ReLU sets dst[i] = x[i] where x[i] > 0, else 0 (NaN and −0 too); dst
// may be x.
func ReLU(dst, x []float32) { apply(dst, x, reluVec, relu32) }

func relu32(v float32) float32 {
	if v > 0 {
		return v
	}
	return 0
}

// ReLUGrad sets dst[i] = g[i] where x[i] > 0, else 0: ReLU's gradient
// from its input or output x; dst may be x or g.
func ReLUGrad(dst, x, g []float32) {
	dst, g = dst[:len(x)], g[:len(x)]
	n := 0
	if lanes > 0 {
		n = len(x) / lanes * lanes
		if n > 0 {
			reluGradVec(&dst[0], &x[0], &g[0], n)
		}
	}
	for i := n; i < len(x); i++ {
		if x[i] > 0 {
			dst[i] = g[i]
		} else {
			dst[i] = 0
		}
	}
}

// FirstNonFinite32 returns the index of the first NaN or infinity in x,
// or -1 when every value is finite: a data set's check before training,
// which looked at every value through float64 and took a third of an
// MNIST MLP epoch.
func FirstNonFinite32(x []float32) int {
	i := 0
	if lanes > 0 && len(x) >= lanes {
		i = nonFiniteVec(&x[0], len(x)/lanes*lanes)
	}
	for ; i < len(x); i++ {
		if math.Float32bits(x[i])&0x7f800000 == 0x7f800000 {
			return i
		}
	}
	return -1
}

// Exp32 is eˣ in float32 (Cephes' expf).
func Exp32(x float32) float32 {
	switch {
	case x != x:
		return x
	case x > 88.72283:
		return float32(math.Inf(1))
	case x < -87.33654:
		// Below the smallest normal float32: flush to zero.
		return 0
	}
	const (
		log2e = 1.44269504088896341
		c1    = 0.693359375
		c2    = -2.12194440e-4
	)
	n := float32(math.Floor(float64(x*log2e + 0.5)))
	x = x - n*c1 - n*c2
	z := x * x
	y := ((((((1.9875691500e-4*x+1.3981999507e-3)*x+8.3334519073e-3)*x+4.1665795894e-2)*x+
		1.6666665459e-1)*x+5.0000001201e-1)*z + x) + 1
	// y·2ⁿ, n in [-126, 127] here.
	return y * math.Float32frombits(uint32(int32(n)+127)<<23)
}

// Sigmoid32 is 1/(1+e⁻ˣ) in float32.
func Sigmoid32(x float32) float32 {
	if x >= 0 {
		return 1 / (1 + Exp32(-x))
	}
	e := Exp32(x)
	return e / (1 + e)
}

// Tanh32 is tanh(x) in float32.
func Tanh32(x float32) float32 {
	a := x
	if a < 0 {
		a = -a
	}
	switch {
	case x != x:
		return x
	case a >= 9:
		// tanh(9) rounds to 1 in float32.
		if x > 0 {
			return 1
		}
		return -1
	case a < 0.625:
		z := x * x
		return ((((-5.70498872745e-3*z+2.06390887954e-2)*z-5.37397155531e-2)*z+
			1.33314422036e-1)*z-3.33332819422e-1)*z*x + x
	}
	t := 1 - 2/(Exp32(2*a)+1)
	if x < 0 {
		return -t
	}
	return t
}
