package mux

import (
	"context"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgw/mcpgw/logs"
)

// waitForCall waits, before the servers have settled, only for what one
// call needs. A tool the catalog (live or cached) already routes goes on at
// once: its server's session waits for that server's own start, so a
// server that hangs on initialize delays only its own calls. A name no
// server lists yet may come from one still starting: that waits for every
// first attempt. Either way the gateway settles in the background, which
// turns the fast path on.
func (g *Gateway) waitForCall(ctx context.Context, req mcp.Request) error {
	if r, ok := req.(*mcp.CallToolRequest); ok {
		if _, routed := g.routeTool(r.Params.Name); routed {
			g.startHeld() // a call needs servers now
			g.settleOnce.Do(func() {
				go g.WaitStarted(context.Background())
			})
			return nil
		}
	}
	return g.WaitStarted(ctx)
}

// failedOwner returns the failed server whose prefix an unknown exposed
// name carries: its tools are gone from the catalog, and a call to one
// should say why rather than "unknown tool".
func (g *Gateway) failedOwner(exposed string) *downstream {
	for _, d := range g.downstreams() {
		if d.spec.Prefix == "" || !strings.HasPrefix(exposed, d.spec.Prefix+NameSeparator) {
			continue
		}
		d.mu.Lock()
		failed := d.state == StateFailed || d.state == StateStarting && d.restarts > 0
		d.mu.Unlock()
		if failed {
			return d
		}
	}
	return nil
}

// answerUnavailable answers and records a call to a tool of a server that
// failed and is out of the catalog, with the server's last error. A server
// in the middle of a restart is waited for; if it comes back and lists the
// tool, it returns nil and the call goes on.
func (g *Gateway) answerUnavailable(ctx context.Context, req *mcp.CallToolRequest, d *downstream) *mcp.CallToolResult {
	if _, err := d.session(ctx); err == nil {
		if _, routed := g.routeTool(req.Params.Name); routed {
			return nil
		}
	}
	tool := strings.TrimPrefix(req.Params.Name, d.spec.Prefix+NameSeparator)
	return g.answerOwn(ctx, req, d.spec.Name, tool, failResult(logs.StatusUnavailable, d.unavailable()))
}
