//go:build !unix

package proc

import "os"

// procKillGroup kills pid. It is reached only where a start time is known,
// which is never on this system (see StartTime).
func procKillGroup(pid int) {
	if p, err := os.FindProcess(pid); err == nil {
		p.Kill()
	}
}

// procExists reports whether a process with this pid exists.
func procExists(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	p.Release()
	return true
}
