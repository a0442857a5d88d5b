//go:build !openblas && !gonumblas

package gemm

import (
	"github.com/keragon/keragon/internal/sgemm"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// By default (neither the tag openblas nor gonumblas), float32 matrix
// products use internal/sgemm, Go with AVX-512 or AVX2/FMA assembly
// kernels: no cgo, no C library, over 150 GFLOP/s per core with AVX-512
// against gonum's ~5. sgemm splits a product over GOMAXPROCS goroutines
// itself, sharing nothing but the inputs, and its results do not depend
// on the split. Everything else, float64 products included, is gonum's.
// On processors without AVX2 and FMA it is gonum's Sgemm. The tag
// gonumblas selects gonum's Sgemm everywhere (results differ in the last
// bits).
func init() {
	if sgemm.Available {
		use(goBLAS{}, goBLAS{serial: true})
		return
	}
	use(gonum.Implementation{}, gonum.Implementation{})
}

// Name names the BLAS in use.
const Name = "go-sgemm"

// Info describes the BLAS in use.
func Info() string {
	if !sgemm.Available {
		return "gonum's pure-Go BLAS (no AVX2/FMA for internal/sgemm)"
	}
	return "internal/sgemm (Go, AVX-512 or AVX2/FMA kernels, split over GOMAXPROCS by itself); gonum for the rest"
}

// goBLAS is gonum with internal/sgemm's Sgemm, on one goroutine when
// serial.
type goBLAS struct {
	gonum.Implementation
	serial bool
}

func (g goBLAS) Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	threads := 0
	if g.serial {
		threads = 1
	}
	if !sgemm.SgemmThreads(threads, tA == blas.Trans, tB == blas.Trans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) {
		gonum.Implementation{}.Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	}
}
