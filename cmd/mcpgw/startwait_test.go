//go:build unix

package main

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgw/mcpgw/cmd/internal/testenv"
)

// TestHangingServerHoldsUpNoOne starts a server that never answers
// initialize (with a long connect timeout) beside a healthy one: the first
// list and the healthy server's calls answer long before that timeout.
func TestHangingServerHoldsUpNoOne(t *testing.T) {
	fixture := testenv.Fixture(t)
	cfg := "servers:\n" + healthy(fixture) + serverYAML("fx", fixture, []string{"-mode", "hang-init"}, nil, "    timeouts: {connect: 120s}\n")
	a := startAgent(t, cfg, "2025-11-25")
	// Well under the hanging server's 120 s connect timeout.
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	tl, err := a.cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatalf("the first list waited for the hanging server: %v", err)
	}
	names := toolNamesOf(tl)
	if !slices.Contains(names, "ok__echo") || slices.Contains(names, "fx__echo") {
		t.Errorf("first list = %v; want ok's tools and none of the hanging server's", names)
	}
	checkHealthy(t, ctx, a, "while fx hangs")
}

// TestLazyCachedServerHoldsUpNoOne runs a gateway twice over one record: the
// second time a lazy server is listed from its cached catalog without
// starting, and calls to the other server must not wait for it; its own
// first call starts it.
func TestLazyCachedServerHoldsUpNoOne(t *testing.T) {
	fixture := testenv.Fixture(t)
	db := filepath.Join(t.TempDir(), "record.db")
	cfgPath := writeConfig(t, "servers:\n"+healthy(fixture)+serverYAML("lz", fixture, nil, nil, "    start: lazy\n"))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	first := startServeEnv(t, cfgPath, "2025-11-25", "MCPGW_DB="+db)
	waitFor(t, ctx, "the lazy server to be listed", func() bool { return slices.Contains(first.toolNames(t, ctx), "lz__echo") })
	first.cs.Close()
	first.cmd.Wait() // its catalogs are saved by then

	second := startServeEnv(t, cfgPath, "2025-11-25", "MCPGW_DB="+db)
	if names := second.toolNames(t, ctx); !slices.Contains(names, "lz__echo") || !slices.Contains(names, "ok__echo") {
		t.Fatalf("second run's first list = %v; want both servers, lz from its cached catalog", names)
	}
	cctx, ccancel := context.WithTimeout(ctx, 20*time.Second)
	defer ccancel()
	for _, name := range []string{"ok__echo", "lz__echo"} {
		res, err := second.cs.CallTool(cctx, &mcp.CallToolParams{Name: name, Arguments: map[string]any{"text": "hi"}})
		if err != nil || res.IsError || textOf(t, res) != "hi" {
			t.Errorf("%s with a cached lazy server: %v %+v", name, err, res)
		}
	}
}

// TestFailedServerCallSaysWhy calls a tool of a server that fails from its
// very first start: its tools never make the catalog, yet the call is
// answered with the server's failure, not "unknown tool".
func TestFailedServerCallSaysWhy(t *testing.T) {
	fixture := testenv.Fixture(t)
	a := startAgent(t, "servers:\n"+healthy(fixture)+serverYAML("fx", fixture, []string{"-mode", "exit"}, nil, ""), "2025-11-25")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	checkHealthy(t, ctx, a, "beside a failing server")
	res, err := a.cs.CallTool(ctx, &mcp.CallToolParams{Name: "fx__echo", Arguments: map[string]any{"text": "x"}})
	got := failureText(t, res, err)
	if !strings.Contains(got, `server "fx"`) || !strings.Contains(got, "exited") {
		t.Errorf("a call to the failed server = %q; want its name and how it failed", got)
	}
}

func toolNamesOf(tl *mcp.ListToolsResult) []string {
	var out []string
	for _, x := range tl.Tools {
		out = append(out, x.Name)
	}
	return out
}
