package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgw/mcpgw/cmd/internal/testenv"
)

// TestIdentityForwarded checks that the caller's identity reaches servers in
// _meta["io.mcpgw/identity"], on both call paths, and that an agent cannot
// pass one of its own.
func TestIdentityForwarded(t *testing.T) {
	cfg := fixtureConfig(testenv.Fixture(t))
	for _, env := range [][]string{nil, {"MCPGW_NO_FASTPATH=1"}} {
		a := startAgentEnv(t, cfg, "2025-11-25", append(env, "MCPGW_USER=ada@example.com", "MCPGW_TEAM=data", "MCPGW_ROLES=dev, admin")...)
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		res, err := a.cs.CallTool(ctx, &mcp.CallToolParams{Name: "fx__meta", Meta: mcp.Meta{
			"io.mcpgw/identity": map[string]any{"user": "mallory@example.com", "team": "admins"},
		}})
		if err != nil {
			t.Fatal(err)
		}
		got := textOf(t, res)
		for _, want := range []string{`"user":"ada@example.com"`, `"team":"data"`, `"roles":["dev","admin"]`} {
			if !strings.Contains(got, want) {
				t.Errorf("%v: server saw _meta %s; want %s", env, got, want)
			}
		}
		if strings.Contains(got, "mallory") {
			t.Errorf("%v: the agent's own io.mcpgw/identity reached the server: %s", env, got)
		}
	}
}
