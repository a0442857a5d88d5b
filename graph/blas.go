package graph

import (
	"time"

	"github.com/keragon/keragon/internal/gemm"
	"github.com/keragon/keragon/internal/team"
)

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

// SetHelperSpin sets how long the helper goroutines of Keragon's parallel
// kernels (matrix products, elementwise and convolution kernels,
// optimizer updates) stay awake after their last piece of work before
// they park, and returns the previous setting (default 1 ms; 0 parks at
// once). A spinning helper yields to any goroutine ready to run, so it
// takes no core another goroutine wants, but it shows as CPU use: a
// service that answers sparse requests and counts its idle CPU may set 0,
// at the price of a wake-up (90 µs on average measured on a 2-core cloud
// machine) at the start of each parallel section. There are at most
// GOMAXPROCS−1 helpers, started on first use; results do not depend on
// this setting. Safe to call at any time, from any goroutine.
func SetHelperSpin(d time.Duration) time.Duration { return team.SetSpin(d) }
