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

// descendants returns the live processes below pid, found by walking each
// process's parent chain.
func descendants(pid int) []procInfo {
	procs := listProcs()
	parent := make(map[int]int, len(procs))
	for _, p := range procs {
		parent[p.pid] = p.ppid
	}
	var out []procInfo
	for _, p := range procs {
		if p.state == 'Z' {
			continue
		}
		for q, hops := p.ppid, 0; q > 1 && hops < 64; q, hops = parent[q], hops+1 {
			if q == pid {
				out = append(out, p)
				break
			}
		}
	}
	return out
}

// TestKilledServeLeavesNoChildren SIGKILLs `mcpgw serve` (no chance to
// clean up) and checks that the servers it started die with it.
func TestKilledServeLeavesNoChildren(t *testing.T) {
	fixture := testenv.Fixture(t)
	fixtureReal, err := filepath.EvalSymlinks(fixture)
	if err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(t.TempDir(), "config.yaml")
	cfg := fmt.Sprintf("servers:\n  one:\n    command: %q\n  two:\n    command: %q\n", fixture, fixture)
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

	serve := cmd.Process.Pid
	tree := descendants(serve)
	var fixtures []procInfo
	for _, p := range tree {
		exe, _ := os.Readlink(filepath.Join("/proc", fmt.Sprint(p.pid), "exe"))
		if exe == fixtureReal || len(p.argv) > 0 && p.argv[0] == fixture {
			fixtures = append(fixtures, p)
		}
	}
	var all []string
	for _, p := range tree {
		all = append(all, p.String())
	}
	t.Logf("process tree of mcpgw serve (pid %d):\n  %s", serve, strings.Join(all, "\n  "))
	if len(fixtures) != 2 {
		t.Fatalf("want 2 fixture processes under mcpgw serve (pid %d), found %d; its tree:\n  %s", serve, len(fixtures), strings.Join(all, "\n  "))
	}

	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitAllGone(t, "fixture servers of the killed mcpgw serve", fixtures, 15*time.Second)
	// Nothing else it started (supervisors included) survives either.
	waitAllGone(t, "processes started by the killed mcpgw serve", tree, 15*time.Second)
}
