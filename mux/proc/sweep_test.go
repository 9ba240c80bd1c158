//go:build linux || darwin

package proc

import (
	"os"
	"os/exec"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/mcpgw/mcpgw/logs"
)

// startLeftover starts a real process in a group of its own, as a server
// is, and returns it with its start time.
func startLeftover(t *testing.T) (*exec.Cmd, int64) {
	t.Helper()
	cmd := exec.Command("sleep", "60")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	st := StartTime(cmd.Process.Pid)
	if st == 0 {
		t.Fatalf("no start time for a running process %d", cmd.Process.Pid)
	}
	return cmd, st
}

// deadGateway returns a gateway whose process has exited.
func deadGateway(t *testing.T) logs.Gateway {
	t.Helper()
	cmd := exec.Command("sleep", "0")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	st := StartTime(pid)
	cmd.Wait()
	return logs.Gateway{PID: pid, Started: st}
}

func TestSweepLeftovers(t *testing.T) {
	dead := deadGateway(t)
	me := logs.Gateway{PID: os.Getpid(), Started: StartTime(os.Getpid())}
	if !GatewayAlive(me) || GatewayAlive(dead) {
		t.Fatalf("GatewayAlive: self %v, exited %v", GatewayAlive(me), GatewayAlive(dead))
	}
	// The same pid with another start time is another process.
	if GatewayAlive(logs.Gateway{PID: me.PID, Started: me.Started + 1}) {
		t.Error("a reused pid counted as the same gateway")
	}

	left, leftStarted := startLeftover(t)     // left by the dead gateway: killed
	mine, mineStarted := startLeftover(t)     // a live gateway's server: kept
	reused, reusedStarted := startLeftover(t) // same pid, other process: kept
	rows := []logs.ServerStatus{
		{Gateway: dead, Server: "left", ServerPID: left.Process.Pid, ServerStarted: leftStarted},
		{Gateway: dead, Server: "reused", ServerPID: reused.Process.Pid, ServerStarted: reusedStarted - 1},
		{Gateway: dead, Server: "none"},
		{Gateway: me, Server: "mine", ServerPID: mine.Process.Pid, ServerStarted: mineStarted},
	}
	s := SweepLeftovers(rows)
	if len(s.Dead) != 1 || s.Dead[0] != dead {
		t.Errorf("dead gateways = %+v, want [%+v]", s.Dead, dead)
	}
	if names := serverNames(s.Killed); !slices.Equal(names, []string{"left"}) {
		t.Errorf("killed %v, want [left]", names)
	}
	waited := make(chan error, 1)
	go func() { waited <- left.Wait() }()
	select {
	case <-waited:
	case <-time.After(10 * time.Second):
		t.Fatal("the leftover server is still running")
	}
	for _, c := range []*exec.Cmd{mine, reused} {
		if err := c.Process.Signal(syscall.Signal(0)); err != nil {
			t.Errorf("process %d was killed: %v", c.Process.Pid, err)
		}
	}
}

func serverNames(rows []logs.ServerStatus) []string {
	var out []string
	for _, r := range rows {
		out = append(out, r.Server)
	}
	return out
}
