package mux

// A request the agent cancelled is owed no answer (the MCP spec says the
// receiver does not respond), but the SDK writes its handler's return, the
// context's error, as one. mcpgw notes each cancellation before the SDK
// sees it (stdio: as the fast path's hook reads it; HTTP: as the POST that
// carries it arrives) and withholds that answer: on its own stdio
// connection as it is written, and over HTTP as the event that carries it.
// The fast path answers no cancelled call in the first place.

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"time"

	segjson "github.com/segmentio/encoding/json"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
)

// cancelledMemory is how long a cancellation is remembered: a handler that
// answered before the cancellation arrived leaves it unused.
const cancelledMemory = time.Minute

// cancellations are the agent requests cancelled on the SDK path, by
// session and request id, with when; and the handlers of requests in
// flight on it (watch), which hear the agent's reason.
type cancellations struct {
	mu       sync.Mutex
	m        map[string]time.Time
	watchers map[string]context.CancelCauseFunc
}

func cancelKey(session string, id any) string { return session + "\x00" + idKey(id) }

// note remembers that the agent of session cancelled request id, and
// cancels that request's handler with the agent's reason (empty: none
// given), before the SDK cancels it with its own.
func (c *cancellations) note(session string, id any, reason string) {
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if cancel := c.watchers[cancelKey(session, id)]; cancel != nil {
		cause := context.Canceled
		if reason != "" {
			cause = errors.New(reason)
		}
		cancel(cause)
	}
	if c.m == nil {
		c.m = map[string]time.Time{}
	}
	for k, at := range c.m {
		if now.Sub(at) > cancelledMemory {
			delete(c.m, k)
		}
	}
	c.m[cancelKey(session, id)] = now
}

// watch returns ctx cancelled with the agent's own reason when the agent of
// session cancels request id (see note), and a function that releases it
// when the request's handler returns.
func (c *cancellations) watch(ctx context.Context, session string, id string) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(ctx)
	k := session + "\x00" + id
	c.mu.Lock()
	if c.watchers == nil {
		c.watchers = map[string]context.CancelCauseFunc{}
	}
	c.watchers[k] = cancel
	c.mu.Unlock()
	return ctx, func() {
		c.mu.Lock()
		delete(c.watchers, k)
		c.mu.Unlock()
		cancel(nil)
	}
}

// withhold reports whether a response of session answers a cancelled
// request, forgetting the cancellation: it is owed no answer.
func (c *cancellations) withhold(session string, id any) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := cancelKey(session, id)
	if _, ok := c.m[k]; !ok {
		return false
	}
	delete(c.m, k)
	return true
}

// noteCancelledPOST reads an HTTP agent's POST to session ("" for a
// request of no session, at 2026-07-28) before the SDK does, leaving its
// body as it was: it notes the cancellations it carries and the answers to
// relayed elicitations (elicithttp.go), and names the one request it
// carries (if it carries one) in the agentRequestHeader its handler sees
// (cancelreason.go), with its inputResponses as sent (inputraw.go). Small
// bodies only: a notification is a few hundred bytes.
func (g *Gateway) noteCancelledPOST(r *http.Request, session string) {
	if r.Method != http.MethodPost || r.Body == nil || r.ContentLength > 64<<10 {
		return
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, 64<<10+1))
	r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(b), r.Body))
	if err != nil || len(b) > 64<<10 {
		return
	}
	var msgs []struct {
		ID     any                `json:"id"`
		Method string             `json:"method"`
		Params segjson.RawMessage `json:"params"`
		Result segjson.RawMessage `json:"result"`
	}
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] != '[' {
		b = append(append([]byte{'['}, b...), ']')
	}
	if _, err := segjson.Parse(b, &msgs, 0); err != nil {
		return
	}
	calls := 0
	var callID any
	var callMethod string
	var callParams []byte
	for _, m := range msgs {
		switch {
		case session == "" && m.ID == nil:
			// No session: no request of it to cancel.
		case m.Method == "notifications/cancelled":
			var p struct {
				RequestID any    `json:"requestId"`
				Reason    string `json:"reason"`
			}
			if _, err := segjson.Parse(m.Params, &p, 0); err == nil && p.RequestID != nil {
				g.cancelled.note(session, p.RequestID, p.Reason)
			}
		case m.Method != "" && m.ID != nil:
			calls++
			callID, callMethod, callParams = m.ID, m.Method, m.Params
		case m.Method == "" && m.ID != nil && m.Result != nil:
			// An answer to a request mcpgw sent: a relayed elicitation's
			// is kept as the agent sent it (elicithttp.go).
			g.httpAsks.answered(session, m.ID, m.Result)
		}
	}
	if calls == 1 {
		r.Header.Set(agentRequestHeader, idKey(callID))
		setInputResponses(r.Header, callMethod, callParams) // inputraw.go
	}
}

// withholdStdio is the stdio agent connection's Withhold.
func (g *Gateway) withholdStdio(m jsonrpc.Message) bool {
	r, ok := m.(*jsonrpc.Response)
	return ok && r.ID.IsValid() && g.cancelled.withhold("", r.ID.Raw())
}

// cancelFilter is an HTTP response writer that drops the events answering
// requests of session the agent cancelled, and notes the ids of relayed
// elicitations (elicithttp.go). The SDK writes one event per Write.
type cancelFilter struct {
	http.ResponseWriter
	g       *Gateway
	session string
}

func (w cancelFilter) Write(b []byte) (int, error) {
	if i := bytes.Index(b, []byte("\ndata: ")); i >= 0 && bytes.HasPrefix(b, []byte("event: message")) {
		var m struct {
			ID     any                `json:"id"`
			Method *string            `json:"method"`
			Params segjson.RawMessage `json:"params"`
			Result segjson.RawMessage `json:"result"`
			Error  segjson.RawMessage `json:"error"`
		}
		data := bytes.TrimSpace(b[i+len("\ndata: "):])
		if _, err := segjson.Parse(data, &m, 0); err == nil && m.ID != nil {
			if m.Method == nil && w.g.cancelled.withhold(w.session, m.ID) {
				return len(b), nil
			}
			if m.Method != nil && *m.Method == "elicitation/create" {
				w.g.httpAsks.sent(w.session, m.ID, m.Params)
			}
		}
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the writer's Flush.
func (w cancelFilter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
