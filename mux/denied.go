package mux

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgw/mcpgw/logs"
)

// deniedTool reports whether exposed names a tool that a server's own
// tools: {allow, deny} filter removed, so a call to it is answered as
// denied (and recorded so) rather than as an unknown tool.
func (g *Gateway) deniedTool(exposed string) (server, tool string, ok bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, name := range g.order {
		d := g.servers[name]
		spec := d.spec
		if len(spec.AllowTools) == 0 && len(spec.DenyTools) == 0 {
			continue
		}
		tool := exposed
		if spec.Prefix != "" {
			rest, found := strings.CutPrefix(exposed, spec.Prefix+NameSeparator)
			if !found {
				continue
			}
			tool = rest
		}
		if matchAny(spec.DenyTools, tool) || len(spec.AllowTools) > 0 && !matchAny(spec.AllowTools, tool) {
			return spec.Name, tool, true
		}
	}
	return "", "", false
}

// answerDenied answers and records a call to a tool the configuration
// denies.
func (g *Gateway) answerDenied(ctx context.Context, req *mcp.CallToolRequest, server, tool string) *mcp.CallToolResult {
	out := failResult(logs.StatusDenied, fmt.Errorf("tool %q of server %q is denied by this gateway's configuration (the server's tools: allow/deny filter)", tool, server))
	out.decision, out.reason = "deny", "not allowed by the tools: filter of server "+server
	return g.answerOwn(ctx, req, server, tool, out)
}

// answerOwn answers a call mcpgw decides itself, before routing, with out,
// and records it as a call of server's tool.
func (g *Gateway) answerOwn(ctx context.Context, req *mcp.CallToolRequest, server, tool string, out Outcome) *mcp.CallToolResult {
	c := &Call{Exposed: req.Params.Name, Server: server, Tool: tool, Args: req.Params.Arguments, req: req, gw: g, Started: time.Now()}
	if len(c.Args) == 0 || string(c.Args) == "null" {
		c.Args = nil
	}
	if c.Identity.User == "" && c.Identity.Team == "" {
		c.Identity = g.opts.Identity
	}
	out = g.recordCall(ctx, c, out, time.Now())
	return out.Result
}
