package sgemm

// Implemented in cpu_amd64.s.
func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)
func xgetbv() (eax, edx uint32)

//go:noescape
func kern6x16(kc int, a, b, c *float32)

//go:noescape
func kern12x32(kc int, a, b, c *float32)

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

// kernel computes an mr×nr tile (see kern6x16 and kern12x32).
func kernel(kc int, a, b, c []float32) {
	_ = a[kc*mr-1]
	_ = b[kc*nr-1]
	_ = c[mr*nr-1]
	if nr == 32 {
		kern12x32(kc, &a[0], &b[0], &c[0])
		return
	}
	kern6x16(kc, &a[0], &b[0], &c[0])
}
