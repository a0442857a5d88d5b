package ops

import "math"

// Fast paths of the built-in activations: float32 slice kernels without
// branches, and derivatives from the output alone, which the fused ops
// (Dense, BiasActivation) need. They are attached to the kernels of
// activations.go here, at init, and give bitwise the results of the
// kernels' f and df (TestFastKernelsMatch checks every special value).
func init() {
	reluK.f32, reluK.df32 = relu32Fast, reluGrad32Fast
	reluK.dfy, reluK.dfy32 = step, reluGradY32
	tanhK.dfy = func(y float64) float64 { return 1 - y*y }
	relu6K.dfy = func(y float64) float64 {
		// 0 < y < 6 exactly when 0 < x < 6.
		if y > 0 && y < 6 {
			return 1
		}
		return 0
	}
	seluK.dfy = func(y float64) float64 {
		// y > 0 exactly when x > 0; below, y = scale·alpha·(eˣ−1).
		if y > 0 {
			return seluScale
		}
		return y + seluScale*seluAlpha
	}
	exponentialK.dfy = func(y float64) float64 { return y }
}

// positive returns all ones when v > 0 (a positive number, +Inf
// included) and zero otherwise (zeros of either sign, negatives, NaNs),
// without a branch: on real activations the sign is unpredictable, and a
// mispredicted branch per element made ReLU four times slower.
func positive(v float32) uint32 {
	// For bits b, v > 0 iff 1 <= b <= 0x7f800000 as an unsigned integer,
	// i.e. iff b−1 < 0x7f800000 with b−1 wrapping around for b = 0: d is
	// negative exactly then.
	d := int64(math.Float32bits(v)-1) - 0x7f800000
	return uint32(d >> 63)
}

// relu32Fast sets dst = max(x, 0), mapping NaN and −0 to +0 as the
// generic kernel does.
func relu32Fast(dst, x []float32) {
	dst = dst[:len(x)]
	for i, v := range x {
		dst[i] = math.Float32frombits(math.Float32bits(v) & positive(v))
	}
}

// reluGrad32Fast sets dst = g where x > 0, else +0.
func reluGrad32Fast(dst, x, _, g []float32) {
	dst, g = dst[:len(x)], g[:len(x)]
	for i, v := range x {
		dst[i] = math.Float32frombits(math.Float32bits(g[i]) & positive(v))
	}
}

// reluGradY32 is reluGrad32Fast from the output y = relu(x): y > 0
// exactly where x > 0.
func reluGradY32(dst, y, g []float32) { reluGrad32Fast(dst, y, nil, g) }
