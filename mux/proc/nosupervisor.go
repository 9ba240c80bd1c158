//go:build aix || solaris

package proc

import (
	"os/exec"
	"syscall"
)

// AIX, Solaris and illumos have no supervisor: children are spawned directly
// in their own process group, and Close (or the child's own exit) kills that
// group (direct_unix.go). A SIGKILL of mcpgw itself can leave the tree running.

// SupervisorMain must be called first thing in main() (and in TestMain of
// tests that spawn processes). On this system it does nothing: children are
// always spawned directly. (Linux, macOS and the BSDs run each child under a
// supervisor; Windows puts it in a Job Object.)
func SupervisorMain() {}

func supervisorEnabled() bool { return false }

func launch(cmd *exec.Cmd, _ bool) (handle, int, error) {
	d, err := launchDirect(cmd)
	if err != nil {
		return nil, 0, err
	}
	return d, d.pid, nil
}

func setDeathSignal(*syscall.SysProcAttr, syscall.Signal) {}

func lockThread() func() { return func() {} }

// peekExit would wait for pid to exit without reaping it; there is no
// way here, so it reports false at once.
func peekExit(int) bool { return false }
