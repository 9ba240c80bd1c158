package proc

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/windows"
)

// fakeMain runs the test binary as a fake child; it returns the exit code.
func fakeMain(mode string) int {
	if os.Getenv("MCPGW_PROC_STUBBORN") == "1" {
		// Handled, CTRL_BREAK does not end the process.
		signal.Notify(make(chan os.Signal, 1), os.Interrupt)
	}
	switch mode {
	case "echo":
		fmt.Fprintln(os.Stderr, "fake stderr line")
		os.Stdout.WriteString("junk line, not json\n" + `{"hello":1}` + "\n")
		io.Copy(os.Stdout, os.Stdin) // echo until stdin closes
		code, _ := strconv.Atoi(os.Getenv("MCPGW_PROC_EXIT"))
		return code
	case "tree":
		gc := exec.Command(os.Args[0])
		gc.Env = append(os.Environ(), "MCPGW_PROC_FAKE=sleep")
		gc.Stderr = os.Stderr
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
		// Start a tree in a job, report its pids, wait to be killed.
		p, err := Start(Spec{
			Name: "tree", Command: os.Args[0],
			Env: []string{"MCPGW_PROC_FAKE=tree", "MCPGW_PROC_STUBBORN=1"},
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

// eachMode runs f with a job ("supervised") and without one ("direct").
func eachMode(t *testing.T, f func(t *testing.T, job bool)) {
	t.Run("direct", func(t *testing.T) { f(t, false) })
	t.Run("supervised", func(t *testing.T) { f(t, true) })
}

func startFake(t *testing.T, job bool, env ...string) *Process {
	t.Helper()
	p, err := start(Spec{Name: "fake", Command: os.Args[0], Env: env, GracePeriod: time.Second}, job)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// pidGone reports whether pid no longer runs.
func pidGone(pid int) bool {
	h, err := windows.OpenProcess(windows.SYNCHRONIZE|windows.PROCESS_QUERY_LIMITED_INFORMATION, false, uint32(pid))
	if err != nil {
		return errors.Is(err, windows.ERROR_INVALID_PARAMETER) // no such process
	}
	defer windows.CloseHandle(h)
	ev, err := windows.WaitForSingleObject(h, 0)
	return err == nil && ev == windows.WAIT_OBJECT_0
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

func TestProcJobStdout(t *testing.T) {
	eachMode(t, func(t *testing.T, job bool) {
		p := startFake(t, job, "MCPGW_PROC_FAKE=echo", "MCPGW_PROC_EXIT=3")
		r := bufio.NewReader(p.stdout())
		if line, err := r.ReadString('\n'); err != nil || line != `{"hello":1}`+"\n" {
			t.Fatalf("line = %q, %v", line, err)
		}
		io.WriteString(p.Stdin(), `{"echo":true}`+"\r\n")
		if line, err := r.ReadString('\n'); err != nil || line != `{"echo":true}`+"\r\n" {
			t.Fatalf("echo = %q, %v", line, err)
		}
		p.Stdin().Close()
		<-p.Done()
		if err := p.ExitErr(); err == nil || err.Error() != "exited with status 3" {
			t.Fatalf("ExitErr = %v", err)
		}
		tail := strings.Join(p.StderrTail(), "\n")
		for _, w := range []string{"fake stderr line", "junk line, not json"} {
			if !strings.Contains(tail, w) {
				t.Errorf("stderr tail lacks %q:\n%s", w, tail)
			}
		}
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
	})
}

func TestProcJobCloseKillsTree(t *testing.T) {
	p := startFake(t, true, "MCPGW_PROC_FAKE=tree", "MCPGW_PROC_STUBBORN=1")
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
}

func TestProcJobChildExitKillsTree(t *testing.T) {
	// A child that exits on stdin EOF leaves its grandchild behind; the job
	// takes it.
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
}

func TestProcJobTerminate(t *testing.T) {
	p := startFake(t, true, "MCPGW_PROC_FAKE=echo")
	if _, err := bufio.NewReader(p.stdout()).ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	p.h.terminate()
	if !p.waitDone(3 * time.Second) {
		t.Skip("CTRL_BREAK not delivered: the test and its child share no console")
	}
	if err := p.ExitErr(); err == nil || err.Error() != "killed by signal CTRL_BREAK" {
		t.Fatalf("ExitErr = %v", err)
	}
}

func TestProcJobKilledParent(t *testing.T) {
	// The helper holds the only handle to its child's job: when it is
	// killed, Windows closes the job and kills the tree.
	helper := exec.Command(os.Args[0])
	helper.Env = append(os.Environ(), "MCPGW_PROC_FAKE=helper")
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
	for _, pid := range []int{pids.PID, pids.Grandchild} {
		if pidGone(pid) {
			t.Fatalf("pid %d not running before the kill", pid)
		}
	}
	helper.Process.Kill()
	helper.Wait()
	waitGone(t, 5*time.Second, pids.PID, pids.Grandchild)
}

func TestProcJobStartErrors(t *testing.T) {
	eachMode(t, func(t *testing.T, job bool) {
		if _, err := start(Spec{Command: "mcpgw-no-such-program"}, job); err == nil {
			t.Fatal("no error for a missing program")
		}
	})
}
