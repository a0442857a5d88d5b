//go:build openblas

package graph

import (
	"fmt"

	"github.com/keragon/keragon/internal/openblas"
	"gonum.org/v1/netlib/blas/netlib"
	"gorgonia.org/gorgonia"
)

// With the build tag openblas, Gorgonia and Keragon's own kernels (which
// ask gorgonia.WhichBLAS) use OpenBLAS through cgo instead of gonum's
// pure-Go BLAS: one flag, given Debian's libopenblas-dev,
//
//	go run -tags openblas ./examples/mnist_mlp
//
// OpenBLAS runs single-threaded, and ParallelBLAS spreads each product
// over GOMAXPROCS goroutines: two thread pools on the same cores (OpenBLAS's
// threads spin for a while after each call) slowed everything else down,
// and the results now do not depend on the number of threads.
// OPENBLAS_NUM_THREADS is therefore overridden; GOMAXPROCS is the knob.
//
// Debian's OpenBLAS 0.3.21 does not recognise recent Xeons and falls back
// to a generic kernel (sgemm ~40–60 GFLOP/s on this project's machines);
// OPENBLAS_CORETYPE=SkylakeX (or Haswell) in the environment selects the
// fast one (~300 GFLOP/s on two cores). BLASInfo names the kernel chosen.
func init() {
	openblas.SetThreads(1)
	gorgonia.Use(ParallelBLAS{netlib.Implementation{}})
}

// BLASName names the BLAS in use.
const BLASName = "openblas"

// BLASInfo describes the BLAS in use: OpenBLAS's configuration and the
// kernel it chose for this processor.
func BLASInfo() string {
	return fmt.Sprintf("%s, core %s, %d thread per call, split over GOMAXPROCS by ParallelBLAS",
		openblas.Config(), openblas.CoreName(), openblas.Threads())
}
