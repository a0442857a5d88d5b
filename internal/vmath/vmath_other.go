//go:build !amd64

package vmath

func vectorLanes() int { return 0 }

// No vector kernels here: lanes is 0 and these are never called.
var (
	sigmoidVec, tanhVec func(dst, x *float32, n int)
	rmspropVec          func(w, g, v *float32, n int, lr, rho, rho1, eps float32)
	adamVec             func(w, g, m, v *float32, n int, b1, b2, alpha, eps float32)
	nonFiniteVec        func(x *float32, n int) int
	lstmGradAVec        func(gh, gc, o, tc, do *float32, n int)
	lstmGradBVec        func(gh, gc, i, f, gg, cp, di, df, dg *float32, n int)
	biasReLUVec         func(dst, x, b *float32, n int)
	addBiasVec          func(dst, x, b *float32, n int)
	reluVec             func(dst, x *float32, n int)
	reluGradVec         func(dst, x, g *float32, n int)
)
