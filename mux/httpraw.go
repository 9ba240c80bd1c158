package mux

// The HTTP front's fast path: a 2026-07-28 agent's tools/call arrives as
// one stateless POST, and the SDK would make a session for it, check it,
// decode it and encode the answer again. A plain call (one request, headers
// and _meta as the protocol wants them, no log messages asked for, a tool
// no check of the SDK's applies to) to a stdio server that speaks
// 2026-07-28 goes the fast path's way instead: raw, through the same call
// path, answered with the server's result as application/json or, when the
// agent asked for progress, on an event stream (the progress, then the
// result; httpsession.go). Anything else is the SDK's, which answers it as
// before, errors included.

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	segjson "github.com/segmentio/encoding/json"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgw/mcpgw/mux/callpath"
)

// maxRawHTTPBody bounds the body the fast path reads; larger calls are the
// SDK's.
const maxRawHTTPBody = 1 << 20

// httpCall is what the HTTP fast path decodes of a request.
type httpCall struct {
	JSONRPC string             `json:"jsonrpc"`
	ID      any                `json:"id"`
	Method  string             `json:"method"`
	Params  segjson.RawMessage `json:"params"`
}

// serveRawHTTP answers r if it is a call the fast path takes, and reports
// whether it did; when it did not, r's body is as it was.
func (g *Gateway) serveRawHTTP(w http.ResponseWriter, r *http.Request) bool {
	if g.opts.NoFastPath || r.Header.Get("Mcp-Method") != "tools/call" || !accepts(r, "application/json") {
		return false
	}
	m, ok := readCall(r)
	if !ok {
		return false
	}
	var p fastCallParams
	if _, err := segjson.Parse(m.Params, &p, segjson.DontMatchCaseInsensitiveStructFields); err != nil {
		return false
	}
	version, _ := p.Meta[mcp.MetaKeyProtocolVersion].(string)
	if version < ProtocolV20260728 || version != r.Header.Get("Mcp-Protocol-Version") || r.Header.Get("Mcp-Name") != p.Name ||
		p.Meta[mcp.MetaKeyClientCapabilities] == nil || p.Meta[metaLogLevelKey] != nil ||
		p.RequestState != "" || len(p.InputResponses) > 0 || !g.settled.Load() {
		return false // the SDK checks, or log messages may have to go on a stream
	}
	if p.Meta["progressToken"] != nil && !accepts(r, "text/event-stream") {
		return false
	}
	e, ok := g.cat.Load().Tool(p.Name)
	if !ok || g.listing.Load().Whole(e.Name) {
		return false
	}
	d := g.downstream(e.Server)
	if d == nil || !d.speaksNew() {
		return false
	}
	fc := d.fast.Load()
	if fc == nil || fc.meta26.Load() == nil {
		return false
	}
	c := g.newCall(callpath.ToolCall, nil, p.Name, e.Route(), json.RawMessage(p.Arguments))
	c.agent = agentSession{g: g, stateless: requestAgent(p.Meta, version)}
	c.agent.stateless.caller = callerOf(r.Context())
	c.identify() // by the agent it names, or its credential
	c.fast = &fastCall{meta: p.Meta, newServer: true}
	// Progress, if asked for, goes to the agent on the call's event
	// stream; the answer alone goes as application/json (httpsession.go).
	st := &rawStream{w: w}
	ctx := context.WithValue(r.Context(), rawStreamKey{}, st)
	out := g.govern(ctx, c, g.forwardTool)
	out = g.recordCall(ctx, c, out, time.Now())
	var resp []byte
	if ctx.Err() == nil { // else the agent went away: no one to answer
		resp = toolResponse(encodeID(m.ID), out, true)
	}
	st.finish(resp)
	return true
}

// readCall reads r, a POST, as one tools/call request, leaving its body as
// it was (for the SDK when the fast path does not take it); ok is false
// when r is not one, or too large for the fast path.
func readCall(r *http.Request) (m httpCall, ok bool) {
	if r.Method != http.MethodPost || r.ContentLength > maxRawHTTPBody {
		return m, false
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		return m, false
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRawHTTPBody+1))
	r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), r.Body))
	if err != nil || len(body) > maxRawHTTPBody {
		return m, false
	}
	if _, err := segjson.Parse(body, &m, segjson.DontMatchCaseInsensitiveStructFields); err != nil || m.JSONRPC != "2.0" || m.Method != "tools/call" || m.ID == nil {
		return m, false
	}
	return m, true
}

// accepts reports whether the agent's Accept takes mediaType (the protocol
// has it accept application/json and event streams).
func accepts(r *http.Request, mediaType string) bool {
	anyOfType := mediaType[:strings.IndexByte(mediaType, '/')] + "/*"
	for _, v := range r.Header.Values("Accept") {
		for _, part := range strings.Split(v, ",") {
			if mt, _, _ := mime.ParseMediaType(strings.TrimSpace(part)); mt == mediaType || mt == "*/*" || mt == anyOfType {
				return true
			}
		}
	}
	return false
}

// statelessAgent is what a sessionless (2026-07-28) request says of its
// agent in its _meta.
type statelessAgent struct {
	name, version, protocol string
	caller                  *Caller // the authenticated caller, if any
}

// requestAgent reads a sessionless request's agent from its _meta.
func requestAgent(meta mcp.Meta, version string) *statelessAgent {
	a := &statelessAgent{protocol: version}
	if info, ok := meta[mcp.MetaKeyClientInfo].(map[string]any); ok {
		a.name, _ = info["name"].(string)
		a.version, _ = info["version"].(string)
	}
	return a
}
