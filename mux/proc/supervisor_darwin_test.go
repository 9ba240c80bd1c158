package proc

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// parentPID returns the parent pid of pid, or 0.
func parentPID(pid int) int {
	k, err := unix.SysctlKinfoProc("kern.proc.pid", pid)
	if err != nil || int(k.Proc.P_pid) != pid {
		return 0
	}
	return int(k.Eproc.Ppid)
}

// The tests of process_test.go run the direct mode here; these run the
// supervisor (supervisor_bsd.go).

func TestProcSupervisedDarwin(t *testing.T) {
	if !supervisorEnabled() {
		t.Fatal("SupervisorMain did not enable the supervisor")
	}
	t.Run("echo", func(t *testing.T) {
		p := startFake(t, true, "MCPGW_PROC_FAKE=echo", "MCPGW_PROC_EXIT=3")
		r := bufio.NewReaderSize(p.stdout(), 1<<20)
		if line, err := r.ReadString('\n'); err != nil || line != `{"hello":1}`+"\n" {
			t.Fatalf("line = %q, %v", line, err)
		}
		if sup := parentPID(p.PID()); sup == os.Getpid() || parentPID(sup) != os.Getpid() {
			t.Fatalf("server %d's parent %d is not a supervisor started by the test %d", p.PID(), sup, os.Getpid())
		}
		go io.Copy(io.Discard, r) // the rest, a 10 MiB line among it
		p.Stdin().Close()
		<-p.Done()
		if err := p.ExitErr(); err == nil || err.Error() != "exited with status 3" {
			t.Fatalf("ExitErr = %v", err)
		}
		if !strings.Contains(strings.Join(p.StderrTail(), "\n"), "fake stderr line") {
			t.Errorf("stderr tail: %q", p.StderrTail())
		}
	})
	t.Run("close kills the tree", func(t *testing.T) {
		// The grandchild leaves the group (setsid): only the walk of the
		// process table finds it.
		p := startFake(t, true, "MCPGW_PROC_FAKE=tree", "MCPGW_PROC_STUBBORN=1", "MCPGW_PROC_SETSID=1")
		var pids treePIDs
		if err := json.NewDecoder(p.stdout()).Decode(&pids); err != nil {
			t.Fatal(err)
		}
		if pids.PID != p.PID() || pids.Grandchild == 0 {
			t.Fatalf("pids %+v, PID() %d", pids, p.PID())
		}
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
		if err := p.ExitErr(); err == nil || !strings.Contains(err.Error(), "killed by signal SIGKILL") {
			t.Fatalf("ExitErr = %v", err)
		}
		waitGone(t, 5*time.Second, pids.PID, pids.Grandchild)
	})
	t.Run("child exit kills its group", func(t *testing.T) {
		p := startFake(t, true, "MCPGW_PROC_FAKE=tree")
		var pids treePIDs
		if err := json.NewDecoder(p.stdout()).Decode(&pids); err != nil {
			t.Fatal(err)
		}
		p.Stdin().Close()
		<-p.Done()
		if err := p.ExitErr(); err != nil {
			t.Fatalf("ExitErr = %v", err)
		}
		waitGone(t, 5*time.Second, pids.PID, pids.Grandchild)
	})
	t.Run("start errors", func(t *testing.T) {
		if _, err := start(Spec{Command: "mcpgw-no-such-program"}, true); err == nil {
			t.Fatal("no error for a missing program")
		}
		notExec := t.TempDir() + "/server"
		os.WriteFile(notExec, []byte("#!/bin/sh\n"), 0o644)
		if _, err := start(Spec{Command: notExec}, true); !errors.Is(err, fs.ErrPermission) {
			t.Fatalf("non-executable: %v", err)
		}
	})
}

// TestProcSupervisorOutlivesKilledParentDarwin SIGKILLs a process that
// started a tree through the supervisor and checks that the whole tree dies
// with it: the supervisor's kqueue watch on its parent fires.
func TestProcSupervisorOutlivesKilledParentDarwin(t *testing.T) {
	helper := exec.Command(os.Args[0])
	helper.Env = append(os.Environ(), "MCPGW_PROC_FAKE=helper", "GORACE=atexit_sleep_ms=0")
	helper.Stderr = os.Stderr
	out, err := helper.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := helper.Start(); err != nil {
		t.Fatal(err)
	}
	defer helper.Process.Kill()
	line, err := bufio.NewReader(out).ReadBytes('\n')
	if err != nil {
		helper.Process.Kill()
		helper.Wait()
		t.Fatalf("helper: %v", err)
	}
	var pids treePIDs
	if err := json.Unmarshal(line, &pids); err != nil {
		t.Fatal(err)
	}
	sup := parentPID(pids.PID)
	if parentPID(sup) != helper.Process.Pid {
		t.Fatalf("server %d's parent %d is not the helper %d's child", pids.PID, sup, helper.Process.Pid)
	}
	for _, pid := range []int{sup, pids.PID, pids.Grandchild} {
		if pidGone(pid) {
			t.Fatalf("pid %d not running before the kill", pid)
		}
	}
	helper.Process.Kill() // SIGKILL
	helper.Wait()
	waitGone(t, 5*time.Second, pids.PID, pids.Grandchild, sup)
}

func TestProcPeekExitDarwin(t *testing.T) {
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "MCPGW_PROC_FAKE=sleep")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	peeked := make(chan bool, 1)
	go func() { peeked <- peekExit(cmd.Process.Pid) }()
	select {
	case <-peeked:
		t.Fatal("peekExit returned while the child runs")
	case <-time.After(200 * time.Millisecond):
	}
	cmd.Process.Signal(syscall.SIGKILL)
	select {
	case ok := <-peeked:
		if !ok {
			t.Fatal("peekExit = false")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("peekExit did not return after the child was killed")
	}
	// Not reaped: Wait still sees how it died; and a zombie is seen at once.
	if !peekExit(cmd.Process.Pid) {
		t.Error("peekExit on a zombie = false")
	}
	err := cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("Wait = %v, %v", err, cmd.ProcessState)
	}
}

func TestProcKillTreeDarwin(t *testing.T) {
	if kids := childTable(); !slices.Contains(kids[os.Getppid()], os.Getpid()) {
		t.Fatalf("process table: %d is not a child of %d", os.Getpid(), os.Getppid())
	}
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "MCPGW_PROC_FAKE=tree", "MCPGW_PROC_STUBBORN=1", "MCPGW_PROC_SETSID=1", "GORACE=atexit_sleep_ms=0")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdin, _ := cmd.StdinPipe()
	defer stdin.Close()
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	var pids treePIDs
	if err := json.NewDecoder(out).Decode(&pids); err != nil {
		t.Fatal(err)
	}
	if n := killTree(pids.PID); n != 2 {
		t.Errorf("killTree signalled %d processes, want 2", n)
	}
	cmd.Wait()
	waitGone(t, 5*time.Second, pids.PID, pids.Grandchild)
}
