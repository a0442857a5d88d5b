package ops

import (
	"math"

	"github.com/keragon/keragon/internal/vmath"
)

// Fast paths of the built-in activations: float32 slice kernels (ReLU's
// are in activations.go, on internal/vmath) and derivatives from the
// output alone, which the fused ops (Dense, BiasActivation) need. They
// are attached to the kernels of activations.go here, at init, and give
// bitwise the results of the kernels' f and df (TestFastKernelsMatch
// checks every special value).
func init() {
	// y > 0 exactly where x > 0: ReLU's gradient from its output.
	reluK.dfy, reluK.dfy32 = step, vmath.ReLUGrad
	tanhK.dfy, tanhK.dfy32, tanhK.vec32 = func(y float64) float64 { return 1 - y*y }, tanhGradY32, vmath.Tanh
	sigmoidK.dfy, sigmoidK.dfy32, sigmoidK.vec32 = func(y float64) float64 { return y * (1 - y) }, sigmoidGradY32, vmath.Sigmoid
	// hard_sigmoid's slope is 1/6 where 0 < y < 1, i.e. where −3 < x < 3.
	hardSigmoidK.dfy = func(y float64) float64 {
		if y > 0 && y < 1 {
			return 1.0 / 6
		}
		return 0
	}
	// softsign y = x/(1+|x|) has slope 1/(1+|x|)² = (1−|y|)².
	softsignK.dfy = func(y float64) float64 { d := 1 - math.Abs(y); return d * d }
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

// tanhGradY32 sets dst = g·(1−y²) and sigmoidGradY32 dst = g·y(1−y),
// the derivative in float64 rounded to float32 as dfy gives it (bitwise
// what the generic loop computes, without a call per element).
func tanhGradY32(dst, y, g []float32) {
	dst, g = dst[:len(y)], g[:len(y)]
	for i, v := range y {
		w := float64(v)
		dst[i] = g[i] * float32(1-w*w)
	}
}

func sigmoidGradY32(dst, y, g []float32) {
	dst, g = dst[:len(y)], g[:len(y)]
	for i, v := range y {
		w := float64(v)
		dst[i] = g[i] * float32(w*(1-w))
	}
}
