package mux

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	segjson "github.com/segmentio/encoding/json"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgw/mcpgw/mux/callpath"
	"github.com/mcpgw/mcpgw/mux/internal/stdio"
)

// The fast path carries tools/call between a stdio agent and a stdio server
// as raw JSON, through the same call path (routing, stages, progress and
// cancellation relays, the record) but without the SDK decoding and
// re-encoding the request and the result on both sides, which is most of
// what a forwarded call costs. It takes only the plain case; everything
// else (another protocol generation, input requests, HTTP servers, a
// session not yet initialized) goes the SDK way, and so does every other
// method. Options.NoFastPath turns it off.

// fastFront takes tools/call requests off the agent's connection.
type fastFront struct {
	g    *Gateway
	conn *stdio.Conn
	ss   atomic.Pointer[mcp.ServerSession]

	mu       sync.Mutex
	inflight map[string]context.CancelCauseFunc // agent's request id → cancel, with the agent's reason
	ctx      context.Context
	cancel   context.CancelFunc

	asks frontAsks // elicitations sent to the agent (elicitraw.go)
}

func newFastFront(g *Gateway) *fastFront {
	ctx, cancel := context.WithCancel(context.Background())
	return &fastFront{g: g, inflight: map[string]context.CancelCauseFunc{}, ctx: ctx, cancel: cancel}
}

// callParams is what the fast path decodes of a tools/call, with _meta as
// M. _meta is decoded only when present (a progress token, mostly), as the
// SDK would.
type callParams[M any] struct {
	Name           string             `json:"name"`
	Arguments      segjson.RawMessage `json:"arguments"`
	Meta           M                  `json:"_meta"`
	InputResponses segjson.RawMessage `json:"inputResponses"`
	RequestState   string             `json:"requestState"`
}

// fastCallParams has the whole _meta: the HTTP front names its stateless
// agent by it.
type fastCallParams = callParams[mcp.Meta]

// Take implements [stdio.Hook].
func (f *fastFront) Take(m *stdio.Msg) bool {
	if m.Method == nil {
		f.answer(m) // an elicitation's answer, kept as the agent sent it
		return false
	}
	switch *m.Method {
	case "tools/call":
		return f.call(m)
	case "notifications/cancelled":
		var p struct {
			RequestID any    `json:"requestId"`
			Reason    string `json:"reason"`
		}
		if _, err := segjson.Parse(m.Params, &p, 0); err != nil {
			return false
		}
		key := idKey(p.RequestID)
		f.mu.Lock()
		cancel, ok := f.inflight[key]
		delete(f.inflight, key)
		f.mu.Unlock()
		if !ok {
			// The SDK's request: noted before it cancels the handler,
			// whose answer is then withheld (cancelled.go).
			f.g.cancelled.note("", p.RequestID, p.Reason)
		}
		if ok {
			// The server hears the agent's own reason (context.Cause).
			cause := context.Canceled
			if p.Reason != "" {
				cause = errors.New(p.Reason)
			}
			cancel(cause)
		}
		return ok
	}
	return false
}

// Closed implements [stdio.Hook].
func (f *fastFront) Closed(error) { f.cancel() }

// idKey is a JSON-RPC id as a map key.
func idKey(id any) string {
	switch v := id.(type) {
	case string:
		return "s" + v
	case float64:
		return "n" + strconv.FormatFloat(v, 'g', -1, 64)
	case int64: // jsonrpc.ID.Raw's numbers
		return "n" + strconv.FormatInt(v, 10)
	}
	return fmt.Sprint(id)
}

// call decides whether a tools/call can take the fast path and, if so,
// runs it: on the agent's reader when inline answers are on, else in its
// own goroutine (as the SDK does).
func (f *fastFront) call(m *stdio.Msg) bool {
	g := f.g
	ss := f.ss.Load()
	if ss == nil || m.ID == nil || !g.settled.Load() || g.opts.NoFastPath {
		return false
	}
	ip := ss.InitializeParams()
	if ip == nil {
		return false
	}
	agentNew := ip.ProtocolVersion >= ProtocolV20260728
	var p stdioCallParams // fastmeta.go
	if _, err := segjson.Parse(m.Params, &p, segjson.DontMatchCaseInsensitiveStructFields); err != nil {
		return false
	}
	if p.RequestState != "" || len(p.InputResponses) > 0 {
		return false
	}
	if p.Name == CallToolTool && g.modeFor(&agentSession{g: g, ss: ss}).Search {
		// Search mode: the call it names, under the agent's request id
		// and progress token (search.go). Anything amiss is the SDK
		// path's to answer.
		name, args, err := unwrapCall(json.RawMessage(p.Arguments))
		if err != nil {
			return false
		}
		p.Name, p.Arguments = name, segjson.RawMessage(args)
	}
	e, ok := g.cat.Load().Tool(p.Name)
	if !ok {
		return false // the SDK path answers names nobody lists
	}
	d := g.downstream(e.Server)
	if d == nil {
		return false
	}
	fcs := d.fast.Load()
	if fcs == nil || d.speaksNew() != agentNew {
		return false // the SDK bridges the generations (input requests, logging)
	}
	if agentNew && (fcs.meta26.Load() == nil || p.Meta[mcp.MetaKeyProtocolVersion] == nil) {
		// A 2026-07-28 request without its per-request _meta is the SDK's
		// to refuse; a server's own (what mcpgw tells it per request) is
		// known once its client has sent one.
		return false
	}
	key := idKey(m.ID)
	ctx, cancelCause := context.WithCancelCause(f.ctx)
	cancel := func() { cancelCause(nil) }
	f.mu.Lock()
	if _, dup := f.inflight[key]; dup {
		f.mu.Unlock()
		cancel()
		return false
	}
	f.inflight[key] = cancelCause
	f.mu.Unlock()
	c := g.newCall(callpath.ToolCall, ss, p.Name, e.Route(), json.RawMessage(p.Arguments))
	c.fast = &fastCall{meta: mcp.Meta(p.Meta), front: f, id: m.ID, key: key, inline: g.inlineAnswers, newServer: agentNew}
	if !g.inlineAnswers {
		go f.run(ctx, cancel, c, nil)
		return true
	}
	// Nothing in the call path waits for the server: run it here, on the
	// agent's reader, and save a goroutine hand-off per call (measured:
	// −75…−95 µs). Nothing here blocks for long: request checks may not
	// wait (a stage that must, holds, and the call moves to a goroutine of
	// its own), the write to the server is bounded (WriteNoWait), and
	// answers the reader would have to write go out from goroutines of
	// their own.
	if v := g.admit(ctx, c); v != nil {
		if v.Hold != nil {
			c.fast.inline = false
			go f.run(ctx, cancel, c, v)
			return true
		}
		if v.Stops() {
			go f.finish(ctx, cancel, c, refusal(c, v))
			return true
		}
	}
	f.forward(ctx, cancel, c)
	return true
}

// run governs and forwards a fast-path call in a goroutine of its own; v is
// the request checks' verdict when admit already ran (a hold).
func (f *fastFront) run(ctx context.Context, cancel context.CancelFunc, c *call, v *callpath.Verdict) {
	g := f.g
	if v == nil {
		v = g.admit(ctx, c)
	}
	if v != nil && v.Hold != nil {
		var asked *outcome
		if v, asked = g.waitHold(ctx, c, v); asked != nil {
			f.finish(ctx, cancel, c, *asked)
			return
		}
	}
	if v.Stops() {
		f.finish(ctx, cancel, c, refusal(c, v))
		return
	}
	out := g.inspect(ctx, c, g.forwardTool(ctx, c))
	f.finish(ctx, cancel, c, out)
}

// forward forwards an admitted call from the agent's reader; inline
// answers come from the server's reader (see forwardInline).
func (f *fastFront) forward(ctx context.Context, cancel context.CancelFunc, c *call) {
	out := f.g.forwardTool(ctx, c)
	if out.answered {
		cancel()
		return
	}
	// Never write to the agent from its own reader.
	go func() { f.finish(ctx, cancel, c, f.g.inspect(ctx, c, out)) }()
}

// finish answers the agent and records the call.
func (f *fastFront) finish(ctx context.Context, cancel context.CancelFunc, c *call, out outcome) {
	g := f.g
	ended := time.Now()
	strict := g.opts.RecordStrict
	if strict {
		out = g.recordCall(ctx, c, out, ended)
	}
	// Read before cancel, which sets it for every call.
	agentCancelled := ctx.Err() != nil
	f.forget(c.fast.key)
	cancel()
	if !agentCancelled || out.err == nil { // a cancelled call is owed no answer
		f.respond(c.fast.id, out, c.fast.newServer)
	}
	if !strict {
		// Recorded after the answer, off the call's latency.
		rctx := context.Background()
		if agentCancelled {
			rctx = ctx
		}
		g.recordCall(rctx, c, out, ended)
	}
}

// forget drops an agent request id from the in-flight table.
func (f *fastFront) forget(key string) {
	f.mu.Lock()
	delete(f.inflight, key)
	f.mu.Unlock()
}

// setCancel replaces what cancelling an agent request does.
func (f *fastFront) setCancel(key string, cancel context.CancelCauseFunc) {
	f.mu.Lock()
	f.inflight[key] = cancel
	f.mu.Unlock()
}

// respond writes the outcome to the agent under its own request id; v2026:
// the agent speaks 2026-07-28, whose results say their resultType.
func (f *fastFront) respond(id any, out outcome, v2026 bool) { f.respondOn(id, out, v2026, nil) }

// respondOn is respond on the reader of another connection, which writes
// the answer once it has no other line to handle (see
// [stdio.Conn.WriteDeferred]); a nil reader writes at once.
func (f *fastFront) respondOn(id any, out outcome, v2026 bool, reader *stdio.Conn) {
	b := toolResponse(encodeID(id), out, v2026)
	var err error
	if reader != nil {
		err = reader.WriteDeferred(f.conn, b, false)
	} else {
		err = f.conn.WriteRaw(b)
	}
	if err != nil {
		f.g.logger.Debug("writing a fast-path response", "err", err)
	}
}

// fastCall is the fast path's part of a [call].
type fastCall struct {
	meta  mcp.Meta
	front *fastFront
	id    any    // the agent's request id
	key   string // idKey(id)
	// inline: no stage looks at outcomes, so the server's reader may answer
	// the agent itself, without waking the call's goroutine.
	inline bool
	// newServer: the server (like the agent) speaks 2026-07-28, and takes
	// mcpgw's protocol version, client info and capabilities per request.
	newServer bool
}

// fastCalls are the fast-path calls in flight on one stdio server, keyed by
// the request ids mcpgw gave them ("mcpgw-f-N", never used by the SDK).
type fastCalls struct {
	g    *Gateway
	conn *stdio.Conn
	// d is the server; elicits: its client advertised elicitation, whose
	// form requests the hook takes (elicitraw.go). Both are set before
	// the connection starts.
	d       *downstream
	elicits bool
	asks    serverAsks
	// lt is the connection's transport: its Conn is set before the
	// connection reads, so the hook may use it before conn is set.
	lt *stdio.Transport
	// meta26 is the _meta fragment a 2026-07-28 server takes with every
	// request (protocol version, client info, capabilities), as the SDK's
	// client sends it: copied from its first request (sent).
	meta26  atomic.Pointer[[]byte]
	seq     atomic.Uint64
	mu      sync.Mutex
	pending map[string]chan fastReply
	inline  map[string]*inlineCall
	err     error // set when the connection ended
}

type fastReply struct {
	result []byte
	err    error
}

const fastIDPrefix = "mcpgw-f-"

func newFastCalls(g *Gateway) *fastCalls {
	return &fastCalls{g: g, pending: map[string]chan fastReply{}, inline: map[string]*inlineCall{}}
}

// Take implements [stdio.Hook]: it takes the server's answers to fast-path
// calls, and its progress notifications, which are relayed here, in the
// order the server sent them: a progress notification sent before a result
// reaches the agent before it (the SDK would hand it to a goroutine of its
// own, and an HTTP agent's request may have ended by the time it ran).
func (fc *fastCalls) Take(m *stdio.Msg) bool {
	if m.Method != nil {
		switch *m.Method {
		case "notifications/progress":
		case "elicitation/create":
			return fc.takeElicit(m)
		case "notifications/cancelled":
			return fc.cancelAsk(m.Params)
		default:
			return false
		}
		var p mcp.ProgressNotificationParams
		if _, err := segjson.Parse(m.Params, &p, 0); err != nil {
			return false // the SDK says what is wrong with it
		}
		fc.g.relayProgressParams(&p)
		return true
	}
	id, ok := m.ID.(string)
	if !ok || !strings.HasPrefix(id, fastIDPrefix) {
		return false
	}
	fc.mu.Lock()
	ch := fc.pending[id]
	delete(fc.pending, id)
	ic := fc.inline[id]
	delete(fc.inline, id)
	fc.mu.Unlock()
	if ic != nil {
		out := outcome{raw: json.RawMessage(m.Result)}
		if m.Error != nil {
			out = outcome{err: m.Error}
		} else {
			ic.g.noteLinks(ic.d, m.Result)
			// Inline result stages only compute (see
			// callpath.InlineResultStage): run them here.
			out = ic.g.inspect(context.Background(), ic.call, out)
		}
		ic.finishOn(&out, fc.conn)
		return true
	}
	if ch != nil {
		r := fastReply{result: m.Result}
		if m.Error != nil {
			r.err = m.Error
		}
		ch <- r
	}
	return true
}

// Closed implements [stdio.Hook]: calls still waiting fail.
func (fc *fastCalls) Closed(err error) {
	fc.mu.Lock()
	fc.err = fmt.Errorf("connection closed: %w", err)
	for id, ch := range fc.pending {
		ch <- fastReply{err: fc.err}
		delete(fc.pending, id)
	}
	inline := fc.inline
	fc.inline = map[string]*inlineCall{}
	fc.mu.Unlock()
	for _, ic := range inline {
		out := failedResult(ic.d, ic.call.Name, fc.err)
		ic.finish(&out)
	}
}

// noteLinks remembers resource links in a raw result, decoding it only
// when it may hold some.
func (g *Gateway) noteLinks(d *downstream, result []byte) {
	if bytes.Contains(result, []byte(`"resource`)) {
		var res mcp.CallToolResult
		if json.Unmarshal(result, &res) == nil {
			g.links.note(d.spec.Name, res.Content)
		}
	}
}

// forwardFast is forwardTool's raw twin.
func (g *Gateway) forwardFast(ctx context.Context, c *call, d *downstream, fc *fastCalls) outcome {
	ic := &inflightCall{ss: c.agent.ss}
	if c.fast.newServer || c.fast.front == nil {
		// Over HTTP (callRaw), a request the server sends the agent
		// mid-call goes on this call's stream (see downstream.ask).
		// A 2026-07-28 agent takes a server's log messages within the
		// request they belong to (see relayLog); this one's answer may
		// come long after the call left the agent's reader.
		ic.ctx = context.WithoutCancel(ctx)
	}
	d.addInflight(ic)
	id := fastIDPrefix + strconv.FormatUint(fc.seq.Add(1), 10)
	meta, token := g.downstreamMeta(ctx, c.fast.newServer, c.fast.meta, d.forwarded(c.Identity), c.agent.ss)
	if !c.fast.inline {
		defer d.removeInflight(ic)
		defer g.progress.remove(token)
	}
	own := fc.metaFor(c.fast.newServer)
	req := make([]byte, 0, 192+len(c.Name)+len(c.Params)+len(own)) // no growing: own is most of a 2026-07-28 request
	req = append(req, `{"jsonrpc":"2.0","id":"`...)
	req = append(req, id...)
	req = append(req, `","method":"tools/call","params":{"name":`...)
	req = strconv.AppendQuote(req, c.Name)
	if c.Params != nil {
		req = append(req, `,"arguments":`...)
		req = append(req, c.Params...)
	}
	req = appendMeta(req, meta, own)
	req = append(req, "}}"...)

	if c.fast.inline {
		return g.forwardInline(ctx, c, d, fc, ic, id, req, token)
	}
	raw, err, timedOut := g.roundTrip(ctx, fc, id, req, d.spec.CallTimeoutFor(c.Name), token)
	var jerr *jsonrpc.Error
	switch {
	case timedOut:
		return timeoutResult(d, c.Name)
	case errors.As(err, &jerr):
		return outcome{err: jerr}
	case err != nil && ctx.Err() != nil:
		return outcome{err: ctx.Err()}
	case err != nil:
		return failedResult(d, c.Name, err)
	}
	g.noteLinks(d, raw)
	return outcome{raw: raw}
}

// roundTrip sends req, a request with id, to the server raw and waits for
// its answer: the raw result, the server's JSON-RPC error, or why none came
// (timedOut: timeout passed with neither an answer nor progress on token,
// and the server was told the request is cancelled, as it is when ctx
// ends).
func (g *Gateway) roundTrip(ctx context.Context, fc *fastCalls, id string, req []byte, timeout time.Duration, token string) (result []byte, err error, timedOut bool) {
	ch := make(chan fastReply, 1)
	fc.mu.Lock()
	if fc.err != nil {
		err := fc.err
		fc.mu.Unlock()
		return nil, err, false
	}
	fc.pending[id] = ch
	fc.mu.Unlock()
	if err := fc.conn.WriteRaw(req); err != nil {
		fc.drop(id)
		return nil, err, false
	}
	// The deadline is pushed back by the server's progress (see
	// callDeadline).
	ctx, dl, stop := withCallDeadline(ctx, timeout)
	defer stop()
	g.progress.onProgress(token, dl.touch)
	select {
	case r := <-ch:
		return r.result, r.err, false
	case <-ctx.Done():
		fc.drop(id)
		if dl.timedOut() {
			fc.cancelDownstream(id, context.DeadlineExceeded)
			return nil, context.DeadlineExceeded, true
		}
		fc.cancelDownstream(id, context.Cause(ctx))
		return nil, ctx.Err(), false
	}
}

func (fc *fastCalls) drop(id string) {
	fc.mu.Lock()
	delete(fc.pending, id)
	fc.mu.Unlock()
}

func (fc *fastCalls) cancelDownstream(id string, reason error) {
	b := fmt.Appendf(nil, `{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":%q,"reason":%q}}`, id, reason.Error())
	fc.conn.WriteNoWait(b) // may run on the agent's reader
}

// sent is told of every message the SDK's client writes to the server: a
// 2026-07-28 request's _meta gives the fragment fast-path requests carry.
func (fc *fastCalls) sent(m jsonrpc.Message) {
	if fc.meta26.Load() != nil {
		return
	}
	r, ok := m.(*jsonrpc.Request)
	if !ok || !r.IsCall() {
		return
	}
	var p struct {
		Meta map[string]segjson.RawMessage `json:"_meta"`
	}
	if _, err := segjson.Parse(r.Params, &p, 0); err != nil || p.Meta[mcp.MetaKeyProtocolVersion] == nil {
		return
	}
	var frag []byte
	for _, k := range []string{mcp.MetaKeyProtocolVersion, mcp.MetaKeyClientInfo, mcp.MetaKeyClientCapabilities} {
		if v := p.Meta[k]; v != nil {
			if frag != nil {
				frag = append(frag, ',')
			}
			frag = strconv.AppendQuote(frag, k)
			frag = append(frag, ':')
			frag = append(frag, v...)
		}
	}
	fc.meta26.Store(&frag)
}

// metaFor is the fragment of mcpgw's own _meta keys a request carries:
// none for servers of older versions.
func (fc *fastCalls) metaFor(newServer bool) []byte {
	if !newServer || fc == nil {
		return nil
	}
	if f := fc.meta26.Load(); f != nil {
		return *f
	}
	return nil
}

// appendMetaFirst is appendMeta for params that have no field before it.
func appendMetaFirst(req []byte, meta mcp.Meta, own []byte) []byte {
	if meta == nil && own == nil {
		return req
	}
	n := len(req)
	req = appendMeta(req, meta, own)
	return append(req[:n], req[n+1:]...) // without the leading comma
}

// appendMeta appends `,"_meta":{...}` to a request being built: meta's
// keys and then the encoded fragment own; nothing when both are empty.
func appendMeta(req []byte, meta mcp.Meta, own []byte) []byte {
	if meta == nil && own == nil {
		return req
	}
	req = append(req, `,"_meta":`...)
	if meta == nil {
		req = append(req, '{')
		req = append(req, own...)
		return append(req, '}')
	}
	b, _ := json.Marshal(meta)
	if own == nil {
		return append(req, b...)
	}
	req = append(req, b[:len(b)-1]...) // without its '}'
	if len(meta) > 0 {
		req = append(req, ',')
	}
	req = append(req, own...)
	return append(req, '}')
}

// callRaw forwards a tools/call that reached the SDK's server (an HTTP
// agent's, or a stdio agent's before the fast path takes calls) to a stdio
// server the fast path's way: the request and the server's result raw,
// through the same call path. The SDK decodes the agent's request as
// always; the result is passed on as the server's bytes. ok is false when
// the call is one for the SDK's client (input requests, a server of the
// other protocol generation, a tool the SDK must check).
func (g *Gateway) callRaw(ctx context.Context, r *mcp.CallToolRequest) (res mcp.Result, err error, ok bool) {
	p := r.Params
	if p.RequestState != "" || len(p.InputResponses) > 0 {
		return nil, nil, false
	}
	e, listed := g.cat.Load().Tool(p.Name)
	if !listed || g.listing.Load().Whole(e.Name) {
		return nil, nil, false
	}
	d := g.downstream(e.Server)
	if d == nil {
		return nil, nil, false
	}
	if _, ok := g.rawConn(d, r.Session); !ok {
		return nil, nil, false
	}
	c := g.newCall(callpath.ToolCall, r.Session, e.Name, e.Route(), p.Arguments)
	c.fast = &fastCall{meta: p.Meta, newServer: d.speaksNew()}
	out := g.govern(ctx, c, g.forwardTool)
	out = g.recordCall(ctx, c, out, time.Now())
	res, err = out.result()
	return res, err, true
}
