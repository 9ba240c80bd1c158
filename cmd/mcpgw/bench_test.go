package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgw/mcpgw/cmd/internal/testenv"
)

// BenchmarkGateway measures what mcpgw adds to a tool call. In one run it
// makes the same 64-byte echo call, over stdio to real processes, through:
//
//   - direct: the Go fixture server (testdata/fixture) itself;
//   - mcpgw:  the built `mcpgw serve` in front of the fixture;
//   - naive:  a minimal go-sdk forwarder (generic mcp.AddTool, SDK defaults);
//   - floor:  go-sdk on both sides at its best (raw Server.AddTool, raw
//     arguments, downstream at 2025-11-25), the bar for an SDK-based proxy.
//
// Every client speaks 2025-11-25. For each path it measures the latency of
// sequential calls (p50, p99, calls/s) and the throughput of 8 concurrent
// callers on one session, and reports them against direct: the added p50
// and p99 in µs and the throughput ratios. The paths are sampled in
// interleaved rounds so drift on a noisy machine hits them alike. The
// sample count is fixed (b.N is ignored): run it with
//
//	go test -bench=Gateway -run='^$' ./cmd/mcpgw
//
// MCPGW_BENCH_N sets the sequential calls per path (default 2000).
// MCPGW_BENCH_PROFILE=FILE adds a path "mcpgw-inproc": the gateway built
// from the same mux calls inside a re-executed test binary, which writes
// its CPU profile to FILE (go tool pprof -top FILE). For A/B experiments
// in one run: MCPGW_BENCH_MCPGW_BIN runs that mcpgw binary instead of
// building ./cmd/mcpgw, and MCPGW_BENCH_ALT_BIN and/or MCPGW_BENCH_ALT_ENV
// (space-separated KEY=VALUE, e.g. GOGC=400) add a path "mcpgw-alt": that
// binary (default: the same mcpgw) with that environment.
//
// Targets (issue): added p50 ≤ 250 µs and 8-caller throughput ≥ 0.66× direct.
func BenchmarkGateway(b *testing.B) {
	if testing.Short() {
		b.Skip("BenchmarkGateway spawns processes and takes ~20 s; not in -short")
	}
	seqN := 2000
	if s := os.Getenv("MCPGW_BENCH_N"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 100 {
			b.Fatalf("MCPGW_BENCH_N=%q: want a number ≥ 100", s)
		}
		seqN = n
	}
	fixture := testenv.Fixture(b)
	gw := os.Getenv("MCPGW_BENCH_MCPGW_BIN")
	if gw == "" {
		gw = testenv.Mcpgw(b)
	}
	self, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	cfg := filepath.Join(b.TempDir(), "config.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf("servers:\n  fx:\n    command: %q\n", fixture)), 0o600); err != nil {
		b.Fatal(err)
	}
	child := func(role string, extra ...string) *exec.Cmd {
		cmd := exec.Command(self)
		cmd.Env = append(os.Environ(), benchRoleEnv+"="+role, benchFixtureEnv+"="+fixture)
		cmd.Env = append(cmd.Env, extra...)
		return cmd
	}

	// The mcpgw path records every call (the default); mcpgw-norec is the
	// same gateway with the record off, so the record's cost is measured
	// against a baseline of the same run.
	noRec := filepath.Join(b.TempDir(), "norec.yaml")
	if err := os.WriteFile(noRec, []byte(fmt.Sprintf("logs: {enabled: false}\nservers:\n  fx:\n    command: %q\n", fixture)), 0o600); err != nil {
		b.Fatal(err)
	}
	recDB := filepath.Join(b.TempDir(), "bench.db")
	withRecord := exec.Command(gw, "serve", "--config", cfg, "--db", recDB)
	paths := []*benchPath{
		{name: "direct", tool: "echo", cmd: exec.Command(fixture)},
		{name: "mcpgw", tool: "fx__echo", cmd: withRecord},
		{name: "mcpgw-norec", tool: "fx__echo", cmd: exec.Command(gw, "serve", "--config", noRec)},
		{name: "naive", tool: "echo", cmd: child("naive")},
		{name: "floor", tool: "echo", cmd: child("floor")},
	}
	if prof := os.Getenv(benchProfileEnv); prof != "" {
		paths = append(paths, &benchPath{name: "mcpgw-inproc", tool: "fx__echo", cmd: child("gateway", benchProfileEnv+"="+prof)})
	}
	if alt, env := os.Getenv("MCPGW_BENCH_ALT_BIN"), os.Getenv("MCPGW_BENCH_ALT_ENV"); alt != "" || env != "" {
		if alt == "" {
			alt = gw
		}
		cmd := exec.Command(alt, "serve", "--config", cfg)
		cmd.Env = append(os.Environ(), strings.Fields(env)...)
		paths = append(paths, &benchPath{name: "mcpgw-alt", tool: "fx__echo", cmd: cmd})
	}

	ctx := context.Background()
	for _, p := range paths {
		p.connect(b, ctx)
	}
	defer func() {
		for _, p := range paths {
			p.cs.Close()
		}
	}()

	b.ResetTimer()
	// Warm up every path (connections, pools, JIT-free but cache- and
	// GC-warm), then sample in interleaved rounds.
	for _, p := range paths {
		p.sequential(b, ctx, 300)
		p.concurrent(b, ctx, 8, 50)
	}
	for _, p := range paths {
		p.seq, p.seqTime = nil, 0
		p.xCalls, p.xTime = 0, 0
	}
	const rounds = 8
	for r := 0; r < rounds; r++ {
		for _, p := range paths {
			p.sequential(b, ctx, seqN/rounds)
		}
	}
	for r := 0; r < rounds; r++ {
		for _, p := range paths {
			p.concurrent(b, ctx, 8, seqN/rounds/8*2) // 2×seqN calls over 8 callers
		}
	}
	b.StopTimer()

	direct := paths[0].stats()
	var tbl strings.Builder
	fmt.Fprintf(&tbl, "64-byte echo over stdio, %d sequential calls and %d calls by 8 concurrent callers per path, clients at 2025-11-25\n", len(paths[0].seq), paths[0].xCalls)
	fmt.Fprintf(&tbl, "%-13s %8s %8s %9s %9s %9s %10s %10s %9s %8s\n", "path", "p50 µs", "p99 µs", "max µs", "seq c/s", "8x c/s", "+p50 µs", "+p99 µs", "seq ×dir", "8x ×dir")
	for _, p := range paths {
		s := p.stats()
		add50, add99 := us(s.p50-direct.p50), us(s.p99-direct.p99)
		seqR, xR := s.seqRate/direct.seqRate, s.xRate/direct.xRate
		fmt.Fprintf(&tbl, "%-13s %8.0f %8.0f %9.0f %9.0f %9.0f %10.0f %10.0f %9.2f %8.2f\n",
			p.name, us(s.p50), us(s.p99), us(s.max), s.seqRate, s.xRate, add50, add99, seqR, xR)
		if p.name == "direct" {
			b.ReportMetric(us(s.p50), "direct-p50-µs")
			b.ReportMetric(s.xRate, "direct-x8-calls/s")
			continue
		}
		b.ReportMetric(add50, p.name+"-added-p50-µs")
		b.ReportMetric(add99, p.name+"-added-p99-µs")
		b.ReportMetric(seqR, p.name+"-seq-ratio")
		b.ReportMetric(xR, p.name+"-x8-ratio")
	}
	rec, norec := paths[1].stats(), paths[2].stats()
	recP50 := us(rec.p50-norec.p50) / us(norec.p50) * 100
	recX := rec.xRate / norec.xRate
	fmt.Fprintf(&tbl, "record on vs off: p50 %+.1f%%, 8x throughput %.2f×\n", recP50, recX)
	b.ReportMetric(recP50, "record-added-p50-%")
	b.ReportMetric(recX, "record-x8-ratio")
	fmt.Fprintf(&tbl, "targets: mcpgw +p50 ≤ 250 µs, mcpgw 8x ≥ 0.66× direct; record ≤ +5%% p50, ≥ 0.90× throughput")
	// Printed, not logged: the testing package cuts a benchmark's log to
	// ten lines.
	fmt.Println(tbl.String())
	// ns/op would be the whole run divided by b.N: meaningless here.
	b.ReportMetric(0, "ns/op")
}

// benchPath is one way to reach the echo tool, with what was measured on it.
type benchPath struct {
	name, tool string
	cmd        *exec.Cmd
	cs         *mcp.ClientSession
	args       map[string]any

	seq     []time.Duration // sequential call latencies
	seqTime time.Duration   // wall time of the sequential calls
	xCalls  int             // calls made by the concurrent callers
	xTime   time.Duration   // wall time of the concurrent rounds
}

// benchText is the 64-byte payload echoed back.
var benchText = strings.Repeat("0123456789abcdef", 4)

func (p *benchPath) connect(b *testing.B, ctx context.Context) {
	b.Helper()
	p.cmd.Stderr = os.Stderr
	client := mcp.NewClient(&mcp.Implementation{Name: "bench-agent", Version: "1"}, nil)
	cctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	cs, err := client.Connect(cctx, &mcp.CommandTransport{Command: p.cmd}, &mcp.ClientSessionOptions{ProtocolVersion: "2025-11-25"})
	if err != nil {
		b.Fatalf("%s: connecting: %v", p.name, err)
	}
	p.cs = cs
	// Listing makes mcpgw wait for its server: the first call is then a
	// plain call.
	var names []string
	for t, err := range cs.Tools(cctx, nil) {
		if err != nil {
			b.Fatalf("%s: listing tools: %v", p.name, err)
		}
		names = append(names, t.Name)
	}
	if !slices.Contains(names, p.tool) {
		b.Fatalf("%s: no tool %q in %v", p.name, p.tool, names)
	}
	p.args = map[string]any{"text": benchText}
}

func (p *benchPath) call(ctx context.Context) error {
	res, err := p.cs.CallTool(ctx, &mcp.CallToolParams{Name: p.tool, Arguments: p.args})
	if err != nil {
		return err
	}
	if res.IsError || len(res.Content) != 1 {
		return fmt.Errorf("unexpected result %+v", res)
	}
	if tc, ok := res.Content[0].(*mcp.TextContent); !ok || tc.Text != benchText {
		return fmt.Errorf("unexpected content %+v", res.Content[0])
	}
	return nil
}

func (p *benchPath) sequential(b *testing.B, ctx context.Context, n int) {
	start := time.Now()
	for range n {
		t := time.Now()
		if err := p.call(ctx); err != nil {
			b.Fatalf("%s: %v", p.name, err)
		}
		p.seq = append(p.seq, time.Since(t))
	}
	p.seqTime += time.Since(start)
}

func (p *benchPath) concurrent(b *testing.B, ctx context.Context, callers, each int) {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		ferr error
	)
	start := time.Now()
	for range callers {
		wg.Go(func() {
			for range each {
				if err := p.call(ctx); err != nil {
					mu.Lock()
					ferr = err
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	if ferr != nil {
		b.Fatalf("%s (concurrent): %v", p.name, ferr)
	}
	p.xTime += time.Since(start)
	p.xCalls += callers * each
}

type benchStats struct {
	p50, p99, max  time.Duration
	seqRate, xRate float64 // calls per second
}

func (p *benchPath) stats() benchStats {
	d := slices.Clone(p.seq)
	slices.Sort(d)
	return benchStats{
		p50:     d[len(d)/2],
		p99:     d[len(d)*99/100],
		max:     d[len(d)-1],
		seqRate: float64(len(d)) / p.seqTime.Seconds(),
		xRate:   float64(p.xCalls) / p.xTime.Seconds(),
	}
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
