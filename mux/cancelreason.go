package mux

// The agent's reason for cancelling a request reaches the server on the
// go-sdk's path too, as it does on the raw stdio path (fastpath.go). The
// SDK cancels a handler without a cause, and its client tells a server
// "context canceled" whatever the cause. So mcpgw names each agent request
// for its handler (the stdio connection's Extra, or a header the HTTP front
// sets from the POST it read), cancels the handler with the agent's reason
// as it notes the cancellation (cancelled.go), before the SDK cancels it
// with none, and rewrites the reason of the notifications/cancelled the
// downstream client then sends.

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgw/mcpgw/mux/internal/stdio"
)

// agentRequestHeader names an agent request (its id, as idKey writes it)
// in the RequestExtra its handler gets. mcpgw sets it; the HTTP front
// removes any the agent sent.
const agentRequestHeader = "Mcpgw-Agent-Request"

// agentRequestExtra is the stdio agent connection's Extra.
func agentRequestExtra(m *stdio.Msg) any {
	h := http.Header{agentRequestHeader: {idKey(m.ID)}}
	if m.Method != nil {
		setInputResponses(h, *m.Method, m.Params) // inputraw.go
	}
	return &mcp.RequestExtra{Header: h}
}

// watchCancel returns ctx for the handler of an agent's request: cancelled
// with the agent's own reason when the agent cancels it, and carrying that
// cause to the downstream client's cancellation (see cancelReasons).
// release is nil when the request is not named (see agentRequestHeader).
func (g *Gateway) watchCancel(ctx context.Context, req mcp.Request) (_ context.Context, release func()) {
	ex := req.GetExtra()
	if ex == nil || ex.Header == nil {
		return ctx, nil
	}
	id := ex.Header.Get(agentRequestHeader)
	if id == "" {
		return ctx, nil
	}
	session := ""
	if ss := sessionOf(req); ss != nil {
		session = ss.ID()
	}
	ctx, release = g.cancelled.watch(ctx, session, id)
	return withCauseCarrier(ctx), release
}

type causeCarrierKey struct{}

// causeCarrier lets a context that has lost its cancellation (the SDK
// sends its notifications/cancelled under context.WithoutCancel) find the
// cause its request was cancelled with.
type causeCarrier struct{ ctx context.Context }

// withCauseCarrier returns ctx carrying itself, for agentCause.
func withCauseCarrier(ctx context.Context) context.Context {
	h := &causeCarrier{}
	ctx = context.WithValue(ctx, causeCarrierKey{}, h)
	h.ctx = ctx
	return ctx
}

// agentCause is the reason the agent gave for cancelling the request ctx
// was derived from, or nil when it gave none (or the request was not
// cancelled by the agent).
func agentCause(ctx context.Context) error {
	h, ok := ctx.Value(causeCarrierKey{}).(*causeCarrier)
	if !ok {
		return nil
	}
	c := context.Cause(h.ctx)
	if c == nil || errors.Is(c, context.Canceled) || errors.Is(c, context.DeadlineExceeded) {
		return nil
	}
	return c
}

// cancelReasons wraps a downstream client's transport: the
// notifications/cancelled the SDK sends with its own reason ("context
// canceled") carries the agent's, when the agent gave one.
type cancelReasons struct{ mcp.Transport }

func (t cancelReasons) Connect(ctx context.Context) (mcp.Connection, error) {
	c, err := t.Transport.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return cancelReasonConn{c}, nil
}

type cancelReasonConn struct{ mcp.Connection }

func (c cancelReasonConn) Write(ctx context.Context, m jsonrpc.Message) error {
	if r, ok := m.(*jsonrpc.Request); ok && r.Method == "notifications/cancelled" && !r.IsCall() {
		if cause := agentCause(ctx); cause != nil {
			var p struct {
				Meta      json.RawMessage `json:"_meta,omitempty"`
				RequestID json.RawMessage `json:"requestId"`
				Reason    string          `json:"reason,omitempty"`
			}
			if json.Unmarshal(r.Params, &p) == nil && p.Reason == context.Canceled.Error() {
				p.Reason = cause.Error()
				if b, err := json.Marshal(&p); err == nil {
					r2 := *r
					r2.Params = b
					m = &r2
				}
			}
		}
	}
	return c.Connection.Write(ctx, m)
}
