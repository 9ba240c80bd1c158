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

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgw/mcpgw/cmd/internal/testenv"
)

// BenchmarkStartup measures how long an agent waits, from spawning `mcpgw
// serve` in front of 20 stdio servers to a complete tools/list answer
// (read off the pipe; the time until go-sdk's ListTools has decoded it is
// reported beside it), cold (no
// catalog cache) and from the cache, against two baselines: the same cold
// start with one server, and the 20 servers started directly, all at once,
// by 20 go-sdk clients (what starting them costs this machine, without
// mcpgw: the "slowest server" when 20 start together). It also measures
// mcpgw's own memory (RSS, without its children: anonymous and
// file-backed, and PSS, which splits the binary's pages with the
// supervisors that share them) idle with 20 servers, and after 100,000
// calls (MCPGW_BENCH_CALLS overrides the count) both at once and once idle
// again; and what the 20 supervisors hold. Idle means benchIdle without a
// call. With each time it reports the CPU time mcpgw itself (not its
// children) spent until then, which a busy machine disturbs much less than
// the time.
//
//	go test -bench=Startup -run='^$' ./cmd/mcpgw
//
// The rounds alternate cold, cached and the baselines so drift on a noisy
// machine hits them alike. mcpgw is built as a release is (see
// testenv.Release); MCPGW_BENCH_MCPGW_BIN runs that mcpgw binary instead;
// MCPGW_BENCH_ALT_BIN adds a second
// binary measured in the same rounds (an A/B in one run), and
// MCPGW_BENCH_ALT_ENV (space-separated KEY=VALUE) gives it an environment
// of its own. MCPGW_BENCH_ROUNDS sets the rounds (default 5).
func BenchmarkStartup(b *testing.B) {
	if runtime.GOOS != "linux" {
		b.Skip("reads RSS from /proc")
	}
	const servers = 20
	calls := benchEnvInt(b, "MCPGW_BENCH_CALLS", 100_000)
	rounds := benchEnvInt(b, "MCPGW_BENCH_ROUNDS", 5)
	fixture := testenv.Fixture(b)
	arms := []*startupArm{{name: "mcpgw", bin: os.Getenv("MCPGW_BENCH_MCPGW_BIN")}}
	if arms[0].bin == "" {
		arms[0].bin = testenv.Release(b)
	}
	if alt, env := os.Getenv("MCPGW_BENCH_ALT_BIN"), os.Getenv("MCPGW_BENCH_ALT_ENV"); alt != "" || env != "" {
		if alt == "" {
			alt = arms[0].bin
		}
		arms = append(arms, &startupArm{name: "alt", bin: alt, env: strings.Fields(env)})
	}
	config := func(n int) string {
		var cfg strings.Builder
		cfg.WriteString("servers:\n")
		for i := range n {
			fmt.Fprintf(&cfg, "  fx%02d:\n    command: %q\n", i, fixture)
		}
		path := filepath.Join(b.TempDir(), fmt.Sprintf("config%d.yaml", n))
		if err := os.WriteFile(path, []byte(cfg.String()), 0o600); err != nil {
			b.Fatal(err)
		}
		return path
	}
	cfg20, cfg1 := config(servers), config(1)
	ctx := context.Background()

	var direct []time.Duration
	b.ResetTimer()
	for r := range rounds {
		direct = append(direct, startDirect(b, ctx, fixture, servers))
		for _, a := range arms {
			db := filepath.Join(b.TempDir(), fmt.Sprintf("%s-r%d.db", a.name, r))
			g := a.start(b, ctx, cfg20, db, servers) // cold: a new database
			a.cold, a.coldCPU, a.coldClient = append(a.cold, g.wire), append(a.coldCPU, g.cpu), append(a.coldClient, g.took)
			g.stop()
			g = a.start(b, ctx, cfg20, db, servers) // the same database: from the cache
			a.cached, a.cachedCPU, a.cachedClient = append(a.cached, g.wire), append(a.cachedCPU, g.cpu), append(a.cachedClient, g.took)
			g.stop()
			g = a.start(b, ctx, cfg1, filepath.Join(b.TempDir(), fmt.Sprintf("%s-one-r%d.db", a.name, r)), 1)
			a.one, a.oneCPU = append(a.one, g.wire), append(a.oneCPU, g.cpu)
			g.stop()
		}
	}
	// Memory: idle with 20 servers, then after the calls, at once and idle.
	for _, a := range arms {
		g := a.start(b, ctx, cfg20, filepath.Join(b.TempDir(), a.name+"-mem.db"), servers)
		for _, fx := range []string{"fx00__echo", "fx19__echo"} { // every server is up
			if _, err := g.cs.CallTool(ctx, &mcp.CallToolParams{Name: fx, Arguments: map[string]any{"text": "up"}}); err != nil {
				b.Fatal(err)
			}
		}
		// Idle is a stretch of time without calls; there is no event to
		// wait for instead.
		time.Sleep(benchIdle)
		a.idle = readRSS(b, g.cmd.Process.Pid)
		a.sup, a.sups = childrenRSS(b, g.cmd.Process.Pid)
		// The first call after the idle trim faults back in the pages it
		// needs; the one after it runs warm.
		for i := range a.wake {
			t0 := time.Now()
			if _, err := g.cs.CallTool(ctx, &mcp.CallToolParams{Name: "fx07__echo", Arguments: map[string]any{"text": benchText}}); err != nil {
				b.Fatal(err)
			}
			a.wake[i] = time.Since(t0)
		}
		var wg sync.WaitGroup
		for w := range 8 {
			wg.Go(func() {
				for i := w; i < calls; i += 8 {
					if _, err := g.cs.CallTool(ctx, &mcp.CallToolParams{Name: fmt.Sprintf("fx%02d__echo", i%servers), Arguments: map[string]any{"text": benchText}}); err != nil {
						b.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		a.after = readRSS(b, g.cmd.Process.Pid)
		time.Sleep(benchIdleAfterCalls)
		a.afterIdle = readRSS(b, g.cmd.Process.Pid)
		g.stop()
	}
	b.StopTimer()

	var out strings.Builder
	fmt.Fprintf(&out, "spawn to the complete tools/list answer read off the pipe (then to go-sdk's ListTools returning it), median of %d rounds (all samples in brackets); RSS of mcpgw alone (anonymous + file-backed)\n", rounds)
	for _, a := range arms {
		fmt.Fprintf(&out, "%s (%s):\n", a.name, a.bin)
		fmt.Fprintf(&out, "  %d servers from cache %s %v (go-sdk %s; mcpgw CPU %s)\n", servers, med(a.cached), ms(a.cached), med(a.cachedClient), med(a.cachedCPU))
		fmt.Fprintf(&out, "  %d servers cold %s %v (go-sdk %s; mcpgw CPU %s)\n", servers, med(a.cold), ms(a.cold), med(a.coldClient), med(a.coldCPU))
		fmt.Fprintf(&out, "  1 server cold %s %v (CPU %s): 20 servers cold = 1 server + %s; in go-sdk's time, 20 started directly + %s\n", med(a.one), ms(a.one), med(a.oneCPU), med(a.cold)-med(a.one), med(a.coldClient)-med(direct))
		fmt.Fprintf(&out, "  RSS idle %s\n  first call after idle %s (the next %s)\n  after %d calls %s at once, %s idle\n", a.idle, a.wake[0].Round(time.Microsecond), a.wake[1].Round(time.Microsecond), calls, a.after, a.afterIdle)
		fmt.Fprintf(&out, "  its %d supervisors: %.1f MB private in all (%s each, file-backed pages shared with mcpgw)\n", a.sups, a.sup.private(), a.sup.per(a.sups))
		suffix := ""
		if a.name != "mcpgw" {
			suffix = "-" + a.name
		}
		b.ReportMetric(float64(med(a.cold).Milliseconds()), "cold-ms"+suffix)
		b.ReportMetric(float64(med(a.cached).Milliseconds()), "cached-ms"+suffix)
		b.ReportMetric(float64(med(a.cachedClient).Milliseconds()), "cached-gosdk-ms"+suffix)
		b.ReportMetric(float64(med(a.one).Milliseconds()), "cold1-ms"+suffix)
		b.ReportMetric(float64(med(a.cachedCPU).Milliseconds()), "cached-cpu-ms"+suffix)
		b.ReportMetric(a.idle.total(), "idle-MB"+suffix)
		b.ReportMetric(a.after.total(), "after-calls-MB"+suffix)
		b.ReportMetric(a.afterIdle.total(), "after-calls-idle-MB"+suffix)
	}
	if len(arms) == 2 {
		x, y := arms[0], arms[1]
		fmt.Fprintf(&out, "mcpgw / alt: cold %.2f× (CPU %.2f×), cached %.2f× (CPU %.2f×), cold 1 server %.2f×, RSS idle %.2f×, after calls %.2f× (idle %.2f×)\n",
			ratio(med(x.cold), med(y.cold)), ratio(med(x.coldCPU), med(y.coldCPU)), ratio(med(x.cached), med(y.cached)), ratio(med(x.cachedCPU), med(y.cachedCPU)),
			ratio(med(x.one), med(y.one)), x.idle.total()/y.idle.total(), x.after.total()/y.after.total(), x.afterIdle.total()/y.afterIdle.total())
	}
	fmt.Fprintf(&out, "baseline: %d servers started directly, all at once, to go-sdk's ListTools returning for each: %s %v\n", servers, med(direct), ms(direct))
	out.WriteString("targets: ≤ 50 ms from cache; cold ≤ 1 server + a small constant; ≤ 20 MB idle, ≤ 30 MB after 100k calls")
	// Printed, not logged: the testing package cuts a benchmark's log to
	// ten lines.
	fmt.Println(out.String())
	b.ReportMetric(0, "ns/op")
}

// startupArm is one mcpgw binary (and environment) under measurement.
type startupArm struct {
	name, bin                  string
	env                        []string
	cold, cached               []time.Duration // to the answer on the pipe
	coldClient, cachedClient   []time.Duration // to go-sdk's ListTools returning
	one                        []time.Duration // cold with one server
	coldCPU, cachedCPU, oneCPU []time.Duration
	idle, after, afterIdle     rss
	wake                       [2]time.Duration // the first call after idle, and the next
	sup                        rss              // the supervisors, summed
	sups                       int
}

// benchIdle is how long the gateway goes without a call before its memory
// is read as idle: a little over two of serve's trim ticks (the first
// quiet tick after startup hands memory back). benchIdleAfterCalls is the
// same after calls, which serve hands back after 10 s without any: a
// little over that and two ticks.
const (
	benchIdle           = 5 * time.Second
	benchIdleAfterCalls = 15 * time.Second
)

// startDirect starts n servers directly, all at once, each with its own
// go-sdk client, and returns the time until every one has listed its
// tools: the baseline for a cold start through mcpgw.
func startDirect(b *testing.B, ctx context.Context, server string, n int) time.Duration {
	b.Helper()
	sessions := make([]*mcp.ClientSession, n)
	errs := make([]error, n)
	t0 := time.Now()
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			cs, err := mcp.NewClient(&mcp.Implementation{Name: "bench", Version: "1"}, nil).Connect(ctx, &mcp.CommandTransport{Command: exec.Command(server)}, &mcp.ClientSessionOptions{ProtocolVersion: "2025-11-25"})
			if err == nil {
				_, err = cs.ListTools(ctx, nil)
			}
			sessions[i], errs[i] = cs, err
		})
	}
	wg.Wait()
	took := time.Since(t0)
	for i, cs := range sessions {
		if cs != nil {
			cs.Close()
		}
		if errs[i] != nil {
			b.Fatalf("direct server %d: %v", i, errs[i])
		}
	}
	return took
}

// startedGateway is an mcpgw serve process with an agent session.
type startedGateway struct {
	cs   *mcp.ClientSession
	cmd  *exec.Cmd
	wire time.Duration // spawn to the tools/list answer read off the pipe
	took time.Duration // spawn to go-sdk's ListTools returning it
	cpu  time.Duration // mcpgw's CPU time until then
}

func (g *startedGateway) stop() {
	g.cs.Close()
	g.cmd.Wait()
}

// start spawns mcpgw serve and times it to a complete tools/list, which
// must hold every one of the servers' tools.
func (a *startupArm) start(b *testing.B, ctx context.Context, cfg, db string, servers int) *startedGateway {
	b.Helper()
	cmd := exec.Command(a.bin, "serve", "--config", cfg, "--db", db)
	if len(a.env) > 0 {
		cmd.Env = append(os.Environ(), a.env...)
	}
	tr := &stampTransport{Transport: &mcp.CommandTransport{Command: cmd}}
	t0 := time.Now()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "bench", Version: "1"}, nil).Connect(ctx, tr, &mcp.ClientSessionOptions{ProtocolVersion: "2025-11-25"})
	if err != nil {
		b.Fatal(err)
	}
	res, err := cs.ListTools(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	took := time.Since(t0)
	cpu := cpuTime(cmd.Process.Pid)
	if n := len(res.Tools); n < servers*10 {
		b.Fatalf("%s: tools/list returned %d tools; want all %d servers'", a.name, n, servers)
	}
	return &startedGateway{cs: cs, cmd: cmd, wire: tr.response(1).Sub(t0), took: took, cpu: cpu}
}

// stampTransport notes when each response is read off the connection: the
// moment the agent has the answer, before go-sdk decodes it (which, for
// 420 tools on a machine where 40 processes have just started, can take
// longer than mcpgw took to answer).
type stampTransport struct {
	mcp.Transport
	mu sync.Mutex
	at []time.Time
}

func (t *stampTransport) Connect(ctx context.Context) (mcp.Connection, error) {
	c, err := t.Transport.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &stampConn{Connection: c, t: t}, nil
}

// response returns when the i-th response (0: initialize's) was read.
func (t *stampTransport) response(i int) time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.at[i]
}

type stampConn struct {
	mcp.Connection
	t *stampTransport
}

func (c *stampConn) Read(ctx context.Context) (jsonrpc.Message, error) {
	m, err := c.Connection.Read(ctx)
	if _, ok := m.(*jsonrpc.Response); ok {
		c.t.mu.Lock()
		c.t.at = append(c.t.at, time.Now())
		c.t.mu.Unlock()
	}
	return m, err
}

// cpuTime is the CPU time a process's threads have run (schedstat).
func cpuTime(pid int) time.Duration {
	tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	var sum time.Duration
	for _, t := range tasks {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/schedstat", pid, t.Name()))
		if err != nil {
			continue
		}
		f := strings.Fields(string(data))
		if len(f) > 0 {
			n, _ := strconv.ParseInt(f[0], 10, 64)
			sum += time.Duration(n)
		}
	}
	return sum
}

// rss is a process's resident set, split as /proc reports it, and its
// proportional set (PSS: each shared page divided among its sharers).
type rss struct{ anonKiB, fileKiB, pssKiB int }

func (r rss) total() float64 { return float64(r.anonKiB+r.fileKiB) / 1024 }

func (r rss) private() float64 { return float64(r.anonKiB) / 1024 }

func (r rss) String() string {
	return fmt.Sprintf("%.1f MB (anon %.1f + file %.1f; PSS %.1f)", r.total(), float64(r.anonKiB)/1024, float64(r.fileKiB)/1024, float64(r.pssKiB)/1024)
}

// per is r divided among n processes.
func (r rss) per(n int) string {
	if n == 0 {
		return "-"
	}
	return fmt.Sprintf("anon %.1f MB, RSS %.1f MB", r.private()/float64(n), r.total()/float64(n))
}

// childrenRSS sums the resident sets of pid's children (mcpgw's: one
// supervisor per server).
func childrenRSS(b *testing.B, pid int) (sum rss, n int) {
	b.Helper()
	tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	for _, t := range tasks {
		data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/children", pid, t.Name()))
		for _, f := range strings.Fields(string(data)) {
			c, err := strconv.Atoi(f)
			if err != nil {
				continue
			}
			r := readRSS(b, c)
			sum.anonKiB += r.anonKiB
			sum.fileKiB += r.fileKiB
			sum.pssKiB += r.pssKiB
			n++
		}
	}
	return sum, n
}

// readRSS reads a process's resident set size (shared memory, which mcpgw
// has none of, left out).
func readRSS(b *testing.B, pid int) rss {
	b.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	var r rss
	for _, line := range strings.Split(string(data), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
		switch k {
		case "RssAnon":
			r.anonKiB = n
		case "RssFile":
			r.fileKiB = n
		}
	}
	if r.anonKiB == 0 {
		b.Fatal("no RssAnon")
	}
	if data, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid)); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if v, ok := strings.CutPrefix(line, "Pss:"); ok {
				r.pssKiB, _ = strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			}
		}
	}
	return r
}

func benchEnvInt(b *testing.B, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		b.Fatalf("%s=%q: want a positive number", name, s)
	}
	return n
}

func med(d []time.Duration) time.Duration {
	d = slices.Clone(d)
	slices.Sort(d)
	return d[len(d)/2].Round(time.Millisecond)
}

// ms rounds durations for display.
func ms(d []time.Duration) []time.Duration {
	out := make([]time.Duration, len(d))
	for i, v := range d {
		out[i] = v.Round(time.Millisecond)
	}
	return out
}

func ratio(x, y time.Duration) float64 { return float64(x) / float64(y) }
