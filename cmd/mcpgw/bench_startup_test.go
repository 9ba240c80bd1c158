package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgw/mcpgw/cmd/internal/testenv"
)

// BenchmarkStartup measures how long an agent waits, from spawning `mcpgw
// serve` in front of 20 stdio servers to a complete tools/list, cold (no
// catalog cache) and from the cache; and mcpgw's own memory (RSS, without
// its children) idle with 20 servers and after 100,000 calls
// (MCPGW_BENCH_CALLS overrides the count).
//
//	go test -bench=Startup -run='^$' ./cmd/mcpgw
func BenchmarkStartup(b *testing.B) {
	if runtime.GOOS != "linux" {
		b.Skip("reads RSS from /proc")
	}
	const servers, rounds = 20, 5
	calls := 100_000
	if s := os.Getenv("MCPGW_BENCH_CALLS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			b.Fatalf("MCPGW_BENCH_CALLS=%q: %v", s, err)
		}
		calls = n
	}
	fixture := testenv.Fixture(b)
	gw := testenv.Mcpgw(b)
	var cfg strings.Builder
	cfg.WriteString("servers:\n")
	for i := range servers {
		fmt.Fprintf(&cfg, "  fx%02d:\n    command: %q\n", i, fixture)
	}
	cfgPath := filepath.Join(b.TempDir(), "config.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	start := func(db string) (*mcp.ClientSession, *exec.Cmd, time.Duration) {
		cmd := exec.Command(gw, "serve", "--config", cfgPath, "--db", db)
		t0 := time.Now()
		cs, err := mcp.NewClient(&mcp.Implementation{Name: "bench", Version: "1"}, nil).Connect(ctx, &mcp.CommandTransport{Command: cmd}, &mcp.ClientSessionOptions{ProtocolVersion: "2025-11-25"})
		if err != nil {
			b.Fatal(err)
		}
		res, err := cs.ListTools(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		took := time.Since(t0)
		if n := len(res.Tools); n < servers*10 {
			b.Fatalf("tools/list returned %d tools; want all %d servers'", n, servers)
		}
		return cs, cmd, took
	}
	b.ResetTimer()
	var cold, cached []time.Duration
	for r := range rounds {
		db := filepath.Join(b.TempDir(), fmt.Sprintf("r%d.db", r))
		cs, cmd, took := start(db) // cold: a new database
		cold = append(cold, took)
		cs.Close()
		cmd.Wait()
		cs, cmd, took = start(db) // the same database: from the cache
		cached = append(cached, took)
		cs.Close()
		cmd.Wait()
	}
	// Memory: idle with 20 servers, then after the calls.
	cs, cmd, _ := start(filepath.Join(b.TempDir(), "mem.db"))
	defer func() { cs.Close(); cmd.Wait() }()
	for _, fx := range []string{"fx00__echo", "fx19__echo"} { // every server is up
		if _, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: fx, Arguments: map[string]any{"text": "up"}}); err != nil {
			b.Fatal(err)
		}
	}
	idle := rssKiB(b, cmd.Process.Pid)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < calls; i += 8 {
				if _, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: fmt.Sprintf("fx%02d__echo", i%servers), Arguments: map[string]any{"text": benchText}}); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	after := rssKiB(b, cmd.Process.Pid)
	b.StopTimer()

	med := func(d []time.Duration) time.Duration { slices.Sort(d); return d[len(d)/2] }
	b.Logf("\n%d stdio servers, spawn to complete tools/list, median of %d: cold %s (%v), from cache %s (%v)\nmcpgw RSS: idle %.1f MB, after %d calls %.1f MB\ntargets: ≤ 50 ms from cache; ≤ 20 MB idle, ≤ 30 MB after 100k calls",
		servers, rounds, med(cold).Round(time.Millisecond), cold, med(cached).Round(time.Millisecond), cached, float64(idle)/1024, calls, float64(after)/1024)
	b.ReportMetric(float64(med(cold).Milliseconds()), "cold-ms")
	b.ReportMetric(float64(med(cached).Milliseconds()), "cached-ms")
	b.ReportMetric(float64(idle)/1024, "idle-MB")
	b.ReportMetric(float64(after)/1024, "after-calls-MB")
	b.ReportMetric(0, "ns/op")
}

// rssKiB reads a process's resident set size.
func rssKiB(b *testing.B, pid int) int {
	b.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return n
		}
	}
	b.Fatal("no VmRSS")
	return 0
}
