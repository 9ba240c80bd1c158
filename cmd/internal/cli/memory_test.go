package cli

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
)

func TestTrimmerTrimsOnQuietAfterBurst(t *testing.T) {
	const mb = 1 << 20
	tr := newTrimmer(0)
	steps := []struct {
		allocs  uint64 // counter at the tick
		want    bool
		trimmed uint64 // counter after the trim, when it trims
	}{
		{3 * mb, false, 0},                     // busy (startup)
		{6 * mb, false, 0},                     // still busy: 3 MB this tick
		{6*mb + 100<<10, true, 6*mb + 200<<10}, // the first quiet tick: trim
		{6*mb + 300<<10, false, 0},             // quiet, nothing since the trim
		{8 * mb, false, 0},                     // busy
		{9 * mb, false, 0},                     // busy
		{9*mb + 10, false, 0},                  // quiet, but under 4 MB since the trim
		{12 * mb, false, 0},                    // busy
		{12 * mb, false, 0},                    // quiet after 5.8 MB: one tick
		{12*mb + 10, false, 0},                 // two
		{13 * mb, false, 0},                    // busy again (an agent at work): count anew
		{13 * mb, false, 0},                    // quiet: one
		{13 * mb, false, 0},                    // two
		{13 * mb, false, 0},                    // three
		{13 * mb, false, 0},                    // four
		{13 * mb, true, 13 * mb},               // five quiet ticks in a row (10 s): trim
		{13 * mb, false, 0},                    // nothing more
	}
	for i, s := range steps {
		if got := tr.tick(s.allocs); got != s.want {
			t.Fatalf("tick %d at %d bytes: trim = %v, want %v", i, s.allocs, got, s.want)
		}
		if s.want {
			tr.done(s.trimmed)
		}
	}
}

func TestTrimmerTrimsOnceStartupIsOver(t *testing.T) {
	// A gateway with few servers allocates little while it starts; its
	// first quiet tick still trims (the executable's pages startup
	// touched), and only that one.
	tr := newTrimmer(500 << 10)
	if tr.tick(1 << 20) {
		t.Fatal("trimmed on a busy tick")
	}
	if !tr.tick(1<<20 + 10) {
		t.Fatal("first quiet tick: no trim")
	}
	tr.done(1<<20 + 20)
	if tr.tick(1<<20 + 30) {
		t.Fatal("trimmed again with nothing allocated since")
	}
}

// TestFitMemoryLimit: the soft limit sits serveHeadroom over what is live,
// never at it, so a gateway whose live heap has grown (gitleaks' compiled
// rules) is not made to collect every few calls.
func TestFitMemoryLimit(t *testing.T) {
	if os.Getenv("GOMEMLIMIT") != "" {
		t.Skip("GOMEMLIMIT is set: fitMemoryLimit leaves the limit alone")
	}
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	live := make([][]byte, 0, 40)
	for range 40 {
		live = append(live, make([]byte, 1<<20)) // 40 MiB live, above the 16 MiB floor
	}
	runtime.GC()
	fitMemoryLimit()
	limit := debug.SetMemoryLimit(-1)
	if limit < 40<<20+serveHeadroom {
		t.Errorf("limit %d MiB with 40 MiB live; want at least %d MiB", limit>>20, (40<<20+serveHeadroom)>>20)
	}
	runtime.KeepAlive(live)
	live = nil
	runtime.GC()
	fitMemoryLimit()
	if limit := debug.SetMemoryLimit(-1); limit >= 40<<20 {
		t.Errorf("limit %d MiB once the 40 MiB are garbage; want it back near the floor", limit>>20)
	}
}

// TestFitMemoryLimitLeavesRoom: with a fragmented live heap (many small
// objects, as compiled regexps are), the fitted limit still leaves the
// heap room to grow, so allocating garbage takes a few collections, not
// one per allocation.
func TestFitMemoryLimitLeavesRoom(t *testing.T) {
	if os.Getenv("GOMEMLIMIT") != "" {
		t.Skip("GOMEMLIMIT is set: fitMemoryLimit leaves the limit alone")
	}
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	defer debug.SetGCPercent(debug.SetGCPercent(serveGCPercent))
	// 24 MiB in 512-byte objects, every other one kept: 12 MiB live in
	// spans half empty.
	all := make([][]byte, 48<<10)
	for i := range all {
		all[i] = make([]byte, 512)
	}
	live := make([][]byte, 0, len(all)/2)
	for i := 0; i < len(all); i += 2 {
		live = append(live, all[i])
	}
	all = nil
	debug.FreeOSMemory()
	fitMemoryLimit()

	cycles := func() uint64 {
		s := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}}
		metrics.Read(s)
		return s[0].Value.Uint64()
	}
	before := cycles()
	var sink []byte
	for range 4 * serveHeadroom / (4 << 10) { // garbage, four times the headroom
		sink = make([]byte, 4<<10)
	}
	_ = sink
	if n := cycles() - before; n > 8 {
		t.Errorf("%d collections while allocating %d MiB with %d MiB headroom; want a few (limit %d MiB over %d MiB live)",
			n, 4*serveHeadroom>>20, serveHeadroom>>20, debug.SetMemoryLimit(-1)>>20, len(live)*512>>20)
	}
	runtime.KeepAlive(live)
}
