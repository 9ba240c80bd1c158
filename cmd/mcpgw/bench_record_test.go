package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgw/mcpgw/cmd/internal/testenv"
	"github.com/mcpgw/mcpgw/logs"
)

// BenchmarkRecordSustained drives `mcpgw serve` at 1,000 calls/s for a
// minute (MCPGW_BENCH_SUSTAIN overrides the duration) and checks that the
// record kept every call: rows written equal calls made, nothing dropped.
//
//	go test -bench=RecordSustained -run='^$' ./cmd/mcpgw
func BenchmarkRecordSustained(b *testing.B) {
	if testing.Short() {
		b.Skip("BenchmarkRecordSustained runs for a minute; not in -short")
	}
	dur := time.Minute
	if s := os.Getenv("MCPGW_BENCH_SUSTAIN"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			b.Fatalf("MCPGW_BENCH_SUSTAIN=%q: %v", s, err)
		}
		dur = d
	}
	const rate, callers = 1000, 16
	fixture := testenv.Fixture(b)
	cfg := filepath.Join(b.TempDir(), "config.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf("servers:\n  fx:\n    command: %q\n", fixture)), 0o600); err != nil {
		b.Fatal(err)
	}
	db := filepath.Join(b.TempDir(), "sustained.db")
	p := &benchPath{name: "mcpgw", tool: "fx__echo", cmd: exec.Command(testenv.Mcpgw(b), "serve", "--config", cfg, "--db", db)}
	ctx := context.Background()
	p.connect(b, ctx)

	b.ResetTimer()
	ticks := make(chan struct{}, rate)
	var made, failed atomic.Int64
	var wg sync.WaitGroup
	for range callers {
		wg.Go(func() {
			for range ticks {
				res, err := p.cs.CallTool(ctx, &mcp.CallToolParams{Name: p.tool, Arguments: map[string]any{"text": benchText}})
				if err != nil || res.IsError {
					failed.Add(1)
				}
				made.Add(1)
			}
		})
	}
	start := time.Now()
	// A ticker drops ticks when its reader is late, so calls are paced by
	// the clock instead: each wake-up releases every call due by now.
	tk := time.NewTicker(time.Millisecond)
	late, due := 0, 0
	for el := time.Duration(0); el < dur; el = time.Since(start) {
		for ; due < int(el.Seconds()*rate); due++ {
			select {
			case ticks <- struct{}{}:
			default:
				late++ // the callers fell behind: measured, not hidden
			}
		}
		<-tk.C
	}
	tk.Stop()
	close(ticks)
	wg.Wait()
	elapsed := time.Since(start)
	p.cs.Close() // mcpgw flushes its record as it exits
	p.cmd.Wait()
	b.StopTimer()

	r, err := logs.Open(ctx, db, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	rows, err := r.Query(ctx, logs.Filter{})
	if err != nil {
		b.Fatal(err)
	}
	dropped, err := r.Dropped(ctx)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("%d calls in %s (%.0f/s, %d due calls not made, %d failed); %d rows recorded, %d dropped",
		made.Load(), elapsed.Round(time.Millisecond), float64(made.Load())/elapsed.Seconds(), late, failed.Load(), len(rows), dropped.Total)
	if int64(len(rows)) != made.Load() || dropped.Total != 0 {
		b.Errorf("recorded %d of %d calls, %d dropped; want all, none dropped", len(rows), made.Load(), dropped.Total)
	}
	b.ReportMetric(float64(made.Load())/elapsed.Seconds(), "calls/s")
	b.ReportMetric(float64(dropped.Total), "dropped")
	b.ReportMetric(0, "ns/op")
}
