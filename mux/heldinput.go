package mux

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgw/mcpgw/mux/callpath"
)

// A stage that holds a call may ask the agent's person (approval). An
// agent speaking 2026-07-28 takes no requests mid-call: the question goes
// to it as an input_required result on the held call itself, while the
// hold goes on waiting, detached from that request; the agent's retry,
// carrying mcpgw's signed request state and the answer, resumes the hold
// and, once it lets the call go on, forwards the call as it was held (its
// arguments, not the retry's).

// heldCall is a call whose hold waits for the agent's answer to a
// question sent as input_required.
type heldCall struct {
	c       *call
	done    chan *callpath.Verdict
	ask     chan *pendingInput // the hold's questions (agentSession.Elicit)
	pending *pendingInput
	cancel  context.CancelFunc
}

// heldCalls holds calls waiting for a retry, by the key in their state.
type heldCalls = parked[*heldCall]

// asksAsInput reports whether a hold of c asks the agent through
// input_required: a tool call of a 2026-07-28 agent that declared
// elicitation.
func asksAsInput(c *call) bool {
	ss := c.agent.ss
	return c.Kind == callpath.ToolCall && ss != nil && agentSpeaksNew(ss) && agentCaps(ss).Elicitation != nil
}

// waitHold waits out the hold v of c. It returns the verdict that decides,
// or, when the hold asks the agent a question it can only take as
// input_required, the outcome that answers this request with it.
func (g *Gateway) waitHold(ctx context.Context, c *call, v *callpath.Verdict) (*callpath.Verdict, *outcome) {
	if !asksAsInput(c) {
		return v.Hold(ctx), nil
	}
	// Detached: the hold outlives this request when it asks; the agent's
	// cancel still ends it while this request waits (awaitHold), and the
	// stage's timeout when no retry comes.
	hctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	h := &heldCall{c: c, done: make(chan *callpath.Verdict, 1), ask: make(chan *pendingInput, 1), cancel: cancel}
	c.held = h
	// This request's record keeps the call as it is now: when the hold
	// asks, it goes on in its goroutine, noting its decision onto c (and
	// the stages after it may rewrite c's arguments) while this request
	// is answered and recorded, and the agent's retry may come that fast.
	asked := *c
	go func() {
		d := v.Hold(hctx)
		g.heldAsks.drop(h)
		h.done <- d
	}()
	d, out := g.awaitHold(ctx, h)
	if out != nil {
		out.recordAs = &asked
	}
	return d, out
}

// awaitHold waits for h's verdict, or its next question.
func (g *Gateway) awaitHold(ctx context.Context, h *heldCall) (*callpath.Verdict, *outcome) {
	select {
	case d := <-h.done:
		h.cancel()
		return d, nil
	case pi := <-h.ask:
		h.pending = pi
		key := randomKey()
		g.heldAsks.park(key, h)
		res := &mcp.CallToolResult{InputRequests: mcp.InputRequestMap{pi.id: pi.req}, RequestState: signState(g.stateKey, key)}
		raw := inputRequiredJSON(res)
		// Decoded, the result knows its resultType (unexported in the
		// SDK), which the SDK path then keeps.
		var typed mcp.CallToolResult
		if err := json.Unmarshal(raw, &typed); err == nil {
			res = &typed
		}
		out := &outcome{res: res}
		if h.c.fast != nil {
			out.raw = raw
		}
		return nil, out
	case <-ctx.Done():
		h.cancel()
		return <-h.done, nil
	}
}

// inputRequiredJSON encodes res as an input_required result.
func inputRequiredJSON(res *mcp.CallToolResult) json.RawMessage {
	ir, err := json.Marshal(res.InputRequests)
	if err != nil {
		ir = []byte("{}")
	}
	b, _ := json.Marshal(struct {
		ResultType    string          `json:"resultType"`
		InputRequests json.RawMessage `json:"inputRequests"`
		RequestState  string          `json:"requestState"`
	}{"input_required", ir, res.RequestState})
	return b
}

// resumeHeld delivers the agent's answer (the retry c) to the held call h,
// and goes on as h: waiting for the verdict, then forwarding h's call
// under the retry's request.
func (g *Gateway) resumeHeld(ctx context.Context, c *call, h *heldCall) outcome {
	if c.Exposed != h.c.Exposed {
		h.cancel()
		return outcome{err: &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: fmt.Sprintf("requestState belongs to a call of %q, not %q", h.c.Exposed, c.Exposed)}}
	}
	resp, ok := c.req.Params.InputResponses[h.pending.id]
	if !ok {
		h.cancel()
		return outcome{err: &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: fmt.Sprintf("inputResponses has no answer for input request %q", h.pending.id)}}
	}
	h.pending.reply <- resp
	h.pending = nil
	d, out := g.awaitHold(ctx, h)
	if out != nil {
		return *out
	}
	// The retry is the held call now: its record carries what the stages
	// decided, and the server gets the arguments that were approved.
	v := h.c.Verdict()
	c.Note(&v)
	c.Params = h.c.Params
	p := *c.req.Params
	p.RequestState, p.InputResponses = "", nil
	r := *c.req
	r.Params = &p
	c.req = &r
	if d.Stops() {
		return refusal(c, d)
	}
	return g.inspect(ctx, c, g.forwardTool(withCaller(ctx, c.Identity), c))
}
