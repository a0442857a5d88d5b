//go:build openblas

package graph

import (
	"gonum.org/v1/netlib/blas/netlib"
	"gorgonia.org/gorgonia"
)

// With the build tag openblas, Gorgonia (and Keragon's own kernels, which
// ask gorgonia.WhichBLAS) use OpenBLAS through cgo instead of gonum's
// pure-Go BLAS. It needs Debian's libopenblas-dev and
// CGO_LDFLAGS=-lopenblas:
//
//	CGO_LDFLAGS=-lopenblas go run -tags openblas ./examples/mnist_mlp
//
// Debian's OpenBLAS 0.3.21 does not recognise recent Xeons and falls back
// to a generic kernel; OPENBLAS_CORETYPE=SkylakeX (or Haswell) selects the
// fast one. Set OPENBLAS_NUM_THREADS deliberately on shared machines.
func init() { gorgonia.Use(netlib.Implementation{}) }

// BLASName names the BLAS in use.
const BLASName = "openblas"
