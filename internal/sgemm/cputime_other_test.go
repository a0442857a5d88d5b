//go:build !linux

package sgemm

func cpuSeconds() float64 { return 0 }
