//go:build !openblas && !gonumblas

package gemm

import (
	"github.com/keragon/keragon/internal/sgemm"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// By default (neither the tag openblas nor gonumblas), float32 matrix
// products use internal/sgemm, Go with an AVX2/FMA (or AVX-512) assembly
// kernel: no cgo, no C library, ~50–60 GFLOP/s per core against gonum's
// ~4–6, split over GOMAXPROCS by ParallelBLAS. Everything else, float64
// products included, is gonum's. On processors without AVX2 and FMA it is
// gonum's Sgemm. The tag gonumblas selects gonum's Sgemm everywhere (the
// build the first accuracy figures were measured with; results differ in
// the last bits).
func init() {
	if sgemm.Available {
		use(fastBLAS{ParallelBLAS{goKernel{}}})
		return
	}
	use(gonum.Implementation{})
}

// Name names the BLAS in use.
const Name = "go-sgemm"

// Info describes the BLAS in use.
func Info() string {
	if !sgemm.Available {
		return "gonum's pure-Go BLAS (no AVX2/FMA for internal/sgemm)"
	}
	return "internal/sgemm (Go, AVX2/FMA or AVX-512 kernel) split over GOMAXPROCS by ParallelBLAS; gonum for the rest"
}

// goKernel is gonum with internal/sgemm's Sgemm.
type goKernel struct{ gonum.Implementation }

func (goKernel) Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if !sgemm.Sgemm(tA == blas.Trans, tB == blas.Trans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) {
		gonum.Implementation{}.Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	}
}

// fastBLAS leaves float64 products to gonum, which parallelises them
// itself.
type fastBLAS struct{ ParallelBLAS }

func (fastBLAS) Dgemm(tA, tB blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	gonum.Implementation{}.Dgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}
