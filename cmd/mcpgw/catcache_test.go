package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/mcpgw/mcpgw/cmd/internal/testenv"
)

// TestCatalogCache serves a server that cannot start until the test opens
// a gate. A second run answers tools/list from the catalog the first run
// kept, with the gate still closed; once the server is up with a different
// tool list, the agent gets list_changed and the live list. A changed
// launch spec is never served from the old cache.
func TestCatalogCache(t *testing.T) {
	t.Parallel()
	fx := testenv.Fixture(t)
	dir := t.TempDir()
	gate, variant := filepath.Join(dir, "gate"), filepath.Join(dir, "variant")
	script := filepath.Join(dir, "gated-server")
	body := fmt.Sprintf("#!/bin/sh\nwhile [ ! -e %q ]; do sleep 0.05; done\nexec %q -tools-variant \"$(cat %q)\" \"$@\"\n", gate, fx, variant)
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "record.db")
	write := func(path, s string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg := func(args string) string {
		return writeConfig(t, fmt.Sprintf("servers:\n  fx:\n    command: %q\n    args: [%s]\n", script, args))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	// Run 1: nothing cached; the list waits for the server.
	write(variant, "0")
	write(gate, "")
	cfgPath := cfg("")
	a := startServeEnv(t, cfgPath, "2025-11-25", "MCPGW_DB="+db)
	if names := a.toolNames(t, ctx); !slices.Contains(names, "fx__echo") || slices.Contains(names, "fx__extra") {
		t.Fatalf("run 1 tools = %v", names)
	}
	a.cs.Close()
	a.cmd.Wait()

	// Run 2: the gate is closed, so only the cache can answer.
	os.Remove(gate)
	write(variant, "1") // the server will come up with one more tool
	b := startServeEnv(t, cfgPath, "2025-11-25", "MCPGW_DB="+db)
	if names := b.toolNames(t, ctx); !slices.Contains(names, "fx__echo") || slices.Contains(names, "fx__extra") {
		t.Fatalf("run 2, from the cache: tools = %v; want run 1's", names)
	}
	b.drain()
	write(gate, "")
	select {
	case <-b.changed:
	case <-ctx.Done():
		t.Fatal("no list_changed once the live catalog differed from the cache")
	}
	waitFor(t, ctx, "the live tool list", func() bool { return slices.Contains(b.toolNames(t, ctx), "fx__extra") })
	b.cs.Close()
	b.cmd.Wait()

	// Run 3: another launch spec (an extra argument) is not served from
	// the cache kept for the old one: the first list is the live one.
	write(variant, "3")
	c := startServeEnv(t, cfg(`"-page-size", "100"`), "2025-11-25", "MCPGW_DB="+db)
	if names := c.toolNames(t, ctx); !slices.Contains(names, "fx__extra") {
		t.Fatalf("run 3 tools = %v; want the live list, not a stale cache", names)
	}
	c.cs.Close()
	c.cmd.Wait()

	// Runs 4 and 5: the same launch spec, but the server is told another
	// protocol version (an agent at 2026-07-28), or other capabilities (an
	// agent that can sample, elicit and give roots): a server may list
	// other tools then, so run 3's cache is not served either.
	write(variant, "0")
	d := startServeEnv(t, cfg(`"-page-size", "100"`), "2026-07-28", "MCPGW_DB="+db)
	if names := d.toolNames(t, ctx); slices.Contains(names, "fx__extra") {
		t.Fatalf("run 4 tools = %v; want the live list, not the cache of another protocol version", names)
	}
	d.cs.Close()
	d.cmd.Wait()
	cmd := exec.Command(testenv.Mcpgw(t), "serve", "--config", cfg(`"-page-size", "100"`))
	cmd.Env = append(os.Environ(), "MCPGW_DB="+db)
	e := connectAgent(t, cmd, "2025-11-25")
	res, err := e.cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tl := range res.Tools {
		if tl.Name == "fx__extra" {
			t.Fatalf("run 5 listed fx__extra: the cache of an agent with other capabilities was served")
		}
	}
}
