//go:build !amd64

package vmath

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

func vectorKernels() []vectorKernel { return nil }
