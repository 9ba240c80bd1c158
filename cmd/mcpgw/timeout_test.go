package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgw/mcpgw/cmd/internal/testenv"
)

// TestCallTimeoutPerToolAndProgress checks, on every forwarding path, that
// a tool's own timeout overrides the server's, and that progress from the
// server pushes a call's deadline back: a job longer than the timeout that
// reports progress more often finishes, the same job without progress
// times out.
func TestCallTimeoutPerToolAndProgress(t *testing.T) {
	fixture := testenv.Fixture(t)
	cfg := fmt.Sprintf("servers:\n  fx:\n    command: %q\n    timeouts: {call: 1s, tools: {sleep: 10s}}\n", fixture)
	paths := []struct {
		name, version string
		env           []string
	}{
		{"fast", "2025-11-25", nil},
		{"fast-no-inline", "2025-11-25", []string{"MCPGW_NO_INLINE=1"}},
		{"sdk", "2025-11-25", []string{"MCPGW_NO_FASTPATH=1"}},
		{"input-required", "2026-07-28", nil},
	}
	for _, p := range paths {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			a := startAgentEnv(t, cfg, p.version, p.env...)
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()

			if got := textOf(t, call(t, ctx, a, "fx__sleep", map[string]any{"ms": 1500})); got != "slept" {
				t.Errorf("sleep 1.5s under its own 10s timeout = %q", got)
			}
			job := map[string]any{"steps": 6, "delay_ms": 400} // 2.4 s, progress every 0.4 s
			res, err := a.cs.CallTool(ctx, &mcp.CallToolParams{Name: "fx__progress", Arguments: job, Meta: mcp.Meta{"progressToken": "job"}})
			if err != nil || res.IsError || textOf(t, res) != "done" {
				t.Errorf("a 2.4 s job sending progress, under a 1 s timeout: %v %+v", err, res)
			}
			res = call(t, ctx, a, "fx__progress", job) // no token: no progress
			if got := textOf(t, res); !res.IsError || !strings.Contains(got, "within 1s") || !strings.Contains(got, `"fx"`) {
				t.Errorf("the same job without progress: isError=%v %q; want a timeout naming the server", res.IsError, got)
			}
		})
	}
}
