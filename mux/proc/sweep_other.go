//go:build !unix

package proc

import "os"

// killGroup kills pid. It is reached only where a start time is known,
// which is never on this system (see StartTime).
func killGroup(pid int) {
	if p, err := os.FindProcess(pid); err == nil {
		p.Kill()
	}
}

// pidExists reports whether a process with this pid exists.
func pidExists(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	p.Release()
	return true
}
