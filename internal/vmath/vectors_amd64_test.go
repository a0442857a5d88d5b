package vmath

import "github.com/keragon/keragon/internal/cpuid"

type vectorKernel struct {
	name          string
	lanes         int
	sigmoid, tanh func(dst, x *float32, n int)
	rmsprop       func(w, g, v *float32, n int, lr, rho, rho1, eps float32)
	adam          func(w, g, m, v *float32, n int, b1, b2, alpha, eps float32)
	lstmA         func(gh, gc, o, tc, do *float32, n int)
	lstmB         func(gh, gc, i, f, gg, cp, di, df, dg *float32, n int)
	nonFinite     func(x *float32, n int) int
	biasReLU      func(dst, x, b *float32, n int)
	addBias       func(dst, x, b *float32, n int)
	relu          func(dst, x *float32, n int)
	reluGrad      func(dst, x, g *float32, n int)
}

func vectorKernels() []vectorKernel {
	var out []vectorKernel
	if cpuid.FMA {
		out = append(out, vectorKernel{"avx2", 8, sigmoidAVX2, tanhAVX2, rmspropAVX2, adamAVX2, lstmGradAAVX2, lstmGradBAVX2, nonFiniteAVX2,
			biasReLUAVX2, addBiasAVX2, reluAVX2, reluGradAVX2})
	}
	if cpuid.AVX512 {
		out = append(out, vectorKernel{"avx512", 16, sigmoidAVX512, tanhAVX512, rmspropAVX512, adamAVX512, lstmGradAAVX512, lstmGradBAVX512, nonFiniteAVX512,
			biasReLUAVX512, addBiasAVX512, reluAVX512, reluGradAVX512})
	}
	return out
}
