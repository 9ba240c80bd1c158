package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgw/mcpgw/cmd/internal/testenv"
)

// logBuffer keeps a child's stderr for assertions and logs it to the test.
type logBuffer struct {
	t  *testing.T
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *logBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.t.Logf("mcpgw: %s", strings.TrimRight(string(p), "\n"))
	return w.b.Write(p)
}

func (w *logBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// reloadAgent is a go-sdk client of `mcpgw serve` on a configuration file
// the test rewrites.
type reloadAgent struct {
	cs      *mcp.ClientSession
	cmd     *exec.Cmd
	changed chan struct{}
	stderr  *logBuffer
}

// startServeOn launches `mcpgw serve --config cfgPath` (live reload on)
// and connects to it at version.
func startServeOn(t *testing.T, cfgPath, version string) *reloadAgent {
	t.Helper()
	return startServeEnv(t, cfgPath, version)
}

// startServeEnv is [startServeOn] with extra environment entries for mcpgw.
func startServeEnv(t *testing.T, cfgPath, version string, env ...string) *reloadAgent {
	t.Helper()
	a := &reloadAgent{changed: make(chan struct{}, 64), stderr: &logBuffer{t: t}}
	client := mcp.NewClient(&mcp.Implementation{Name: "reload-agent", Version: "1"}, &mcp.ClientOptions{
		ToolListChangedHandler: func(context.Context, *mcp.ToolListChangedRequest) {
			select {
			case a.changed <- struct{}{}:
			default:
			}
		},
	})
	args := []string{"serve", "--config", cfgPath}
	if cfgPath == "" {
		args = args[:1] // the default path
	}
	a.cmd = exec.Command(testenv.Mcpgw(t), args...)
	a.cmd.Env = append(os.Environ(), ownRecord(t, env)...)
	a.cmd.Stderr = a.stderr
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cs, err := client.Connect(ctx, &mcp.CommandTransport{Command: a.cmd}, &mcp.ClientSessionOptions{ProtocolVersion: version})
	if err != nil {
		t.Fatalf("connecting to mcpgw serve at %s: %v", version, err)
	}
	t.Cleanup(func() { cs.Close() })
	a.cs = cs
	return a
}

func (a *reloadAgent) toolNames(t *testing.T, ctx context.Context) []string {
	t.Helper()
	res, err := a.cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatalf("tools/list: %v", err)
	}
	var names []string
	for _, tl := range res.Tools {
		names = append(names, tl.Name)
	}
	return names
}

// drain forgets list_changed notifications received so far.
func (a *reloadAgent) drain() {
	for {
		select {
		case <-a.changed:
		default:
			return
		}
	}
}

// writeAtomic replaces path with content by rename, as editors and
// `mcpgw server add` do.
func writeAtomic(t *testing.T, path, content string) {
	t.Helper()
	tmp := filepath.Join(filepath.Dir(path), ".config.yaml.tmp")
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func fixtureServers(fixture string, names ...string) string {
	var b strings.Builder
	b.WriteString("servers:\n")
	for _, n := range names {
		fmt.Fprintf(&b, "  %s:\n    command: %q\n", n, fixture)
	}
	return b.String()
}

// reconfigure writes content to path and waits until a tools/list_changed
// notification arrives after which the catalog satisfies ok. The file is
// rewritten every few seconds until then: the gateway's file watch starts
// alongside the session, and a write before it is in place would be missed.
func (a *reloadAgent) reconfigure(t *testing.T, ctx context.Context, path, content, what string, ok func([]string) bool) {
	t.Helper()
	a.drain()
	writeAtomic(t, path, content)
	rewrite := time.NewTicker(3 * time.Second)
	defer rewrite.Stop()
	for {
		select {
		case <-a.changed:
			if names := a.toolNames(t, ctx); ok(names) {
				return
			}
		case <-rewrite.C:
			writeAtomic(t, path, content)
		case <-ctx.Done():
			t.Fatalf("%s: no tools/list_changed after which the catalog is right; tools/list now: %v", what, a.toolNames(t, context.Background()))
		}
	}
}

// TestServeReloadsConfig changes the configuration under a running
// `mcpgw serve`: servers added and removed reach the agent as
// tools/list_changed, and an invalid file leaves the running servers alone.
func TestServeReloadsConfig(t *testing.T) {
	fixture := testenv.Fixture(t)
	for _, version := range agentVersions {
		t.Run("agent="+version, func(t *testing.T) {
			t.Parallel()
			cfgPath := filepath.Join(t.TempDir(), "config.yaml")
			writeAtomic(t, cfgPath, fixtureServers(fixture, "a"))
			a := startServeOn(t, cfgPath, version)
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()

			waitFor(t, ctx, "a__echo to be listed", func() bool { return slices.Contains(a.toolNames(t, ctx), "a__echo") })

			// Add b.
			a.reconfigure(t, ctx, cfgPath, fixtureServers(fixture, "a", "b"), "adding server b", func(names []string) bool {
				return slices.Contains(names, "b__echo") && slices.Contains(names, "a__echo")
			})
			if got := textOf(t, call(t, ctx, &agent{cs: a.cs}, "b__echo", map[string]any{"text": "from b"})); got != "from b" {
				t.Errorf("b__echo after adding b = %q", got)
			}

			// Remove a.
			a.reconfigure(t, ctx, cfgPath, fixtureServers(fixture, "b"), "removing server a", func(names []string) bool {
				return !slices.Contains(names, "a__echo") && slices.Contains(names, "b__echo")
			})
			if res, err := a.cs.CallTool(ctx, &mcp.CallToolParams{Name: "a__echo", Arguments: map[string]any{"text": "x"}}); err == nil && !res.IsError {
				t.Errorf("a__echo still answers after a was removed: %q", textOf(t, res))
			}

			// An invalid file is reported and not applied: b keeps serving.
			writeAtomic(t, cfgPath, "servers:\n  b:\n    command: [unterminated\n")
			waitFor(t, ctx, "the gateway to report the invalid configuration", func() bool {
				return strings.Contains(a.stderr.String(), "not applied")
			})
			if got := textOf(t, call(t, ctx, &agent{cs: a.cs}, "b__echo", map[string]any{"text": "still here"})); got != "still here" {
				t.Errorf("b__echo after an invalid config = %q", got)
			}
			if names := a.toolNames(t, ctx); !slices.Contains(names, "b__echo") || slices.Contains(names, "a__echo") {
				t.Errorf("tools after an invalid config = %v, want b's tools only", names)
			}

			// The watch survives the error: the next valid file applies.
			a.reconfigure(t, ctx, cfgPath, fixtureServers(fixture, "b", "c"), "adding server c after an invalid file", func(names []string) bool {
				return slices.Contains(names, "c__echo") && slices.Contains(names, "b__echo")
			})
		})
	}
}

// TestServePicksUpFirstConfig starts `mcpgw serve` before any configuration
// exists at the default path (in a directory that does not exist yet, as on
// a fresh machine) and checks that the first file written there reaches the
// running gateway. (Only the default may be missing: a --config file that
// does not exist is an error, TestExitCodesAsDocumented's.)
func TestServePicksUpFirstConfig(t *testing.T) {
	fixture := testenv.Fixture(t)
	home := t.TempDir()
	cfgPath := filepath.Join(home, "mcpgw", "config.yaml")
	a := startServeEnv(t, "", "2025-11-25", "XDG_CONFIG_HOME="+home, "MCPGW_CONFIG=")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if names := a.toolNames(t, ctx); len(names) != 0 {
		t.Fatalf("tools before any configuration: %v", names)
	}
	a.reconfigure(t, ctx, cfgPath, fixtureServers(fixture, "a"), "first configuration", func(names []string) bool {
		return slices.Contains(names, "a__echo")
	})
}
