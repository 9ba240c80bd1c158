package mux

// Holding back the start of servers while the first list is answered from
// the catalog cache. Starting 20 servers means 40 processes initializing
// at once (each server and its supervisor); on a machine with few cores
// they take the CPU the gateway needs to answer, and the agent needs to
// read the answer: a list ready in a few milliseconds arrived after
// hundreds. When every eager server has a cached catalog, nothing in that
// answer waits for a server, so they start once it is written (to a stdio
// agent), as soon as any request needs one, or after heldStartMax.

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
)

// heldStartMax bounds how long servers wait for the first list.
const heldStartMax = 100 * time.Millisecond

// heldAfterList is the agent's time to take in the first list before 40
// processes start competing for the CPU: go-sdk decoding 420 tools on 2
// cores took 49 ms with the servers started as the answer was written, 24
// ms with them started 50 ms later (the answer itself was on the pipe at
// 14 ms either way). A request that needs a server does not wait for it.
const heldAfterList = 50 * time.Millisecond

// heldStart is the gateway's part of holding back server starts.
type heldStart struct {
	// watched: a stdio agent connection reports the answers it writes
	// (answerWritten); only then is a start held back.
	watched atomic.Bool
	// listed is set when a list answer is on its way to the agent.
	listed  atomic.Bool
	pending atomic.Bool // servers are held back
	// afterList and max are heldAfterList and heldStartMax (tests change
	// them).
	afterList, max time.Duration
	releasing      atomic.Bool // a start after the list is scheduled
	mu             sync.Mutex
	servers        []*downstream
}

// holdStart holds back the start of eager servers, when every one of them
// has a cached catalog; it reports whether it did.
func (g *Gateway) holdStart(eager []*downstream) bool {
	if !g.held.watched.Load() || len(eager) == 0 {
		return false
	}
	for _, d := range eager {
		if !d.hasCached() {
			return false // the first list waits for it: start now
		}
	}
	g.held.mu.Lock()
	g.held.servers = append(g.held.servers, eager...)
	g.held.pending.Store(true)
	g.held.mu.Unlock()
	time.AfterFunc(g.held.max, g.startHeld)
	return true
}

// startHeld starts the servers held back, if any.
func (g *Gateway) startHeld() {
	if !g.held.pending.Load() {
		return
	}
	g.held.mu.Lock()
	ds := g.held.servers
	g.held.servers = nil
	g.held.pending.Store(false)
	g.held.releasing.Store(false)
	g.held.mu.Unlock()
	for _, d := range ds {
		d.start()
	}
}

// listAnswered notes that a list answer is about to be written.
func (g *Gateway) listAnswered() {
	if g.held.pending.Load() {
		g.held.listed.Store(true)
	}
}

// answerWritten is told of every message the SDK writes to a stdio agent.
func (g *Gateway) answerWritten(m jsonrpc.Message) {
	if !g.held.pending.Load() || !g.held.listed.Load() {
		return
	}
	if _, ok := m.(*jsonrpc.Response); ok && g.held.releasing.CompareAndSwap(false, true) {
		time.AfterFunc(g.held.afterList, g.startHeld)
	}
}
