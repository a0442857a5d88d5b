package ops

import "math"

// float32 sigmoid and tanh for the recurrent cells, whose gates call them
// for every unit of every step: math.Exp and math.Tanh in float64 took a
// sixth of an LSTM's training step. These follow Cephes' expf and tanhf
// (range reduction and a degree-6 polynomial): within a few float32 ulps
// of the float64 functions (TestFastRecurrentActivations).

func init() {
	rnnActs["sigmoid"].f32 = sigmoid32
	rnnActs["tanh"].f32 = tanh32
}

// exp32 is eˣ in float32.
func exp32(x float32) float32 {
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

// sigmoid32 is 1/(1+e⁻ˣ) in float32.
func sigmoid32(x float32) float32 {
	if x >= 0 {
		return 1 / (1 + exp32(-x))
	}
	e := exp32(x)
	return e / (1 + e)
}

// tanh32 is tanh(x) in float32.
func tanh32(x float32) float32 {
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
	t := 1 - 2/(exp32(2*a)+1)
	if x < 0 {
		return -t
	}
	return t
}

// rnnActFunc returns a's function in type T: the float32 kernel when there
// is one.
func rnnActFunc[T float](a *rnnAct) func(T) T {
	var zero T
	if _, ok := any(zero).(float32); ok && a.f32 != nil {
		return any(a.f32).(func(T) T)
	}
	f := a.f
	return func(x T) T { return T(f(float64(x))) }
}
