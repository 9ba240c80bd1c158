package mux

// The HTTP front's fast path for agents with sessions (2025-06-18 and
// 2025-11-25): the SDK's session handler decodes each POST with fresh
// buffers, dispatches it, and encodes the answer again, which cost more
// than the rest of a forwarded call together (profiled). A plain tools/call
// (one request, to a tool the stdio fast path takes) on an initialized
// session goes the fast path's way instead: raw, through the same call
// path, answered on an event stream of mcpgw's own. What the server sends
// the agent while the call runs (progress, requests for elicitation,
// sampling or roots) and mcpgw's own questions and notices go on that
// stream, as they would on the SDK's; progress is relayed on the server's
// reader, so it is written before the answer it preceded. The agent's
// answers to requests, POSTed back, are taken before the SDK reads them
// (rawStreamSend, takeRawAnswers). Anything else is the SDK's.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	segjson "github.com/segmentio/encoding/json"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgw/mcpgw/mux/callpath"
)

// protocolV20250618 is the first version whose agents name it in a header
// on every request, and may not batch: the oldest the session fast path
// takes.
const protocolV20250618 = "2025-06-18"

// serveRawSessionPOST answers r, a POST to session, if it is a call the
// fast path takes, and reports whether it did; when it did not, r's body is
// as it was.
func (g *Gateway) serveRawSessionPOST(w http.ResponseWriter, r *http.Request, session string) bool {
	v := r.Header.Get("Mcp-Protocol-Version")
	if g.opts.NoFastPath || v < protocolV20250618 || v >= ProtocolV20260728 || !g.settled.Load() ||
		len(r.Header.Values("Last-Event-ID")) > 0 || !accepts(r, "application/json") || !accepts(r, "text/event-stream") {
		return false
	}
	if m := r.Header.Get("Mcp-Method"); m != "" && m != "tools/call" {
		return false
	}
	m, ok := readCall(r)
	if !ok {
		return false
	}
	var p stdioCallParams // fastmeta.go
	if _, err := segjson.Parse(m.Params, &p, segjson.DontMatchCaseInsensitiveStructFields); err != nil ||
		p.RequestState != "" || len(p.InputResponses) > 0 || isMetaCall(p.Name) {
		return false // search mode's tools are the SDK path's
	}
	if n := r.Header.Get("Mcp-Name"); n != "" && n != p.Name {
		return false
	}
	ss := g.sessionByID(session)
	if ss == nil {
		return false
	}
	if ip := ss.InitializeParams(); ip == nil || ip.ProtocolVersion != v {
		return false // the SDK says what is wrong
	}
	if !g.roots.isKnown() && agentCaps(ss).RootsV2 != nil {
		return false // the SDK's path asks for them on this request first
	}
	if !g.sessionsCaller(r, ss) {
		return false
	}
	e, ok := g.cat.Load().Tool(p.Name)
	if !ok || g.listing.Load().Whole(e.Name) {
		return false
	}
	d := g.downstream(e.Server)
	if d == nil {
		return false
	}
	if _, ok := g.rawConn(d, ss); !ok {
		return false
	}
	key := idKey(m.ID)
	st := &rawStream{w: w, ss: ss}
	if !g.rawStreams.start(session, key) {
		// As the SDK answers a request id already in flight.
		writeRawError(w, http.StatusBadRequest, encodeID(m.ID), &jsonrpc.Error{Code: jsonrpc.CodeInvalidRequest, Message: fmt.Sprintf("duplicate in-flight request ID %v", m.ID)})
		return true
	}
	defer g.rawStreams.end(session, key)

	// A dropped connection is no cancellation at these versions: the call
	// goes on, as on the SDK's path. The agent's notifications/cancelled
	// ends it, with its reason (cancelled.go).
	ctx, release := g.cancelled.watch(context.WithValue(context.WithoutCancel(r.Context()), rawStreamKey{}, st), session, key)
	defer release()
	ctx = withCauseCarrier(ctx)
	c := g.newCall(callpath.ToolCall, ss, e.Name, e.Route(), json.RawMessage(p.Arguments))
	c.fast = &fastCall{meta: mcp.Meta(p.Meta)}
	out := g.govern(ctx, c, g.forwardTool)
	// Recorded before the answer: the handler's return ends the response,
	// and the agent's connection is free only then (measured: no slower
	// than recording after).
	out = g.recordCall(ctx, c, out, time.Now())
	if ctx.Err() == nil || out.err == nil {
		st.finish(toolResponse(encodeID(m.ID), out, false))
	} else {
		g.cancelled.withhold(session, m.ID) // owed no answer
		st.finish(nil)
	}
	return true
}

// writeRawError answers a request with a JSON-RPC error as the SDK's
// handler does: the error as the body, with status.
func writeRawError(w http.ResponseWriter, status int, idJSON []byte, jerr *jsonrpc.Error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(errorResponse(idJSON, jerr))
}

// sessionsCaller reports whether r comes from the caller of session ss, as
// the SDK admits a session's requests from its own user only (noteCaller
// learns a session's caller from its first request).
func (g *Gateway) sessionsCaller(r *http.Request, ss *mcp.ServerSession) bool {
	c, sc := callerOf(r.Context()), g.callers.get(ss)
	return c == sc || c != nil && sc != nil && c.ID == sc.ID
}

// sessionByID returns the agent session with id, or nil.
func (g *Gateway) sessionByID(id string) *mcp.ServerSession {
	for ss := range g.server.Sessions() {
		if ss.ID() == id {
			return ss
		}
	}
	return nil
}

type rawStreamKey struct{}

// rawStream is the event stream that answers one POST the session fast
// path took: what goes to the agent while the call runs, then the answer.
type rawStream struct {
	ss *mcp.ServerSession // the agent's session; nil for a stateless call

	mu     sync.Mutex
	w      http.ResponseWriter // nil once the answer is written
	opened bool
}

// errStreamClosed is a message for a call that has been answered.
var errStreamClosed = errors.New("mcpgw: the call's stream has closed")

// send writes msg to the agent as an event of the stream.
func (s *rawStream) send(msg []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.w == nil {
		return errStreamClosed
	}
	return s.writeLocked(msg)
}

// finish writes the answer, if any, and closes the stream: the handler
// returns next, and nothing may write to it after. An answer with nothing
// before it goes as application/json, which agents at every version take
// and read more cheaply than a stream; either way it is not flushed here:
// the handler's return writes it with the end of the response, in one go.
func (s *rawStream) finish(answer []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case answer != nil && !s.opened:
		h := s.w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Content-Length", strconv.Itoa(len(answer)))
		s.w.Write(answer)
	case answer != nil:
		s.w.Write(event(answer))
	case !s.opened:
		// Nothing to say: the headers alone, as the SDK sends for a
		// call it withholds the answer of.
		s.open()
	}
	s.w = nil
}

func (s *rawStream) open() {
	h := s.w.Header()
	h.Set("Cache-Control", "no-cache, no-transform")
	h.Set("Content-Type", "text/event-stream")
	h.Set("Connection", "keep-alive")
	s.opened = true
}

// writeLocked writes one event and flushes it: the agent reads it now.
func (s *rawStream) writeLocked(msg []byte) error {
	if !s.opened {
		s.open()
	}
	_, err := s.w.Write(event(msg))
	http.NewResponseController(s.w).Flush()
	return err
}

// event is msg as an event of the stream, as the SDK writes one.
func event(msg []byte) []byte {
	b := make([]byte, 0, len(msg)+32)
	b = append(b, "event: message\ndata: "...)
	b = append(b, msg...)
	return append(b, "\n\n"...)
}

// rawStreams are the calls the session fast path has in flight, by session
// and request id, and the requests it sent on their streams that await the
// agent's answer.
type rawStreams struct {
	mu       sync.Mutex
	inflight map[string]struct{}
	asks     map[string]chan agentAnswer // session \x00 idKey of mcpgw's request → its answer
	nAsks    atomic.Int32                // len(asks), read on every POST
	seq      atomic.Uint64
}

type agentAnswer struct {
	result json.RawMessage
	err    *jsonrpc.Error
}

func (rs *rawStreams) start(session, key string) bool {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	k := session + "\x00" + key
	if _, dup := rs.inflight[k]; dup {
		return false
	}
	if rs.inflight == nil {
		rs.inflight = map[string]struct{}{}
	}
	rs.inflight[k] = struct{}{}
	return true
}

func (rs *rawStreams) end(session, key string) {
	rs.mu.Lock()
	delete(rs.inflight, session+"\x00"+key)
	rs.mu.Unlock()
}

// ask registers a request to the agent of session, and returns its id and
// where its answer arrives.
func (rs *rawStreams) ask(session string) (id string, answer chan agentAnswer) {
	id = "mcpgw-ask-" + strconv.FormatUint(rs.seq.Add(1), 10)
	answer = make(chan agentAnswer, 1)
	rs.mu.Lock()
	if rs.asks == nil {
		rs.asks = map[string]chan agentAnswer{}
	}
	rs.asks[session+"\x00"+idKey(id)] = answer
	rs.nAsks.Store(int32(len(rs.asks)))
	rs.mu.Unlock()
	return id, answer
}

// take removes the request of session with id (idKey), and returns where
// its answer goes, or nil.
func (rs *rawStreams) take(session, key string) chan agentAnswer {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	k := session + "\x00" + key
	ch := rs.asks[k]
	delete(rs.asks, k)
	rs.nAsks.Store(int32(len(rs.asks)))
	return ch
}

// has reports whether session's agent owes an answer under key.
func (rs *rawStreams) has(session, key string) bool {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	_, ok := rs.asks[session+"\x00"+key]
	return ok
}

// takeRawAnswers answers r, a POST to session, when all it carries are the
// agent's answers to requests sent on a fast-path call's stream: they go
// to those requests, never to the SDK, which did not send them. It reports
// whether it answered; when it did not, r's body is as it was.
func (g *Gateway) takeRawAnswers(w http.ResponseWriter, r *http.Request, session string) bool {
	rs := &g.rawStreams
	if rs.nAsks.Load() == 0 || r.Method != http.MethodPost || r.Body == nil {
		return false
	}
	// The SDK's own limit: a sampling answer may carry an image.
	body, err := io.ReadAll(io.LimitReader(r.Body, mcp.DefaultMaxRequestBodyBytes+1))
	r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), r.Body))
	if err != nil || len(body) > mcp.DefaultMaxRequestBodyBytes {
		return false
	}
	var msg struct {
		JSONRPC string             `json:"jsonrpc"`
		ID      any                `json:"id"`
		Method  *string            `json:"method"`
		Result  segjson.RawMessage `json:"result"`
		Error   *jsonrpc.Error     `json:"error"`
	}
	if _, err := segjson.Parse(body, &msg, segjson.DontMatchCaseInsensitiveStructFields); err != nil ||
		msg.JSONRPC != "2.0" || msg.Method != nil || msg.ID == nil || (msg.Result == nil) == (msg.Error == nil) {
		return false
	}
	key := idKey(msg.ID)
	if !rs.has(session, key) {
		return false
	}
	if ss := g.sessionByID(session); ss == nil || !g.sessionsCaller(r, ss) {
		return false // the SDK refuses it
	}
	ch := rs.take(session, key)
	if ch == nil {
		return false // given up on meanwhile
	}
	ch <- agentAnswer{result: json.RawMessage(bytes.Clone(msg.Result)), err: msg.Error}
	w.WriteHeader(http.StatusAccepted)
	return true
}

// rawStreamSend is sending middleware for the agent's server (innermost:
// in place of the SDK's writing): what goes to an agent whose call the
// session fast path took, in that call's context, goes on the call's
// stream. Requests wait there for the agent's answer, POSTed back.
func (g *Gateway) rawStreamSend(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		st, ok := ctx.Value(rawStreamKey{}).(*rawStream)
		if !ok || req.GetSession() != st.ss {
			return next(ctx, method, req)
		}
		// Which result a request's answer decodes into; notifications
		// have none.
		var res mcp.Result
		switch {
		case strings.HasPrefix(method, "notifications/"):
		case method == "elicitation/create":
			res = &mcp.ElicitResult{}
		case method == "sampling/createMessage":
			res = &mcp.CreateMessageWithToolsResult{}
		case method == "roots/list":
			res = &mcp.ListRootsResult{}
		default:
			return next(ctx, method, req)
		}
		var params json.RawMessage
		if p := req.GetParams(); p != nil {
			b, err := json.Marshal(p)
			if err != nil {
				return nil, fmt.Errorf("mcpgw: encoding %s: %w", method, err)
			}
			if !bytes.Equal(b, []byte("null")) {
				params = b
			}
		}
		if res == nil {
			return nil, st.send(rawMessage(nil, method, params))
		}
		rs, session := &g.rawStreams, st.ss.ID()
		id, answer := rs.ask(session)
		key := idKey(id)
		if err := st.send(rawMessage(encodeID(id), method, params)); err != nil {
			rs.take(session, key)
			return nil, err
		}
		var a agentAnswer
		select {
		case a = <-answer:
		case <-ctx.Done():
			if rs.take(session, key) != nil {
				// As the SDK does for a request its caller gave up on.
				p, _ := json.Marshal(map[string]any{"requestId": id, "reason": context.Cause(ctx).Error()})
				st.send(rawMessage(nil, "notifications/cancelled", p))
				return nil, ctx.Err()
			}
			a = <-answer // answered as it was given up on
		}
		if a.err != nil {
			return nil, a.err
		}
		if err := segjson.Unmarshal(a.result, res); err != nil {
			return nil, fmt.Errorf("mcpgw: the agent's answer to %s: %w", method, err)
		}
		if slot, ok := ctx.Value(rawElicitKey{}).(*rawElicit); ok && method == "elicitation/create" {
			slot.setRaw(a.result) // the answer as the agent sent it (elicitRaw)
		}
		return res, nil
	}
}

// rawMessage is a JSON-RPC request (idJSON set) or notification.
func rawMessage(idJSON []byte, method string, params json.RawMessage) []byte {
	b := make([]byte, 0, len(params)+len(method)+64)
	b = append(b, `{"jsonrpc":"2.0",`...)
	if idJSON != nil {
		b = append(b, `"id":`...)
		b = append(b, idJSON...)
		b = append(b, ',')
	}
	b = append(b, `"method":`...)
	b = strconv.AppendQuote(b, method)
	if params != nil {
		b = append(b, `,"params":`...)
		b = append(b, params...)
	}
	return append(b, '}')
}
