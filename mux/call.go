package mux

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgw/mcpgw/logs"
	"github.com/mcpgw/mcpgw/mux/callpath"
	"github.com/mcpgw/mcpgw/mux/catalog"
)

// Every request worth governing (tools/call on both forwarding paths,
// prompts/get, resources/read, and a server's elicitation and sampling
// requests) is made into one call by newCall, routed before any stage sees
// it, run through the stages (see package callpath), forwarded, and
// recorded by recordCall.

// call is one governed request: what the stages see of it, and what
// forwarding needs.
type call struct {
	callpath.Call
	agent agentSession // c.Session points here: no allocation of its own
	// req is a tools/call on the SDK path; fast one on the fast path; both
	// are nil for other kinds and for `mcpgw call`.
	req  *mcp.CallToolRequest
	fast *fastCall
	// request is what the record keeps as the request of kinds other than
	// tools/call: their params as the agent (or server) sent them.
	request json.RawMessage
	// held is the call's hold when it runs detached, to ask a 2026-07-28
	// agent through input_required (heldinput.go).
	held *heldCall
}

// newCall makes the call for a request of kind from the agent session ss
// (nil for `mcpgw call`, or for a server's request no session could be
// picked for), already routed to rt. params are the request's
// payload (see [callpath.Call].Params); an empty or null one is none.
func (g *Gateway) newCall(kind callpath.Kind, ss *mcp.ServerSession, exposed string, rt catalog.Route, params json.RawMessage) *call {
	c := &call{agent: agentSession{g: g, ss: ss, cli: ss == nil && !kind.FromServer()}}
	c.agent.call = c
	if len(params) == 0 || string(params) == "null" {
		params = nil
	}
	c.Kind, c.Exposed, c.Server, c.Name, c.Params = kind, exposed, rt.Server, rt.Name, params
	if kind == callpath.ToolCall {
		// The definition the agent was shown, for stages that check
		// arguments against its schema, and its destructiveHint (approval):
		// looked up here rather than at each caller, so every way a tool
		// call arrives carries them.
		if e, ok := g.cat.Load().Tool(exposed); ok && e.Route() == rt {
			c.Def = e.Data
			if e.Tool != nil && e.Tool.Annotations != nil {
				c.Destructive = e.Tool.Annotations.DestructiveHint
			}
		}
	}
	c.Session = &c.agent
	c.identify()
	c.Started = time.Now()
	return c
}

// identify sets the call's identity and profile from its agent session.
func (c *call) identify() {
	who := c.agent.g.caller(&c.agent)
	c.Identity, c.Profile = who.Identity, who.Profile
}

// outcome is how a call ended, before the agent is answered and the call
// recorded.
type outcome struct {
	// res is the decoded result (*mcp.CallToolResult, *mcp.GetPromptResult,
	// ...); raw is its encoding. On the fast path only raw is set; on the
	// SDK path raw is set once a stage or the record has encoded res.
	res mcp.Result
	raw json.RawMessage
	// err is a protocol error. Denials and downstream failures of
	// tools/call are results with isError set, never err.
	err error
	// status files an answer mcpgw made itself (timeout, unavailable,
	// denied, blocked) in the record; empty means it follows from the rest.
	status logs.Status
	// answered: the fast path answers the agent itself, later.
	answered bool
	// recordAs is the call as the record keeps it, when that is not the
	// call answered: a hold that asked goes on with that one (waitHold).
	recordAs *call
}

// govern runs c through the call path where it may wait (not on a
// connection's reader): the catalog and request checks (holding if a stage
// holds), forward, then the result checks.
func (g *Gateway) govern(ctx context.Context, c *call, forward func(context.Context, *call) outcome) outcome {
	if v := g.admit(ctx, c); v != nil {
		if v.Hold != nil {
			var asked *outcome
			if v, asked = g.waitHold(ctx, c, v); asked != nil {
				return *asked
			}
		}
		if v.Stops() {
			return refusal(c, v)
		}
	}
	if c.Kind != callpath.ToolCall && !c.Kind.FromServer() && g.opts.SignAssertion != nil {
		// Tools get theirs in forwardTool, which the stdio fast path
		// reaches without govern.
		var err error
		if ctx, err = g.withAssertion(ctx, c, g.downstream(c.Server)); err != nil {
			return c.fail(logs.StatusError, fmt.Errorf("server %q asks for a signed identity assertion, and none could be made: %w", c.Server, err))
		}
	}
	// A remote server's identity headers are the call's (identity.go).
	return g.inspect(ctx, c, forward(withCaller(ctx, c.Identity), c))
}

// admit runs the checks before forwarding: whether the session may see the
// target at all, then the request stages. It returns nil to go on, a
// verdict that stops the call, or one that holds it.
func (g *Gateway) admit(ctx context.Context, c *call) *callpath.Verdict {
	if g.chain.FiltersCatalog() {
		if v := g.hiddenFrom(c); v != nil {
			c.Note(v)
			return v
		}
	}
	return g.chain.CheckRequest(ctx, &c.Call)
}

// inspect runs the result stages over what came back, rewriting the
// outcome when a stage rewrote the result or stopped the call.
func (g *Gateway) inspect(ctx context.Context, c *call, out outcome) outcome {
	if !g.chain.InspectsResults() || out.err != nil || out.answered || (out.res == nil && out.raw == nil) {
		return out
	}
	raw := out.encoded()
	r := &callpath.Result{Raw: raw, IsError: out.isError()}
	if v := g.chain.CheckResult(ctx, &c.Call, r); v.Stops() {
		return refusal(c, v)
	}
	if string(r.Raw) != string(raw) {
		out.raw, out.res = r.Raw, nil // decoded again where the SDK needs it
	}
	return out
}

// refusal answers a call a stage stopped, saying the verdict's reason.
func refusal(c *call, v *callpath.Verdict) outcome {
	msg := v.Reason
	if msg == "" {
		msg = string(v.Status) + " by " + v.Rule
	}
	return c.fail(logs.Status(v.Status), errors.New(msg))
}

// fail answers a call mcpgw ends itself (status files it in the record):
// tools/call with an error result the model can read, the other kinds,
// whose results have no error flag, with a protocol error.
func (c *call) fail(status logs.Status, err error) outcome {
	if c.Kind == callpath.ToolCall {
		return failResult(status, err)
	}
	code := int64(jsonrpc.CodeInternalError)
	if status == logs.StatusDenied || status == logs.StatusBlocked {
		code = jsonrpc.CodeInvalidRequest
	}
	return outcome{status: status, err: &jsonrpc.Error{Code: code, Message: "mcpgw: " + err.Error()}}
}

// encoded returns the result's JSON, encoding it once.
func (o *outcome) encoded() json.RawMessage {
	if o.raw == nil && o.res != nil {
		o.raw, _ = json.Marshal(o.res)
	}
	return o.raw
}

// isError reports whether a tool result says isError.
func (o *outcome) isError() bool {
	if r, ok := o.res.(*mcp.CallToolResult); ok {
		return r.IsError
	}
	return o.raw != nil && topLevelIsError(o.raw)
}

// decoded returns the result as the SDK type T, decoding raw when a stage
// or the fast path left only that.
func decoded[T any, PT interface {
	*T
	mcp.Result
}](o *outcome) (PT, error) {
	if o.err != nil {
		return nil, o.err
	}
	if r, ok := o.res.(PT); ok {
		return r, nil
	}
	if o.raw == nil {
		return nil, nil
	}
	r := PT(new(T))
	if err := json.Unmarshal(o.raw, r); err != nil {
		return nil, err
	}
	o.res = r
	return r, nil
}

// result is the outcome as the SDK's server takes it from middleware: the
// decoded result, the server's bytes as they came (rawResult), or the
// error.
func (o *outcome) result() (mcp.Result, error) {
	switch {
	case o.err != nil:
		return nil, o.err
	case o.res != nil:
		return o.res, nil
	}
	return &rawResult{raw: o.raw}, nil
}

// rawResult is a result passed on as the server's bytes. What the SDK may
// set on a result (its server info, at 2026-07-28) lands in the embedded
// base and is not sent: the server's result has its own.
type rawResult struct {
	mcp.ResultBase
	raw json.RawMessage
}

// MarshalJSON is the server's result as it sent it.
func (r *rawResult) MarshalJSON() ([]byte, error) { return r.raw, nil }

// typed is a result for an SDK handler, which returns its own type: a
// rawResult decoded.
func typed[T any, PT interface {
	*T
	mcp.Result
}](res mcp.Result, err error) (PT, error) {
	if err != nil {
		return nil, err
	}
	out := outcome{res: res}
	if r, ok := res.(*rawResult); ok {
		out = outcome{raw: r.raw}
	}
	return decoded[T, PT](&out)
}
