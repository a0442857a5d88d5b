package sgemm

import "github.com/keragon/keragon/internal/cpuid"

func haveFMA() bool { return cpuid.FMA }

// tileFor returns the kernel's tile: 12×32 with AVX-512, else 6×16.
func tileFor() (int, int) {
	if cpuid.AVX512 {
		return 12, 32
	}
	return 6, 16
}

// kernelsFor returns the kernels of an nr-wide tile (see kernFunc), the
// wide kernels (see wideFunc) and whether the kernels mask partial tiles.
func kernelsFor(nr int) ([2][]kernFunc, []wideFunc, bool) {
	if nr == 32 {
		return [2][]kernFunc{kernels32[0][:], kernels32[1][:]}, wide32, true
	}
	return [2][]kernFunc{kernels16[0][:], kernels16[1][:]}, wide16, false
}
