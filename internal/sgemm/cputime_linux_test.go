package sgemm

import (
	"syscall"
	"unsafe"
)

// cpuSeconds is the CPU time this process has used (all threads): on a
// shared machine it counts the work, not the waits for a core.
func cpuSeconds() float64 {
	const clockProcessCPUTime = 2 // CLOCK_PROCESS_CPUTIME_ID
	var ts syscall.Timespec
	if _, _, e := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockProcessCPUTime, uintptr(unsafe.Pointer(&ts)), 0); e != 0 {
		return 0
	}
	return float64(ts.Sec) + float64(ts.Nsec)/1e9
}
