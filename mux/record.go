package mux

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgw/mcpgw/logs"
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
func callStatus(out *Outcome, ctx context.Context) logs.Status {
	switch {
	case out.status != "":
		return out.status
	case out.Err != nil:
		if errors.Is(out.Err, context.Canceled) || ctx.Err() != nil && errors.Is(ctx.Err(), context.Canceled) {
			return logs.StatusCancelled
		}
		return logs.StatusError
	case out.Result != nil && out.Result.IsError:
		return logs.StatusToolError
	case out.Raw != nil && rawIsError(out.Raw):
		return logs.StatusToolError
	}
	return logs.StatusOK
}

// rawIsError reports whether a raw tool result has "isError": true, without
// decoding it: the field is near the end of most results.
func rawIsError(raw []byte) bool {
	i := strings.LastIndex(string(raw), `"isError"`)
	if i < 0 {
		return false
	}
	rest := strings.TrimLeft(string(raw[i+len(`"isError"`):]), " \t\r\n:")
	return strings.HasPrefix(rest, "true")
}

// recordCall hands a tools/call that ended at ended to the recorder. It
// returns the outcome to answer with: in strict setups, a record that
// cannot be stored fails the call.
func (g *Gateway) recordCall(ctx context.Context, c *Call, out Outcome, ended time.Time) Outcome {
	r := g.opts.Recorder
	if r == nil {
		return out
	}
	lc := logs.Call{
		Time: c.Started, PID: recordPID, Method: "tools/call",
		User: c.Identity.User, Team: c.Identity.Team, Roles: c.Identity.Roles,
		Server: c.Server, Tool: c.Exposed, ToolOriginal: c.Tool,
		Status: callStatus(&out, ctx), Latency: ended.Sub(c.Started),
		BytesIn:  int64(len(c.Args)),
		Decision: out.decision, Reason: out.reason, Findings: out.findings,
	}
	var ss *mcp.ServerSession
	switch {
	case c.fast != nil:
		ss = c.fast.ss
	case c.req != nil:
		ss = c.req.Session
	default:
		lc.Agent = "mcpgw call"
	}
	g.describeSession(&lc, ss)
	var result []byte
	switch {
	case out.Err != nil:
		lc.Error = out.Err.Error()
	case out.Raw != nil:
		result = out.Raw
	case out.Result != nil:
		result, _ = json.Marshal(out.Result)
		if out.status != "" && len(out.Result.Content) == 1 {
			if tc, ok := out.Result.Content[0].(*mcp.TextContent); ok {
				lc.Error = tc.Text
			}
		}
	}
	lc.BytesOut = int64(len(result))
	if !g.opts.RecordStrict {
		r.Record(lc, c.Args, result)
		return out
	}
	if err := r.RecordSync(ctx, lc, c.Args, result); err != nil {
		return failResult(logs.StatusError, errors.New("the call was not recorded, and this gateway requires a record of every call (logs.strict): "+err.Error()))
	}
	return out
}

// describeSession fills in who the agent is.
func (g *Gateway) describeSession(lc *logs.Call, ss *mcp.ServerSession) {
	if ss == nil {
		return
	}
	lc.Session = ss.ID()
	if lc.Session == "" {
		lc.Session = g.sessionTag
	}
	if p := ss.InitializeParams(); p != nil && p.ClientInfo != nil {
		lc.Agent, lc.AgentVersion = p.ClientInfo.Name, p.ClientInfo.Version
	}
}

// recordRequest records a request other than tools/call that is worth
// auditing: resources/read, prompts/get, and elicitation and sampling
// relayed from a server to the agent.
func (g *Gateway) recordRequest(ss *mcp.ServerSession, method, server, target string, started time.Time, params any, res any, err error) {
	r := g.opts.Recorder
	if r == nil {
		return
	}
	lc := logs.Call{Time: started, PID: recordPID, Method: method, Server: server, Tool: target,
		Latency: time.Since(started), Status: logs.StatusOK,
		User: g.opts.Identity.User, Team: g.opts.Identity.Team, Roles: g.opts.Identity.Roles}
	g.describeSession(&lc, ss)
	args, _ := json.Marshal(params)
	var result []byte
	if err != nil {
		lc.Status, lc.Error = logs.StatusError, err.Error()
		var jerr *jsonrpc.Error
		if errors.Is(err, context.Canceled) {
			lc.Status = logs.StatusCancelled
		} else if errors.As(err, &jerr) {
			lc.Error = jerr.Message
		}
	} else if res != nil {
		result, _ = json.Marshal(res)
		if er, ok := res.(*mcp.ElicitResult); ok && er != nil {
			lc.Decision = er.Action // accept, decline, cancel: the person's answer
		}
	}
	lc.BytesIn, lc.BytesOut = int64(len(args)), int64(len(result))
	r.Record(lc, args, result)
}
