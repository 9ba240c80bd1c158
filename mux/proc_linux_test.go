package mux

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
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
	var pids procTreePIDs
	if err := json.Unmarshal(line, &pids); err != nil {
		t.Fatal(err)
	}
	sup := procParent(pids.PID)
	if procParent(sup) != helper.Process.Pid {
		t.Fatalf("server %d's parent %d is not the helper %d's child", pids.PID, sup, helper.Process.Pid)
	}
	if procParent(pids.Grandchild) == pids.PID {
		t.Logf("grandchild %d is a child of the server %d, in its own session", pids.Grandchild, pids.PID)
	}
	for _, pid := range []int{sup, pids.PID, pids.Grandchild} {
		if procGone(pid) {
			t.Fatalf("pid %d not running before the kill", pid)
		}
	}
	helper.Process.Kill() // SIGKILL
	helper.Wait()
	procWaitGone(t, 5*time.Second, pids.PID, pids.Grandchild, sup)
}

func TestProcKillDescendants(t *testing.T) {
	// procKillDescendants must never touch the caller itself or unrelated
	// processes; with no children it signals nothing.
	if n := procKillDescendants(os.Getpid()); n != 0 {
		t.Fatalf("killed %d processes of a test binary without children", n)
	}
}
