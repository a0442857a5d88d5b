//go:build !amd64

package sgemm

func haveFMA() bool { return false }

func tileFor() (int, int) { return 6, 16 }

func kernel(kc int, a, b, c []float32) { panic("sgemm: no kernel on this architecture") }
