//go:build unix

package proc

import "syscall"

// procKillGroup kills pid's process group and pid itself (a server is the
// leader of its own group; a descendant that left the group still dies
// with the leader's group only if it stayed).
func procKillGroup(pid int) {
	syscall.Kill(-pid, syscall.SIGKILL)
	syscall.Kill(pid, syscall.SIGKILL)
}

// procExists reports whether a process with this pid exists (signal 0).
func procExists(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || err == syscall.EPERM
}
