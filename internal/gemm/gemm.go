// Package gemm is Keragon's one home for matrix products: which BLAS
// runs them, chosen at build time, and the entry point every kernel calls.
//
// The default build multiplies float32 matrices with internal/sgemm (Go
// with AVX2/AVX-512 assembly, no cgo); the tag openblas uses OpenBLAS
// through cgo, single-threaded and split over the cores by ParallelBLAS;
// the tag gonumblas uses gonum's pure Go everywhere. The package's init
// also hands the choice to Gorgonia (gorgonia.Use), so Gorgonia's own
// operations and Keragon's kernels use the same BLAS whichever package a
// program imports first: ops, graph and everything above them import this
// one.
package gemm

import (
	"gonum.org/v1/gonum/blas"
	"gorgonia.org/gorgonia"
)

// impl is the BLAS of this build, set by the init of the build's file
// (blas_default.go, blas_openblas.go or blas_gonum.go); serial is the
// same BLAS on the calling goroutine alone.
var impl, serial gorgonia.BLAS

// Implementation returns the BLAS this build uses (the one also given to
// gorgonia.Use).
func Implementation() gorgonia.BLAS { return impl }

// Gemm sets c = alpha·op(a)·op(b) + beta·c for row-major matrices, op(a)
// m×k and op(b) k×n, op transposing when the flag says so; lda, ldb and
// ldc are the row strides as stored. With beta = 0, c is not read.
func Gemm[T float32 | float64](transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	call(impl, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// Serial is Gemm on the calling goroutine alone, for kernels that split
// their work over the cores themselves (a product per block of a batch):
// the blocks must not each fan out again.
func Serial[T float32 | float64](transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	call(serial, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

func call[T float32 | float64](impl gorgonia.BLAS, transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	ta, tb := blas.NoTrans, blas.NoTrans
	if transA {
		ta = blas.Trans
	}
	if transB {
		tb = blas.Trans
	}
	switch a := any(a).(type) {
	case []float32:
		impl.Sgemm(ta, tb, m, n, k, float32(alpha), a, lda, any(b).([]float32), ldb, float32(beta), any(c).([]float32), ldc)
	case []float64:
		impl.Dgemm(ta, tb, m, n, k, float64(alpha), a, lda, any(b).([]float64), ldb, float64(beta), any(c).([]float64), ldc)
	}
}

// use makes b this build's BLAS, for Keragon and for Gorgonia, and one
// its single-goroutine form.
func use(b, one gorgonia.BLAS) {
	impl, serial = b, one
	gorgonia.Use(b)
}
