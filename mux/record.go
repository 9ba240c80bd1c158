package mux

import (
	"context"
	"errors"
	"os"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgw/mcpgw/logs"
	"github.com/mcpgw/mcpgw/mux/callpath"
)

// Recorder keeps the record of finished requests (see [Options].Recorder).
// The gateway hands each request over where it ends, which on the fast
// path is the server's reader: the call path never waits for the record
// unless the setup is strict.
type Recorder interface {
	// Record takes a finished request and must not block. args and result
	// are raw JSON, owned by the recorder from then on.
	Record(c logs.Call, args, result []byte)
	// RecordSync stores the record before returning, for strict audit
	// setups ([Options].RecordStrict), or says why it could not.
	RecordSync(ctx context.Context, c logs.Call, args, result []byte) error
}

var recordPID = os.Getpid()

// callStatus tells how a call ended, for the record.
func callStatus(out *outcome, ctx context.Context) logs.Status {
	switch {
	case out.status != "":
		return out.status
	case out.err != nil:
		if errors.Is(out.err, context.Canceled) || ctx.Err() != nil && errors.Is(ctx.Err(), context.Canceled) {
			return logs.StatusCancelled
		}
		return logs.StatusError
	case out.isError():
		return logs.StatusToolError
	}
	return logs.StatusOK
}

// topLevelIsError reports whether a raw tool result has "isError": true as
// one of its own members (not inside structuredContent or content), without
// decoding it.
func topLevelIsError(raw []byte) bool {
	const key = `"isError"`
	depth := 0
	for i := 0; i < len(raw); i++ {
		switch raw[i] {
		case '{', '[':
			depth++
		case '}', ']':
			depth--
		case '"':
			start := i
			for i++; i < len(raw) && raw[i] != '"'; i++ {
				if raw[i] == '\\' {
					i++
				}
			}
			if depth != 1 || i-start+1 != len(key) || string(raw[start:i+1]) != key {
				continue
			}
			j := i + 1
			for j < len(raw) && (raw[j] == ' ' || raw[j] == '\t' || raw[j] == '\r' || raw[j] == '\n' || raw[j] == ':') {
				j++
			}
			return len(raw)-j >= 4 && string(raw[j:j+4]) == "true"
		}
	}
	return false
}

// recordCall hands a call that ended at ended to the recorder. It returns
// the outcome to answer with: in strict setups, a record that cannot be
// stored fails the call.
func (g *Gateway) recordCall(ctx context.Context, c *call, out outcome, ended time.Time) outcome {
	r := g.opts.Recorder
	if r == nil {
		return out
	}
	if out.recordAs != nil {
		c = out.recordAs
	}
	v := c.Verdict()
	lc := logs.Call{
		Time: c.Started, PID: recordPID, Method: c.Kind.Method(),
		User: c.Identity.User, Team: c.Identity.Team, Roles: c.Identity.Roles, Profile: c.Profile,
		Server: c.Server, Tool: c.Exposed,
		Status: callStatus(&out, ctx), Latency: ended.Sub(c.Started),
		Decision: v.Decision, Rule: v.Rule, Reason: v.Reason,
	}
	for _, f := range v.Findings {
		lc.Findings = append(lc.Findings, logs.Finding{Rule: f.Rule, Path: f.Path})
	}
	if c.Kind != callpath.ResourceRead {
		lc.ToolOriginal = c.Name
	}
	lc.Session = c.agent.ID()
	lc.Agent, lc.AgentVersion = c.agent.Client()
	args := []byte(c.Params)
	if c.Kind != callpath.ToolCall {
		args = c.request
	}
	var result []byte
	if out.err != nil {
		lc.Error = out.err.Error()
	} else {
		result = out.encoded()
		if tr, ok := out.res.(*mcp.CallToolResult); ok && out.status != "" && len(tr.Content) == 1 {
			if tc, ok := tr.Content[0].(*mcp.TextContent); ok {
				lc.Error = tc.Text
			}
		}
		if er, ok := out.res.(*mcp.ElicitResult); ok && er != nil && lc.Decision == "" {
			lc.Decision = er.Action // accept, decline, cancel: the person's answer
		}
	}
	lc.BytesIn, lc.BytesOut = int64(len(args)), int64(len(result))
	if !g.opts.RecordStrict {
		r.Record(lc, args, result)
		return out
	}
	if err := r.RecordSync(ctx, lc, args, result); err != nil {
		return c.fail(logs.StatusError, errors.New("the call was not recorded, and this gateway requires a record of every call (logs.strict): "+err.Error()))
	}
	return out
}
