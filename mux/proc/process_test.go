//go:build unix

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
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const bigLine = 10 << 20

// fakeMain runs the test binary as a fake child; it returns the exit code.
func fakeMain(mode string) int {
	if os.Getenv("MCPGW_PROC_STUBBORN") == "1" {
		signal.Ignore(syscall.SIGTERM)
	}
	switch mode {
	case "echo":
		w := bufio.NewWriter(os.Stdout)
		fmt.Fprintln(os.Stderr, "fake stderr line")
		w.WriteString("  junk line, not json\n")
		w.WriteString(`{"hello":1}` + "\n\n")
		w.WriteString("  [1,2]\r\n")
		w.WriteString(`{"big":"`)
		w.Write(bytes.Repeat([]byte("a"), bigLine-len(`{"big":""}`)))
		w.WriteString("\"}\nmore junk\n")
		w.Flush()
		io.Copy(os.Stdout, os.Stdin) // echo until stdin closes
		code, _ := strconv.Atoi(os.Getenv("MCPGW_PROC_EXIT"))
		return code
	case "tree":
		gc := exec.Command(os.Args[0])
		gc.Env = append(os.Environ(), "MCPGW_PROC_FAKE=sleep")
		gc.Stderr = os.Stderr
		if os.Getenv("MCPGW_PROC_SETSID") == "1" {
			// Escape the process group: only the subreaper finds it.
			gc.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
		}
		if err := gc.Start(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Printf(`{"pid":%d,"grandchild":%d}`+"\n", os.Getpid(), gc.Process.Pid)
		io.Copy(io.Discard, os.Stdin)
		if os.Getenv("MCPGW_PROC_STUBBORN") != "1" {
			return 0
		}
		fallthrough
	case "sleep":
		for {
			time.Sleep(time.Hour)
		}
	case "helper":
		// Start a tree under the supervisor, report its pids, wait to be killed.
		p, err := Start(Spec{
			Name: "tree", Command: os.Args[0],
			Env: []string{"GORACE=atexit_sleep_ms=0", "MCPGW_PROC_FAKE=tree", "MCPGW_PROC_STUBBORN=1", "MCPGW_PROC_SETSID=1"},
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		line, err := bufio.NewReader(p.stdout()).ReadString('\n')
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		os.Stdout.WriteString(line)
		for {
			time.Sleep(time.Hour)
		}
	}
	return 2
}

type treePIDs struct {
	PID        int `json:"pid"`
	Grandchild int `json:"grandchild"`
}

func eachMode(t *testing.T, f func(t *testing.T, supervise bool)) {
	t.Run("direct", func(t *testing.T) { f(t, false) })
	if runtime.GOOS == "linux" || runtime.GOOS == "darwin" { // the systems with a supervisor that tests can check
		t.Run("supervised", func(t *testing.T) {
			if !supervisorEnabled() {
				t.Fatal("SupervisorMain did not enable the supervisor")
			}
			f(t, true)
		})
	}
}

func startFake(t *testing.T, supervise bool, env ...string) *Process {
	t.Helper()
	// The race runtime sleeps 1s at exit by default: not in fake children.
	env = append([]string{"GORACE=atexit_sleep_ms=0"}, env...)
	p, err := start(Spec{Name: "fake", Command: os.Args[0], Env: env, GracePeriod: time.Second}, supervise)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// pidGone reports whether pid no longer runs (gone, or a zombie).
func pidGone(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return true
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return errors.Is(err, fs.ErrNotExist) && runtime.GOOS == "linux"
	}
	i := bytes.LastIndexByte(b, ')')
	return i > 0 && i+2 < len(b) && (b[i+2] == 'Z' || b[i+2] == 'X')
}

func waitGone(t *testing.T, d time.Duration, pids ...int) {
	t.Helper()
	deadline := time.Now().Add(d)
	for _, pid := range pids {
		for !pidGone(pid) {
			if time.Now().After(deadline) {
				t.Fatalf("pid %d still running after %s", pid, d)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

func TestProcStdoutFiltered(t *testing.T) {
	eachMode(t, func(t *testing.T, supervise bool) {
		p := startFake(t, supervise, "MCPGW_PROC_FAKE=echo", "MCPGW_PROC_EXIT=3")
		r := bufio.NewReader(p.stdout())
		want := []string{`{"hello":1}`, `[1,2]` + "\r"}
		for _, w := range want {
			line, err := r.ReadString('\n')
			if err != nil || line != w+"\n" {
				t.Fatalf("line = %q, %v; want %q", line, err, w+"\n")
			}
		}
		big, err := r.ReadBytes('\n')
		if err != nil || len(big) != bigLine+1 || !bytes.HasPrefix(big, []byte(`{"big":"aaa`)) || !bytes.HasSuffix(big, []byte("aa\"}\n")) {
			t.Fatalf("big line: %d bytes, %v", len(big), err)
		}
		if _, err := io.WriteString(p.Stdin(), `{"echo":true}`+"\nnot json\n"+`{"after":1}`+"\n"); err != nil {
			t.Fatal(err)
		}
		for _, w := range []string{`{"echo":true}`, `{"after":1}`} {
			if line, err := r.ReadString('\n'); err != nil || line != w+"\n" {
				t.Fatalf("echo = %q, %v", line, err)
			}
		}
		p.Stdin().Close()
		<-p.Done()
		if _, err := r.ReadString('\n'); err != io.EOF {
			t.Fatalf("after exit: %v, want EOF", err)
		}
		if err := p.ExitErr(); err == nil || err.Error() != "exited with status 3" {
			t.Fatalf("ExitErr = %v", err)
		}
		tail := strings.Join(p.StderrTail(), "\n")
		for _, w := range []string{"fake stderr line", "stdout (not JSON, diverted): junk line, not json", "diverted): more junk", "diverted): not json"} {
			if !strings.Contains(tail, w) {
				t.Errorf("stderr tail lacks %q:\n%s", w, tail)
			}
		}
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
	})
}

func TestProcCloseKillsTree(t *testing.T) {
	eachMode(t, func(t *testing.T, supervise bool) {
		env := []string{"MCPGW_PROC_FAKE=tree", "MCPGW_PROC_STUBBORN=1"}
		if supervise {
			env = append(env, "MCPGW_PROC_SETSID=1") // only the subreaper catches this one
		}
		p := startFake(t, supervise, env...)
		var pids treePIDs
		if err := json.NewDecoder(p.stdout()).Decode(&pids); err != nil {
			t.Fatal(err)
		}
		if pids.PID != p.PID() || pids.Grandchild == 0 {
			t.Fatalf("pids %+v, PID() %d", pids, p.PID())
		}
		start := time.Now()
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
		// A stubborn tree: stdin closed, the grace period (1 s here), SIGTERM
		// ignored, two thirds of it more, then the kill.
		if took := time.Since(start); took > 3*time.Second {
			t.Errorf("Close took %s; a stop must fit in 3 s", took)
		} else {
			t.Logf("Close took %s", took)
		}
		select {
		case <-p.Done():
		default:
			t.Fatal("Done not closed after Close")
		}
		if err := p.ExitErr(); err == nil || !strings.Contains(err.Error(), "killed by signal SIGKILL") {
			t.Fatalf("ExitErr = %v", err)
		}
		waitGone(t, 5*time.Second, pids.PID, pids.Grandchild)
		p.Close() // idempotent
	})
}

func TestProcChildExitKillsGroup(t *testing.T) {
	// A child that exits on stdin EOF leaves its grandchild behind; it dies too.
	eachMode(t, func(t *testing.T, supervise bool) {
		p := startFake(t, supervise, "MCPGW_PROC_FAKE=tree")
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
}

func TestProcStartErrors(t *testing.T) {
	eachMode(t, func(t *testing.T, supervise bool) {
		if _, err := start(Spec{Command: "mcpgw-no-such-program"}, supervise); err == nil {
			t.Fatal("no error for a missing program")
		}
		dir := t.TempDir()
		notExec := dir + "/server"
		os.WriteFile(notExec, []byte("#!/bin/sh\n"), 0o644)
		_, err := start(Spec{Command: notExec}, supervise)
		if !errors.Is(err, fs.ErrPermission) {
			t.Fatalf("non-executable: %v", err)
		}
	})
}

func TestProcRWC(t *testing.T) {
	eachMode(t, func(t *testing.T, supervise bool) {
		p := startFake(t, supervise, "MCPGW_PROC_FAKE=echo")
		rwc := p.rwc()
		r := bufio.NewReaderSize(rwc, 1<<20)
		for range 3 {
			if _, err := r.ReadBytes('\n'); err != nil {
				t.Fatal(err)
			}
		}
		io.WriteString(rwc, `{"x":1}`+"\n")
		if line, err := r.ReadString('\n'); err != nil || line != `{"x":1}`+"\n" {
			t.Fatalf("%q %v", line, err)
		}
		if err := rwc.Close(); err != nil {
			t.Fatal(err)
		}
		if err := p.ExitErr(); err != nil {
			t.Fatalf("ExitErr = %v (should have exited on stdin EOF)", err)
		}
		if _, err := r.ReadString('\n'); err != io.EOF {
			t.Fatalf("read after Close: %v", err)
		}
	})
}
