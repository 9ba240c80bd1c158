package cli

import (
	"os"
	"runtime"
)

// serveProcs is how many threads run `mcpgw serve`'s Go code at once
// (GOMAXPROCS). The gateway waits on pipes and sockets and spends 100 to
// 250 µs of CPU on a call; what one processor cannot do faster, a second
// one makes dearer. With an idle second processor, every goroutine the
// gateway wakes (net/http starts one per request to watch its connection;
// a call's answer readies another) wakes a second thread to look for work
// too, which finds none and sleeps again: two more context switches per
// wake, and on a virtual machine each one is dear. Measured (Gateway
// benchmark, 2-core VM, two A/B runs over every front): over HTTP −65 to
// −145 µs added p50 and 45 to 80 µs less CPU per call; over stdio −5 to
// +30 µs and 5 to 10 µs less CPU; throughput with 8 callers within the
// noise (−0.04 to +0.08× direct); startup with 20 servers 1.00× cold and
// 1.02× from the cache. One processor still serves a few thousand calls a
// second, far more than agents make.
const serveProcs = 1

// setServeProcs applies serveProcs unless GOMAXPROCS says otherwise.
func setServeProcs() {
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(serveProcs)
	}
}
