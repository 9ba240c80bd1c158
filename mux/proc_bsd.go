//go:build unix && !linux

package mux

import (
	"os/exec"
	"syscall"
)

// On macOS and the BSDs there is no supervisor yet: children are spawned
// directly in their own process group, and Close (or the child's own exit)
// kills that group. A SIGKILL of mcpgw itself can leave the tree running;
// a watchdog (kqueue NOTE_EXIT on the parent) is the planned fix.

// SupervisorMain must be called first thing in main() (and in TestMain of
// tests that spawn processes). On this system it does nothing: children are
// always spawned directly.
func SupervisorMain() {}

func procSupervisorEnabled() bool { return false }

func procLaunch(cmd *exec.Cmd, _ bool) (procHandle, int, error) {
	d, err := procLaunchDirect(cmd)
	if err != nil {
		return nil, 0, err
	}
	return d, d.pid, nil
}

func procSetDeathSignal(*syscall.SysProcAttr, syscall.Signal) {}

func procLockThread() func() { return func() {} }

// procPeekExit would wait for pid to exit without reaping it; there is no
// portable way here, so it reports false at once.
func procPeekExit(int) bool { return false }
