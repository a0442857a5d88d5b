//go:build !amd64

package cpuid

func haveFMA() bool    { return false }
func haveAVX512() bool { return false }
