//go:build !unix && !windows

package proc

import (
	"errors"
	"os/exec"
)

// Systems that are neither Unix nor Windows (Plan 9, js/wasm, wasip1):
// children are spawned directly and Close kills the direct child only;
// grandchildren can survive it, and so can the whole tree when mcpgw is
// killed. (Linux, macOS and the BSDs run each child under a supervisor,
// Windows puts it in a Job Object, AIX and Solaris kill its process group.)

// SupervisorMain must be called first thing in main() (and in TestMain of
// tests that spawn processes). On this system it does nothing: children are
// always spawned directly.
func SupervisorMain() {}

func supervisorEnabled() bool { return false }

type plainChild struct {
	cmd *exec.Cmd
	res chan error
}

func launch(cmd *exec.Cmd, _ bool) (handle, int, error) {
	if err := cmd.Start(); err != nil {
		return nil, 0, err
	}
	h := &plainChild{cmd: cmd, res: make(chan error, 1)}
	go func() {
		err := cmd.Wait()
		var ee *exec.ExitError
		switch {
		case err == nil:
			h.res <- nil
		case errors.As(err, &ee):
			h.res <- &exitError{code: ee.ExitCode()}
		default:
			h.res <- err
		}
	}()
	return h, cmd.Process.Pid, nil
}

func (h *plainChild) wait() error { return <-h.res }

// terminate does nothing: there is no SIGTERM to send; kill follows.
func (h *plainChild) terminate() {}
func (h *plainChild) kill()      { h.cmd.Process.Kill() }
