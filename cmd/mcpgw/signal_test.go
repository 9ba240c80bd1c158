//go:build linux

package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgw/mcpgw/cmd/internal/testenv"
)

// TestServeStopsOnSignals runs `mcpgw serve` over stdio in front of two
// servers, with its stdin held open as an agent (or a terminal) does, and
// stops it with a signal: SIGINT and SIGTERM from kill, and Ctrl-C typed
// on its terminal. It must exit within 3 s with the signal's exit code and
// leave none of the processes it started.
func TestServeStopsOnSignals(t *testing.T) {
	fixture := testenv.Fixture(t)
	cfg := writeConfig(t, fmt.Sprintf("servers:\n  one:\n    command: %q\n  two:\n    command: %q\n", fixture, fixture))
	for _, tc := range []struct {
		name     string
		terminal bool // stdin is a terminal, and Ctrl-C is typed on it
		sig      syscall.Signal
		code     int
	}{
		{name: "SIGINT", sig: syscall.SIGINT, code: 130},
		{name: "SIGTERM", sig: syscall.SIGTERM, code: 143},
		{name: "Ctrl-C on a terminal", terminal: true, code: 130},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			cmd := exec.Command(testenv.Mcpgw(t), "serve", "--config", cfg)
			cmd.Env = ownRecord(t, os.Environ())
			cmd.Stderr = &testWriter{t: t}
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			var in io.Writer
			if tc.terminal {
				// mcpgw leads a session whose terminal is the pty, so the
				// line discipline turns ^C into SIGINT for its process group.
				ptmx, tty, err := pty.Open()
				if err != nil {
					t.Fatal(err)
				}
				defer ptmx.Close()
				go io.Copy(io.Discard, ptmx) // the echo of what is typed
				cmd.Stdin = tty
				cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				tty.Close()
				in = ptmx
			} else {
				w, err := cmd.StdinPipe()
				if err != nil {
					t.Fatal(err)
				}
				defer w.Close() // held open until the end, as an agent does
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				in = w
			}
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			defer func() {
				if cmd.ProcessState == nil {
					cmd.Process.Kill()
				}
			}()

			// A list makes the servers start, and waits for them.
			for _, line := range []string{
				`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"signal-agent","version":"1"}}}`,
				`{"jsonrpc":"2.0","method":"notifications/initialized"}`,
				`{"jsonrpc":"2.0","id":2,"method":"tools/list"}`,
			} {
				if _, err := io.WriteString(in, line+"\n"); err != nil {
					t.Fatal(err)
				}
			}
			readUntil(t, ctx, stdout, `"id":2`)
			tree := descendants(cmd.Process.Pid)
			if n := countExe(tree, fixture); n != 2 {
				t.Fatalf("want 2 fixture servers under mcpgw serve, found %d: %v", n, tree)
			}

			start := time.Now()
			if tc.terminal {
				if _, err := in.Write([]byte{3}); err != nil { // ^C
					t.Fatal(err)
				}
			} else if err := cmd.Process.Signal(tc.sig); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-exited:
				took := time.Since(start)
				var ee *exec.ExitError
				if !errors.As(err, &ee) || ee.ExitCode() != tc.code {
					t.Errorf("mcpgw serve ended with %v, want exit code %d", err, tc.code)
				}
				if took > 3*time.Second {
					t.Errorf("mcpgw serve took %v to exit, want at most 3s", took)
				}
				t.Logf("exited in %v", took)
			case <-time.After(10 * time.Second):
				t.Fatalf("mcpgw serve still running 10 s after %s", tc.name)
			}
			// Its servers were stopped before it exited; give the kernel a
			// moment to reap what they left.
			waitAllGone(t, "processes started by mcpgw serve", tree, time.Second)
		})
	}
}

// TestServeHTTPStopsOnCtrlC stops `mcpgw serve --http` with SIGINT while
// an agent is connected: it exits with 130, as Ctrl-C should, and stops
// its servers (started by the agent's initialize).
func TestServeHTTPStopsOnCtrlC(t *testing.T) {
	fixture := testenv.Fixture(t)
	cfg := writeConfig(t, fmt.Sprintf("servers:\n  one:\n    command: %q\n", fixture))
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.Command(testenv.Mcpgw(t), "serve", "--http", "127.0.0.1:0", "--config", cfg)
	cmd.Env = ownRecord(t, os.Environ())
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	url := readServingURL(t, stderr)
	client := mcp.NewClient(&mcp.Implementation{Name: "agent", Version: "1"}, nil)
	cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: url + "mcp"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	var tree []procInfo
	waitFor(t, ctx, "the server to start", func() bool {
		tree = descendants(cmd.Process.Pid)
		return countExe(tree, fixture) == 1
	})
	start := time.Now()
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Errorf("mcpgw serve --http ended with %v, want exit code 130", err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("mcpgw serve --http took %v to exit, want at most 3s", took)
	}
	waitAllGone(t, "processes started by mcpgw serve --http", tree, time.Second)
}

// readUntil reads lines from r until one contains want.
func readUntil(t *testing.T, ctx context.Context, r io.Reader, want string) {
	t.Helper()
	found := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		for sc.Scan() {
			if strings.Contains(sc.Text(), want) {
				found <- true
				io.Copy(io.Discard, r)
				return
			}
		}
		found <- false
	}()
	select {
	case ok := <-found:
		if !ok {
			t.Fatalf("output ended before a line with %s", want)
		}
	case <-ctx.Done():
		t.Fatalf("no line with %s", want)
	}
}

// countExe counts the processes in procs running exe.
func countExe(procs []procInfo, exe string) int {
	real, _ := filepath.EvalSymlinks(exe)
	n := 0
	for _, p := range procs {
		target, _ := os.Readlink(filepath.Join("/proc", fmt.Sprint(p.pid), "exe"))
		if target == real || target == exe {
			n++
		}
	}
	return n
}
