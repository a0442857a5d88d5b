//go:build gonumblas && !openblas

package gemm

import "gonum.org/v1/gonum/blas/gonum"

// With the tag gonumblas (and not openblas), every product is gonum's
// pure Go; the default build uses internal/sgemm for float32 products
// instead (blas_default.go).
func init() { use(gonum.Implementation{}, gonum.Implementation{}) }

// Name names the BLAS in use.
const Name = "gonum"

// Info describes the BLAS in use.
func Info() string { return "gonum's pure-Go BLAS (parallel over GOMAXPROCS)" }
