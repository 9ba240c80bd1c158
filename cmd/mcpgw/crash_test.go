//go:build linux

package main

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgw/mcpgw/cmd/internal/testenv"
)

// TestServerCrashIsRestarted kills a server for real in the middle of a
// call: the call gets a clear error naming the server and how it died,
// another server is untouched, the server is restarted, and later calls
// work again.
func TestServerCrashIsRestarted(t *testing.T) {
	fixture := testenv.Fixture(t)
	fixtureReal, err := filepath.EvalSymlinks(fixture)
	if err != nil {
		t.Fatal(err)
	}
	a := startAgent(t, "servers:\n"+healthy(fixture)+fmt.Sprintf("  fx:\n    command: %q\n    args: [-name, crashing]\n", fixture), "2025-11-25")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if got := textOf(t, call(t, ctx, a, "fx__echo", map[string]any{"text": "before"})); got != "before" {
		t.Fatalf("echo = %q", got)
	}
	var server int
	for _, p := range descendants(a.cmd.Process.Pid) {
		if len(p.argv) > 0 && p.argv[0] == fixtureReal && slices.Contains(p.argv, "crashing") {
			server = p.pid
		}
	}
	if server == 0 {
		t.Fatalf("no fixture process under mcpgw (pid %d): %v", a.cmd.Process.Pid, descendants(a.cmd.Process.Pid))
	}

	type result struct {
		res *mcp.CallToolResult
		err error
	}
	done := make(chan result, 1)
	go func() {
		res, err := a.cs.CallTool(ctx, &mcp.CallToolParams{Name: "fx__wait", Meta: mcp.Meta{"progressToken": "crash"}})
		done <- result{res, err}
	}()
	waitFor(t, ctx, "the call to reach the server", func() bool {
		return slices.ContainsFunc(a.progressNotes(), func(s string) bool { return strings.HasPrefix(s, "crash:") })
	})
	if err := syscall.Kill(server, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil {
		t.Fatalf("in-flight call: protocol error %v; want a tool error result", r.err)
	}
	if got := textOf(t, r.res); !r.res.IsError || !strings.Contains(got, `server "fx"`) || !strings.Contains(got, "killed by signal SIGKILL") {
		t.Errorf("in-flight call: isError=%v %q; want an error naming the server and how it died", r.res.IsError, got)
	}
	checkHealthy(t, ctx, a, "right after the crash")
	waitFor(t, ctx, "the server to be restarted and answer", func() bool {
		res, err := a.cs.CallTool(ctx, &mcp.CallToolParams{Name: "fx__echo", Arguments: map[string]any{"text": "after"}})
		return err == nil && !res.IsError && textOf(t, res) == "after"
	})
}

// TestCallTimeout checks that a call the server does not answer within
// timeouts.call ends with an error result naming the server and the limit,
// that the server is told to stop (it sees a cancellation), and that while
// the call waits, the same server's other calls and another server's are
// answered.
func TestCallTimeout(t *testing.T) {
	fixture := testenv.Fixture(t)
	for _, env := range [][]string{nil, {"MCPGW_NO_INLINE=1"}, {"MCPGW_NO_FASTPATH=1"}} {
		t.Run(fmt.Sprint(env), func(t *testing.T) {
			t.Parallel()
			cfg := "servers:\n" + healthy(fixture) + serverYAML("fx", fixture, nil, nil, "    timeouts: {call: 2s}\n")
			a := startAgentEnv(t, cfg, "2025-11-25", env...)
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			type result struct {
				res *mcp.CallToolResult
				err error
			}
			waited := make(chan result, 1)
			go func() {
				res, err := a.cs.CallTool(ctx, &mcp.CallToolParams{Name: "fx__wait", Meta: mcp.Meta{"progressToken": "w"}})
				waited <- result{res, err}
			}()
			waitFor(t, ctx, "the call to reach the server", func() bool {
				return slices.ContainsFunc(a.progressNotes(), func(s string) bool { return strings.HasPrefix(s, "w:") })
			})
			if got := textOf(t, call(t, ctx, a, "fx__echo", map[string]any{"text": "meanwhile"})); got != "meanwhile" {
				t.Errorf("echo while a call waits = %q", got)
			}
			checkHealthy(t, ctx, a, "while a call waits")
			select {
			case r := <-waited:
				t.Fatalf("the unanswered call ended before its 2s limit: %v %v", r.res, r.err)
			default:
			}
			r := <-waited
			if r.err != nil {
				t.Fatalf("timed-out call: protocol error %v; want a tool error result", r.err)
			}
			if got := textOf(t, r.res); !r.res.IsError || !strings.Contains(got, `server "fx"`) || !strings.Contains(got, "within 2s") {
				t.Errorf("timed-out call: isError=%v %q; want an error naming the server and the limit", r.res.IsError, got)
			}
			waitFor(t, ctx, "the server to see the cancellation", func() bool {
				return textOf(t, call(t, ctx, a, "fx__cancelled_count", nil)) != "0"
			})
		})
	}
}
