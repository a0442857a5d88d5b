package vmath

import "github.com/keragon/keragon/internal/cpuid"

// Implemented in vmath_amd64.s (gen_amd64.go); n is a multiple of the
// lanes.
//
//go:noescape
func sigmoidAVX512(dst, x *float32, n int)

//go:noescape
func tanhAVX512(dst, x *float32, n int)

//go:noescape
func sigmoidAVX2(dst, x *float32, n int)

//go:noescape
func tanhAVX2(dst, x *float32, n int)

//go:noescape
func rmspropAVX512(w, grad, vel *float32, n int, lr, rho, rho1, eps float32)

//go:noescape
func rmspropAVX2(w, grad, vel *float32, n int, lr, rho, rho1, eps float32)

//go:noescape
func adamAVX512(w, grad, m, vel *float32, n int, b1, b2, alpha, eps float32)

//go:noescape
func adamAVX2(w, grad, m, vel *float32, n int, b1, b2, alpha, eps float32)

//go:noescape
func nonFiniteAVX512(x *float32, n int) int

//go:noescape
func nonFiniteAVX2(x *float32, n int) int

//go:noescape
func lstmGradAAVX512(gh, gc, o, tc, do *float32, n int)

//go:noescape
func lstmGradBAVX512(gh, gc, i, f, gg, cp, di, df, dg *float32, n int)

//go:noescape
func lstmGradAAVX2(gh, gc, o, tc, do *float32, n int)

//go:noescape
func lstmGradBAVX2(gh, gc, i, f, gg, cp, di, df, dg *float32, n int)

var (
	sigmoidVec, tanhVec        = sigmoidAVX512, tanhAVX512
	rmspropVec                 = rmspropAVX512
	adamVec                    = adamAVX512
	nonFiniteVec               = nonFiniteAVX512
	lstmGradAVec, lstmGradBVec = lstmGradAAVX512, lstmGradBAVX512
)

//go:noescape
func biasReLUAVX512(dst, x, b *float32, n int)

//go:noescape
func addBiasAVX512(dst, x, b *float32, n int)

//go:noescape
func reluAVX512(dst, x *float32, n int)

//go:noescape
func reluGradAVX512(dst, x, grad *float32, n int)

//go:noescape
func biasReLUAVX2(dst, x, b *float32, n int)

//go:noescape
func addBiasAVX2(dst, x, b *float32, n int)

//go:noescape
func reluAVX2(dst, x *float32, n int)

//go:noescape
func reluGradAVX2(dst, x, grad *float32, n int)

var (
	biasReLUVec, addBiasVec = biasReLUAVX512, addBiasAVX512
	reluVec                 = reluAVX512
	reluGradVec             = reluGradAVX512
)

func vectorLanes() int {
	switch {
	case cpuid.AVX512:
		return 16
	case cpuid.FMA:
		sigmoidVec, tanhVec, rmspropVec, adamVec = sigmoidAVX2, tanhAVX2, rmspropAVX2, adamAVX2
		lstmGradAVec, lstmGradBVec = lstmGradAAVX2, lstmGradBAVX2
		nonFiniteVec = nonFiniteAVX2
		biasReLUVec, addBiasVec, reluVec, reluGradVec = biasReLUAVX2, addBiasAVX2, reluAVX2, reluGradAVX2
		return 8
	}
	return 0
}
