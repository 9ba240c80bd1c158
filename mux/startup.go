package mux

// Startup: when servers start, and what waits for them.
//
//   - An agent's first request starts the eager servers (Start, startFrom),
//     speaking its protocol version to them (over HTTP, the first agent's,
//     advertising everything mcpgw relays); the CLI starts them with the
//     default version.
//   - When every eager server has a catalog cached from an earlier run, the
//     first list is answered from the cache and the servers start just
//     after it is written (heldStart), or as soon as a request needs one.
//   - Lazy servers start when the catalog is first listed (startLazy), or,
//     with a cached catalog, on their first call.
//   - A list waits for started servers' first attempts, but for no server
//     with a cached catalog and for none longer than firstListWait
//     (waitListable); a call waits only for its own server (waitForCall).
//   - Once every started server's first attempt has ended the gateway is
//     settled, and calls stop checking (one atomic load), which turns the
//     fast path on.
//
// Each server's own attempt (its settled, attempt and ready channels) is
// the downstream's (downstream.go); how many spawn at once is spawn.go's.

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// startup is the gateway's startup state.
type startup struct {
	started bool                    // under Gateway.mu
	version string                  // spoken to downstreams (unless a spec overrides it), under Gateway.mu
	caps    *mcp.ClientCapabilities // advertised to downstreams, under Gateway.mu

	// settled is set once every eager server's first start attempt ended,
	// so calls stop checking; settledCh is closed then (settledOnce).
	settled     atomic.Bool
	settledCh   chan struct{}
	settledOnce sync.Once
	lazyStarted atomic.Bool // lazy servers start with the first list
	settleOnce  sync.Once   // the background wait of waitForCall
	held        heldStart   // servers held back while the first list is answered
}

// Start starts every eager server, speaking version to them (empty means
// the gateway's default) and advertising caps (nil means everything mcpgw
// can relay). The first agent request calls it, with that agent's version
// and capabilities, over HTTP as over stdio: a server offers what that
// agent can use, and asks only what it can answer (a later agent with
// fewer capabilities is never asked what it cannot answer: see askAgent).
// Later calls do nothing.
func (g *Gateway) Start(version string, caps *mcp.ClientCapabilities) {
	g.mu.Lock()
	if g.started {
		g.mu.Unlock()
		return
	}
	g.started = true
	if version != "" {
		g.version = version
	}
	g.caps = caps
	var eager, all []*downstream
	var told []advertised
	for _, name := range g.order {
		d := g.servers[name]
		all, told = append(all, d), append(told, g.advertisedLocked(d.spec))
		if !d.spec.Lazy {
			eager = append(eager, d)
		}
	}
	g.mu.Unlock()
	// The catalogs cached from earlier runs stand in for servers while they
	// start, if they were listed under what the servers are told now.
	loaded := false
	for i, d := range all {
		if snap := d.loadCached(told[i]); snap != nil {
			d.mu.Lock()
			d.cached = snap
			d.mu.Unlock()
			loaded = true
		}
	}
	if loaded {
		g.rebuild()
	}
	if g.holdStart(eager) {
		return // see startdefer.go
	}
	for _, d := range eager {
		d.start()
	}
}

// startLazy starts lazy servers that have not started yet.
func (g *Gateway) startLazy() {
	if g.lazyStarted.Swap(true) {
		return
	}
	g.mu.Lock()
	var lazy []*downstream
	for _, d := range g.servers {
		if d.spec.Lazy && !d.hasCached() {
			lazy = append(lazy, d) // a cached one starts on its first call
		}
	}
	g.mu.Unlock()
	for _, d := range lazy {
		d.start()
	}
}

// firstListWait bounds how long a list waits for servers' first attempts:
// a server that is slow to start (an npx download) or hangs joins later
// through list_changed instead of holding up every other server's tools.
const firstListWait = 5 * time.Second

// waitListable waits until every started server can be listed: its first
// attempt has ended or it has a cached catalog; or until firstListWait has
// passed.
func (g *Gateway) waitListable(ctx context.Context) error {
	return g.waitListableFor(ctx, firstListWait)
}

// instructionsWait is waitListable's bound for initialize (and
// server/discover): servers' instructions reach the agent only there, with
// no list_changed to bring them later, so a slow server is waited for
// longer than for a list.
const instructionsWait = 10 * time.Second

func (g *Gateway) waitListableFor(ctx context.Context, d time.Duration) error {
	wctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	_, err := g.waitFirstAttempts(wctx, (*downstream).hasCached)
	if err != nil && ctx.Err() == nil {
		g.logger.Info("answering without servers still starting; they join through list_changed", "waited", d)
		return nil
	}
	return err
}

// WaitStarted waits until the first connection attempt of every started
// server (the eager ones, and the lazy ones once started) has ended, ready
// or failed, or ctx is done.
func (g *Gateway) WaitStarted(ctx context.Context) error {
	started, err := g.waitFirstAttempts(ctx, nil)
	if err == nil && started {
		g.settled.Store(true)
		g.settledOnce.Do(func() { close(g.settledCh) })
	}
	return err
}

// Settled is closed once the gateway has started its servers and every
// eager one's first attempt has ended: startup is over, and work that
// would compete with it for the CPU may begin.
func (g *Gateway) Settled() <-chan struct{} { return g.settledCh }

// waitFirstAttempts waits for the first connection attempt of every started
// server that skip (if set) does not exempt, and reports whether the
// gateway had started.
func (g *Gateway) waitFirstAttempts(ctx context.Context, skip func(*downstream) bool) (bool, error) {
	if skip == nil {
		g.startHeld() // something needs the servers themselves
	}
	g.mu.Lock()
	var wait []*downstream
	started := g.started
	if started {
		for _, d := range g.servers {
			// A lazy server is waited for once it has begun: one with a
			// cached catalog starts only on its first call, and may never.
			if (!d.spec.Lazy || d.begun.Load()) && (skip == nil || !skip(d)) {
				wait = append(wait, d)
			}
		}
	}
	g.mu.Unlock()
	for _, d := range wait {
		select {
		case <-d.settled:
		case <-ctx.Done():
			return started, ctx.Err()
		}
	}
	return started, nil
}

// startFrom starts downstreams on an agent's first request when it did not
// initialize (2026-07-28 clients send per-request metadata instead).
func (g *Gateway) startFrom(req mcp.Request) {
	g.mu.Lock()
	started := g.started
	g.mu.Unlock()
	if started {
		return
	}
	ss, ok := req.GetSession().(*mcp.ServerSession)
	if !ok {
		return
	}
	if p := ss.InitializeParams(); p != nil {
		g.Start(p.ProtocolVersion, downstreamCapabilities(p.Capabilities))
	}
}

// waitForCall waits, before the servers have settled, only for what one
// call needs. A tool the catalog (live or cached) already routes goes on at
// once: its server's session waits for that server's own start, so a
// server that hangs on initialize delays only its own calls. A name no
// server lists yet may come from one still starting: that waits for every
// first attempt. Either way the gateway settles in the background, which
// turns the fast path on.
func (g *Gateway) waitForCall(ctx context.Context, req mcp.Request) error {
	if r, ok := req.(*mcp.CallToolRequest); ok {
		if g.cat.Load().HasTool(r.Params.Name) {
			g.startHeld() // a call needs servers now
			g.settleOnce.Do(func() {
				go g.WaitStarted(context.Background())
			})
			return nil
		}
	}
	return g.WaitStarted(ctx)
}

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
