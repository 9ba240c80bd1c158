package mux

import (
	"context"
	"encoding/json"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgw/mcpgw/logs"
)

// Identity is who is calling, as far as mcpgw knows.
type Identity struct {
	User  string   `json:"user,omitempty"`
	Team  string   `json:"team,omitempty"`
	Roles []string `json:"roles,omitempty"`
}

// Call is one tools/call on its way through the call path. Stages read the
// few decoded fields they need; arguments stay raw JSON so a stage that does
// nothing costs nothing.
type Call struct {
	// Exposed is the name the agent called; Server and Tool are filled by the
	// route stage.
	Exposed string
	Server  string
	Tool    string
	// Args are the raw JSON arguments (nil when the agent sent none).
	Args     json.RawMessage
	Identity Identity
	Started  time.Time

	req  *mcp.CallToolRequest
	fast *fastCall // set on the fast path (fastpath.go), where req is nil
	gw   *Gateway
}

// Outcome is what the call path returns for a [Call].
type Outcome struct {
	Result *mcp.CallToolResult
	// Raw is the server's result undecoded, on the fast path; Result is
	// then nil. A stage that needs the result decodes it with
	// [Outcome.Decoded].
	Raw json.RawMessage
	// Err is a protocol error (unknown tool, malformed request). Denials and
	// downstream failures are results with IsError set, never Err.
	Err error
	// answered: the fast path answers the agent itself, later.
	answered bool
	// status files a failure mcpgw itself answered (timeout, unavailable)
	// in the record; empty means it follows from the rest.
	status logs.Status
	// decision, reason and findings are a guard's or the policy's verdict,
	// for the record (findings name rules and paths, never values).
	decision, reason string
	findings         []logs.Finding
}

// Next continues the call path after a [Stage].
type Next func(ctx context.Context, c *Call) Outcome

// Stage is one step of the call path: identity, policy, guard-in, route,
// forward, guard-out, record. A stage may change the call, answer it itself
// (deny, block) or call next and look at the outcome.
type Stage interface {
	// Name names the stage in diagnostics.
	Name() string
	Handle(ctx context.Context, c *Call, next Next) Outcome
}

// StageFunc adapts a function to a [Stage].
type StageFunc struct {
	StageName string
	Fn        func(ctx context.Context, c *Call, next Next) Outcome
}

// Name implements [Stage].
func (s StageFunc) Name() string { return s.StageName }

// Handle implements [Stage].
func (s StageFunc) Handle(ctx context.Context, c *Call, next Next) Outcome { return s.Fn(ctx, c, next) }

// requestOnly is implemented by stages that neither read nor change a
// call's outcome. When every stage is one, the fast path answers the agent
// straight from the server's reader instead of returning through the chain.
type requestOnly interface{ requestOnly() }

func (identityStage) requestOnly() {}
func (routeStage) requestOnly()    {}

// allRequestOnly reports whether no stage looks at outcomes.
func allRequestOnly(stages []Stage) bool {
	for _, st := range stages {
		if _, ok := st.(requestOnly); !ok {
			return false
		}
	}
	return true
}

// DefaultStages is the call path with nothing configured: identity from the
// gateway options, routing, then the guard that keeps stored secrets out of
// tool arguments. Policy and further guardrails insert their own stages
// around routing; forwarding is always the last step and is not a stage, so
// no stage can skip or replace it by accident.
func DefaultStages() []Stage {
	return []Stage{identityStage{}, routeStage{}, secretArgsStage{}}
}

// chain builds the call path once, so a call costs one closure per stage.
func chain(stages []Stage, last Next) Next {
	next := last
	for i := len(stages) - 1; i >= 0; i-- {
		st, n := stages[i], next
		next = func(ctx context.Context, c *Call) Outcome { return st.Handle(ctx, c, n) }
	}
	return next
}

// identityStage attaches the gateway's configured identity to the call.
type identityStage struct{}

func (identityStage) Name() string { return "identity" }
func (identityStage) Handle(ctx context.Context, c *Call, next Next) Outcome {
	if c.Identity.User == "" && c.Identity.Team == "" {
		c.Identity = c.gw.opts.Identity
	}
	return next(ctx, c)
}

// routeStage resolves the exposed name to its server and original tool name.
type routeStage struct{}

func (routeStage) Name() string { return "route" }
func (routeStage) Handle(ctx context.Context, c *Call, next Next) Outcome {
	if c.Server == "" {
		rt, ok := c.gw.routeTool(c.Exposed)
		if !ok {
			return Outcome{Err: unknownToolError(c.Exposed)}
		}
		c.Server, c.Tool = rt.server, rt.name
	}
	return next(ctx, c)
}

// Decoded returns the result, decoding Raw when the fast path left it raw.
func (o *Outcome) Decoded() (*mcp.CallToolResult, error) {
	if o.Result != nil || o.Raw == nil {
		return o.Result, nil
	}
	var res mcp.CallToolResult
	if err := json.Unmarshal(o.Raw, &res); err != nil {
		return nil, err
	}
	o.Result, o.Raw = &res, nil
	return o.Result, nil
}
