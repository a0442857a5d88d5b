//go:build !amd64

package sgemm

func haveFMA() bool { return false }

func tileFor() (int, int) { return 6, 16 }

func kernelsFor(int) ([2][]kernFunc, []wideFunc, bool) { return [2][]kernFunc{}, nil, false }
