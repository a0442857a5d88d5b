//go:build unix

package keras

import "syscall"

// processAlive reports whether a process with this pid runs on this host:
// kill(pid, 0) fails with ESRCH only when there is none (EPERM means one
// runs as another user).
func processAlive(pid int) bool {
	if pid <= 0 {
		return true // never signal a process group
	}
	return syscall.Kill(pid, 0) != syscall.ESRCH
}
