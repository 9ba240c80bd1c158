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
	// servers); a soft limit collects sooner while little is live and
	// yields when more really is (the runtime caps GC work near it).
	serveMemoryLimit = 16 << 20
	// trimEvery is how often the allocation counter is looked at: one
	// wakeup, one counter read.
	trimEvery = 2 * time.Second
	// A tick that allocated less than trimQuiet is quiet; memory is
	// handed back on the first quiet tick, and then on the first quiet
	// tick after at least trimAfter was allocated since the last time (a
	// burst of calls).
	trimQuiet = 256 << 10
	trimAfter = 4 << 20
)

// setServeMemory applies the heap policy unless GOGC or GOMEMLIMIT say
// otherwise.
func setServeMemory() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(serveGCPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(serveMemoryLimit)
	}
}

// trimWhenQuiet hands memory back to the system once the gateway goes
// quiet after work, until ctx ends: the freed heap, which the runtime would
// otherwise keep at the size the burst needed (up to the limit: RSS 28 MB
// idle with 20 servers instead of 24 MB), and the executable's pages that
// startup or the burst touched (14 MB of the 17 MB binary after startup;
// see [proc.ReleaseExecutablePages]). A collection costs about a
// millisecond with this little live; the pages the next call needs fault
// back in from the page cache.
func trimWhenQuiet(ctx context.Context, logger *slog.Logger) {
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
		case <-tick.C:
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
// little it allocated), then on a quiet tick after a burst.
type trimmer struct {
	last    uint64 // counter at the previous tick
	atTrim  uint64 // counter after the last trim
	trimmed bool   // there has been a trim
}

func newTrimmer(allocs uint64) *trimmer { return &trimmer{last: allocs} }

// tick reports whether to trim now.
func (t *trimmer) tick(allocs uint64) bool {
	quiet := allocs-t.last < trimQuiet
	t.last = allocs
	return quiet && (!t.trimmed || allocs-t.atTrim >= trimAfter)
}

// done records the counter after a trim (the trim allocates a little).
func (t *trimmer) done(allocs uint64) { t.last, t.atTrim, t.trimmed = allocs, allocs, true }
