//go:build gonumblas && !openblas

package graph

// With the tag gonumblas (and not openblas), Gorgonia keeps gonum's
// pure-Go BLAS for every product; the default build uses internal/sgemm
// for float32 products instead (blas_fastgemm.go).

// BLASName names the BLAS in use.
const BLASName = "gonum"

// BLASInfo describes the BLAS in use.
func BLASInfo() string { return "gonum's pure-Go BLAS (parallel over GOMAXPROCS)" }
