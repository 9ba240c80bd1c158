package mux

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgw/mcpgw/mux/callpath"
)

// agentSession is an agent's session as stages see it
// ([callpath.Session]). ss is nil for `mcpgw call` (cli), which has no
// agent, and for a server's request no agent session could be picked for.
type agentSession struct {
	g   *Gateway
	ss  *mcp.ServerSession
	cli bool
	// stateless is the agent of a request the HTTP fast path took, with no
	// SDK session (httpraw.go).
	stateless *statelessAgent
	// call is the call this session value belongs to (each call has its
	// own), for what Notify says about it; nil for a stateless request.
	call *call
}

// cliAgent names `mcpgw call` where an agent's name would stand.
const cliAgent = "mcpgw call"

func (a *agentSession) ID() string {
	if a.ss == nil {
		return ""
	}
	if id := a.ss.ID(); id != "" {
		return id
	}
	return a.g.sessionTag // the SDK gives stdio sessions no id
}

func (a *agentSession) Client() (name, version string) {
	if a.cli {
		return cliAgent, ""
	}
	if a.stateless != nil {
		return a.stateless.name, a.stateless.version
	}
	if a.ss == nil {
		return "", ""
	}
	if p := a.ss.InitializeParams(); p != nil && p.ClientInfo != nil {
		return p.ClientInfo.Name, p.ClientInfo.Version
	}
	return "", ""
}

func (a *agentSession) ProtocolVersion() string {
	if a.stateless != nil {
		return a.stateless.protocol
	}
	if a.ss == nil {
		return ""
	}
	if p := a.ss.InitializeParams(); p != nil {
		return p.ProtocolVersion
	}
	return ""
}

func (a *agentSession) Identity() callpath.Identity { return a.g.caller(a).Identity }

// authenticated is the caller the HTTP front authenticated for this
// session (or this sessionless request), or nil.
func (a *agentSession) authenticated() *Caller {
	if a.stateless != nil && a.stateless.caller != nil {
		return a.stateless.caller
	}
	if a.ss != nil {
		return a.g.callers.get(a.ss)
	}
	return nil
}

// Elicit asks the agent's person through MCP elicitation. A 2026-07-28
// agent takes no requests from a server mid-call: a tool call's hold asks
// it through input_required on the call itself (heldinput.go); any other
// request of such an agent cannot ask.
func (a *agentSession) Elicit(ctx context.Context, q callpath.Question) (callpath.Answer, error) {
	switch {
	case a.cli:
		return callpath.Answer{}, fmt.Errorf("%w: %s has no agent to ask", callpath.ErrCannotAsk, cliAgent)
	case a.ss == nil:
		return callpath.Answer{}, fmt.Errorf("%w: no agent session", callpath.ErrCannotAsk)
	case agentCaps(a.ss).Elicitation == nil:
		return callpath.Answer{}, fmt.Errorf("%w: it did not declare the elicitation capability", callpath.ErrCannotAsk)
	case agentSpeaksNew(a.ss) && (a.call == nil || a.call.held == nil):
		return callpath.Answer{}, fmt.Errorf("%w: it speaks %s, where a question mid-call travels as input_required, and this request cannot carry one", callpath.ErrCannotAsk, a.ProtocolVersion())
	}
	schema := q.Schema
	if schema == nil {
		schema = json.RawMessage(`{"type":"object","properties":{}}`) // accept or decline
	}
	p := &mcp.ElicitParams{Mode: "form", Message: q.Message, RequestedSchema: schema}
	if agentSpeaksNew(a.ss) {
		// The question goes to the agent as input_required on the held
		// call (heldinput.go); its retry brings the answer.
		resp, err := awaitInput(ctx, a.call.held.ask, p, nil, fmt.Errorf("%w: a question is pending on this call already", callpath.ErrCannotAsk))
		if err != nil {
			return callpath.Answer{}, err
		}
		res, ok := resp.(*mcp.ElicitResult)
		if !ok {
			return callpath.Answer{}, fmt.Errorf("the agent answered a form elicitation with %T", resp)
		}
		return callpath.Answer{Action: res.Action, Content: res.Content}, nil
	}
	out := elicitRaw(ctx, a.ss, p, nil)
	res, err := decoded[mcp.ElicitResult](&out)
	if err != nil {
		return callpath.Answer{}, err
	}
	return callpath.Answer{Action: res.Action, Content: res.Content}, nil
}

// Notify tells the agent's person about c while it waits: a log message
// (logger mcpgw, level warning; sent once the agent has set a log level,
// as the SDK does), and progress with message when the call asked for
// progress.
func (a *agentSession) Notify(ctx context.Context, c *callpath.Call, message string) {
	if a.ss == nil {
		return
	}
	if err := a.ss.Log(ctx, &mcp.LoggingMessageParams{Level: "warning", Logger: "mcpgw", Data: message}); err != nil {
		a.g.logger.Debug("telling the agent", "err", err)
	}
	var token any
	switch mc := a.call; {
	case mc == nil || &mc.Call != c:
	case mc.req != nil && mc.req.Params != nil:
		token = mc.req.Params.GetProgressToken()
	case mc.fast != nil:
		token = mc.fast.meta["progressToken"]
	}
	if token == nil {
		return
	}
	if err := a.ss.NotifyProgress(ctx, &mcp.ProgressNotificationParams{ProgressToken: token, Message: message}); err != nil {
		a.g.logger.Debug("telling the agent", "err", err)
	}
}

// sessionOf returns the agent session a request came from, or nil.
func sessionOf(req mcp.Request) *mcp.ServerSession {
	ss, _ := req.GetSession().(*mcp.ServerSession)
	return ss
}
