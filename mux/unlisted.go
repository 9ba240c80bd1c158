package mux

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgw/mcpgw/logs"
	"github.com/mcpgw/mcpgw/mux/callpath"
	"github.com/mcpgw/mcpgw/mux/catalog"
)

// A call to a name no server lists may still be one mcpgw can explain: a
// tool a server's own tools: filter removed (denied, not unknown), or a
// tool of a server that failed and is out of the catalog (unavailable,
// with the server's last error). Such calls are answered and recorded as
// calls of that server's tool.

// answerUnlisted answers and records a call to a name the catalog does not
// list, when a server's configuration or state explains it; ok is false
// when nothing does (the name is unknown), or when the server came back
// and lists it now.
func (g *Gateway) answerUnlisted(ctx context.Context, ss *mcp.ServerSession, exposed string, args json.RawMessage) (outcome, bool) {
	if server, tool, ok := g.deniedTool(exposed); ok {
		c := g.newCall(callpath.ToolCall, ss, exposed, catalog.Route{Server: server, Name: tool}, args)
		v := callpath.Deny("servers."+server+".tools", fmt.Sprintf("tool %q of server %q is denied by this gateway's configuration: the tools: filter of server %s does not allow it", tool, server, server))
		c.Note(v)
		return g.recordCall(ctx, c, refusal(c, v), time.Now()), true
	}
	d := g.failedOwner(exposed)
	if d == nil {
		return outcome{}, false
	}
	byURL, byInput := agentTakesURL(ss), agentTakesURLInput(ss) // logininput.go
	if g.elicitsLogin(d.spec) && (byURL || byInput) {
		// An attempt to connect may be under way (needs_login retries with
		// backoff): its outcome says whether a login is still needed.
		if d.status().State == StateStarting {
			d.session(ctx)
		}
	}
	if d.status().State == StateNeedsLogin && g.elicitsLogin(d.spec) {
		switch {
		case byURL:
			if err := d.loginThroughAgent(ctx, ss); err != nil {
				return g.loginFailed(ctx, ss, exposed, args, d, err), true
			}
		case byInput:
			res, err := g.startLoginInput(ctx, d)
			if err != nil {
				return g.loginFailed(ctx, ss, exposed, args, d, err), true
			}
			if res != nil {
				return g.recordCall(ctx, g.unlistedCall(ss, exposed, args, d), outcome{res: res}, time.Now()), true
			}
		}
	}
	// A server in the middle of a restart is waited for; if it comes back
	// and lists the tool, the call goes on.
	if _, err := d.session(ctx); err == nil && g.cat.Load().HasTool(exposed) {
		return outcome{}, false
	}
	return g.recordCall(ctx, g.unlistedCall(ss, exposed, args, d), failResult(logs.StatusUnavailable, d.unavailable()), time.Now()), true
}

// unlistedCall is a call to exposed, a tool of d that the catalog does not
// list now.
func (g *Gateway) unlistedCall(ss *mcp.ServerSession, exposed string, args json.RawMessage, d *downstream) *call {
	tool := strings.TrimPrefix(exposed, d.spec.Prefix+catalog.NameSeparator)
	return g.newCall(callpath.ToolCall, ss, exposed, catalog.Route{Server: d.spec.Name, Name: tool}, args)
}

// loginFailed answers and records a call whose login through the agent
// failed, saying why and naming the command that logs the server in.
func (g *Gateway) loginFailed(ctx context.Context, ss *mcp.ServerSession, exposed string, args json.RawMessage, d *downstream, err error) outcome {
	err = fmt.Errorf("server %q: logging in through the agent: %w; or run: mcpgw auth login %s", d.spec.Name, g.redactErr(err), d.spec.Name)
	return g.recordCall(ctx, g.unlistedCall(ss, exposed, args, d), failResult(logs.StatusUnavailable, err), time.Now())
}

// deniedTool reports whether exposed names a tool that a server's own
// tools: {allow, deny} filter removed.
func (g *Gateway) deniedTool(exposed string) (server, tool string, ok bool) {
	for _, d := range g.downstreams() {
		spec := d.spec
		if len(spec.AllowTools) == 0 && len(spec.DenyTools) == 0 {
			continue
		}
		tool := exposed
		if spec.Prefix != "" {
			rest, found := strings.CutPrefix(exposed, spec.Prefix+catalog.NameSeparator)
			if !found {
				continue
			}
			tool = rest
		}
		if catalog.MatchAny(spec.DenyTools, tool) || len(spec.AllowTools) > 0 && !catalog.MatchAny(spec.AllowTools, tool) {
			return spec.Name, tool, true
		}
	}
	return "", "", false
}

// failedOwner returns the failed server whose prefix an unknown exposed
// name carries: its tools are gone from the catalog, and a call to one
// should say why rather than "unknown tool".
func (g *Gateway) failedOwner(exposed string) *downstream {
	for _, d := range g.downstreams() {
		if d.spec.Prefix == "" || !strings.HasPrefix(exposed, d.spec.Prefix+catalog.NameSeparator) {
			continue
		}
		d.mu.Lock()
		failed := d.state == StateFailed || d.state == StateNeedsLogin || d.state == StateStarting && d.restarts > 0
		d.mu.Unlock()
		if failed {
			return d
		}
	}
	return nil
}
