//go:build linux

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mcpgw/mcpgw/cmd/internal/testenv"
	"github.com/mcpgw/mcpgw/logs"
)

// doctorReport is what `mcpgw doctor -o json` prints, as far as the tests
// read it.
type doctorReport struct {
	Checks []struct {
		Check, Status, Detail, Fix string
	}
	Gateways []struct {
		PID     int
		Agent   string
		Config  string
		Alive   bool
		Servers []struct {
			Server, State, LastError string
			PID, Restarts            int
			Stderr                   []string
		}
	}
}

func runDoctor(t *testing.T, env []string, args ...string) (doctorReport, string, int) {
	t.Helper()
	out, errOut, code := mcpgwCmd(t, env, "", append([]string{"doctor", "-o", "json"}, args...)...)
	var r doctorReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("mcpgw doctor printed no report (%v):\n%s\n%s", err, out, errOut)
	}
	return r, errOut, code
}

// TestServerStatusSeenByOtherProcesses runs a gateway over a healthy and a
// broken server and checks that `mcpgw doctor` and `mcpgw tools`, run as
// separate processes, show what that gateway sees, and that a gateway which
// stops takes its status with it.
func TestServerStatusSeenByOtherProcesses(t *testing.T) {
	t.Parallel()
	fixture := testenv.Fixture(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "record.db")
	cfg := fmt.Sprintf(`servers:
  fx:
    command: %q
  broken:
    command: sh
    args: ["-c", "echo 'broken: ACME_API_KEY is not set' >&2; exit 3"]
`, fixture)
	cfgPath := writeConfig(t, cfg)
	env := []string{"MCPGW_DB=" + db, "MCPGW_CONFIG=" + cfgPath}
	a := startAgentEnv(t, cfg, "2025-11-25", "MCPGW_DB="+db)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	call(t, ctx, a, "fx__echo", map[string]any{"text": "hi"})

	var r doctorReport
	var code int
	waitFor(t, ctx, "doctor to see the broken server fail and fx ready", func() bool {
		r, _, code = runDoctor(t, env)
		if len(r.Gateways) != 1 {
			return false
		}
		states := map[string]string{}
		for _, s := range r.Gateways[0].Servers {
			states[s.Server] = s.State
		}
		return states["fx"] == "ready" && states["broken"] == "failed"
	})
	g := r.Gateways[0]
	if g.PID != a.cmd.Process.Pid || !g.Alive || g.Agent != "e2e-agent 1" {
		t.Errorf("gateway = pid %d alive %v agent %q; want pid %d, alive, e2e-agent 1", g.PID, g.Alive, g.Agent, a.cmd.Process.Pid)
	}
	for _, s := range g.Servers {
		switch s.Server {
		case "fx":
			if s.PID <= 0 || syscall.Kill(s.PID, 0) != nil {
				t.Errorf("fx: pid %d is not a running process", s.PID)
			}
		case "broken":
			text := s.LastError + strings.Join(s.Stderr, "\n")
			if !strings.Contains(text, "ACME_API_KEY is not set") || !strings.Contains(s.LastError, "exited with status 3") {
				t.Errorf("broken: last error %q, stderr %q; want its exit status and last stderr line", s.LastError, s.Stderr)
			}
		}
	}
	if code != 5 {
		t.Errorf("doctor exit code = %d, want 5 (a server failed)", code)
	}
	failed := false
	for _, c := range r.Checks {
		if c.Status == "fail" && strings.Contains(c.Check, "broken") && strings.Contains(c.Detail, "ACME_API_KEY") {
			failed = true
		}
	}
	if !failed {
		t.Errorf("no failing check names the broken server and its cause: %+v", r.Checks)
	}

	out, errOut, code := mcpgwCmd(t, env, "", "tools", "-o", "json", "--timeout", "20s")
	if !strings.Contains(out, `"running"`) || !strings.Contains(out, "ACME_API_KEY is not set") {
		t.Errorf("mcpgw tools (exit %d) does not show the running gateway's view:\n%s\n%s", code, out, errOut)
	}

	// A gateway that stops removes its status.
	a.cs.Close()
	a.cmd.Wait()
	r, _, _ = runDoctor(t, env)
	if len(r.Gateways) != 0 {
		t.Errorf("after the gateway stopped, doctor still shows %+v", r.Gateways)
	}
}

// TestServeSweepsLeftovers records a server of a gateway that died without
// cleaning up (a real process still running), and checks that the next
// `mcpgw serve` kills it, while a server recorded with another start time
// (its pid reused by an unrelated process) is left alone.
func TestServeSweepsLeftovers(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("process start times are read from /proc here")
	}
	dir := t.TempDir()
	db := filepath.Join(dir, "record.db")
	rec, err := logs.Open(context.Background(), db, nil)
	if err != nil {
		t.Fatal(err)
	}
	left := startGroupLeader(t)
	other := startGroupLeader(t)
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	gw := logs.Gateway{PID: dead.Process.Pid, Started: 1}
	rows := []logs.ServerStatus{
		{Server: "left", State: "ready", ServerPID: left.Process.Pid, ServerStarted: startTime(t, left.Process.Pid)},
		{Server: "other", State: "ready", ServerPID: other.Process.Pid, ServerStarted: startTime(t, other.Process.Pid) + 1},
	}
	if err := rec.SaveServerStatus(context.Background(), gw, rows); err != nil {
		t.Fatal(err)
	}
	rec.Close()

	exited := make(chan error, 1)
	go func() { exited <- left.Wait() }()
	a := startAgentEnv(t, "servers: {}\n", "2025-11-25", "MCPGW_DB="+db)
	select {
	case <-exited:
	case <-time.After(30 * time.Second):
		t.Fatal("mcpgw serve left the dead gateway's server running")
	}
	if err := other.Process.Signal(syscall.Signal(0)); err != nil {
		t.Errorf("a process whose start time did not match was killed: %v", err)
	}
	a.cs.Close()
	a.cmd.Wait()
	rec, err = logs.Open(context.Background(), db, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Close()
	if got, _ := rec.ServerStatuses(context.Background()); len(got) != 0 {
		t.Errorf("status rows left after the sweep: %+v", got)
	}
}

// TestServerEnvironmentIsDefined checks what of mcpgw's environment a
// server sees: what it needs to run and its configured env, never mcpgw's
// own settings or unrelated credentials.
func TestServerEnvironmentIsDefined(t *testing.T) {
	fixture := testenv.Fixture(t)
	cfg := fmt.Sprintf(`servers:
  fx:
    command: %q
    env:
      GIVEN: "configured"
      PASSED: "${E2E_PASSED_THROUGH}"
`, fixture)
	a := startAgentEnv(t, cfg, "2025-11-25", "E2E_UNRELATED_TOKEN=ghp_unrelated", "E2E_PASSED_THROUGH=by-name", "LC_TIME=C")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	want := map[string]string{
		"GIVEN":               "configured",
		"PASSED":              "by-name",
		"E2E_UNRELATED_TOKEN": "",
		"E2E_PASSED_THROUGH":  "",
		"MCPGW_DB":            "",
		"MCPGW_CONFIG":        "",
		"LC_TIME":             "C",
		"HOME":                os.Getenv("HOME"),
		"PATH":                os.Getenv("PATH"),
	}
	for name, w := range want {
		if got := textOf(t, call(t, ctx, a, "fx__env", map[string]any{"name": name})); got != w {
			t.Errorf("server sees %s=%q, want %q", name, got, w)
		}
	}
}

// startGroupLeader starts a long-running process in a group of its own, as
// mcpgw starts servers.
func startGroupLeader(t *testing.T) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("sleep", "120")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	return cmd
}

// startTime reads a process's start time (clock ticks since boot) from
// /proc, as mcpgw records it.
func startTime(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	var n int64
	fmt.Sscan(f[19], &n)
	return n
}
