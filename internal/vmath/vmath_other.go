//go:build !amd64

package vmath

func vectorLanes() int { return 0 }

func sigmoidVec(dst, x *float32, n int) { panic("vmath: no vector kernel") }
func tanhVec(dst, x *float32, n int)    { panic("vmath: no vector kernel") }
