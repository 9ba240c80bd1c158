package cli

import (
	"runtime"
	"testing"
)

func TestSetServeProcs(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	runtime.GOMAXPROCS(4)
	t.Setenv("GOMAXPROCS", "")
	setServeProcs()
	if got := runtime.GOMAXPROCS(0); got != serveProcs {
		t.Fatalf("serve runs on %d processors, want %d", got, serveProcs)
	}
	// The user's GOMAXPROCS wins (the runtime has applied it at start).
	runtime.GOMAXPROCS(3)
	t.Setenv("GOMAXPROCS", "3")
	setServeProcs()
	if got := runtime.GOMAXPROCS(0); got != 3 {
		t.Fatalf("with GOMAXPROCS=3 serve runs on %d processors, want 3", got)
	}
}
