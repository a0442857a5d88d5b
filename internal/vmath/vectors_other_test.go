//go:build !amd64

package vmath

type vectorKernel struct {
	name          string
	lanes         int
	sigmoid, tanh func(dst, x *float32, n int)
}

func vectorKernels() []vectorKernel { return nil }
