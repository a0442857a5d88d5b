package vmath

import "github.com/keragon/keragon/internal/cpuid"

type vectorKernel struct {
	name          string
	lanes         int
	sigmoid, tanh func(dst, x *float32, n int)
}

func vectorKernels() []vectorKernel {
	var out []vectorKernel
	if cpuid.FMA {
		out = append(out, vectorKernel{"avx2", 8, sigmoidAVX2, tanhAVX2})
	}
	if cpuid.AVX512 {
		out = append(out, vectorKernel{"avx512", 16, sigmoidAVX512, tanhAVX512})
	}
	return out
}
