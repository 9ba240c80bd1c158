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

// heldStart is the gateway's part of holding back server starts.
type heldStart struct {
	// watched: a stdio agent connection reports the answers it writes
	// (answerWritten); only then is a start held back.
	watched atomic.Bool
	// listed is set when a list answer is on its way to the agent.
	listed  atomic.Bool
	pending atomic.Bool // servers are held back
	mu      sync.Mutex
	servers []*downstream
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
	time.AfterFunc(heldStartMax, g.startHeld)
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
	if _, ok := m.(*jsonrpc.Response); ok {
		g.startHeld()
	}
}
