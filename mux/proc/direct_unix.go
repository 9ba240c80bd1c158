//go:build unix

package proc

import (
	"os/exec"
	"strconv"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// directChild is a child spawned directly (no supervisor) in its own process
// group. When the child exits, whatever is left of its group is killed.
type directChild struct {
	cmd *exec.Cmd
	pid int
	res chan error

	mu     sync.Mutex
	reaped bool // the leader is reaped: its pgid may be reused, stop signalling
}

// launchDirect starts cmd in its own process group and returns once it
// runs. On Linux the child also gets SIGKILL when mcpgw dies (Pdeathsig),
// which does not reach grandchildren; that is the supervisor's job.
func launchDirect(cmd *exec.Cmd) (*directChild, error) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	setDeathSignal(cmd.SysProcAttr, syscall.SIGKILL)
	d := &directChild{cmd: cmd, res: make(chan error, 1)}
	started := make(chan error, 1)
	go func() {
		// Pdeathsig fires when the thread that forked exits, not the
		// process: fork from a locked thread that stays until the wait.
		unlock := lockThread()
		defer unlock()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		d.pid = cmd.Process.Pid
		started <- nil
		d.res <- d.reap()
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	return d, nil
}

func (d *directChild) reap() error {
	var err error
	if peekExit(d.pid) {
		// The leader has exited but is not reaped yet, so its pgid cannot
		// have been reused: kill what is left of the group, then reap.
		d.mu.Lock()
		syscall.Kill(-d.pid, syscall.SIGKILL)
		err = d.cmd.Wait()
		d.reaped = true
		d.mu.Unlock()
	} else {
		err = d.cmd.Wait()
		d.mu.Lock()
		// Without a way to wait without reaping, there is a short window
		// in which the pgid could be reused; accept it to avoid orphans.
		syscall.Kill(-d.pid, syscall.SIGKILL)
		d.reaped = true
		d.mu.Unlock()
	}
	return exitFromState(d.cmd.ProcessState, err)
}

func (d *directChild) wait() error { return <-d.res }

func (d *directChild) signalGroup(sig syscall.Signal) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.reaped {
		syscall.Kill(-d.pid, sig)
	}
}

func (d *directChild) terminate() { d.signalGroup(syscall.SIGTERM) }
func (d *directChild) kill()      { d.signalGroup(syscall.SIGKILL) }

// exitFromState turns the result of exec.Cmd.Wait into a readable error.
func exitFromState(ps interface{ Sys() any }, waitErr error) error {
	if ps != nil {
		if ws, ok := ps.Sys().(syscall.WaitStatus); ok {
			return exitFromStatus(ws)
		}
	}
	return waitErr
}

// exitFromStatus describes a wait status; nil for exit status 0.
func exitFromStatus(ws syscall.WaitStatus) error {
	switch {
	case ws.Exited():
		if ws.ExitStatus() == 0 {
			return nil
		}
		return &exitError{code: ws.ExitStatus()}
	case ws.Signaled():
		return &exitError{code: -1, signal: signalName(ws.Signal())}
	}
	return &exitError{code: -1, signal: "unknown (wait status " + strconv.Itoa(int(ws)) + ")"}
}

func signalName(sig syscall.Signal) string {
	if name := unix.SignalName(sig); name != "" {
		return name
	}
	return strconv.Itoa(int(sig))
}
