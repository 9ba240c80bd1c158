package main

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// TestRateLimitAcrossProcesses runs two `mcpgw serve` processes on one
// record, with a limit of 5 calls a minute on the fixture server: six calls
// made at once across both let exactly five through, and the sixth gets an
// error result naming the limit and when to retry, recorded as blocked by
// limits[0]. A prompt past the limit gets a JSON-RPC error, and an edit of
// the limit applies to the running gateways.
func TestRateLimitAcrossProcesses(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg, db := filepath.Join(dir, "config.yaml"), filepath.Join(dir, "record.db")
	const limited = "limits:\n  - {scope: server, server: fx, rate: 5/m}\n"
	writePolicyConfig(t, cfg, []string{"fx"}, limited)
	agents := []*policyAgent{
		servePolicy(t, cfg, "agent-a", "2025-11-25", nil, "MCPGW_DB="+db),
		servePolicy(t, cfg, "agent-b", "2025-11-25", nil, "MCPGW_DB="+db),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	var mu sync.Mutex
	var ok int
	var refused []string
	var wg sync.WaitGroup
	for i := range 6 {
		a := agents[i%2]
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := a.cs.CallTool(ctx, &mcp.CallToolParams{Name: "fx__echo", Arguments: map[string]any{"text": "hi"}})
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if res.IsError {
				refused = append(refused, textOf(t, res))
			} else {
				ok++
			}
		}()
	}
	wg.Wait()
	if ok != 5 || len(refused) != 1 {
		t.Fatalf("%d calls through, refused %q; want 5 through and 1 refused", ok, refused)
	}
	// The hint counts down from 12s (one call back every 12s at 5/m) by the
	// time the six calls took to arrive, which is seconds on a loaded machine.
	want := regexp.MustCompile(`^mcpgw: rate limit 5/m for server fx reached \(limits\[0\]\); retry in ([0-9.]+)s$`)
	if m := want.FindStringSubmatch(refused[0]); m == nil {
		t.Errorf("refusal = %q; want it to match %s", refused[0], want)
	} else if d, err := time.ParseDuration(m[1] + "s"); err != nil || d <= 0 || d > 12*time.Second {
		t.Errorf("refusal = %q; want a retry hint in (0s, 12s]", refused[0])
	}
	// Other kinds of request to the server: a JSON-RPC error.
	if _, err := agents[1].cs.GetPrompt(ctx, &mcp.GetPromptParams{Name: "fx__greet", Arguments: map[string]string{"name": "x"}}); err == nil ||
		!strings.Contains(err.Error(), "rate limit 5/m for server fx reached (limits[0]); retry in") {
		t.Errorf("prompt past the limit: %v; want a JSON-RPC error saying the limit", err)
	}

	// A limit edited live applies to both running gateways.
	writePolicyConfig(t, cfg, []string{"fx"}, "limits:\n  - {scope: server, server: fx, rate: 1000/s}\n")
	for _, a := range agents {
		waitFor(t, ctx, "the edited limit to apply", func() bool {
			res, err := a.cs.CallTool(ctx, &mcp.CallToolParams{Name: "fx__echo", Arguments: map[string]any{"text": "again"}})
			return err == nil && !res.IsError
		})
	}
	for _, a := range agents {
		a.stop()
	}

	var okRows, blocked, promptBlocked int
	for _, c := range recordOf(t, db) {
		switch {
		case c.Method == "tools/call" && c.Status == "ok" && c.Tool == "fx__echo":
			okRows++
		case c.Method == "tools/call" && c.Status == "blocked":
			blocked++
			if c.Decision != "limit" || c.Rule != "limits[0]" || !strings.Contains(c.Error, "retry in") {
				t.Errorf("refused call's row: decision %q, rule %q, error %q; want limit, limits[0], the retry hint", c.Decision, c.Rule, c.Error)
			}
		case c.Method == "prompts/get" && c.Status == "blocked" && c.Rule == "limits[0]":
			promptBlocked++
		}
	}
	if okRows != 7 || blocked < 1 || promptBlocked != 1 {
		t.Errorf("record: %d echo calls ok, %d refused, %d prompts refused; want 7 (5 + one per gateway after the edit), at least 1, 1", okRows, blocked, promptBlocked)
	}
}
