package mux

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgw/mcpgw/mux/catalog"
	"github.com/mcpgw/mcpgw/mux/internal/stdio"
	"github.com/mcpgw/mcpgw/mux/proc"
)

// Server states shown by `mcpgw tools` and used for routing.
const (
	StateIdle     = "idle"     // lazy, not started yet
	StateStarting = "starting" // connecting
	StateReady    = "ready"
	StateFailed   = "failed" // last attempt failed; retrying with backoff
	StateStopped  = "stopped"
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
	inflight map[*inflightCall]struct{}
	lastCall *inflightCall    // the last call that ended (see callContext)
	subs     map[string]int   // resource URI → upstream subscriptions
	level    mcp.LoggingLevel // last level given to the server by ensureLevel
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

// A server that ran at least this long before it stopped is restarted at
// once; one that stops sooner is in a crash loop and backs off.
const stableRun = 10 * time.Second

// maxFailures is how many failures in a row (failed starts, or crashes
// before a stable run) a server's tools stay listed through while it
// restarts; then it is taken out of the catalog (the agent gets
// list_changed) until a restart succeeds. One crash does not make an
// agent's tools flicker.
const maxFailures = 3

func (d *downstream) run(ctx context.Context) {
	defer close(d.done)
	backoff := time.Second
	first := true
	failures := 0 // in a row; see maxFailures
	for {
		if !first {
			d.beginAttempt()
		}
		cs, proc, err := d.connect(ctx)
		if err == nil {
			err = d.firstList(ctx, cs, proc)
			if err != nil {
				closeSession(cs, proc)
			}
		}
		if err != nil {
			if ctx.Err() != nil {
				d.endAttempt()
				return
			}
			err = d.gw.redactErr(err)
			failures++
			d.setState(StateFailed, err)
			d.gw.logger.Warn("server failed to start", "server", d.spec.Name, "err", err, "failures_in_a_row", failures)
			if !first {
				d.takeOutAfter(failures)
			}
		} else {
			d.mu.Lock()
			d.cs, d.proc = cs, proc
			d.cached = nil // the live catalog takes over
			d.level = ""   // a new session has no level yet
			fc := d.nextFast
			d.nextFast = nil
			d.mu.Unlock()
			if fc != nil && !d.gw.opts.NoFastPath {
				d.fast.Store(fc)
			}
			d.setState(StateReady, nil)
			backoff = time.Second
			d.applyLogLevel(ctx, cs)
		}
		// The catalog includes this server before anyone waiting for its
		// start is released.
		d.gw.rebuild()
		d.endAttempt()
		if first {
			first = false
			d.mu.Lock()
			d.cached = nil
			d.mu.Unlock()
			close(d.settled)
			d.gw.rebuild() // without the cached catalog, if it failed
		}
		readyAt := time.Now()
		if err == nil {
			waited := make(chan error, 1)
			go func() { waited <- cs.Wait() }()
			var werr error
			select {
			case werr = <-waited:
			case <-ctx.Done():
				closeSession(cs, proc)
				<-waited
				d.fast.Store(nil)
				d.mu.Lock()
				d.cs, d.proc, d.snap = nil, nil, nil
				d.mu.Unlock()
				return
			}
			// Until the process is stopped, calls get why the session
			// ended (as far as known yet), not "ready".
			d.setState(StateFailed, stopReason(proc, werr))
			d.fast.Store(nil)
			if time.Since(readyAt) >= stableRun {
				failures = 0
			}
			failures++
			d.mu.Lock()
			d.cs, d.proc = nil, nil
			// The tools stay listed while it restarts, unless it keeps
			// failing (takeOutAfter, below).
			d.cached = d.snap
			d.snap = nil
			d.mu.Unlock()
			if proc != nil {
				proc.Close()
				d.mu.Lock()
				d.lastStderr = proc.StderrTail()
				d.mu.Unlock()
			}
			if ctx.Err() != nil {
				return
			}
			reason := stopReason(proc, werr)
			d.setState(StateFailed, reason)
			d.gw.logger.Warn("server stopped; restarting", "server", d.spec.Name, "err", reason, "failures_in_a_row", failures)
			d.takeOutAfter(failures)
			d.gw.rebuild()
		}
		d.mu.Lock()
		d.restarts++
		d.mu.Unlock()
		d.gw.status.changed()
		if err == nil && time.Since(readyAt) >= stableRun {
			continue // it ran well: restart at once
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 30*time.Second)
	}
}

// takeOutAfter drops the catalog kept for a restarting server once it has
// failed maxFailures times in a row; the caller rebuilds.
func (d *downstream) takeOutAfter(failures int) {
	if failures < maxFailures {
		return
	}
	d.mu.Lock()
	had := d.cached != nil
	d.cached = nil
	d.mu.Unlock()
	if had {
		d.gw.logger.Warn("server taken out of the catalog until a restart succeeds", "server", d.spec.Name, "failures_in_a_row", failures)
	}
}

// stopReason says why a session ended: how its process ended, with its
// last stderr lines, or else the connection's error.
func stopReason(proc *proc.Process, werr error) error {
	if proc != nil {
		return fmt.Errorf("process %s%s", proc.HowEnded(), proc.StderrHint())
	}
	return fmt.Errorf("connection closed: %v", werr)
}

// connect starts (or dials) the server and initializes a session under the
// connect deadline.
func (d *downstream) connect(runCtx context.Context) (*mcp.ClientSession, *proc.Process, error) {
	ctx, cancel := context.WithTimeout(runCtx, d.spec.ConnectTimeout)
	defer cancel()
	// A remote transport's streams live on the context it connects with;
	// they must outlive the connect deadline, and end with the session.
	streamCtx, endStreams := context.WithCancel(runCtx)
	var (
		t     mcp.Transport
		child *proc.Process
	)
	spec, err := d.gw.resolveSpec(ctx, d.spec)
	if err != nil {
		endStreams()
		return nil, nil, err
	}
	known := d.gw.secrets
	switch {
	case spec.Command != "":
		// Spawning is bounded: twenty servers starting at once would
		// each take longer than one at a time, and starve the answers
		// the agent waits for. A slot is held until the server has
		// initialized or for spawnWindow, so a hanging one cannot keep
		// the others waiting.
		release := d.gw.spawnSlot(ctx)
		defer release()
		env := make([]string, 0, len(spec.Env))
		for k, v := range spec.Env {
			env = append(env, k+"="+v)
		}
		p, err := proc.Start(proc.Spec{Name: spec.Name, Command: spec.Command, Args: spec.Args, Env: env, Dir: spec.Cwd, Stderr: d.gw.opts.ChildStderr, Redact: known.RedactString, Unsupervised: d.gw.opts.NoSupervisor})
		if err != nil {
			endStreams()
			return nil, nil, fmt.Errorf("starting %q: %w", d.spec.Command, err)
		}
		child = p
		fc := newFastCalls()
		// Reading to the end says how the process ended, for the calls
		// its death fails.
		lt := stdio.NewTransport(io.NopCloser(p.Output()), p.Stdin(), &stdio.Options{Hook: fc, Junk: p.Note, Redact: known})
		defer func() {
			if conn := lt.Conn(); conn != nil {
				fc.conn = conn
				d.mu.Lock()
				d.nextFast = fc
				d.mu.Unlock()
			}
		}()
		t = lt
	case spec.URL != "":
		hc := &http.Client{Transport: headerTransport{headers: spec.Headers, base: http.DefaultTransport}}
		if spec.Transport == "sse" {
			t = &mcp.SSEClientTransport{Endpoint: spec.URL, HTTPClient: hc}
		} else {
			t = &mcp.StreamableClientTransport{Endpoint: spec.URL, HTTPClient: hc}
		}
		t = redactingTransport{streamTransport{Transport: t, ctx: streamCtx}, known}
	default:
		endStreams()
		return nil, nil, errors.New("neither command nor url is set")
	}
	client := mcp.NewClient(&mcp.Implementation{Name: d.gw.opts.Name, Version: d.gw.opts.Version}, d.clientOptions())
	client.AddReceivingMiddleware(d.serverRequests)
	// Roots go in before connecting, so a server that asks during its own
	// start-up already sees the agent's.
	d.gw.applyRoots(client)
	version := d.spec.ProtocolVersion
	if version == "" {
		version = d.gw.downstreamVersion()
	}
	type result struct {
		cs  *mcp.ClientSession
		err error
	}
	ch := make(chan result, 1)
	go func() {
		cs, err := client.Connect(ctx, t, &mcp.ClientSessionOptions{ProtocolVersion: version})
		ch <- result{cs, err}
	}()

	var r result
	select {
	case r = <-ch:
	case <-ctx.Done():
		// A server that never answers keeps Connect blocked on its pipe:
		// killing it unblocks Connect.
		if child != nil {
			child.Close()
		}
		endStreams()
		r = <-ch
		if r.err == nil {
			r.cs.Close()
		}
		r = result{err: ctx.Err()}
	}
	if r.err != nil {
		endStreams()
		d.gw.forgetClient(client)
		if child != nil {
			timedOut := errors.Is(r.err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded)
			// A server that exits at start ends its stdout first: wait a
			// moment for the exit, so the error says how it ended rather
			// than "EOF".
			exited := false
			if !timedOut {
				select {
				case <-child.Done():
					exited = true
				case <-time.After(time.Second):
				}
			}
			child.Close()
			d.mu.Lock()
			d.lastStderr = child.StderrTail()
			d.mu.Unlock()
			switch {
			case timedOut:
				return nil, nil, fmt.Errorf("no answer to initialize within %s%s", d.spec.ConnectTimeout, child.StderrHint())
			case exited:
				return nil, nil, fmt.Errorf("process %s before answering initialize%s", child.HowEnded(), child.StderrHint())
			}
			return nil, nil, fmt.Errorf("initialize: %w%s", r.err, child.StderrHint())
		}
		return nil, nil, d.gw.redactErr(fmt.Errorf("connecting to %s: %w", d.spec.URL, r.err))
	}
	go func() {
		r.cs.Wait()
		endStreams()
		d.gw.forgetClient(client)
	}()
	return r.cs, child, nil
}

// closeSession ends a session and its process. The session's Close waits
// for the server's stdout to end, which a server that ignores the end of
// its stdin (server-everything keeps timers running) never does by itself,
// so the process is stopped alongside: stdin closed, the grace period, then
// SIGTERM and SIGKILL to its tree.
func closeSession(cs *mcp.ClientSession, proc *proc.Process) {
	if proc == nil {
		cs.Close()
		return
	}
	stopped := make(chan struct{})
	go func() {
		proc.Close()
		close(stopped)
	}()
	cs.Close()
	<-stopped
}

// streamTransport connects a transport with a context of its own instead of
// the connect call's.
type streamTransport struct {
	mcp.Transport
	ctx context.Context
}

func (t streamTransport) Connect(context.Context) (mcp.Connection, error) {
	return t.Transport.Connect(t.ctx)
}

// headerTransport adds configured headers to every request to a remote server.
type headerTransport struct {
	headers map[string]string
	base    http.RoundTripper
}

func (h headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if len(h.headers) > 0 {
		r = r.Clone(r.Context())
		for k, v := range h.headers {
			r.Header.Set(k, v)
		}
	}
	return h.base.RoundTrip(r)
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

// refresh lists what changed (or everything) and stores the snapshot.
func (d *downstream) refresh(ctx context.Context, cs *mcp.ClientSession, tools, prompts, resources bool) error {
	d.mu.Lock()
	var snap catalog.Snapshot
	if d.snap != nil {
		snap = *d.snap
	}
	d.mu.Unlock()
	init := cs.InitializeResult()
	caps := &mcp.ServerCapabilities{}
	if init != nil && init.Capabilities != nil {
		caps = init.Capabilities
		snap.ProtocolVersion = init.ProtocolVersion
	}
	snap.Caps = caps
	var err error
	if tools && caps.Tools != nil {
		if snap.Tools, err = collect(cs.Tools(ctx, nil)); err != nil {
			return fmt.Errorf("listing tools: %w", err)
		}
		snap.Tools = catalog.FilterTools(snap.Tools, d.spec.AllowTools, d.spec.DenyTools)
	}
	if prompts && caps.Prompts != nil {
		if snap.Prompts, err = collect(cs.Prompts(ctx, nil)); err != nil {
			return fmt.Errorf("listing prompts: %w", err)
		}
	}
	if resources && caps.Resources != nil {
		if snap.Resources, err = collect(cs.Resources(ctx, nil)); err != nil {
			return fmt.Errorf("listing resources: %w", err)
		}
		if snap.Templates, err = collect(cs.ResourceTemplates(ctx, nil)); err != nil {
			return fmt.Errorf("listing resource templates: %w", err)
		}
	}
	d.mu.Lock()
	d.snap = &snap
	d.saveCached(&snap)
	d.mu.Unlock()
	return nil
}

// collect drains a paginated list; the SDK's iterators follow nextCursor.
func collect[T any](seq func(func(*T, error) bool)) ([]*T, error) {
	var out []*T
	for v, err := range seq {
		if err != nil {
			return out, err
		}
		out = append(out, v)
	}
	return out, nil
}

// firstList lists a new session's catalog under the connect deadline: a
// server that answers initialize but not its lists must not hold up its
// start, and everyone waiting for the first attempts, for ever.
func (d *downstream) firstList(ctx context.Context, cs *mcp.ClientSession, proc *proc.Process) error {
	lctx, cancel := context.WithTimeout(ctx, d.spec.ConnectTimeout)
	defer cancel()
	err := d.refresh(lctx, cs, true, true, true)
	if err != nil && ctx.Err() == nil && errors.Is(lctx.Err(), context.DeadlineExceeded) {
		what, _, _ := strings.Cut(err.Error(), ":") // "listing tools"
		return fmt.Errorf("%s: no answer within %s%s", what, d.spec.ConnectTimeout, proc.StderrHint())
	}
	return err
}

// onListChanged re-lists one kind of feature after the server said it
// changed, then rebuilds the merged catalog (which notifies the agent).
func (d *downstream) onListChanged(tools, prompts, resources bool) {
	d.mu.Lock()
	cs := d.cs
	d.mu.Unlock()
	if cs == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), d.spec.ConnectTimeout)
	defer cancel()
	if err := d.refresh(ctx, cs, tools, prompts, resources); err != nil {
		d.gw.logger.Warn("re-listing after list_changed", "server", d.spec.Name, "err", err)
		return
	}
	d.gw.rebuild()
}

// applyLogLevel gives a (re)started legacy server the level the agent set.
func (d *downstream) applyLogLevel(ctx context.Context, cs *mcp.ClientSession) {
	lvl := d.gw.logLevel.Load()
	init := cs.InitializeResult()
	if lvl == nil || init == nil || init.Capabilities == nil || init.Capabilities.Logging == nil || init.ProtocolVersion >= ProtocolV20260728 {
		return
	}
	// Bounded: the server's start is not settled until this returns.
	ctx, cancel := context.WithTimeout(ctx, d.spec.ConnectTimeout)
	defer cancel()
	if err := cs.SetLoggingLevel(ctx, &mcp.SetLoggingLevelParams{Level: *lvl}); err != nil {
		d.gw.logger.Warn("setting log level", "server", d.spec.Name, "err", err)
	}
}
