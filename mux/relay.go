package mux

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgw/mcpgw/mux/callpath"
	"github.com/mcpgw/mcpgw/mux/catalog"
)

// clientOptions wires a downstream client's handlers to the agent: what the
// server says or asks is relayed as if it spoke to the agent directly. caps
// are what the client advertises.
func (d *downstream) clientOptions(caps *mcp.ClientCapabilities) *mcp.ClientOptions {
	g := d.gw
	opts := &mcp.ClientOptions{
		Logger:       g.logger,
		Capabilities: caps,
		// Input requests from 2026-07-28 servers pass through to the agent
		// unchanged; the SDK must not fulfil them itself.
		MultiRoundTrip: &mcp.MultiRoundTripOptions{Disabled: true},
		// Re-listing is a request on the same connection: it must not run on
		// the connection's read loop, which delivers its answer.
		ToolListChangedHandler:     func(context.Context, *mcp.ToolListChangedRequest) { go d.onListChanged(true, false, false) },
		PromptListChangedHandler:   func(context.Context, *mcp.PromptListChangedRequest) { go d.onListChanged(false, true, false) },
		ResourceListChangedHandler: func(context.Context, *mcp.ResourceListChangedRequest) { go d.onListChanged(false, false, true) },
		ResourceUpdatedHandler: func(ctx context.Context, req *mcp.ResourceUpdatedNotificationRequest) {
			if err := g.server.ResourceUpdated(ctx, req.Params); err != nil {
				g.logger.Warn("relaying resource update", "server", d.spec.Name, "err", err)
			}
		},
		LoggingMessageHandler:       d.relayLog,
		ProgressNotificationHandler: g.relayProgress,
		ElicitationCompleteHandler: func(ctx context.Context, req *mcp.ElicitationCompleteNotificationRequest) {
			for ss := range g.server.Sessions() {
				ss.NotifyElicitationComplete(ctx, req.Params)
			}
		},
	}
	if caps.Elicitation != nil {
		// Set so the capability is advertised; requests are taken by
		// serverRequests before the SDK validates their schema.
		opts.ElicitationHandler = d.relayElicit
	}
	if caps.Sampling != nil {
		opts.CreateMessageWithToolsHandler = d.relaySample
	}
	return opts
}

// relayLog passes a server's log message to every agent session, named
// after the server so the agent can tell who said it.
func (d *downstream) relayLog(ctx context.Context, req *mcp.LoggingMessageRequest) {
	p := *req.Params
	p.Logger = d.spec.Name
	if req.Params.Logger != "" {
		p.Logger = d.spec.Name + "/" + req.Params.Logger
	}
	for ss := range d.gw.server.Sessions() {
		lctx := ctx
		if agentSpeaksNew(ss) {
			// Without sessions, a log message travels with a request of
			// the agent's: the call in flight on this server, if any.
			if lctx = d.callContext(ss); lctx == nil {
				continue
			}
		}
		if err := ss.Log(lctx, &p); err != nil {
			d.gw.logger.Debug("relaying log message", "server", d.spec.Name, "err", err)
		}
	}
}

// callContext returns the context of a call from ss on this server: one in
// flight, else the last one, always minus its cancellation. The SDK hands a
// server's notifications to a goroutine of their own, so a message sent just
// before a result can be relayed after it, and a call in flight now may
// have ended by the time the message is written; it still belongs to that
// call.
func (d *downstream) callContext(ss *mcp.ServerSession) context.Context {
	d.mu.Lock()
	defer d.mu.Unlock()
	for ic := range d.inflight {
		if ic.ss == ss && ic.ctx != nil && ic.ctx.Err() == nil {
			return context.WithoutCancel(ic.ctx)
		}
	}
	if d.lastCall != nil && d.lastCall.ss == ss && d.lastCall.ctx != nil {
		return context.WithoutCancel(d.lastCall.ctx)
	}
	return nil
}

// ensureLevel sets an older server's log level, once per change.
func (d *downstream) ensureLevel(ctx context.Context, cs *mcp.ClientSession, level mcp.LoggingLevel) {
	d.mu.Lock()
	same := d.level == level
	logs := d.snap != nil && d.snap.Caps.Logging != nil
	d.level = level
	d.mu.Unlock()
	if same || !logs {
		return
	}
	if err := cs.SetLoggingLevel(ctx, &mcp.SetLoggingLevelParams{Level: level}); err != nil {
		d.gw.logger.Warn("setting log level", "server", d.spec.Name, "err", err)
	}
}

// caller picks the agent session a server-initiated request belongs to: the
// session of the server's one in-flight call, or the only session there is.
func (d *downstream) caller() (*inflightCall, *mcp.ServerSession, error) {
	d.mu.Lock()
	var only *inflightCall
	n := len(d.inflight)
	for ic := range d.inflight {
		only = ic
	}
	d.mu.Unlock()
	if n == 1 && only.ss != nil {
		return only, only.ss, nil
	}
	var sessions []*mcp.ServerSession
	for ss := range d.gw.server.Sessions() {
		sessions = append(sessions, ss)
	}
	if len(sessions) == 1 {
		return nil, sessions[0], nil
	}
	if len(sessions) == 0 {
		return nil, nil, errors.New("mcpgw: no agent is connected to answer this request")
	}
	return nil, nil, fmt.Errorf("mcpgw: server %q has %d calls in flight from %d agent sessions; cannot tell which agent to ask", d.spec.Name, n, len(sessions))
}

// agentSpeaksNew reports whether the agent speaks 2026-07-28 or later, where
// servers cannot send it requests of their own mid-call.
func agentSpeaksNew(ss *mcp.ServerSession) bool {
	p := ss.InitializeParams()
	return p != nil && p.ProtocolVersion >= ProtocolV20260728
}

func agentCaps(ss *mcp.ServerSession) *mcp.ClientCapabilities {
	if p := ss.InitializeParams(); p != nil && p.Capabilities != nil {
		return p.Capabilities
	}
	return &mcp.ClientCapabilities{}
}

// askAgent relays one request of a server to the agent whose call caused
// it: directly to an older agent, as input_required to one that speaks
// 2026-07-28. An agent without the capability gets no request; the server
// gets an error saying why. Elicitation and sampling are governed calls
// (stages and the record see them, declined ones included); roots are not.
func askAgent[T any, R interface {
	*T
	mcp.InputResponse
	mcp.Result
}](ctx context.Context, d *downstream, kind callpath.Kind, what string, supported func(*mcp.ClientCapabilities) bool, req mcp.InputRequest, direct func(context.Context, *mcp.ServerSession) (R, error)) (R, error) {
	out := d.ask(ctx, kind, what, supported, req, nil, func(ctx context.Context, ss *mcp.ServerSession) outcome {
		r, err := direct(ctx, ss)
		if err != nil {
			return outcome{err: err}
		}
		return outcome{res: r}
	})
	if out.err == nil && out.res != nil {
		if _, ok := out.res.(R); !ok {
			return nil, fmt.Errorf("mcpgw: the agent answered a %s request with %T", what, out.res)
		}
	}
	return decoded[T, R](&out)
}

// ask is askAgent's body: raw is the server's request as it sent it (nil
// when the SDK decoded it), which the stages see and the agent gets.
// direct asks an older agent under a context carrying the values of the
// call that caused the request, if one did: over HTTP, the request then
// goes on that call's stream, which is open.
func (d *downstream) ask(ctx context.Context, kind callpath.Kind, what string, supported func(*mcp.ClientCapabilities) bool, req mcp.InputRequest, raw json.RawMessage, direct func(context.Context, *mcp.ServerSession) outcome) outcome {
	ic, ss, pickErr := d.caller()
	ask := func(ctx context.Context) outcome {
		if pickErr != nil {
			return outcome{err: pickErr}
		}
		if !supported(agentCaps(ss)) {
			return outcome{err: fmt.Errorf("mcpgw: the agent does not support %s, so server %q cannot ask it", what, d.spec.Name)}
		}
		if !agentSpeaksNew(ss) {
			if ic != nil && ic.ctx != nil {
				var stop func()
				ctx, stop = withValuesOf(ctx, ic.ctx)
				defer stop()
			}
			return direct(ctx, ss)
		}
		// Roots are no call's own question: with no call in flight, the
		// next call carries it.
		answer, err := d.gw.askViaInputRequired(ctx, d, ic, req, raw, what == "roots")
		if err != nil {
			return outcome{err: err}
		}
		if ra, ok := answer.(*rawAnswer); ok {
			return outcome{raw: ra.raw}
		}
		r, ok := answer.(mcp.Result)
		if !ok {
			return outcome{err: fmt.Errorf("mcpgw: the agent answered a %s request with %T", what, answer)}
		}
		return outcome{res: r}
	}
	if kind == 0 {
		return ask(ctx)
	}
	g := d.gw
	params := raw
	if params == nil {
		params, _ = json.Marshal(req)
	}
	c := g.newCall(kind, ss, "", catalog.Route{Server: d.spec.Name}, params)
	c.request = c.Params
	var out outcome
	if pickErr != nil {
		out = outcome{err: pickErr} // no session to govern it for: declined
	} else {
		out = g.govern(ctx, c, func(ctx context.Context, c *call) outcome { return ask(ctx) })
	}
	return g.recordCall(ctx, c, out, time.Now())
}

func (d *downstream) relayElicit(ctx context.Context, req *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
	return askAgent(ctx, d, callpath.Elicitation, "elicitation", elicits, req.Params,
		func(ctx context.Context, ss *mcp.ServerSession) (*mcp.ElicitResult, error) {
			out := elicitRaw(ctx, ss, req.Params, nil)
			return decoded[mcp.ElicitResult](&out)
		})
}

func elicits(c *mcp.ClientCapabilities) bool { return c.Elicitation != nil }

func (d *downstream) relaySample(ctx context.Context, req *mcp.CreateMessageWithToolsRequest) (*mcp.CreateMessageWithToolsResult, error) {
	return askAgent(ctx, d, callpath.Sampling, "sampling", func(c *mcp.ClientCapabilities) bool { return c.Sampling != nil }, req.Params,
		func(ctx context.Context, ss *mcp.ServerSession) (*mcp.CreateMessageWithToolsResult, error) {
			return ss.CreateMessageWithTools(ctx, req.Params)
		})
}

// The SDK checks elicitation schemas on both sides (the client before its
// handler runs, the server session on the answer) against its own reading
// of the spec. A pipe must not: the server and the agent judge their own
// schemas. serverRequests takes elicitation/create before the client-side
// check; elicitRaw keeps the agent's answer away from the server-side one.

// serverRequests is receiving middleware for downstream clients: it takes
// elicitation before the SDK's schema check, and roots/list, answered from
// the agent's roots (roots.go) or, for agents that speak 2026-07-28 (whose
// roots mcpgw cannot fetch ahead), as an input request on the call that
// needs them.
func (d *downstream) serverRequests(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		switch method {
		case "elicitation/create":
			if r, ok := req.(*mcp.ElicitRequest); ok {
				return d.relayElicit(ctx, r)
			}
		case "roots/list":
			// Never the SDK client's own answer: it holds no roots (see
			// roots.go).
			p, _ := req.GetParams().(*mcp.ListRootsParams)
			if p == nil {
				p = &mcp.ListRootsParams{}
			}
			if d.gw.roots.isKnown() {
				// Known already (an older agent's answer, or a newer
				// agent's answer to an input request): not a question for
				// the agent, and not one to tie to a call.
				return d.gw.roots.answer(ctx)
			}
			res, err := askAgent(ctx, d, 0, "roots", func(c *mcp.ClientCapabilities) bool { return c.RootsV2 != nil }, p,
				func(ctx context.Context, _ *mcp.ServerSession) (*mcp.ListRootsResult, error) {
					return d.gw.roots.answer(ctx)
				})
			if err == nil && res != nil {
				d.gw.roots.set(res.Roots)
			}
			return res, err
		}
		return next(ctx, method, req)
	}
}

// withValuesOf returns a context with the values of values and the
// cancellation of ctx, and a function that releases it.
func withValuesOf(ctx, values context.Context) (context.Context, func()) {
	vctx, cancel := context.WithCancelCause(context.WithoutCancel(values))
	stop := context.AfterFunc(ctx, func() { cancel(context.Cause(ctx)) })
	return vctx, func() {
		stop()
		cancel(nil)
	}
}

type rawElicitKey struct{}

// rawElicit travels in the context of one elicitation relayed to an
// older agent through the SDK's server session.
type rawElicit struct {
	// params is the server's request as it sent it, written to the agent
	// in place of the SDK's encoding; nil: the SDK's.
	params json.RawMessage
	// answer is the agent's full answer, decoded (keepRawElicitResult).
	answer *mcp.ElicitResult

	mu sync.Mutex
	// raw is the agent's answer as it sent it, where mcpgw reads it (off
	// a stdio agent's connection, see fastFront.sending; out of an HTTP
	// agent's POST, see elicithttp.go).
	raw    json.RawMessage
	forget func() // drops the request from the connection's table
}

func (r *rawElicit) setRaw(b json.RawMessage) {
	r.mu.Lock()
	r.raw = b
	r.mu.Unlock()
}

// elicitRaw asks the agent (an older one, which takes requests) and
// returns its answer unvalidated: the bytes it sent where they are known,
// else the SDK's decoding. params, when set, is what the agent is sent.
func elicitRaw(ctx context.Context, ss *mcp.ServerSession, p *mcp.ElicitParams, params json.RawMessage) outcome {
	slot := &rawElicit{params: params}
	res, err := ss.Elicit(context.WithValue(ctx, rawElicitKey{}, slot), p)
	slot.mu.Lock()
	raw, forget := slot.raw, slot.forget
	slot.mu.Unlock()
	if forget != nil {
		forget()
	}
	switch {
	case err != nil:
		return outcome{err: err}
	case raw != nil:
		return outcome{raw: raw}
	case slot.answer != nil:
		return outcome{res: slot.answer}
	}
	return outcome{res: res}
}

// keepRawElicitResult is sending middleware for the upstream server: it
// sends the server's own request bytes when elicitRaw has them, and hands
// the agent's full answer to elicitRaw and the SDK an answer without
// content, which it does not validate. An HTTP agent's answer is kept as
// it sent it (elicithttp.go).
func (g *Gateway) keepRawElicitResult(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		slot, ok := ctx.Value(rawElicitKey{}).(*rawElicit)
		if !ok || method != "elicitation/create" {
			return next(ctx, method, req)
		}
		if ss, ok := req.GetSession().(*mcp.ServerSession); ok && slot.params != nil {
			req = &mcp.ServerRequest[*rawParams]{Session: ss, Params: &rawParams{raw: slot.params}}
			if id := ss.ID(); id != "" { // HTTP; stdio keeps it in fastFront.answer
				defer g.httpAsks.add(id, slot)()
			}
		}
		res, err := next(ctx, method, req)
		if err != nil {
			return res, err
		}
		if r, ok := res.(*mcp.ElicitResult); ok {
			slot.answer = r
			return &mcp.ElicitResult{Action: r.Action, Meta: r.Meta}, nil
		}
		return res, err
	}
}

// rawParams are a request's params sent as the bytes they came in.
type rawParams struct {
	mcp.ParamsBase
	raw json.RawMessage
}

// MarshalJSON is the params as they came.
func (p *rawParams) MarshalJSON() ([]byte, error) { return p.raw, nil }

// progressRoutes maps the progress tokens mcpgw sends downstream back to
// the agent session and token they stand for. Tokens are rewritten because
// two agent sessions may use the same token.
type progressRoutes struct {
	seq atomic.Uint64
	m   sync.Map // string → progressRoute
}

type progressRoute struct {
	ss    *mcp.ServerSession
	token any
	// ctx is the agent request's context (without its cancellation): over
	// HTTP, a notification reaches the agent on that request's stream, and
	// a stateless (2026-07-28) session has no other.
	ctx   context.Context
	touch func()         // pushes the call's deadline back; nil when none
	local func(Progress) // a CallToolProgress caller's, instead of ss
}

func (p *progressRoutes) add(ctx context.Context, ss *mcp.ServerSession, token any) string {
	t := "mcpgw-" + strconv.FormatUint(p.seq.Add(1), 10)
	p.m.Store(t, progressRoute{ss: ss, token: token, ctx: context.WithoutCancel(ctx)})
	return t
}

// retarget sends the progress of mcpgw's token to the agent's request
// that now stands for the call: a 2026-07-28 agent's retry after
// input_required carries a progress token of its own.
func (p *progressRoutes) retarget(ctx context.Context, token string, ss *mcp.ServerSession, agentToken any) {
	v, ok := p.m.Load(token)
	if token == "" || agentToken == nil || !ok {
		return
	}
	r := v.(progressRoute)
	r.ss, r.token, r.ctx = ss, agentToken, context.WithoutCancel(ctx)
	p.m.Store(token, r)
}

// addLocal routes a token's progress to fn, for a call made in process.
func (p *progressRoutes) addLocal(fn func(Progress)) string {
	t := "mcpgw-" + strconv.FormatUint(p.seq.Add(1), 10)
	p.m.Store(t, progressRoute{local: fn})
	return t
}

// onProgress has every progress notification for token call touch as well
// (the call's deadline); an empty token (no progress asked for) is ignored.
func (p *progressRoutes) onProgress(token string, touch func()) {
	if token == "" {
		return
	}
	if v, ok := p.m.Load(token); ok {
		r := v.(progressRoute)
		r.touch = touch
		p.m.Store(token, r)
	}
}

// remove forgets a token once its call has ended. The SDK hands a
// connection's notifications to a handler goroutine but retires responses at
// once, so a server's last progress notifications can be handled after its
// result: the route stays a little while for them.
func (p *progressRoutes) remove(token string) {
	if token == "" {
		return
	}
	time.AfterFunc(progressGrace, func() { p.m.Delete(token) })
}

const progressGrace = 5 * time.Second

func (g *Gateway) relayProgress(ctx context.Context, req *mcp.ProgressNotificationClientRequest) {
	g.relayProgressParams(req.Params)
}

// relayProgressParams passes one progress notification of a server to the
// agent request whose token it carries.
func (g *Gateway) relayProgressParams(params *mcp.ProgressNotificationParams) {
	t, _ := params.ProgressToken.(string)
	v, ok := g.progress.m.Load(t)
	if !ok {
		return
	}
	r := v.(progressRoute)
	if r.touch != nil {
		r.touch()
	}
	if r.local != nil {
		r.local(Progress{Progress: params.Progress, Total: params.Total, Message: params.Message})
		return
	}
	p := *params
	p.ProgressToken = r.token
	if st, ok := r.ctx.Value(rawStreamKey{}).(*rawStream); ok {
		// A call the HTTP fast path took: on its stream (httpsession.go).
		b, err := json.Marshal(&p)
		if err == nil {
			err = st.send(rawMessage(nil, "notifications/progress", b))
		}
		if err != nil {
			g.logger.Debug("relaying progress", "err", err)
		}
		return
	}
	if err := r.ss.NotifyProgress(r.ctx, &p); err != nil {
		g.logger.Debug("relaying progress", "err", err)
	}
}

// linkOwners remembers which server's tool returned a resource URI, so a
// later read of a URI nobody listed (a resource_link) reaches that server.
// It is bounded: the oldest links are forgotten first.
type linkOwners struct {
	mu    sync.Mutex
	byURI map[string]string
	fifo  []string
}

const maxLinks = 4096

func (l *linkOwners) note(server string, content []mcp.Content) {
	for _, c := range content {
		var uri string
		switch c := c.(type) {
		case *mcp.ResourceLink:
			uri = c.URI
		case *mcp.EmbeddedResource:
			if c.Resource != nil {
				uri = c.Resource.URI
			}
		}
		if uri == "" {
			continue
		}
		l.mu.Lock()
		if l.byURI == nil {
			l.byURI = map[string]string{}
		}
		if _, ok := l.byURI[uri]; !ok {
			l.fifo = append(l.fifo, uri)
			if len(l.fifo) > maxLinks {
				delete(l.byURI, l.fifo[0])
				l.fifo = l.fifo[1:]
			}
		}
		l.byURI[uri] = server
		l.mu.Unlock()
	}
}

func (l *linkOwners) owner(uri string) (string, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s, ok := l.byURI[uri]
	return s, ok
}
