//go:build linux

package main

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/mcpgw/mcpgw/cmd/internal/testenv"
)

// TestNoSupervisorEnv checks that `mcpgw serve` starts each server under a
// supervisor (mcpgw re-executed, between mcpgw and the server), and with
// MCPGW_NO_SUPERVISOR=1 as its own child: the command reads the variable
// and hands it to the gateway.
func TestNoSupervisorEnv(t *testing.T) {
	fixture := testenv.Fixture(t)
	fixtureReal, err := filepath.EvalSymlinks(fixture)
	if err != nil {
		t.Fatal(err)
	}
	for _, env := range [][]string{nil, {"MCPGW_NO_SUPERVISOR=1"}} {
		a := startAgentEnv(t, "servers:\n"+healthy(fixture), "2025-11-25", env...)
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		checkHealthy(t, ctx, a, "at start")
		cancel()
		serve, server := a.cmd.Process.Pid, 0
		parent := map[int]int{}
		for _, p := range descendants(serve) {
			parent[p.pid] = p.ppid
			if len(p.argv) > 0 && (p.argv[0] == fixture || p.argv[0] == fixtureReal) {
				server = p.pid
			}
		}
		if server == 0 {
			t.Fatalf("%v: no fixture process under mcpgw serve (pid %d): %v", env, serve, descendants(serve))
		}
		direct := parent[server] == serve
		supervised := !direct && parent[parent[server]] == serve
		if env == nil && !supervised || env != nil && !direct {
			t.Errorf("%v: the server %d's parent is %d (mcpgw serve: %d); want it %s", env, server, parent[server], serve, map[bool]string{true: "under a supervisor", false: "started by mcpgw itself"}[env == nil])
		}
	}
}
