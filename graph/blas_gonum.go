//go:build !openblas && !fastgemm

package graph

// BLASName names the BLAS in use: gonum's pure-Go implementation, unless
// built with the tag openblas (see blas_openblas.go).
const BLASName = "gonum"

// BLASInfo describes the BLAS in use.
func BLASInfo() string { return "gonum's pure-Go BLAS (parallel over GOMAXPROCS)" }
