package mux

// A stdio server's form elicitation reaches the agent as the server sent
// it: the SDK's types would add "mode":"form" (which agents before
// 2025-11-25 have no such field for), re-order the schema's keys, and sort
// the keys of the agent's answer on its way back. So the server's
// connection hook takes elicitation/create off the SDK (fastCalls.Take),
// the call path governs it over the raw bytes (stages scan them, the
// record keeps them), and the agent gets those bytes: as a request of
// mcpgw's SDK session whose params are the server's (keepRawElicitResult),
// or, at 2026-07-28, inside the input_required result of the call that
// caused it (rawInputs). The agent's answer goes back to the server as the
// agent sent it: mcpgw reads it off the agent's stdio connection
// (fastFront.answer), out of the POST that carries it (elicithttp.go), or
// out of a 2026-07-28 agent's retry (inputraw.go). URL-mode elicitations, and servers mcpgw does not spawn,
// take the SDK's way (relayElicit).

import (
	"context"
	"encoding/json"
	"sync"
	"sync/atomic"

	segjson "github.com/segmentio/encoding/json"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgw/mcpgw/mux/callpath"
	"github.com/mcpgw/mcpgw/mux/internal/stdio"
)

// serverAsks are a stdio server's elicitations being relayed raw, by the
// server's request id: its notifications/cancelled ends one.
type serverAsks struct {
	mu sync.Mutex
	m  map[string]context.CancelFunc
}

// takeElicit takes a form elicitation off the server's connection and
// relays it in a goroutine of its own; it reports whether it took m.
func (fc *fastCalls) takeElicit(m *stdio.Msg) bool {
	d := fc.d
	if d == nil || !fc.elicits || m.ID == nil || fc.lt == nil {
		return false
	}
	conn := fc.lt.Conn() // on the reader, after Connect set it
	var p struct {
		Mode string `json:"mode"`
		URL  string `json:"url"`
	}
	if _, err := segjson.Parse(m.Params, &p, 0); err != nil || p.Mode != "" && p.Mode != "form" || p.URL != "" {
		return false // the SDK says what is wrong with it, or relays a URL
	}
	key := idKey(m.ID)
	ctx, cancel := context.WithCancel(context.Background())
	fc.asks.mu.Lock()
	if fc.asks.m == nil {
		fc.asks.m = map[string]context.CancelFunc{}
	}
	if _, dup := fc.asks.m[key]; dup {
		fc.asks.mu.Unlock()
		cancel()
		return false
	}
	fc.asks.m[key] = cancel
	fc.asks.mu.Unlock()
	id, params := m.ID, json.RawMessage(m.Params)
	go func() {
		out := d.relayElicitRaw(ctx, params)
		fc.asks.mu.Lock()
		delete(fc.asks.m, key)
		fc.asks.mu.Unlock()
		if ctx.Err() == nil { // a request the server cancelled is owed no answer
			fc.answerServer(conn, id, out)
		}
		cancel()
	}()
	return true
}

// cancelAsk ends a raw elicitation the server cancelled; it reports whether
// the cancellation was for one.
func (fc *fastCalls) cancelAsk(params []byte) bool {
	var p struct {
		RequestID any `json:"requestId"`
	}
	if _, err := segjson.Parse(params, &p, 0); err != nil || p.RequestID == nil {
		return false
	}
	fc.asks.mu.Lock()
	cancel, ok := fc.asks.m[idKey(p.RequestID)]
	fc.asks.mu.Unlock()
	if ok {
		cancel()
	}
	return ok
}

// answerServer writes the outcome of a raw elicitation to the server under
// its own request id.
func (fc *fastCalls) answerServer(conn *stdio.Conn, id any, out outcome) {
	idJSON := encodeID(id)
	var b []byte
	if out.err != nil {
		b = errorResponse(idJSON, out.err)
	} else {
		raw := out.encoded()
		if raw == nil {
			raw = json.RawMessage(`{"action":"cancel"}`)
		}
		b = resultResponse(idJSON, raw)
	}
	if err := conn.WriteRaw(b); err != nil {
		fc.g.logger.Debug("answering a server's elicitation", "server", fc.d.spec.Name, "err", err)
	}
}

// relayElicitRaw asks the agent a server's form elicitation, params as the
// server sent them, through the call path.
func (d *downstream) relayElicitRaw(ctx context.Context, params json.RawMessage) outcome {
	var p mcp.ElicitParams
	if err := json.Unmarshal(params, &p); err != nil {
		return outcome{err: &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: "mcpgw: elicitation/create: " + err.Error()}}
	}
	return d.ask(ctx, callpath.Elicitation, "elicitation", elicits, &p, params, func(ctx context.Context, ss *mcp.ServerSession) outcome {
		return elicitRaw(ctx, ss, &p, params)
	})
}

// frontAsks are the elicitations mcpgw's SDK session sent a stdio agent,
// by request id, so that the agent's answer is kept as it sent it.
type frontAsks struct {
	n  atomic.Int32 // len(m), read without the lock on every response
	mu sync.Mutex
	m  map[string]*rawElicit
}

// sending is the stdio agent connection's Sending: an elicitation of
// elicitRaw's is noted before it is written.
func (f *fastFront) sending(ctx context.Context, m jsonrpc.Message) {
	r, ok := m.(*jsonrpc.Request)
	if !ok || r.Method != "elicitation/create" || !r.IsCall() {
		return
	}
	slot, ok := ctx.Value(rawElicitKey{}).(*rawElicit)
	if !ok {
		return
	}
	key := idKey(r.ID.Raw())
	a := &f.asks
	a.mu.Lock()
	if a.m == nil {
		a.m = map[string]*rawElicit{}
	}
	a.m[key] = slot
	a.n.Store(int32(len(a.m)))
	a.mu.Unlock()
	slot.mu.Lock()
	slot.forget = func() { a.take(key) }
	slot.mu.Unlock()
}

// take removes and returns the elicitation sent under key.
func (a *frontAsks) take(key string) *rawElicit {
	a.mu.Lock()
	defer a.mu.Unlock()
	slot := a.m[key]
	delete(a.m, key)
	a.n.Store(int32(len(a.m)))
	return slot
}

// answer keeps the agent's answer to an elicitation as it sent it; the SDK
// reads it as well.
func (f *fastFront) answer(m *stdio.Msg) {
	if f.asks.n.Load() == 0 || m.ID == nil {
		return
	}
	if slot := f.asks.take(idKey(m.ID)); slot != nil && m.Error == nil && len(m.Result) > 0 {
		slot.setRaw(json.RawMessage(m.Result))
	}
}

type rawInputsKey struct{}

// rawInputs are the input requests of one 2026-07-28 agent's tools/call
// that mcpgw has as the server sent them: the result carries those bytes.
type rawInputs struct {
	mu sync.Mutex
	m  map[string]json.RawMessage // input request id → the server's params
}

// withRawInputs returns ctx with a place for a call's raw input requests.
func withRawInputs(ctx context.Context) (context.Context, *rawInputs) {
	ri := &rawInputs{}
	return context.WithValue(ctx, rawInputsKey{}, ri), ri
}

func (ri *rawInputs) add(id string, params json.RawMessage) {
	ri.mu.Lock()
	defer ri.mu.Unlock()
	if ri.m == nil {
		ri.m = map[string]json.RawMessage{}
	}
	ri.m[id] = params
}

// apply gives a result that asks for input the server's bytes.
func (ri *rawInputs) apply(res mcp.Result, err error) (mcp.Result, error) {
	ri.mu.Lock()
	m := ri.m
	ri.mu.Unlock()
	r, ok := res.(*mcp.CallToolResult)
	if err != nil || len(m) == 0 || !ok || len(r.InputRequests) == 0 {
		return res, err
	}
	return &rawInputResult{CallToolResult: r, raw: m}, nil
}

// rawInputResult is an input_required result whose elicitations are sent
// as their servers sent them. It is encoded when the SDK writes it, after
// the SDK has set what it sets on a result (resultType, its server info).
type rawInputResult struct {
	*mcp.CallToolResult
	raw map[string]json.RawMessage
}

// MarshalJSON is the SDK's encoding with the input requests mcpgw has raw
// replaced by their bytes.
func (r *rawInputResult) MarshalJSON() ([]byte, error) {
	rest := *r.CallToolResult
	rest.InputRequests = nil
	b, err := json.Marshal(&rest)
	if err != nil || len(b) < 2 {
		return b, err
	}
	out := make([]byte, 0, len(b)+256)
	out = append(out, `{"inputRequests":{`...)
	first := true
	for id, req := range r.CallToolResult.InputRequests {
		if !first {
			out = append(out, ',')
		}
		first = false
		k, _ := json.Marshal(id)
		out = append(out, k...)
		out = append(out, ':')
		if params, ok := r.raw[id]; ok {
			if _, isElicit := req.(*mcp.ElicitParams); isElicit {
				out = append(out, `{"method":"elicitation/create","params":`...)
				out = append(out, params...)
				out = append(out, '}')
				continue
			}
		}
		one, err := json.Marshal(mcp.InputRequestMap{id: req})
		if err != nil {
			return nil, err
		}
		var v map[string]json.RawMessage
		if err := json.Unmarshal(one, &v); err != nil {
			return nil, err
		}
		out = append(out, v[id]...)
	}
	out = append(out, '}')
	if rest := b[1:]; len(rest) > 0 && rest[0] != '}' {
		out = append(out, ',')
	}
	return append(out, b[1:]...), nil
}
