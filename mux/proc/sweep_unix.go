//go:build unix

package proc

import "syscall"

// killGroup kills pid's process group and pid itself (a server is the
// leader of its own group; a descendant that left the group still dies
// with the leader's group only if it stayed).
func killGroup(pid int) {
	syscall.Kill(-pid, syscall.SIGKILL)
	syscall.Kill(pid, syscall.SIGKILL)
}

// pidExists reports whether a process with this pid exists (signal 0).
func pidExists(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || err == syscall.EPERM
}
