package proc

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestProcSupervisorOutlivesKilledParent SIGKILLs a process that started a
// tree through the supervisor and checks that the whole tree dies with it.
func TestProcSupervisorOutlivesKilledParent(t *testing.T) {
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
	if parentPID(pids.Grandchild) == pids.PID {
		t.Logf("grandchild %d is a child of the server %d, in its own session", pids.Grandchild, pids.PID)
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

func TestProcKillDescendants(t *testing.T) {
	// killDescendants must never touch the caller itself or unrelated
	// processes; with no children it signals nothing.
	if n := killDescendants(os.Getpid()); n != 0 {
		t.Fatalf("killed %d processes of a test binary without children", n)
	}
}

// TestProcSupervisedOutlivesForkingThread starts a server from a goroutine
// that then exits locked to its thread, so the thread that forked the
// supervisor dies while this process lives on: the server must keep
// running and exit cleanly when its stdin closes. (A parent-death signal on
// the supervisor, tied to that thread, would have had it killed.)
func TestProcSupervisedOutlivesForkingThread(t *testing.T) {
	type started struct {
		p   *Process
		tid int
		err error
	}
	var s started
	for s.p == nil && s.err == nil {
		c := make(chan started, 1)
		go func() {
			runtime.LockOSThread()
			if syscall.Gettid() == os.Getpid() {
				// The runtime never ends the main thread (it parks it
				// instead): try again on another.
				runtime.UnlockOSThread()
				c <- started{}
				return
			}
			// Never unlocked: the thread ends with this goroutine.
			p, err := start(Spec{Name: "fake", Command: os.Args[0], Env: []string{"GORACE=atexit_sleep_ms=0", "MCPGW_PROC_FAKE=echo"}}, true)
			c <- started{p, syscall.Gettid(), err}
		}()
		s = <-c
	}
	if s.err != nil {
		t.Fatal(s.err)
	}
	t.Cleanup(func() { s.p.Close() })
	task := fmt.Sprintf("/proc/self/task/%d", s.tid)
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if _, err := os.Stat(task); errors.Is(err, fs.ErrNotExist) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("thread %d still there after its locked goroutine returned", s.tid)
		}
	}
	r := bufio.NewReader(s.p.stdout())
	for { // what it prints at start ends with the big line
		line, err := r.ReadBytes('\n')
		if err != nil {
			t.Fatalf("reading the server's first lines: %v", err)
		}
		if bytes.HasPrefix(line, []byte(`{"big"`)) {
			break
		}
	}
	msg := `{"after":"the forking thread exited"}` + "\n"
	if _, err := io.WriteString(s.p.Stdin(), msg); err != nil {
		t.Fatal(err)
	}
	if got, err := r.ReadString('\n'); err != nil || got != msg {
		t.Fatalf("got %.200q, %v; want the echo %q", got, err, msg)
	}
	s.p.Stdin().Close()
	<-s.p.Done()
	if err := s.p.ExitErr(); err != nil {
		t.Fatalf("the server did not exit cleanly: %v", err)
	}
}

// TestProcSupervisorReleasesExecutablePages checks that a supervisor, once
// its server runs, gives up the pages of the binary its start touched.
func TestProcSupervisorReleasesExecutablePages(t *testing.T) {
	p, err := start(Spec{Name: "fake", Command: os.Args[0], Env: []string{"GORACE=atexit_sleep_ms=0", "MCPGW_PROC_FAKE=echo"}}, true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	sup := parentPID(p.PID())
	first := rssFileKiB(t, sup)
	// Nothing announces the release: watch the supervisor's resident
	// file pages fall, releaseAfter after its server started.
	for deadline := time.Now().Add(releaseAfter + 5*time.Second); ; time.Sleep(20 * time.Millisecond) {
		now := rssFileKiB(t, sup)
		if now*2 < first {
			t.Logf("supervisor %d: file-backed pages resident %d kB → %d kB", sup, first, now)
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("supervisor %d: file-backed pages resident %d kB at start, still %d kB", sup, first, now)
		}
	}
}

// rssFileKiB reads a process's resident file-backed pages.
func rssFileKiB(t *testing.T, pid int) int {
	t.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(status)) {
		if v, ok := strings.CutPrefix(line, "RssFile:"); ok {
			kb, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			if err != nil {
				t.Fatalf("RssFile in /proc/%d/status: %v", pid, err)
			}
			return kb
		}
	}
	t.Fatalf("no RssFile in /proc/%d/status", pid)
	return 0
}

// TestProcSupervisorSilentFailsStart has a supervisor that never reports:
// the start fails with an error saying so once reportTimeout has
// passed, and the supervisor is gone.
func TestProcSupervisorSilentFailsStart(t *testing.T) {
	defer func(d time.Duration) { reportTimeout = d }(reportTimeout)
	reportTimeout = 300 * time.Millisecond
	p, err := start(Spec{Name: "fake", Command: os.Args[0], Env: []string{"GORACE=atexit_sleep_ms=0", "MCPGW_PROC_FAKE=echo", "MCPGW_PROC_SUPERVISOR_HANG=1"}}, true)
	if err == nil {
		p.Close()
		t.Fatal("started, through a supervisor that never reported")
	}
	if !strings.Contains(err.Error(), "no word from it in 300ms") {
		t.Errorf("error %q; want it to say the supervisor did not report", err)
	}
	// Reaped, not only killed: no process with its environment is left.
	procs, _ := filepath.Glob("/proc/[0-9]*/environ")
	for _, f := range procs {
		env, _ := os.ReadFile(f)
		if bytes.Contains(env, []byte("MCPGW_PROC_SUPERVISOR_HANG=1\x00")) {
			t.Errorf("%s: the silent supervisor is still there", filepath.Dir(f))
		}
	}
}

// TestStartUnsupervised checks that Start runs a child under a supervisor
// (the child's parent is a child of this process) unless its Spec says
// Unsupervised (its parent is this process).
func TestStartUnsupervised(t *testing.T) {
	for _, unsupervised := range []bool{false, true} {
		p, err := Start(Spec{Name: "fake", Command: os.Args[0], Env: []string{"GORACE=atexit_sleep_ms=0", "MCPGW_PROC_FAKE=sleep"}, GracePeriod: 100 * time.Millisecond, Unsupervised: unsupervised})
		if err != nil {
			t.Fatal(err)
		}
		parent := parentPID(p.PID())
		supervised := parent != os.Getpid() && parentPID(parent) == os.Getpid()
		p.Close()
		if supervised == unsupervised {
			t.Errorf("Unsupervised: %v: the child's parent is %d (this process: %d); supervised = %v", unsupervised, parent, os.Getpid(), supervised)
		}
	}
}
