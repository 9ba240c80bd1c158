package main

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgw/mcpgw/cmd/internal/testenv"
)

// TestCrashLoopTakesServerOut crashes a server again and again: through
// its first crashes its tools stay listed while it restarts; after three
// failures in a row it is taken out of the catalog (the agent gets
// list_changed) until a restart succeeds, and the other server is never
// affected.
func TestCrashLoopTakesServerOut(t *testing.T) {
	t.Parallel()
	fixture := testenv.Fixture(t)
	a := startAgent(t, fixtureServers(fixture, "fx", "ok"), "2025-11-25")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	listed := func(name string) bool {
		tl, err := a.cs.ListTools(ctx, nil)
		return err == nil && slices.ContainsFunc(tl.Tools, func(t *mcp.Tool) bool { return t.Name == name })
	}
	echo := func(name string) bool {
		res, err := a.cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: map[string]any{"text": "x"}})
		return err == nil && !res.IsError && textOf(t, res) == "x"
	}
	crash := func() {
		t.Helper()
		res := call(t, ctx, a, "fx__crash", nil)
		if got := textOf(t, res); !res.IsError || !strings.Contains(got, `server "fx"`) {
			t.Fatalf("crashing call: isError=%v %q; want an error naming the server", res.IsError, got)
		}
	}
	waitFor(t, ctx, "both servers' tools", func() bool { return listed("fx__echo") && listed("ok__echo") })

	for i := 1; i < 3; i++ {
		crash()
		if !listed("fx__echo") {
			t.Fatalf("after crash %d fx's tools are gone; they stay listed while it restarts", i)
		}
		waitFor(t, ctx, "fx to restart and answer", func() bool { return echo("fx__echo") })
	}
	for len(a.changed) > 0 {
		<-a.changed
	}
	crash() // the third failure in a row
	waitFor(t, ctx, "fx to be taken out of the catalog", func() bool { return !listed("fx__echo") })
	select {
	case <-a.changed:
	case <-ctx.Done():
		t.Fatal("no list_changed when fx was taken out")
	}
	if !listed("ok__echo") || !echo("ok__echo") {
		t.Error("the healthy server was affected")
	}
	waitFor(t, ctx, "fx to come back once a restart succeeds", func() bool { return listed("fx__echo") && echo("fx__echo") })
}
