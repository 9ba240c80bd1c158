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
)

// toolHandler is the one handler behind every exposed tool: it runs the
// call path.
func (g *Gateway) toolHandler(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	c := &Call{Exposed: req.Params.Name, Args: req.Params.Arguments, req: req, gw: g, Started: time.Now()}
	if len(c.Args) == 0 || string(c.Args) == "null" {
		c.Args = nil
	}
	out := g.call(ctx, c)
	out = g.recordCall(ctx, c, out, time.Now())
	if out.Err != nil {
		return nil, out.Err
	}
	return out.Decoded()
}

// CallTool runs one call through the whole call path as if an agent had
// made it, for `mcpgw call`.
func (g *Gateway) CallTool(ctx context.Context, name string, args json.RawMessage) (*mcp.CallToolResult, error) {
	g.Start("", nil)
	g.startLazy() // the CLI shows and calls every server
	if err := g.WaitStarted(ctx); err != nil {
		return nil, err
	}
	c := &Call{Exposed: name, Args: args, gw: g, Started: time.Now()}
	out := g.call(ctx, c)
	out = g.recordCall(ctx, c, out, time.Now())
	return out.Result, out.Err
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

// forwardTool is the last step of the call path: it calls the downstream
// server and returns its result unchanged.
func (g *Gateway) forwardTool(ctx context.Context, c *Call) Outcome {
	d := g.downstream(c.Server)
	if d == nil {
		return Outcome{Err: unknownToolError(c.Exposed)}
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
	params := &mcp.CallToolParams{Name: c.Tool}
	if c.Args != nil {
		params.Arguments = c.Args
	}
	var ss *mcp.ServerSession
	if c.req != nil {
		ss = c.req.Session
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
	var token string
	var in mcp.Meta
	if c.req != nil {
		in = c.req.Params.Meta
	}
	params.Meta, token = g.downstreamMeta(in, c.Identity, ss)
	if d.speaksNew() {
		// 2026-07-28 servers take the log level per request, not through
		// logging/setLevel.
		if lvl := g.logLevel.Load(); lvl != nil && params.Meta[metaLogLevelKey] == nil {
			if params.Meta == nil {
				params.Meta = mcp.Meta{}
			}
			params.Meta[metaLogLevelKey] = *lvl
		}
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
	if token != "" {
		defer g.progress.remove(token)
	}
	ctx, dl, stop := withCallDeadline(ctx, d.spec.CallTimeoutFor(c.Tool))
	defer stop()
	g.progress.onProgress(token, dl.touch)
	res, err := cs.CallTool(ctx, params)
	if err != nil && dl.timedOut() {
		return timeoutResult(d, c.Tool)
	}
	return g.finishCall(c, d, res, err)
}

// finishCall turns a downstream answer into the call's outcome.
func (g *Gateway) finishCall(c *Call, d *downstream, res *mcp.CallToolResult, err error) Outcome {
	if err != nil {
		var jerr *jsonrpc.Error
		if errors.As(err, &jerr) {
			// The server's own protocol error, passed on as it was.
			return Outcome{Err: jerr}
		}
		if errors.Is(err, context.DeadlineExceeded) {
			return timeoutResult(d, c.Tool)
		}
		if errors.Is(err, context.Canceled) {
			return Outcome{Err: err}
		}
		return failedResult(d, c.Tool, err)
	}
	g.links.note(d.spec.Name, res.Content)
	return Outcome{Result: res}
}

// failResult is a tool result the model can read: downstream failures are
// results, not protocol errors. status is how the record files it.
func failResult(status logs.Status, err error) Outcome {
	return Outcome{status: status, Result: &mcp.CallToolResult{
		IsError: true,
		Content: []mcp.Content{&mcp.TextContent{Text: "mcpgw: " + err.Error()}},
	}}
}

// timeoutResult answers a call d did not answer within its call timeout
// (tool is the server's own name for it).
func timeoutResult(d *downstream, tool string) Outcome {
	return failResult(logs.StatusTimeout, fmt.Errorf("server %q did not answer %q within %s (and sent no progress in that time); raise timeouts.call, or timeouts.tools for this tool, if it needs longer", d.spec.Name, tool, d.spec.CallTimeoutFor(tool)))
}

// failedResult answers a call d's connection failed under.
func failedResult(d *downstream, tool string, err error) Outcome {
	return failResult(logs.StatusUnavailable, fmt.Errorf("server %q failed on %q: %w", d.spec.Name, tool, err))
}

// metaIdentityKey carries the caller's identity to servers.
const metaIdentityKey = "io.mcpgw/identity"

// metaLogLevelKey is the per-request log level of 2026-07-28; it is a
// setting for the server, not a description of the agent, so it passes.
const metaLogLevelKey = "io.modelcontextprotocol/logLevel"

// downstreamMeta copies the agent's _meta selectively: keys describing the
// agent (io.modelcontextprotocol/*) and mcpgw's own namespace are dropped,
// the progress token is replaced by one mcpgw routes back, and the identity
// is added.
func (g *Gateway) downstreamMeta(in mcp.Meta, id Identity, ss *mcp.ServerSession) (mcp.Meta, string) {
	var out mcp.Meta
	var token string
	for k, v := range in {
		if k != metaLogLevelKey && strings.HasPrefix(k, "io.modelcontextprotocol/") || strings.HasPrefix(k, "io.mcpgw/") {
			continue
		}
		if out == nil {
			out = make(mcp.Meta, len(in)+1)
		}
		if k == "progressToken" {
			if ss == nil || v == nil {
				continue
			}
			token = g.progress.add(ss, v)
			v = token
		}
		out[k] = v
	}
	if id.User != "" || id.Team != "" {
		if out == nil {
			out = mcp.Meta{}
		}
		out[metaIdentityKey] = id
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
