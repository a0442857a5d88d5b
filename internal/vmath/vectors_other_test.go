//go:build !amd64

package vmath

type vectorKernel struct {
	name          string
	lanes         int
	sigmoid, tanh func(dst, x *float32, n int)
	rmsprop       func(w, g, v *float32, n int, lr, rho, rho1, eps float32)
}

func vectorKernels() []vectorKernel { return nil }
