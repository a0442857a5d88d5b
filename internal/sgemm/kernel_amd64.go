package sgemm

// Implemented in cpu_amd64.s.
func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)
func xgetbv() (eax, edx uint32)

// haveFMA reports whether the processor and the OS support AVX2 and FMA.
func haveFMA() bool {
	maxID, _, _, _ := cpuid(0, 0)
	if maxID < 7 {
		return false
	}
	_, _, ecx1, _ := cpuid(1, 0)
	const fma, osxsave, avx = 1 << 12, 1 << 27, 1 << 28
	if ecx1&(fma|osxsave|avx) != fma|osxsave|avx {
		return false
	}
	if xcr0, _ := xgetbv(); xcr0&6 != 6 { // XMM and YMM state saved by the OS
		return false
	}
	_, ebx7, _, _ := cpuid(7, 0)
	return ebx7&(1<<5) != 0 // AVX2
}

// haveAVX512 reports whether the processor and the OS support AVX-512F.
func haveAVX512() bool {
	if !haveFMA() {
		return false
	}
	if xcr0, _ := xgetbv(); xcr0&0xe6 != 0xe6 { // opmask and ZMM state saved
		return false
	}
	_, ebx7, _, _ := cpuid(7, 0)
	return ebx7&(1<<16) != 0
}

// tileFor returns the kernel's tile: 12×32 with AVX-512, else 6×16.
func tileFor() (int, int) {
	if haveAVX512() {
		return 12, 32
	}
	return 6, 16
}

// kernelsFor returns the kernels of an nr-wide tile (see kernFunc) and
// whether they mask partial tiles.
func kernelsFor(nr int) ([2][]kernFunc, bool) {
	if nr == 32 {
		return [2][]kernFunc{kernels32[0][:], kernels32[1][:]}, true
	}
	return [2][]kernFunc{kernels16[0][:], kernels16[1][:]}, false
}
