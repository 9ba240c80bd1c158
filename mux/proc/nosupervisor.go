//go:build aix || solaris

package proc

import (
	"os/exec"
	"syscall"
)

// AIX, Solaris and illumos have no supervisor: children are spawned directly
// in their own process group, and Close (or the child's own exit) kills that
// group (proc_unix.go). A SIGKILL of mcpgw itself can leave the tree running.

// SupervisorMain must be called first thing in main() (and in TestMain of
// tests that spawn processes). On this system it does nothing: children are
// always spawned directly. (Linux, macOS and the BSDs run each child under a
// supervisor; Windows puts it in a Job Object.)
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
// way here, so it reports false at once.
func procPeekExit(int) bool { return false }
