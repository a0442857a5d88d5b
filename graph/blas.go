package graph

import "github.com/keragon/keragon/internal/gemm"

// The BLAS is chosen by build tags in internal/gemm, which ops imports
// too, so that a program gets the same BLAS whether it imports graph or
// only ops: by default internal/sgemm (Go, AVX2/AVX-512 assembly) for
// float32 products, with -tags openblas OpenBLAS through cgo, with -tags
// gonumblas gonum's pure Go.

// BLASName names the BLAS in use: "go-sgemm", "openblas" or "gonum".
const BLASName = gemm.Name

// BLASInfo describes the BLAS in use.
func BLASInfo() string { return gemm.Info() }

// ParallelBLAS runs a single-threaded BLAS on every core, cutting each
// matrix product into blocks of rows or columns of the result that depend
// on its shape only, so that results are bitwise the same with any number
// of cores (see internal/gemm).
type ParallelBLAS = gemm.ParallelBLAS
