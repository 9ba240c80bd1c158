package mux

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgw/mcpgw/mux/catalog"
)

// newUpstream builds the MCP server agents talk to. Prompts and resources
// are added by rebuild; tools are listed and dispatched from the merged
// catalog (toollist.go). The middleware here handles what the SDK cannot
// know: when to start downstreams, waiting for them before the first list,
// routing unlisted resource URIs, and fanning out logging/setLevel.
func (g *Gateway) newUpstream() *mcp.Server {
	s := mcp.NewServer(&mcp.Implementation{Name: g.opts.Name, Version: g.opts.Version}, &mcp.ServerOptions{
		Logger:                  g.logger,
		Capabilities:            upstreamCapabilities(),
		CompletionHandler:       g.complete,
		SubscribeHandler:        g.subscribe,
		UnsubscribeHandler:      g.unsubscribe,
		RootsListChangedHandler: func(ctx context.Context, req *mcp.RootsListChangedRequest) { g.askAgentRootsAsync(req.Session, false) },
		InitializedHandler:      func(ctx context.Context, req *mcp.InitializedRequest) { g.askAgentRootsAsync(req.Session, true) },
	})
	s.AddReceivingMiddleware(g.upstreamMiddleware)
	s.AddSendingMiddleware(g.rawStreamSend) // innermost: in place of the SDK's writing
	s.AddSendingMiddleware(g.keepRawElicitResult)
	return s
}

// upstreamCapabilities is what mcpgw offers every agent: the union of what
// it can relay. It is fixed, because servers come and go while a session
// lives; an empty list is a valid answer.
func upstreamCapabilities() *mcp.ServerCapabilities {
	return &mcp.ServerCapabilities{
		Tools:       &mcp.ToolCapabilities{ListChanged: true},
		Prompts:     &mcp.PromptCapabilities{ListChanged: true},
		Resources:   &mcp.ResourceCapabilities{ListChanged: true, Subscribe: true},
		Logging:     &mcp.LoggingCapabilities{},
		Completions: &mcp.CompletionCapabilities{},
	}
}

func (g *Gateway) upstreamMiddleware(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		switch method {
		case "tools/call", "prompts/get", "resources/read", "completion/complete":
			// Forwarded: a cancellation reaches the server with the agent's
			// reason (cancelreason.go).
			var release func()
			if ctx, release = g.watchCancel(ctx, req); release != nil {
				defer release()
			}
		}
		if !g.roots.isKnown() && method != "initialize" && method != "ping" && !strings.HasPrefix(method, "notifications/") {
			// The agent has not said what its roots are yet: over HTTP its
			// stream may not have been connected when it initialized. Ask
			// on this request, whose stream reaches it.
			g.askAgentRoots(ctx, sessionOf(req), true)
		}
		switch method {
		case "tools/call":
			if r, ok := req.(*mcp.CallToolRequest); ok && isMetaCall(r.Params.Name) {
				// Search mode's tools (search.go): a call through
				// mcpgw__call_tool goes on as the call it names.
				inner, res, err, done := g.metaCall(ctx, r)
				if done {
					return res, err
				}
				req = inner
			}
			// The hot path: one atomic load once servers have started.
			if !g.settled.Load() {
				g.startFrom(req)
				if err := g.waitForCall(ctx, req); err != nil {
					return nil, err
				}
			}
			if r, ok := req.(*mcp.CallToolRequest); ok {
				// A 2026-07-28 agent's retry after a login page
				// (logininput.go).
				r, out := g.resumeLogin(ctx, r)
				if out != nil {
					res, err := out.result()
					return completeFor(r.Session, res, err)
				}
				if !g.cat.Load().HasTool(r.Params.Name) {
					if out, ok := g.answerUnlisted(ctx, r.Session, r.Params.Name, r.Params.Arguments); ok {
						res, err := out.result()
						return completeFor(r.Session, res, err)
					}
				}
				if res, err, ok := g.callRaw(ctx, r); ok {
					return completeFor(r.Session, res, err)
				}
				if agentSpeaksNew(r.Session) {
					// A server's input requests go out as it sent them
					// (elicitraw.go).
					ctx, ri := withRawInputs(ctx)
					return ri.apply(g.callThroughDispatcher(ctx, method, r, next))
				}
				return g.callThroughDispatcher(ctx, method, r, next)
			}
			return next(ctx, method, req)
		case "initialize":
			res, err := next(ctx, method, req)
			if p, ok := req.GetParams().(*mcp.InitializeParams); ok && err == nil {
				version := p.ProtocolVersion
				if r, ok := res.(*mcp.InitializeResult); ok && r.ProtocolVersion != "" {
					version = r.ProtocolVersion
				}
				g.Start(version, downstreamCapabilities(p.Capabilities))
				relayAllLogs(ctx, next, sessionOf(req))
				if r, ok := res.(*mcp.InitializeResult); ok {
					// The servers' instructions, from the catalog cache or,
					// for servers without one, from their start: the list
					// that follows initialize would wait for it as long.
					if err := g.waitListableFor(ctx, instructionsWait); err != nil {
						return nil, err
					}
					r.Instructions = g.instructionsFor(&agentSession{g: g, ss: sessionOf(req)})
				}
			}
			return res, err
		case "server/discover":
			// A 2026-07-28 agent's initialize: the instructions as above.
			res, err := next(ctx, method, req)
			if r, ok := res.(*mcp.DiscoverResult); ok && err == nil {
				g.startFrom(req)
				relayAllLogs(ctx, next, sessionOf(req))
				if err := g.waitListableFor(ctx, instructionsWait); err != nil {
					return nil, err
				}
				r.Instructions = g.instructionsFor(&agentSession{g: g, ss: sessionOf(req)})
			}
			return res, err
		case "tools/list", "prompts/list", "resources/list", "resources/templates/list":
			g.startFrom(req)
			// Servers with a cached catalog are listed from it while
			// they start; list_changed follows if they differ.
			if err := g.waitListable(ctx); err != nil {
				return nil, err
			}
			// Lazy servers start when their catalog is first wanted; they
			// join through list_changed without holding up this answer.
			g.startLazy()
			g.listAnswered()
			if method == "tools/list" {
				g.offerLogins(sessionOf(req))
			}
			return g.list(method, req)
		case "resources/read":
			g.startFrom(req)
			if err := g.WaitStarted(ctx); err != nil {
				return nil, err
			}
			if p, ok := req.GetParams().(*mcp.ReadResourceParams); ok {
				return g.readResource(ctx, sessionOf(req), p)
			}
		case "logging/setLevel":
			res, err := next(ctx, method, req)
			if p, ok := req.GetParams().(*mcp.SetLoggingLevelParams); ok && err == nil {
				g.setLevel(ctx, p.Level)
			}
			return res, err
		case "prompts/get", "completion/complete", "resources/subscribe":
			g.startFrom(req)
			if err := g.WaitStarted(ctx); err != nil {
				return nil, err
			}
			// Answered here rather than by the SDK's handlers, so that a
			// server's result can pass as its bytes (features.go).
			switch r := req.(type) {
			case *mcp.GetPromptRequest:
				return g.getPrompt(ctx, r)
			case *mcp.CompleteRequest:
				return g.completeRaw(ctx, r)
			}
		default:
			g.startFrom(req)
		}
		return next(ctx, method, req)
	}
}

// downstreamCapabilities mirrors what the agent supports, so a server only
// asks for what the agent can give. nil means everything mcpgw can relay
// (used when the agent is not known yet, as in HTTP mode).
func downstreamCapabilities(agent *mcp.ClientCapabilities) *mcp.ClientCapabilities {
	if agent == nil {
		return nil
	}
	caps := &mcp.ClientCapabilities{}
	if agent.RootsV2 != nil || agent.Roots.ListChanged {
		caps.RootsV2 = &mcp.RootCapabilities{ListChanged: true}
	}
	if agent.Sampling != nil {
		s := *agent.Sampling
		caps.Sampling = &s
	}
	if agent.Elicitation != nil {
		e := *agent.Elicitation
		caps.Elicitation = &e
	}
	return caps
}

func fullClientCapabilities() *mcp.ClientCapabilities {
	return &mcp.ClientCapabilities{
		RootsV2:     &mcp.RootCapabilities{ListChanged: true},
		Sampling:    &mcp.SamplingCapabilities{},
		Elicitation: &mcp.ElicitationCapabilities{Form: &mcp.FormElicitationCapabilities{}, URL: &mcp.URLElicitationCapabilities{}},
	}
}

// unknownToolError is the protocol error for a tool name nobody exposes,
// for callers that are not agents (`mcpgw call`).
func unknownToolError(name string) error {
	return &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: fmt.Sprintf("unknown tool %q", name)}
}

// unknownTool answers a call of a name nobody exposes as a server answers
// one: a tool result with isError and, where one is near, the name the
// agent may have meant (among the tools its session sees). `mcpgw call`
// (ss nil) gets a protocol error.
func (g *Gateway) unknownTool(ss *mcp.ServerSession, name string) outcome {
	if ss == nil {
		return outcome{err: unknownToolError(name)}
	}
	msg := fmt.Sprintf("unknown tool %q: no server behind mcpgw lists it", name)
	if s := catalog.Suggest(name, g.toolsFor(&agentSession{g: g, ss: ss}).Names()); len(s) > 0 {
		msg += "; did you mean " + quoteJoin(s) + "?"
	}
	return outcome{res: &mcp.CallToolResult{IsError: true, Content: []mcp.Content{&mcp.TextContent{Text: msg}}}}
}

// completeFor gives a tools/call result mcpgw made itself (an error result:
// unknown tool, refusal, failure) the resultType a 2026-07-28 agent
// requires, which the SDK sets only on results of its own tool handlers.
// Results with one (a server's bytes, input requests) pass as they are.
func completeFor(ss *mcp.ServerSession, res mcp.Result, err error) (mcp.Result, error) {
	r, ok := res.(*mcp.CallToolResult)
	if err != nil || !ok || ss == nil || !agentSpeaksNew(ss) || r.NeedsInput() {
		return res, err
	}
	b, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	var out mcp.CallToolResult
	if err := json.Unmarshal(upgraded("tools/call", b), &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// quoteJoin is names quoted, joined with "or".
func quoteJoin(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	return strings.Join(q, " or ")
}

// relayAllLogs has the SDK pass on every log message a server sends the
// agent session ss until the agent sets a level of its own. Left alone, the
// SDK sends none before the agent's logging/setLevel, where a server
// talking to the agent directly decides for itself what to send (and
// servers are only ever given the agent's own level). The SDK keeps the
// level in session state that only its setLevel handler writes: the
// handler is called here directly, below this middleware, so nothing goes
// on the wire and no server is told a level.
func relayAllLogs(ctx context.Context, next mcp.MethodHandler, ss *mcp.ServerSession) {
	if ss == nil {
		return
	}
	req := &mcp.ServerRequest[*mcp.SetLoggingLevelParams]{Session: ss, Params: &mcp.SetLoggingLevelParams{Level: "debug"}}
	next(ctx, "logging/setLevel", req)
}
