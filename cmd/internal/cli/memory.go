package cli

import (
	"context"
	"log/slog"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"time"

	"github.com/mcpgw/mcpgw/mux/proc"
)

// Memory policy of `mcpgw serve`. Forwarding makes short-lived garbage at a
// high rate and keeps little live heap (about 3 MB with 20 servers), so the
// heap is sized for throughput while calls flow and handed back to the
// system once they stop.
const (
	// serveGCPercent: collecting less often is the cheapest throughput
	// there is (measured: 0.41× → 0.66× direct with 8 callers).
	serveGCPercent = 400
	// serveMemoryLimit: GOGC=400 alone lets the heap grow to five times
	// what is live (RSS 41 MB idle, 58 MB after 100k calls with 20
	// servers); a soft limit collects sooner while little is live. It is
	// at least this, and serveHeadroom over what the runtime holds (see
	// fitMemoryLimit).
	serveMemoryLimit = 16 << 20
	// serveHeadroom is how far the heap may grow past what the runtime
	// holds before the soft limit collects. A collection with about 5 MB
	// live costs about a millisecond of CPU, and a call leaves some 20 KB
	// of garbage: one collection per few hundred calls. A limit with no
	// room at all makes the runtime collect every few calls: under a fixed
	// 16 MiB limit with gitleaks' compiled rules live, 300 calls took 150
	// collections and the added latency went from about 130 µs to 800 µs.
	serveHeadroom = 8 << 20
	// trimEvery is how often the allocation counter is looked at: one
	// wakeup, one counter read.
	trimEvery = 2 * time.Second
	// A tick that allocated less than trimQuiet is quiet; memory is
	// handed back on the first quiet tick, and then, once at least
	// trimAfter was allocated since the last time (calls), after
	// trimQuietTicks quiet ticks in a row: an agent at work calls every
	// few seconds, and each hand-back costs the next calls the page faults
	// that map the heap in again (measured: 50–60 µs of CPU a call in the
	// gateway benchmark, whose rounds are seconds apart).
	trimQuiet      = 256 << 10
	trimAfter      = 4 << 20
	trimQuietTicks = 5 // 10 s
)

// setServeMemory applies the heap policy unless GOGC or GOMEMLIMIT say
// otherwise. The soft limit is set later, by fitMemoryLimit, once startup
// has built what stays live (the secret rules are read in the background).
func setServeMemory() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(serveGCPercent)
	}
}

// fitMemoryLimit sets the soft memory limit to serveHeadroom over what
// the runtime holds that it cannot hand back, and at least
// serveMemoryLimit, unless GOMEMLIMIT says otherwise. That is the live
// heap plus the runtime's own overhead: the free slots in spans that hold
// live objects, stacks and GC metadata. The limit counts all of it, and
// with gitleaks' compiled rules live (many small regexp objects) the
// overhead is about as large as the heap: a limit fitted to the live heap
// alone left the heap no room, and an idle gateway collected about 190
// times a second. It is called once the secret rules are read and on
// every trim tick, so the limit follows what stays live (rules edited,
// servers added) and never sits on it.
func fitMemoryLimit() {
	if os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetMemoryLimit(max(serveMemoryLimit, int64(heldMemory())+serveHeadroom))
}

// heldMemory is the memory the runtime holds that a collection and the
// scavenger would not hand back: everything it has mapped, less what is
// released or free, with the heap's objects counted as what the last
// collection found live (the rest is garbage).
func heldMemory() uint64 {
	s := []metrics.Sample{
		{Name: "/memory/classes/total:bytes"},
		{Name: "/memory/classes/heap/released:bytes"},
		{Name: "/memory/classes/heap/free:bytes"},
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/gc/heap/live:bytes"},
	}
	metrics.Read(s)
	v := make([]uint64, len(s))
	for i := range s {
		if s[i].Value.Kind() == metrics.KindUint64 {
			v[i] = s[i].Value.Uint64()
		}
	}
	total, released, free, objects, live := v[0], v[1], v[2], v[3], v[4]
	held := total - min(total, released+free+objects)
	return held + live
}

// trimWhenQuiet hands memory back to the system once the gateway goes
// quiet after work, until ctx ends: the freed heap, which the runtime would
// otherwise keep at the size the burst needed (up to the limit: RSS 28 MB
// idle with 20 servers instead of 24 MB), and the executable's pages that
// startup or the burst touched (14 MB of the 17 MB binary after startup;
// see [proc.ReleaseExecutablePages]). A collection costs about a
// millisecond with this little live; the pages the next call needs fault
// back in from the page cache. When ready closes (the secret rules are
// read), the peak of reading them is handed back; on every tick, the soft
// limit is fitted to what the runtime holds.
func trimWhenQuiet(ctx context.Context, ready <-chan struct{}, logger *slog.Logger) {
	sample := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	allocs := func() uint64 {
		metrics.Read(sample)
		return sample[0].Value.Uint64()
	}
	t := newTrimmer(allocs())
	tick := time.NewTicker(trimEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ready:
			ready = nil
			// Compiling the rules peaks at several times what stays
			// live: collect, hand the peak back, and fit the limit to
			// what is left.
			debug.FreeOSMemory()
			fitMemoryLimit()
		case <-tick.C:
			fitMemoryLimit()
			if t.tick(allocs()) {
				debug.FreeOSMemory()
				if _, err := proc.ReleaseExecutablePages(); err != nil {
					logger.Debug("memory trim", "err", err)
				}
				t.done(allocs())
			}
		}
	}
}

// trimmer decides, from the heap's allocation counter at each tick, when
// to hand memory back: on the first quiet tick (startup is over, however
// little it allocated), then once calls have gone quiet for a while.
type trimmer struct {
	last    uint64 // counter at the previous tick
	atTrim  uint64 // counter after the last trim
	trimmed bool   // there has been a trim
	quiet   int    // quiet ticks in a row
}

func newTrimmer(allocs uint64) *trimmer { return &trimmer{last: allocs} }

// tick reports whether to trim now.
func (t *trimmer) tick(allocs uint64) bool {
	if allocs-t.last < trimQuiet {
		t.quiet++
	} else {
		t.quiet = 0
	}
	t.last = allocs
	if !t.trimmed {
		return t.quiet > 0 // startup is over
	}
	return t.quiet >= trimQuietTicks && allocs-t.atTrim >= trimAfter
}

// done records the counter after a trim (the trim allocates a little).
func (t *trimmer) done(allocs uint64) { t.last, t.atTrim, t.trimmed = allocs, allocs, true }
