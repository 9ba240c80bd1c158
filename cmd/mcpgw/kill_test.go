//go:build linux

package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgw/mcpgw/cmd/internal/testenv"
)

// TestKilledServeLeavesNoChildren SIGKILLs `mcpgw serve` (no chance to
// clean up) and checks that the servers it started die with it, within 2 s,
// and so does a grandchild one of them started in a session of its own
// (which only SIGKILL stops: fixture mode grandchild).
func TestKilledServeLeavesNoChildren(t *testing.T) {
	fixture := testenv.Fixture(t)
	fixtureReal, err := filepath.EvalSymlinks(fixture)
	if err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(t.TempDir(), "config.yaml")
	cfg := fmt.Sprintf("servers:\n  one:\n    command: %q\n  two:\n    command: %q\n    args: [-mode, grandchild]\n", fixture, fixture)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(testenv.Mcpgw(t), "serve", "--config", cfgPath)
	cmd.Stderr = &testWriter{t: t}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	client := mcp.NewClient(&mcp.Implementation{Name: "kill-agent", Version: "1"}, nil)
	cs, err := client.Connect(ctx, &mcp.CommandTransport{Command: cmd}, nil)
	if err != nil {
		t.Fatalf("connecting to mcpgw serve: %v", err)
	}
	t.Cleanup(func() { cs.Close() })

	// Both servers are up once their tools are listed.
	waitFor(t, ctx, "both servers' tools", func() bool {
		res, err := cs.ListTools(ctx, nil)
		if err != nil {
			t.Fatalf("tools/list: %v", err)
		}
		names := make([]string, 0, len(res.Tools))
		for _, tl := range res.Tools {
			names = append(names, tl.Name)
		}
		return slices.Contains(names, "one__echo") && slices.Contains(names, "two__echo")
	})

	for _, name := range []string{"one__echo", "two__echo"} {
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: map[string]any{"text": "alive"}})
		if err != nil || res.IsError {
			t.Fatalf("%s: %v %v", name, res, err)
		}
	}

	serve := cmd.Process.Pid
	tree := descendants(serve)
	var fixtures, grandchildren []procInfo
	for _, p := range tree {
		exe, _ := os.Readlink(filepath.Join("/proc", fmt.Sprint(p.pid), "exe"))
		switch {
		case isGrandchild(p):
			grandchildren = append(grandchildren, p)
		case exe == fixtureReal || len(p.argv) > 0 && p.argv[0] == fixture:
			fixtures = append(fixtures, p)
		}
	}
	var all []string
	for _, p := range tree {
		all = append(all, p.String())
	}
	t.Logf("process tree of mcpgw serve (pid %d):\n  %s", serve, strings.Join(all, "\n  "))
	if len(fixtures) != 2 || len(grandchildren) != 1 {
		t.Fatalf("want 2 fixture servers and 1 grandchild under mcpgw serve (pid %d), found %d and %d; its tree:\n  %s", serve, len(fixtures), len(grandchildren), strings.Join(all, "\n  "))
	}

	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	// Nothing it started (servers, supervisors, the grandchild) is alive
	// 2 s later.
	waitAllGone(t, "processes started by the killed mcpgw serve", tree, 2*time.Second)
}
