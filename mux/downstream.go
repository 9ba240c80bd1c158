package mux

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgw/mcpgw/mux/callpath"
	"github.com/mcpgw/mcpgw/mux/catalog"
	"github.com/mcpgw/mcpgw/mux/oauth"
	"github.com/mcpgw/mcpgw/mux/proc"
)

// Server states shown by `mcpgw tools` and used for routing.
const (
	StateIdle     = "idle"     // lazy, not started yet
	StateStarting = "starting" // connecting
	StateReady    = "ready"
	StateFailed   = "failed" // last attempt failed; retrying with backoff
	StateStopped  = "stopped"
	// StateNeedsLogin is a remote server with no usable OAuth login:
	// none stored, or revoked. Its tools are not listed until
	// `mcpgw auth login NAME`; it is tried again with backoff meanwhile.
	StateNeedsLogin = "needs_login"
)

// downstream is one supervised downstream server: its client session, its
// last listed catalog, and its restart loop.
type downstream struct {
	gw    *Gateway
	spec  ServerSpec
	order int

	startOnce sync.Once
	begun     atomic.Bool   // start has run: a first attempt is under way or over
	settled   chan struct{} // closed when the first connect attempt ended
	first     *ServerStatus // the status at the end of the first attempt
	stop      context.CancelFunc
	done      chan struct{} // closed when the run loop returned

	// fast carries fast-path calls to a ready stdio server (fastpath.go).
	fast atomic.Pointer[fastCalls]

	mu       sync.Mutex
	nextFast *fastCalls // made by connect, published when ready
	state    string
	since    time.Time // when state was entered
	lastErr  error
	// lastStderr is the last stderr lines of the previous process, shown
	// while no process runs.
	lastStderr []string
	cs         *mcp.ClientSession
	proc       *proc.Process
	ready      chan struct{} // closed while state is ready; replaced on restart
	attempt    chan struct{} // closed when the current start attempt ended
	snap       *catalog.Snapshot
	// cached is a catalog listed while the server has no live one: the
	// one kept from an earlier run (the catalog cache) until the first
	// start attempt ends, and the last live one while a crashed server
	// restarts, until it has failed maxFailures times in a row.
	cached   *catalog.Snapshot
	restarts int
	// auth attaches OAuth tokens to a remote server's requests (nil
	// when the server has no OAuth); set by each connect.
	auth     *oauth.Transport
	inflight map[*inflightCall]struct{}
	lastCall *inflightCall    // the last call that ended (see callContext)
	subs     map[string]int   // resource URI → upstream subscriptions
	level    mcp.LoggingLevel // last level given to the server by ensureLevel
	told     advertised       // what the live session was told of mcpgw
	// nextCallInput holds a server's request that no call in flight caused
	// (roots) until a 2026-07-28 agent's next call can carry it.
	nextCallInput chan *pendingInput
	// retry asks the run loop, backing off, to try again now; the
	// channel sent is closed when that attempt has ended.
	retry chan chan struct{}
	// loginMu keeps logins through an agent one at a time (elicitlogin.go).
	loginMu sync.Mutex
	// loginOffered is set once a tools/list offered the agent a login
	// (offerLogins), until one succeeds.
	loginOffered atomic.Bool
	// envID is the identity a stdio server's process was given in its
	// environment, nil before it starts (identity.go). Atomic: Apply reads
	// it under the gateway's lock.
	envID atomic.Pointer[callpath.Identity]
}

func newDownstream(gw *Gateway, spec ServerSpec, order int) *downstream {
	return &downstream{
		gw:       gw,
		spec:     spec,
		order:    order,
		settled:  make(chan struct{}),
		done:     make(chan struct{}),
		state:    StateIdle,
		ready:    make(chan struct{}),
		inflight: map[*inflightCall]struct{}{},
		subs:     map[string]int{},

		nextCallInput: make(chan *pendingInput, 1),
		retry:         make(chan chan struct{}, 1),
	}
}

// start launches the run loop once.
func (d *downstream) start() {
	d.startOnce.Do(func() {
		d.begun.Store(true)
		ctx, cancel := context.WithCancel(context.Background())
		d.stop = cancel
		d.beginAttempt()
		go d.run(ctx)
	})
}

// close stops the run loop and the server, waiting for the child to exit.
func (d *downstream) close() {
	d.startOnce.Do(func() { close(d.done); close(d.settled) }) // never started
	if d.stop != nil {
		d.stop()
	}
	<-d.done
	d.setState(StateStopped, nil)
}

// beginAttempt marks a start attempt in progress, so calls wait for it.
func (d *downstream) beginAttempt() {
	d.mu.Lock()
	d.attempt = make(chan struct{})
	d.mu.Unlock()
	d.setState(StateStarting, nil)
}

func (d *downstream) endAttempt() {
	d.mu.Lock()
	close(d.attempt)
	d.mu.Unlock()
}

// session returns a ready client session, starting a lazy server and waiting
// for a starting one within ctx and the connect timeout.
func (d *downstream) session(ctx context.Context) (*mcp.ClientSession, error) {
	d.start()
	d.mu.Lock()
	ready, cs, attempt, state := d.ready, d.cs, d.attempt, d.state
	d.mu.Unlock()
	if cs != nil {
		return cs, nil
	}
	if state != StateStarting {
		// Failed and backing off: say so now rather than hold the call.
		return nil, d.unavailable()
	}
	// The attempt ends by its own connect deadline and then stops its
	// process, which takes a moment: wait that much longer, so the call
	// gets the attempt's error rather than "starting".
	wait := time.NewTimer(d.spec.ConnectTimeout + attemptStopSlack)
	defer wait.Stop()
	select {
	case <-ready:
	case <-attempt:
		select {
		case <-ready:
		default:
			return nil, d.unavailable()
		}
	case <-wait.C:
		return nil, d.unavailable()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cs == nil {
		return nil, d.unavailable()
	}
	return d.cs, nil
}

// attemptStopSlack bounds how long a failed start attempt takes to stop its
// process after its connect deadline (proc.Process.Close: the grace period,
// then signals).
const attemptStopSlack = 2 * proc.DefaultGracePeriod

func (d *downstream) unavailable() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.state == StateNeedsLogin && d.lastErr != nil {
		return d.lastErr // it names the server and the command to run
	}
	if d.lastErr != nil {
		return fmt.Errorf("server %q is %s: %v", d.spec.Name, d.state, d.lastErr)
	}
	return fmt.Errorf("server %q is %s", d.spec.Name, d.state)
}

func (d *downstream) setState(state string, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if state == d.state && err == nil {
		return
	}
	wasReady := d.state == StateReady
	if state != d.state {
		d.since = time.Now()
	}
	d.state, d.lastErr = state, err
	d.gw.status.changed()
	switch {
	case state == StateReady && !wasReady:
		close(d.ready)
	case state != StateReady && wasReady:
		d.ready = make(chan struct{})
	}
}

// speaksNew reports whether the session speaks 2026-07-28 or later.
func (d *downstream) speaksNew() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.snap != nil && d.snap.ProtocolVersion >= ProtocolV20260728
}

// status reports the server's state for `mcpgw tools`.
func (d *downstream) status() ServerStatus {
	d.mu.Lock()
	defer d.mu.Unlock()
	st := ServerStatus{Name: d.spec.Name, State: d.state, Since: d.since, Restarts: d.restarts, Stderr: d.lastStderr}
	if d.lastErr != nil {
		st.Error = d.lastErr.Error()
	}
	if d.proc != nil {
		st.PID = d.proc.PID()
		st.Stderr = d.proc.StderrTail()
	}
	if d.snap != nil {
		st.Tools, st.Prompts, st.Resources = len(d.snap.Tools), len(d.snap.Prompts), len(d.snap.Resources)+len(d.snap.Templates)
		st.ProtocolVersion = d.snap.ProtocolVersion
	}
	return st
}
