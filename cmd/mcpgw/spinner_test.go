//go:build linux

package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/mcpgw/mcpgw/cmd/internal/testenv"
)

// onTerminal runs mcpgw with args on a pseudo-terminal and returns what it
// wrote there.
func onTerminal(t *testing.T, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command(testenv.Mcpgw(t), args...)
	cmd.Env = append(os.Environ(), env...)
	ptmx, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 200})
	if err != nil {
		t.Fatal(err)
	}
	defer ptmx.Close()
	out := &ptyOutput{}
	copied := make(chan struct{})
	go func() { io.Copy(out, ptmx); close(copied) }()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("mcpgw %v did not end; terminal:\n%s", args, out.String())
	}
	select { // the rest of the output, until the pty reports the end
	case <-copied:
	case <-time.After(2 * time.Second):
	}
	return out.String()
}

// TestWaitingShownOnTerminal: on a terminal, tools shows which servers it
// waits for, and call the tool's progress notifications as they come;
// piped, neither writes a spinner frame.
func TestWaitingShownOnTerminal(t *testing.T) {
	fixture := testenv.Fixture(t)
	cfg := writeConfig(t, fmt.Sprintf(`servers:
  fx:
    command: %[1]q
  slow:
    command: %[1]q
    args: [-mode, hang-init]
    timeouts: {connect: 2s}
`, fixture))
	env := []string{"MCPGW_DB=" + filepath.Join(t.TempDir(), "record.db")}

	term := onTerminal(t, env, "--config", cfg, "tools")
	if !strings.Contains(term, "waiting for slow to start") {
		t.Errorf("tools on a terminal did not show what it waits for:\n%q", term)
	}
	term = onTerminal(t, env, "--config", cfg, "call", "fx__progress", "--arg", "steps=4", "--arg", "delay_ms=400")
	if !strings.Contains(term, "fx__progress: 50% step 2/4") {
		t.Errorf("call on a terminal did not show the tool's progress:\n%q", term)
	}

	for _, args := range [][]string{{"tools"}, {"call", "fx__progress", "--arg", "steps=4", "--arg", "delay_ms=400"}} {
		_, stderr, _ := mcpgwCmd(t, env, "", append([]string{"--config", cfg}, args...)...)
		if strings.Contains(stderr, "waiting for") || strings.Contains(stderr, "step 2/4") || bytes.ContainsAny([]byte(stderr), "\r\x1b") {
			t.Errorf("%v piped wrote spinner frames on stderr:\n%q", args, stderr)
		}
	}
}
