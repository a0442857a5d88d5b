//go:build openblas

package gemm

import (
	"fmt"

	"github.com/keragon/keragon/internal/openblas"
	"gonum.org/v1/netlib/blas/netlib"
)

// With the build tag openblas, Gorgonia and Keragon's own kernels use
// OpenBLAS through cgo instead of gonum's pure-Go BLAS: one flag, given
// Debian's libopenblas-dev,
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
// fast one (~300 GFLOP/s on two cores). Info names the kernel chosen.
func init() {
	openblas.SetThreads(1)
	use(ParallelBLAS{netlib.Implementation{}}, netlib.Implementation{})
}

// Name names the BLAS in use.
const Name = "openblas"

// Info describes the BLAS in use: OpenBLAS's configuration and the kernel
// it chose for this processor.
func Info() string {
	return fmt.Sprintf("%s, core %s, %d thread per call, split over GOMAXPROCS by ParallelBLAS",
		openblas.Config(), openblas.CoreName(), openblas.Threads())
}
