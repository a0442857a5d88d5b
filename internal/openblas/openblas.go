//go:build openblas

// Package openblas links Debian's OpenBLAS (libopenblas-dev) into a
// program built with the tag openblas, so that no CGO_LDFLAGS are needed,
// and exposes the few settings Keragon uses.
package openblas

// #cgo LDFLAGS: -lopenblas
// void openblas_set_num_threads(int);
// int openblas_get_num_threads(void);
// char* openblas_get_config(void);
// char* openblas_get_corename(void);
import "C"

// SetThreads sets the number of threads OpenBLAS uses for each call.
func SetThreads(n int) { C.openblas_set_num_threads(C.int(n)) }

// Threads returns the number of threads OpenBLAS uses for each call.
func Threads() int { return int(C.openblas_get_num_threads()) }

// Config describes the library: version and build options.
func Config() string { return C.GoString(C.openblas_get_config()) }

// CoreName is the kernel OpenBLAS chose for this processor ("Haswell",
// "SkylakeX", or "Prescott" when it fell back to a generic one).
func CoreName() string { return C.GoString(C.openblas_get_corename()) }
