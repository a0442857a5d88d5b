// Package cpuid says which vector instructions this processor and its
// operating system support, for Keragon's assembly kernels (internal/sgemm,
// internal/vmath).
package cpuid

// FMA reports AVX, AVX2 and FMA, with the YMM state saved by the OS.
var FMA = haveFMA()

// AVX512 reports AVX-512F on top of FMA, with the opmask and ZMM state
// saved by the OS.
var AVX512 = haveAVX512()
