package mux

// Starting (or dialing) a server and initializing a session with it, under
// the connect timeout.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgw/mcpgw/mux/internal/stdio"
	"github.com/mcpgw/mcpgw/mux/oauth"
	"github.com/mcpgw/mcpgw/mux/proc"
)

// connect starts (or dials) the server and initializes a session under the
// connect deadline.
func (d *downstream) connect(runCtx context.Context) (*mcp.ClientSession, *proc.Process, error) {
	ctx, cancel := context.WithTimeout(runCtx, d.spec.ConnectTimeout)
	defer cancel()
	spec, err := d.gw.resolveSpec(ctx, d.spec)
	if err != nil {
		return nil, nil, err
	}
	// A remote transport's streams live on the context it connects with;
	// they must outlive the connect deadline, and end with the session.
	streamCtx, endStreams := context.WithCancel(runCtx)
	var (
		t     mcp.Transport
		child *proc.Process
		lt    *stdio.Transport
		fc    *fastCalls
	)
	switch {
	case spec.Command != "":
		// Spawning is bounded: twenty servers starting at once would
		// each take longer than one at a time, and starve the answers
		// the agent waits for. A slot is held until the server has
		// initialized or for spawnWindow, so a hanging one cannot keep
		// the others waiting.
		release := d.gw.spawnSlot(ctx)
		defer release()
		if child, lt, fc, err = d.spawn(spec); err != nil {
			endStreams()
			return nil, nil, err
		}
		t = lt
	case spec.URL != "":
		t = d.remote(spec, streamCtx)
	default:
		endStreams()
		return nil, nil, errors.New("neither command nor url is set")
	}
	told := d.gw.advertised(d.spec)
	if fc != nil {
		fc.d, fc.elicits = d, told.caps.Elicitation != nil
	}
	client := mcp.NewClient(&mcp.Implementation{Name: d.gw.opts.Name, Version: d.gw.opts.Version}, d.clientOptions(told.caps))
	client.AddReceivingMiddleware(d.serverRequests)
	d.gw.roots.add(client) // before connecting: see agentRoots.add
	cs, err := d.initialize(ctx, client, t, told.version, child, endStreams)
	if err != nil {
		endStreams()
		d.gw.roots.remove(client)
		return nil, nil, d.initError(ctx, err, child)
	}
	d.mu.Lock()
	d.told = told // what its catalog is cached under
	d.mu.Unlock()
	if fc != nil {
		// The fast path takes over calls once the server is ready.
		fc.conn = lt.Conn()
		d.mu.Lock()
		d.nextFast = fc
		d.mu.Unlock()
	}
	go func() {
		cs.Wait()
		endStreams()
		d.gw.roots.remove(client)
	}()
	return cs, child, nil
}

// spawn starts a stdio server and its transport, whose hook takes the
// server's answers to fast-path calls.
func (d *downstream) spawn(spec ServerSpec) (*proc.Process, *stdio.Transport, *fastCalls, error) {
	known := d.gw.secrets
	env := make([]string, 0, len(spec.Env)+3)
	for k, v := range spec.Env {
		if !spec.Identity.Off && (k == EnvUser || k == EnvTeam || k == EnvRoles) {
			continue // the identity is mcpgw's to say, not the server's env:
		}
		env = append(env, k+"="+v)
	}
	id := d.forwarded(d.gw.agentCaller().Identity)
	env = append(env, identityEnv(id)...)
	d.envID.Store(&id)
	p, err := proc.Start(proc.Spec{Name: spec.Name, Command: spec.Command, Args: spec.Args, Env: env, Dir: spec.Cwd,
		Stderr: d.gw.opts.ChildStderr, Redact: known.RedactString, Unsupervised: d.gw.opts.NoSupervisor})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("starting %q: %w", d.spec.Command, err)
	}
	fc := newFastCalls(d.gw)
	// Reading to the end says how the process ended, for the calls its
	// death fails.
	lt := stdio.NewTransport(io.NopCloser(p.Output()), p.Stdin(), &stdio.Options{Hook: fc, Junk: p.Note, Redact: known, Written: fc.sent})
	fc.lt = lt
	return p, lt, fc, nil
}

// remote is the transport to a remote server: streamable HTTP or SSE, with
// the configured headers, masking known secrets in what it reads.
func (d *downstream) remote(spec ServerSpec, streamCtx context.Context) mcp.Transport {
	var rt http.RoundTripper = headerTransport{headers: spec.Headers, base: http.DefaultTransport}
	if !spec.Identity.Off {
		rt = newIdentityHeaders(d.gw, spec.Identity, rt)
	}
	var auth *oauth.Transport
	if o := d.gw.opts.OAuth; o != nil && o.Store != nil && (spec.OAuth != nil || !hasAuthorization(spec.Headers)) {
		var conf oauth.Config
		if spec.OAuth != nil {
			conf = *spec.OAuth
		}
		auth = &oauth.Transport{Base: rt, Source: oauth.NewSource(oauth.SourceOptions{Server: spec.Name, URL: spec.URL, Config: conf,
			Store: o.Store, LockDir: o.LockDir, HTTPClient: o.HTTPClient, Seen: func(name, v string) { d.gw.secrets.Add(name, v) }})}
		switch {
		case o.StepUp != nil:
			auth.StepUp = o.StepUp(spec, auth.Source)
		case d.gw.elicitsLogin(spec):
			auth.StepUp = d.agentStepUp(spec, auth.Source)
			auth.StepUpAllowed = func(ctx context.Context) bool { return agentTakesURL(agentSessionFrom(ctx)) }
		}
		auth.LostLogin = d.lostLogin
		rt = auth
	}
	d.mu.Lock()
	d.auth = auth
	d.mu.Unlock()
	hc := &http.Client{Transport: rt}
	var t mcp.Transport
	if spec.Transport == "sse" {
		t = &mcp.SSEClientTransport{Endpoint: spec.URL, HTTPClient: hc}
	} else {
		t = &mcp.StreamableClientTransport{Endpoint: spec.URL, HTTPClient: hc}
	}
	return redactingTransport{streamTransport{Transport: t, ctx: streamCtx}, d.gw.secrets}
}

// hasAuthorization reports whether headers set Authorization: the server
// is given its credential in the configuration, not by a login.
func hasAuthorization(headers map[string]string) bool {
	for k := range headers {
		if http.CanonicalHeaderKey(k) == "Authorization" {
			return true
		}
	}
	return false
}

// initialize connects client over t within ctx, speaking version. A server
// that never answers keeps Connect blocked on its pipe: at the deadline its
// process is stopped (and a remote's streams ended), which unblocks it.
func (d *downstream) initialize(ctx context.Context, client *mcp.Client, t mcp.Transport, version string, child *proc.Process, endStreams func()) (*mcp.ClientSession, error) {
	type result struct {
		cs  *mcp.ClientSession
		err error
	}
	ch := make(chan result, 1)
	go func() {
		cs, err := client.Connect(ctx, cancelReasons{t}, &mcp.ClientSessionOptions{ProtocolVersion: version})
		ch <- result{cs, err}
	}()
	select {
	case r := <-ch:
		return r.cs, r.err
	case <-ctx.Done():
		if child != nil {
			child.Close()
		}
		endStreams()
		if r := <-ch; r.err == nil {
			r.cs.Close()
		}
		return nil, ctx.Err()
	}
}

// initError says why initialize failed: the deadline, the process's end
// (with its last stderr lines), or the connection's error.
func (d *downstream) initError(ctx context.Context, err error, child *proc.Process) error {
	if child == nil {
		return d.gw.redactErr(fmt.Errorf("connecting to %s: %w", d.spec.URL, err))
	}
	timedOut := errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded)
	// A server that exits at start ends its stdout first: wait a moment
	// for the exit, so the error says how it ended rather than "EOF".
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
		return fmt.Errorf("no answer to initialize within %s%s", d.spec.ConnectTimeout, child.StderrHint())
	case exited:
		return fmt.Errorf("process %s before answering initialize%s", child.HowEnded(), child.StderrHint())
	}
	return fmt.Errorf("initialize: %w%s", err, child.StderrHint())
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
	a := assertionOf(r.Context()) // the request's identity assertion (auth.go)
	if len(h.headers) > 0 || a != nil {
		r = r.Clone(r.Context())
		for k, v := range h.headers {
			r.Header.Set(k, v)
		}
		if a != nil {
			r.Header.Set(assertionHeader, a.token)
		}
	}
	return h.base.RoundTrip(r)
}
