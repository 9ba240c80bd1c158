package cli

import "testing"

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
		{12 * mb, true, 12 * mb},               // quiet after 5.8 MB: trim
		{12 * mb, false, 0},                    // nothing more
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
