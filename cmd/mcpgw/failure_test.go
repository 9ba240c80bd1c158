//go:build unix

package main

// Failure tests: each runs a real `mcpgw serve` in front of the fixture
// server in one of its failure modes (testdata/fixture/modes.go) and a
// healthy fixture beside it, and checks that the healthy one keeps working
// and that what the agent sees of the failure names the server and the
// cause. Processes are real and are killed for real.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgw/mcpgw/cmd/internal/testenv"
)

// healthy is the configuration of the healthy server "ok" every failure
// test runs beside the failing one.
func healthy(fixture string) string { return serverYAML("ok", fixture, nil, nil, "") }

// serverYAML renders one server of a configuration, with more YAML for it
// in extra (indented). Its env has env and GORACE: a -race build of the
// fixture otherwise sleeps a second at every exit (mcpgw does not pass its
// own GORACE on), which every restart and shutdown would wait for.
func serverYAML(name, command string, args []string, env map[string]string, extra string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "  %s:\n    command: %q\n", name, command)
	if len(args) > 0 {
		quoted := make([]string, len(args))
		for i, a := range args {
			quoted[i] = strconv.Quote(a)
		}
		fmt.Fprintf(&b, "    args: [%s]\n", strings.Join(quoted, ", "))
	}
	b.WriteString("    env:\n      GORACE: atexit_sleep_ms=0\n")
	for k, v := range env {
		fmt.Fprintf(&b, "      %s: %q\n", k, v)
	}
	b.WriteString(extra)
	return b.String()
}

// checkHealthy fails the test unless the healthy server answers a call.
func checkHealthy(t *testing.T, ctx context.Context, a *agent, when string) {
	t.Helper()
	res, err := a.cs.CallTool(ctx, &mcp.CallToolParams{Name: "ok__echo", Arguments: map[string]any{"text": "still here"}})
	if err != nil {
		t.Fatalf("%s: the healthy server's call failed: %v", when, err)
	}
	if got := textOf(t, res); res.IsError || got != "still here" {
		t.Fatalf("%s: the healthy server answered isError=%v %q", when, res.IsError, got)
	}
}

// toolNames lists the agent's tools, failing the test on an error.
func toolNames(t *testing.T, ctx context.Context, a *agent) []string {
	t.Helper()
	res, err := a.cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatalf("tools/list: %v", err)
	}
	names := make([]string, 0, len(res.Tools))
	for _, tl := range res.Tools {
		names = append(names, tl.Name)
	}
	return names
}

// hasAll reports whether names holds every one of want.
func hasAll(names []string, want ...string) bool {
	for _, w := range want {
		if !slices.Contains(names, w) {
			return false
		}
	}
	return true
}

// TestServerStartFailures has servers fail to start in three ways: exit at
// start, command not found, no answer to initialize. A server that never
// started has no tools listed, and mcpgw's stderr (which agents keep in
// their MCP logs) names it and the cause. A server that ran, crashed and
// now fails to restart keeps its tools listed a while, and a call to one
// gets an error naming the server and the cause. The healthy server keeps
// working throughout.
func TestServerStartFailures(t *testing.T) {
	t.Parallel()
	fixture := testenv.Fixture(t)
	// hanging is a server for the modes that hang a start: fx needs long
	// enough for a first start on a loaded machine; the first calls wait
	// for never's first attempt.
	hanging := func(t *testing.T, name, dir string) string {
		connect := "5s"
		if name == "never" {
			connect = "2s"
		}
		return serverYAML(name, fixture, []string{"-mode-file", filepath.Join(dir, "mode")}, nil, "    timeouts: {connect: "+connect+"}\n")
	}
	for _, c := range []struct {
		name string
		// server is a configuration of server name, working until
		// breakIt; both keep what they need in dir.
		server  func(t *testing.T, name, dir string) string
		breakIt func(t *testing.T, dir string)
		cause   []string // what the errors must say
	}{{
		name: "exits at start",
		server: func(t *testing.T, name, dir string) string {
			return serverYAML(name, fixture, []string{"-mode-file", filepath.Join(dir, "mode")}, nil, "")
		},
		breakIt: func(t *testing.T, dir string) { writeFile(t, filepath.Join(dir, "mode"), "exit") },
		cause:   []string{"exited with status 1", "exiting at start on purpose (mode exit)"},
	}, {
		name: "command not found",
		server: func(t *testing.T, name, dir string) string {
			if err := os.Symlink(fixture, filepath.Join(dir, "fixture-server")); err != nil && !os.IsExist(err) {
				t.Fatal(err)
			}
			return serverYAML(name, "fixture-server", nil, map[string]string{"PATH": dir}, "")
		},
		breakIt: func(t *testing.T, dir string) {
			if err := os.Remove(filepath.Join(dir, "fixture-server")); err != nil {
				t.Fatal(err)
			}
		},
		cause: []string{`command "fixture-server" not found in the PATH given in the server's env`},
	}, {
		name:    "hangs on initialize",
		server:  hanging,
		breakIt: func(t *testing.T, dir string) { writeFile(t, filepath.Join(dir, "mode"), "hang-init") },
		cause:   []string{"no answer to initialize within ", "never answering initialize (mode hang-init)"},
	}, {
		name:    "hangs on listing tools",
		server:  hanging,
		breakIt: func(t *testing.T, dir string) { writeFile(t, filepath.Join(dir, "mode"), "hang-list") },
		cause:   []string{"listing tools: no answer within ", "never answering tools/list (mode hang-list)"},
	}} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			// "never" fails from its first start; "fx" once broken.
			neverDir, fxDir := t.TempDir(), t.TempDir()
			never := c.server(t, "never", neverDir)
			c.breakIt(t, neverDir)
			s := startServed(t, "servers:\n"+healthy(fixture)+never+c.server(t, "fx", fxDir), "2025-11-25")
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			a := s.agent

			waitFor(t, ctx, "fx to answer", func() bool {
				res, err := a.cs.CallTool(ctx, &mcp.CallToolParams{Name: "fx__echo", Arguments: map[string]any{"text": "up"}})
				return err == nil && textOf(t, res) == "up"
			})
			checkHealthy(t, ctx, a, "beside a server that never started")
			if names := toolNames(t, ctx, a); slices.ContainsFunc(names, func(n string) bool { return strings.HasPrefix(n, "never__") }) {
				t.Errorf("tools/list = %v; want none of the server that never started", names)
			}
			waitFor(t, ctx, "mcpgw's stderr to say why the server never started", func() bool {
				return s.stderr.hasAll(append([]string{"server failed to start", "server=never"}, c.cause...)...)
			})

			// mcpgw takes a server out after 3 failures in a row, its first
			// start's included until it has run 10 s. On a loaded machine
			// fx's first start may have timed out: let mcpgw forgive that,
			// or the crash below would take it out before a call sees why.
			if s.stderr.hasAll("server failed to start", "server=fx") {
				t.Log("fx took more than one start; waiting until it has run 10 s")
				time.Sleep(11 * time.Second)
			}

			// Break fx, then crash it: its restarts fail.
			c.breakIt(t, fxDir)
			res, err := a.cs.CallTool(ctx, &mcp.CallToolParams{Name: "fx__crash"})
			wantAll(t, "the crashing call", failureText(t, res, err), `server "fx"`, "exited with status 3")
			// A call during the backoff gets the crash; one during a restart
			// waits for it; once a restart has failed, calls get why, until
			// fx is taken out of the catalog. None gets less.
			var last string
			waitFor(t, ctx, "a call to get why the server does not restart", func() bool {
				res, err := a.cs.CallTool(ctx, &mcp.CallToolParams{Name: "fx__echo", Arguments: map[string]any{"text": "x"}})
				last = failureText(t, res, err)
				why := strings.Contains(last, c.cause[len(c.cause)-1])
				if !why && !saysCrashed(last) {
					t.Fatalf("a call to the server while it restarts = %q; want it to say why", last)
				}
				return why
			})
			wantAll(t, "a call to the server that does not restart", last, append([]string{`server "fx"`}, c.cause...)...)
			if n := strings.Count(last, c.cause[len(c.cause)-1]); n > 1 {
				t.Errorf("a call to the server that does not restart = %q; says %q %d times", last, c.cause[len(c.cause)-1], n)
			}
			checkHealthy(t, ctx, a, "while the other server fails to restart")
		})
	}
}

// saysCrashed reports whether an error says the fixture's crash tool made it
// exit: by its exit status, or by its last words on stderr.
func saysCrashed(s string) bool {
	return strings.Contains(s, `server "fx"`) && (strings.Contains(s, "exited with status 3") || strings.Contains(s, "fixture: crash tool called"))
}

// writeFile writes content to path.
func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestStdoutJunk runs servers that print banners, blank lines, ANSI codes
// and lines that only look like JSON on stdout, before and between their
// messages, and servers that send every response twice and responses to
// ids nobody used: every call gets its own answer, through both forwarding
// paths (fast path at 2025-11-25, the SDK at 2026-07-28).
func TestStdoutJunk(t *testing.T) {
	t.Parallel()
	fixture := testenv.Fixture(t)
	for _, mode := range []string{"banner", "dup-ids"} {
		for _, version := range agentVersions {
			t.Run(mode+"/"+version, func(t *testing.T) {
				t.Parallel()
				cfg := "servers:\n" + healthy(fixture) + serverYAML("fx", fixture, []string{"-mode", mode}, nil, "")
				a := startAgent(t, cfg, version)
				ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
				defer cancel()
				waitFor(t, ctx, "both servers' tools", func() bool { return hasAll(toolNames(t, ctx, a), "ok__echo", "fx__echo") })

				// Concurrent calls, each answered with its own result.
				var wg sync.WaitGroup
				for i := range 8 {
					wg.Go(func() {
						want := fmt.Sprintf("call %d", i)
						res, err := a.cs.CallTool(ctx, &mcp.CallToolParams{Name: "fx__echo", Arguments: map[string]any{"text": want}})
						if err != nil || res.IsError || textOf(t, res) != want {
							t.Errorf("fx__echo %q: %v %v", want, res, err)
						}
					})
				}
				wg.Wait()
				res, err := a.cs.CallTool(ctx, &mcp.CallToolParams{Name: "fx__progress", Arguments: map[string]any{"steps": 3}, Meta: mcp.Meta{"progressToken": "p"}})
				if err != nil || textOf(t, res) != "done" {
					t.Fatalf("fx__progress: %v %v", res, err)
				}
				waitFor(t, ctx, "three progress notifications", func() bool { return len(a.progressNotes()) >= 3 })
				if got, want := a.progressNotes(), []string{"p:1/3", "p:2/3", "p:3/3"}; !slices.Equal(got, want) {
					t.Errorf("progress = %v, want %v", got, want)
				}
				// The server's own errors still arrive as they were sent.
				res, err = a.cs.CallTool(ctx, &mcp.CallToolParams{Name: "fx__fail"})
				wantAll(t, "fx__fail", failureText(t, res, err), "fixture failure")
				checkHealthy(t, ctx, a, "after the junk")
			})
		}
	}
}

// TestOversizedFrame has a server answer one call with a 20 MiB line, over
// mcpgw's 16 MiB limit, among normal ones: that call fails with an error
// naming the server and the limit, while a call in flight on the same
// server, later calls, and a large frame under the limit all live on.
func TestOversizedFrame(t *testing.T) {
	t.Parallel()
	fixture := testenv.Fixture(t)
	for _, version := range agentVersions {
		t.Run(version, func(t *testing.T) {
			t.Parallel()
			// raw-big: the fixture writes big answers itself, fast.
			a := startAgent(t, "servers:\n"+healthy(fixture)+serverYAML("fx", fixture, []string{"-mode", "raw-big"}, nil, ""), version)
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()

			wctx, wcancel := context.WithCancel(ctx)
			defer wcancel()
			waited := make(chan error, 1)
			go func() {
				_, err := a.cs.CallTool(wctx, &mcp.CallToolParams{Name: "fx__wait", Meta: mcp.Meta{"progressToken": "w"}})
				waited <- err
			}()
			waitFor(t, ctx, "the wait call to reach the server", func() bool {
				return slices.ContainsFunc(a.progressNotes(), func(s string) bool { return strings.HasPrefix(s, "w:") })
			})

			res, err := a.cs.CallTool(ctx, &mcp.CallToolParams{Name: "fx__big", Arguments: map[string]any{"bytes": 20 << 20}})
			wantAll(t, "a 20 MiB answer", failureText(t, res, err), `server "fx"`, "exceeds the 16777216-byte message limit")

			const under = 256 << 10 // over the 64 KiB buffers on the way
			res, err = a.cs.CallTool(ctx, &mcp.CallToolParams{Name: "fx__big", Arguments: map[string]any{"bytes": under}})
			if err != nil || len(textOf(t, res)) != under {
				t.Fatalf("a 256 KiB answer after the discarded one: %v", err)
			}
			if got := textOf(t, call(t, ctx, a, "fx__echo", map[string]any{"text": "after"})); got != "after" {
				t.Errorf("echo after the discarded answer = %q", got)
			}
			select {
			case err := <-waited:
				t.Fatalf("the call in flight ended with the discarded answer: %v", err)
			default:
			}
			wcancel()
			<-waited
			waitFor(t, ctx, "the server to see the cancellation", func() bool {
				return textOf(t, call(t, ctx, a, "fx__cancelled_count", nil)) != "0"
			})
			checkHealthy(t, ctx, a, "after the oversized frame")
		})
	}
}

// TestCrashMidCallRestarts has a server exit (status 3, after a last line
// on stderr) while answering a call, with another call in flight: both fail
// at once with an error naming the server and the cause, the healthy
// server is untouched, and the server is restarted and answers again.
func TestCrashMidCallRestarts(t *testing.T) {
	t.Parallel()
	fixture := testenv.Fixture(t)
	for _, version := range agentVersions {
		t.Run(version, func(t *testing.T) {
			t.Parallel()
			a := startAgent(t, "servers:\n"+healthy(fixture)+serverYAML("fx", fixture, nil, nil, ""), version)
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			if got := textOf(t, call(t, ctx, a, "fx__echo", map[string]any{"text": "before"})); got != "before" {
				t.Fatalf("echo = %q", got)
			}
			type result struct {
				res *mcp.CallToolResult
				err error
			}
			waited := make(chan result, 1)
			go func() {
				res, err := a.cs.CallTool(ctx, &mcp.CallToolParams{Name: "fx__wait", Meta: mcp.Meta{"progressToken": "w"}})
				waited <- result{res, err}
			}()
			waitFor(t, ctx, "the wait call to reach the server", func() bool {
				return slices.ContainsFunc(a.progressNotes(), func(s string) bool { return strings.HasPrefix(s, "w:") })
			})
			res, err := a.cs.CallTool(ctx, &mcp.CallToolParams{Name: "fx__crash"})
			cause := []string{`server "fx"`, "exited with status 3", "fixture: crash tool called"}
			wantAll(t, "the crashing call", failureText(t, res, err), cause...)
			r := <-waited
			wantAll(t, "the call in flight", failureText(t, r.res, r.err), cause...)
			checkHealthy(t, ctx, a, "right after the crash")

			// Until it is back, a call gets why it is down (or waits for
			// the restart), never less.
			waitFor(t, ctx, "the server to be restarted and answer", func() bool {
				res, err := a.cs.CallTool(ctx, &mcp.CallToolParams{Name: "fx__echo", Arguments: map[string]any{"text": "after"}})
				if err == nil && !res.IsError {
					return textOf(t, res) == "after"
				}
				if got := failureText(t, res, err); !saysCrashed(got) {
					t.Fatalf("a call while the server restarts = %q; want it to say why", got)
				}
				return false
			})
			checkHealthy(t, ctx, a, "after the restart")
		})
	}
}

// TestToolListChangeWhileRunning has a server change its tool list on its
// own (signals, not calls) while a call is in flight: the agent gets
// list_changed and the new list, the call in flight lives on, a removed
// tool is refused by name, and the healthy server's tools stay.
func TestToolListChangeWhileRunning(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "linux" {
		t.Skip("finding the server's pid needs /proc")
	}
	fixture := testenv.Fixture(t)
	a := startAgent(t, "servers:\n"+healthy(fixture)+serverYAML("fx", fixture, []string{"-name", "changing"}, nil, ""), "2025-11-25")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	waitFor(t, ctx, "both servers' tools", func() bool { return hasAll(toolNames(t, ctx, a), "ok__echo", "fx__echo") })
	server := serverPID(t, a, "changing")

	wctx, wcancel := context.WithCancel(ctx)
	defer wcancel()
	waited := make(chan error, 1)
	go func() {
		_, err := a.cs.CallTool(wctx, &mcp.CallToolParams{Name: "fx__wait", Meta: mcp.Meta{"progressToken": "w"}})
		waited <- err
	}()
	waitFor(t, ctx, "the wait call to reach the server", func() bool {
		return slices.ContainsFunc(a.progressNotes(), func(s string) bool { return strings.HasPrefix(s, "w:") })
	})

	drain(a.changed)
	describe := func() string {
		res, err := a.cs.ListTools(ctx, nil)
		if err != nil {
			t.Fatalf("tools/list: %v", err)
		}
		for _, tl := range res.Tools {
			if tl.Name == "fx__add" {
				return tl.Description
			}
		}
		return ""
	}
	before := describe()
	if err := syscall.Kill(server, syscall.SIGHUP); err != nil { // adds "extra"
		t.Fatal(err)
	}
	waitChanged(t, ctx, a)
	waitFor(t, ctx, "fx__extra to be listed", func() bool { return hasAll(toolNames(t, ctx, a), "fx__extra", "ok__echo") })
	if got := textOf(t, call(t, ctx, a, "fx__extra", nil)); got != "extra" {
		t.Errorf("fx__extra = %q", got)
	}
	if err := syscall.Kill(server, syscall.SIGUSR1); err != nil { // redefines "add"
		t.Fatal(err)
	}
	waitFor(t, ctx, "fx__add's new definition", func() bool { return describe() != before })

	drain(a.changed)
	if err := syscall.Kill(server, syscall.SIGHUP); err != nil { // removes "extra"
		t.Fatal(err)
	}
	waitChanged(t, ctx, a)
	waitFor(t, ctx, "fx__extra to be gone", func() bool { return !slices.Contains(toolNames(t, ctx, a), "fx__extra") })
	res, err := a.cs.CallTool(ctx, &mcp.CallToolParams{Name: "fx__extra"})
	wantAll(t, "a removed tool", failureText(t, res, err), `unknown tool "fx__extra"`)

	select {
	case err := <-waited:
		t.Fatalf("the call in flight ended with the list change: %v", err)
	default:
	}
	wcancel()
	<-waited
	checkHealthy(t, ctx, a, "after the list changes")
	if names := toolNames(t, ctx, a); !hasAll(names, "ok__echo", "fx__echo", "fx__wait") {
		t.Errorf("tools after the changes = %v", names)
	}
}

// TestStderrFlood has a server write 100 MiB to stderr without a newline
// while it serves: calls keep working, the flood reaches mcpgw's stderr as
// one bounded line that counts what it dropped, the lines after it arrive
// whole, and mcpgw's memory never holds the flood.
func TestStderrFlood(t *testing.T) {
	t.Parallel()
	fixture := testenv.Fixture(t)
	s := startServed(t, "servers:\n"+healthy(fixture)+serverYAML("fx", fixture, []string{"-mode", "flood-stderr"}, nil, ""), "2025-11-25")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if got := textOf(t, call(t, ctx, s.agent, "fx__echo", map[string]any{"text": "during"})); got != "during" {
		t.Errorf("echo during the flood = %q", got)
	}
	checkHealthy(t, ctx, s.agent, "during the flood")
	if s.stderr.has("[fx] fixture: flood done") {
		t.Log("the flood ended before the calls: they did not run during it")
	}
	waitFor(t, ctx, "the end of the flood on mcpgw's stderr", func() bool { return s.stderr.has("[fx] fixture: flood done") })

	const floodBytes, lineCap = 100 << 20, 8 << 10 // the fixture's flood; mcpgw's stderr line cap
	want := fmt.Sprintf("[fx] %s …[%d more bytes]", strings.Repeat("x", lineCap), floodBytes-lineCap)
	if !s.stderr.has(want) {
		t.Errorf("mcpgw's stderr has no line %.40q…%q", want, want[len(want)-30:])
	}
	if n := s.stderr.longest(); n > len(want) {
		t.Errorf("mcpgw wrote a stderr line of %d bytes; the flood's own is %d", n, len(want))
	}
	if got := textOf(t, call(t, ctx, s.agent, "fx__echo", map[string]any{"text": "after"})); got != "after" {
		t.Errorf("echo after the flood = %q", got)
	}
	checkHealthy(t, ctx, s.agent, "after the flood")
	if runtime.GOOS != "linux" {
		t.Log("skipping the memory check: it reads /proc")
		return
	}
	// Had mcpgw held the flood, its peak resident memory would exceed what
	// the same gateway uses without it (measured now, in the same build:
	// a -race binary with its rules compiled is large) by about the
	// flood's size; allow half of it.
	hwm := peakRSS(t, s.cmd.Process.Pid)
	calm := startServed(t, "servers:\n"+healthy(fixture)+serverYAML("fx", fixture, nil, nil, ""), "2025-11-25")
	for _, text := range []string{"during", "after"} {
		if got := textOf(t, call(t, ctx, calm.agent, "fx__echo", map[string]any{"text": text})); got != text {
			t.Fatalf("echo without a flood = %q", got)
		}
	}
	checkHealthy(t, ctx, calm.agent, "without a flood")
	base := peakRSS(t, calm.cmd.Process.Pid)
	t.Logf("mcpgw's peak RSS: %d MiB with the flood, %d MiB without", hwm>>20, base>>20)
	if hwm >= base+floodBytes/2 {
		t.Errorf("mcpgw's peak RSS is %d MiB with the %d MiB flood and %d MiB without: it held the flood", hwm>>20, floodBytes>>20, base>>20)
	}
}

// TestStdinClosedLeavesNoChildren closes mcpgw's stdin with a server that
// left a grandchild in a session of its own, ignores SIGTERM and keeps
// running after its stdin closes: mcpgw exits within 3 s (the shutdown
// budget; the test asks for 5), and no process it started is left.
func TestStdinClosedLeavesNoChildren(t *testing.T) {
	// Not parallel: the 3 s include the 2.5 s mcpgw gives a stubborn server,
	// and the rest must not go to other tests' load.
	fixture := testenv.Fixture(t)
	s := startServed(t, "servers:\n"+healthy(fixture)+serverYAML("fx", fixture, []string{"-mode", "grandchild,stubborn"}, nil, ""), "2025-11-25")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if got := textOf(t, call(t, ctx, s.agent, "fx__echo", map[string]any{"text": "hi"})); got != "hi" {
		t.Fatalf("echo = %q", got)
	}
	checkHealthy(t, ctx, s.agent, "before closing stdin")
	serve := s.cmd.Process.Pid
	var tree []procInfo
	if runtime.GOOS == "linux" {
		waitFor(t, ctx, "the grandchild", func() bool {
			tree = descendants(serve)
			return slices.ContainsFunc(tree, isGrandchild)
		})
		logTree(t, serve, tree)
	}

	start := time.Now()
	s.stdin.Close()
	select {
	case <-s.exited:
		t.Logf("mcpgw exited %v after its stdin closed", time.Since(start).Round(time.Millisecond))
	case <-time.After(3 * time.Second):
		t.Fatalf("mcpgw still running 3 s after its stdin closed")
	}
	if runtime.GOOS != "linux" {
		t.Log("skipping the check for leftover processes: it reads /proc")
		return
	}
	// mcpgw waits for its servers' trees before it exits: nothing is left.
	var left []string
	for _, p := range tree {
		if p.alive() {
			left = append(left, p.String())
		}
	}
	if len(left) > 0 {
		t.Errorf("processes left after mcpgw exited:\n  %s", strings.Join(left, "\n  "))
	}
}

// isGrandchild reports whether p is the fixture's grandchild (mode sleep).
func isGrandchild(p procInfo) bool {
	return len(p.argv) >= 3 && slices.Equal(p.argv[1:3], []string{"-mode", "sleep"})
}

// logTree logs the processes below pid.
func logTree(t *testing.T, pid int, tree []procInfo) {
	t.Helper()
	var all []string
	for _, p := range tree {
		all = append(all, p.String())
	}
	t.Logf("process tree of mcpgw serve (pid %d):\n  %s", pid, strings.Join(all, "\n  "))
}

// serverPID returns the pid of the fixture started with -name name below
// the agent's mcpgw.
func serverPID(t *testing.T, a *agent, name string) int {
	t.Helper()
	for _, p := range descendants(a.cmd.Process.Pid) {
		if i := slices.Index(p.argv, "-name"); i > 0 && i+1 < len(p.argv) && p.argv[i+1] == name && !strings.Contains(p.argv[0], "supervisor") {
			return p.pid
		}
	}
	t.Fatalf("no fixture named %q below mcpgw (pid %d)", name, a.cmd.Process.Pid)
	return 0
}

// peakRSS returns the peak resident set size of pid in bytes (VmHWM).
func peakRSS(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		t.Fatal(err)
	}
	for l := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			if err != nil {
				t.Fatalf("VmHWM %q: %v", v, err)
			}
			return kb << 10
		}
	}
	t.Fatalf("no VmHWM in /proc/%d/status", pid)
	return 0
}

// drain empties a notification channel.
func drain(c chan struct{}) {
	for {
		select {
		case <-c:
		default:
			return
		}
	}
}

// waitChanged waits for a tools/list_changed notification.
func waitChanged(t *testing.T, ctx context.Context, a *agent) {
	t.Helper()
	select {
	case <-a.changed:
	case <-ctx.Done():
		t.Fatal("no tools/list_changed relayed")
	}
}

// served is a real `mcpgw serve` driven by the go-sdk client over pipes the
// test holds, for tests that close mcpgw's stdin, read its stderr or time
// its exit themselves (mcp.CommandTransport does all three its own way).
type served struct {
	*agent
	stdin  io.Closer     // mcpgw's stdin
	stderr *stderrLines  // mcpgw's stderr
	exited chan struct{} // closed once mcpgw has exited
}

// startServed starts `mcpgw serve` on cfg with extra environment env and
// connects to it at version. The process is stopped when the test ends.
func startServed(t *testing.T, cfg, version string, env ...string) *served {
	t.Helper()
	bin := testenv.Mcpgw(t)
	a := &agent{updated: make(chan string, 8), changed: make(chan struct{}, 8)}
	s := &served{agent: a, stderr: &stderrLines{t: t}, exited: make(chan struct{})}
	inR, inW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	a.cmd = exec.Command(bin, "serve", "--config", writeConfig(t, cfg))
	a.cmd.Env = append(os.Environ(), ownRecord(t, env)...)
	a.cmd.Stdin, a.cmd.Stdout, a.cmd.Stderr = inR, outW, s.stderr
	if err := a.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	inR.Close()
	outW.Close()
	s.stdin = inW
	go func() {
		a.cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(func() {
		inW.Close()
		select {
		case <-s.exited:
		case <-time.After(10 * time.Second):
			t.Errorf("mcpgw still running 10 s after its stdin closed; killing it")
			a.cmd.Process.Kill()
			<-s.exited
		}
		outR.Close()
	})
	client := mcp.NewClient(&mcp.Implementation{Name: "failure-agent", Version: "1"}, &mcp.ClientOptions{
		ProgressNotificationHandler: func(ctx context.Context, req *mcp.ProgressNotificationClientRequest) {
			a.mu.Lock()
			a.progress = append(a.progress, fmt.Sprintf("%v:%v/%v", req.Params.ProgressToken, req.Params.Progress, req.Params.Total))
			a.mu.Unlock()
		},
		ToolListChangedHandler: func(context.Context, *mcp.ToolListChangedRequest) {
			select {
			case a.changed <- struct{}{}:
			default:
			}
		},
	})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	a.cs, err = client.Connect(ctx, &mcp.IOTransport{Reader: outR, Writer: inW}, &mcp.ClientSessionOptions{ProtocolVersion: version})
	if err != nil {
		t.Fatalf("connecting to mcpgw serve at %s: %v", version, err)
	}
	return s
}

// stderrLines collects a process's stderr by line for assertions, logging
// each (shortened) to the test.
type stderrLines struct {
	t *testing.T

	mu      sync.Mutex
	partial []byte
	lines   []string
	max     int
}

func (w *stderrLines) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.partial = append(w.partial, p...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		line := string(w.partial[:i])
		w.partial = w.partial[i+1:]
		w.lines = append(w.lines, line)
		w.max = max(w.max, len(line))
		w.t.Logf("mcpgw: %.300s", line)
	}
	return len(p), nil
}

// has reports whether a line holding s was written.
func (w *stderrLines) has(s string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.ContainsFunc(w.lines, func(l string) bool { return strings.Contains(l, s) })
}

// hasAll reports whether one line holds every one of subs, quotes
// unescaped (mcpgw's log lines quote values with quotes in them).
func (w *stderrLines) hasAll(subs ...string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.ContainsFunc(w.lines, func(l string) bool {
		l = strings.ReplaceAll(l, `\"`, `"`)
		for _, s := range subs {
			if !strings.Contains(l, s) {
				return false
			}
		}
		return true
	})
}

// longest returns the length of the longest line so far, counting an
// unfinished one.
func (w *stderrLines) longest() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return max(w.max, len(w.partial))
}
