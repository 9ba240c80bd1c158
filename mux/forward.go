package mux

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgw/mcpgw/logs"
	"github.com/mcpgw/mcpgw/mux/callpath"
	"github.com/mcpgw/mcpgw/mux/oauth"
)

// toolHandler is the one handler behind every exposed tool on the SDK
// path: it runs the call path.
func (g *Gateway) toolHandler(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	out := g.callTool(ctx, req.Session, req.Params.Name, req.Params.Arguments, req)
	return decoded[mcp.CallToolResult](&out)
}

// CallTool runs one call through the whole call path as if an agent had
// made it, for `mcpgw call`.
func (g *Gateway) CallTool(ctx context.Context, name string, args json.RawMessage) (*mcp.CallToolResult, error) {
	return g.CallToolProgress(ctx, name, args, nil)
}

// Progress is a progress notification a server sent about a call.
type Progress struct {
	Progress, Total float64 // Total is 0 when unknown
	Message         string
}

// CallToolProgress is [Gateway.CallTool] that asks the server for progress
// (with a progress token, as an agent does) and hands each notification to
// onProgress, on the connection's goroutine: it must not block. Progress
// also keeps the call's idle timeout from cutting a long job off.
func (g *Gateway) CallToolProgress(ctx context.Context, name string, args json.RawMessage, onProgress func(Progress)) (*mcp.CallToolResult, error) {
	g.Start("", nil)
	g.startLazy() // the CLI shows and calls every server
	if err := g.WaitStarted(ctx); err != nil {
		return nil, err
	}
	out := g.callTool(withLocalProgress(ctx, onProgress), nil, name, args, nil)
	return decoded[mcp.CallToolResult](&out)
}

// localProgressKey carries a CallToolProgress caller's onProgress to
// forwardTool, through the stages, which have no use for it.
type localProgressKey struct{}

func withLocalProgress(ctx context.Context, fn func(Progress)) context.Context {
	if fn == nil {
		return ctx
	}
	return context.WithValue(ctx, localProgressKey{}, fn)
}

// callTool routes, governs, forwards and records one tools/call that may
// wait (the SDK path and `mcpgw call`). A name no server lists is refused
// as the config's tool filter or a failed server explains it, or else as
// unknown.
func (g *Gateway) callTool(ctx context.Context, ss *mcp.ServerSession, name string, args json.RawMessage, req *mcp.CallToolRequest) outcome {
	e, ok := g.cat.Load().Tool(name)
	if !ok {
		if out, ok := g.answerUnlisted(ctx, ss, name, args); ok {
			return out
		}
		return g.unknownTool(ss, name)
	}
	c := g.newCall(callpath.ToolCall, ss, name, e.Route(), args)
	c.req = req
	if req != nil && req.Params.RequestState != "" {
		// The agent's answer to a question a held call asked
		// (heldinput.go).
		if h, ok := g.heldAsks.resume(g.stateKey, req.Params.RequestState); ok {
			return g.recordCall(ctx, c, g.resumeHeld(ctx, c, h), time.Now())
		}
	}
	out := g.govern(ctx, c, g.forwardTool)
	return g.recordCall(ctx, c, out, time.Now())
}

// inflightCall is a forwarded call in progress on one downstream; relays
// use it to find the agent session a server-initiated request belongs to.
type inflightCall struct {
	ss *mcp.ServerSession
	// ctx is the agent request's context: a 2026-07-28 agent takes a
	// server's log messages only within the request they belong to.
	ctx context.Context
	// input carries a server's mid-call request to the agent as
	// input_required, when the agent speaks 2026-07-28 (see inputreq.go).
	input chan *pendingInput
}

// forwardTool calls the downstream server and returns its result
// unchanged: the SDK's way, or the fast path's for a call that came by it.
func (g *Gateway) forwardTool(ctx context.Context, c *call) outcome {
	d := g.downstream(c.Server)
	if d == nil { // removed from the configuration since it was routed
		return g.unknownTool(c.agent.ss, c.Exposed)
	}
	ctx, err := g.withAssertion(ctx, c, d) // auth.go
	if err != nil {
		return failResult(logs.StatusError, fmt.Errorf("server %q asks for a signed identity assertion, and none could be made: %w", d.spec.Name, err))
	}
	if c.fast != nil {
		if fc := d.fast.Load(); fc != nil {
			return g.forwardFast(ctx, c, d, fc)
		}
		return failResult(logs.StatusUnavailable, d.unavailable())
	}
	cs, err := d.session(ctx)
	if err != nil {
		return failResult(logs.StatusUnavailable, err)
	}
	params := &mcp.CallToolParams{Name: c.Name}
	if c.Params != nil {
		params.Arguments = c.Params
	}
	var in mcp.Meta
	if c.req != nil {
		in = c.req.Params.Meta
		if st := c.req.Params.RequestState; st != "" {
			// A retry after input_required: mcpgw's own state resumes the
			// parked downstream call; anything else belongs to the server.
			if pi, ok := g.inputs.resume(g.stateKey, st); ok {
				return g.resumeInput(ctx, c, pi)
			}
			params.RequestState = st
		}
		params.InputResponses = c.req.Params.InputResponses
	}
	ss := c.agent.ss
	ctx = withAgentSession(ctx, ss) // for a step-up through the agent (elicitlogin.go)
	var token string
	params.Meta, token = g.downstreamMeta(ctx, d.speaksNew(), in, d.forwarded(c.Identity), ss)
	if fn, ok := ctx.Value(localProgressKey{}).(func(Progress)); ok && ss == nil {
		token = g.progress.addLocal(fn)
		if params.Meta == nil {
			params.Meta = mcp.Meta{}
		}
		params.Meta["progressToken"] = token
	}
	ic := &inflightCall{ss: ss, ctx: ctx}
	d.addInflight(ic)
	if ss != nil && agentSpeaksNew(ss) {
		if lvl, ok := in[metaLogLevelKey].(string); ok && !d.speaksNew() {
			// An older server takes the agent's per-request level through
			// logging/setLevel.
			d.ensureLevel(ctx, cs, mcp.LoggingLevel(lvl))
		}
		ic.input = make(chan *pendingInput, 1)
		return g.callWithInput(ctx, c, d, cs, params, ic, token)
	}
	defer d.removeInflight(ic)
	defer g.progress.remove(token)
	caller := ctx
	ctx, dl, stop := withCallDeadline(ctx, d.spec.CallTimeoutFor(c.Name))
	defer stop()
	g.progress.onProgress(token, dl.touch)
	res, err := cs.CallTool(ctx, params)
	switch {
	case err != nil && dl.timedOut():
		return timeoutResult(d, c.Name)
	case err != nil && errors.Is(caller.Err(), context.DeadlineExceeded):
		// The caller's own deadline (`mcpgw call --timeout`), not the
		// server's call timeout: say which, in the caller's words.
		return failResult(logs.StatusTimeout, fmt.Errorf("the caller stopped waiting (%v) before server %q answered %q", context.Cause(caller), d.spec.Name, c.Name))
	}
	return g.finishCall(c, d, res, err)
}

// finishCall turns a downstream answer into the call's outcome.
func (g *Gateway) finishCall(c *call, d *downstream, res *mcp.CallToolResult, err error) outcome {
	if err != nil {
		var nl *oauth.NeedsLoginError
		if errors.As(err, &nl) {
			// Its login is gone: the result says which command fixes it.
			return failResult(logs.StatusUnavailable, nl)
		}
		var se *oauth.ScopeError
		if errors.As(err, &se) {
			return failResult(logs.StatusUnavailable, se)
		}
		var jerr *jsonrpc.Error
		if errors.As(err, &jerr) {
			// The server's own protocol error, passed on as it was.
			return outcome{err: jerr}
		}
		if errors.Is(err, context.DeadlineExceeded) {
			return timeoutResult(d, c.Name)
		}
		if errors.Is(err, context.Canceled) {
			return outcome{err: err}
		}
		return failedResult(d, c.Name, err)
	}
	g.links.note(d.spec.Name, res.Content)
	return outcome{res: res}
}

// failResult is a tool result the model can read: downstream failures are
// results, not protocol errors. status is how the record files it.
func failResult(status logs.Status, err error) outcome {
	return outcome{status: status, res: &mcp.CallToolResult{
		IsError: true,
		Content: []mcp.Content{&mcp.TextContent{Text: "mcpgw: " + err.Error()}},
	}}
}

// timeoutResult answers a call d did not answer within its call timeout
// (tool is the server's own name for it).
func timeoutResult(d *downstream, tool string) outcome {
	return failResult(logs.StatusTimeout, fmt.Errorf("server %q did not answer %q within %s (and sent no progress in that time); raise timeouts.call, or timeouts.tools for this tool, if it needs longer", d.spec.Name, tool, d.spec.CallTimeoutFor(tool)))
}

// failedResult answers a call d's connection failed under.
func failedResult(d *downstream, tool string, err error) outcome {
	return failResult(logs.StatusUnavailable, fmt.Errorf("server %q failed on %q: %w", d.spec.Name, tool, err))
}

// metaIdentityKey carries the caller's identity to servers: {user, team,
// roles}. The agent's own keys of mcpgw's namespace are dropped, so a
// server can trust it came from mcpgw.
const metaIdentityKey = "io.mcpgw/identity"

// metaLogLevelKey is the per-request log level of 2026-07-28; it is a
// setting for the server, not a description of the agent, so it passes.
const metaLogLevelKey = "io.modelcontextprotocol/logLevel"

// downstreamMeta is the _meta a request to a server carries, made from the
// agent's in: keys describing the agent (io.modelcontextprotocol/*, but for
// the log level) and mcpgw's own namespace are dropped, the progress token
// is replaced by one mcpgw routes back to ss, the identity (already
// cleared when the server does not take it) is added, and a
// server that speaks 2026-07-28 (newServer) gets the log level an agent
// set. token is the progress
// token given to d ("" for none); release it with progressRoutes.remove.
func (g *Gateway) downstreamMeta(ctx context.Context, newServer bool, in mcp.Meta, id callpath.Identity, ss *mcp.ServerSession) (out mcp.Meta, token string) {
	for k, v := range in {
		if k != metaLogLevelKey && strings.HasPrefix(k, "io.modelcontextprotocol/") || strings.HasPrefix(k, "io.mcpgw/") {
			continue
		}
		if k == "progressToken" {
			if v == nil || ss == nil && ctx.Value(rawStreamKey{}) == nil {
				continue // no agent to tell (httpsession.go has one without a session)
			}
			token = g.progress.add(ctx, ss, v)
			v = token
		}
		if out == nil {
			out = make(mcp.Meta, len(in)+1)
		}
		out[k] = v
	}
	if !id.IsZero() {
		if out == nil {
			out = mcp.Meta{}
		}
		out[metaIdentityKey] = id
	}
	if a := assertionOf(ctx); a != nil && !a.header {
		if out == nil {
			out = mcp.Meta{}
		}
		out[metaAssertionKey] = a.token // see auth.go
	}
	if newServer {
		// 2026-07-28 servers take the log level per request, not through
		// logging/setLevel.
		if lvl := g.logLevel.Load(); lvl != nil && out[metaLogLevelKey] == nil {
			if out == nil {
				out = mcp.Meta{}
			}
			out[metaLogLevelKey] = *lvl
		}
	}
	return out, token
}

func (d *downstream) addInflight(ic *inflightCall) {
	d.mu.Lock()
	d.inflight[ic] = struct{}{}
	d.mu.Unlock()
}

func (d *downstream) removeInflight(ic *inflightCall) {
	d.mu.Lock()
	delete(d.inflight, ic)
	if ic.ctx != nil {
		d.lastCall = ic
	}
	d.mu.Unlock()
}
