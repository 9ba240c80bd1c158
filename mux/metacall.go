package mux

// Calls of the gateway's own tools in search mode: search and describe are
// answered here; mcpgw__call_tool becomes the call it names (see search.go).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgw/mcpgw/mux/callpath"
)

// isMetaCall reports whether a tools/call names one of the gateway's
// tools; cheap, for the hot path.
func isMetaCall(name string) bool {
	return len(name) > len(metaPrefix) && name[:len(metaPrefix)] == metaPrefix &&
		(name == SearchToolsTool || name == DescribeToolTool || name == CallToolTool)
}

// innerCall is what mcpgw__call_tool's arguments name.
type innerCall struct {
	Name      string          `json:"name"`
	Arguments json.RawMessage `json:"arguments"`
}

// unwrapCall reads mcpgw__call_tool's arguments.
func unwrapCall(args json.RawMessage) (name string, inner json.RawMessage, err error) {
	var c innerCall
	if len(args) == 0 || json.Unmarshal(args, &c) != nil {
		return "", nil, errors.New(CallToolTool + " takes {\"name\": TOOL, \"arguments\": {...}}")
	}
	if c.Name == "" {
		return "", nil, errors.New(CallToolTool + ": name the tool to call (a name " + SearchToolsTool + " gave)")
	}
	if a := strings.TrimSpace(string(c.Arguments)); a == "" || a == "null" {
		return c.Name, nil, nil
	} else if a[0] != '{' {
		return "", nil, errors.New(CallToolTool + ": arguments must be an object of the tool's arguments")
	}
	return c.Name, c.Arguments, nil
}

// metaCall answers a call of one of the gateway's tools on the SDK path,
// for a session in search mode: search and describe are answered here
// (done), and a call through mcpgw__call_tool comes back as the request
// for the inner tool, to go the way of any tools/call. A session in full
// mode gets r back, as for any other name.
func (g *Gateway) metaCall(ctx context.Context, r *mcp.CallToolRequest) (next *mcp.CallToolRequest, res mcp.Result, err error, done bool) {
	a := &agentSession{g: g, ss: r.Session}
	if !g.modeFor(a).Search {
		return r, nil, nil, false
	}
	switch r.Params.Name {
	case CallToolTool:
		name, args, err := unwrapCall(r.Params.Arguments)
		if err != nil {
			res, err := completeFor(r.Session, errorResult(err), nil)
			return nil, res, err, true
		}
		p := *r.Params
		p.Name, p.Arguments = name, nil
		if args != nil {
			p.Arguments = args
		}
		return &mcp.CallToolRequest{Session: r.Session, Params: &p, Extra: r.Extra}, nil, nil, false
	case SearchToolsTool, DescribeToolTool:
		g.startFrom(r)
		// From the catalog cache while servers start, as tools/list.
		if err := g.waitListable(ctx); err != nil {
			return nil, nil, err, true
		}
		g.startLazy()
		var out *mcp.CallToolResult
		if r.Params.Name == SearchToolsTool {
			out = g.searchTools(ctx, a, r.Params.Arguments)
		} else {
			out = g.describeTool(a, r.Params.Arguments)
		}
		res, err := completeFor(r.Session, out, nil)
		return nil, res, err, true
	}
	return r, nil, nil, false
}

// errorResult is a tool result saying err.
func errorResult(err error) *mcp.CallToolResult {
	return &mcp.CallToolResult{IsError: true, Content: []mcp.Content{&mcp.TextContent{Text: "mcpgw: " + err.Error()}}}
}

// SearchHit is one result of mcpgw__search_tools.
type SearchHit struct {
	Name        string  `json:"name"`
	Server      string  `json:"server"`
	Description string  `json:"description"`
	Score       float64 `json:"score"`
}

// searchTools answers mcpgw__search_tools for a.
func (g *Gateway) searchTools(ctx context.Context, a *agentSession, args json.RawMessage) *mcp.CallToolResult {
	var in struct {
		Query string `json:"query"`
		Limit int    `json:"limit"`
	}
	if len(args) > 0 {
		if err := json.Unmarshal(args, &in); err != nil {
			return errorResult(fmt.Errorf("%s takes {\"query\": \"what to do\", \"limit\": N}: %v", SearchToolsTool, err))
		}
	}
	if strings.TrimSpace(in.Query) == "" {
		return errorResult(errors.New(SearchToolsTool + ": say what you want to do in query, e.g. {\"query\": \"read a file\"}"))
	}
	if in.Limit <= 0 {
		in.Limit = defaultSearchLimit
	}
	in.Limit = min(in.Limit, maxSearchLimit)
	hits, err := g.SearchTools(ctx, a, in.Query, in.Limit)
	if err != nil {
		return errorResult(err)
	}
	out := struct {
		Tools []SearchHit `json:"tools"`
	}{Tools: hits}
	if out.Tools == nil {
		out.Tools = []SearchHit{}
	}
	b, _ := json.Marshal(out)
	text := string(b)
	if len(hits) == 0 {
		text = fmt.Sprintf("No tool matches %q. Try other words (what the tool would do, or the thing it works on).", in.Query)
	}
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: text}}, StructuredContent: json.RawMessage(b)}
}

// SearchTools ranks the tools session s may see for query: the search of
// mcpgw__search_tools.
func (g *Gateway) SearchTools(ctx context.Context, s callpath.Session, query string, limit int) ([]SearchHit, error) {
	ix, err := g.searchIndex()
	if err != nil {
		return nil, err
	}
	visible := g.toolsFor(s)
	hits, err := ix.Search(ctx, query, limit, visible.Has)
	if err != nil {
		return nil, err
	}
	out := make([]SearchHit, len(hits))
	for i, h := range hits {
		out[i] = SearchHit{Name: h.Name, Server: h.Server, Description: oneLine(firstSentence(h.Description), 160), Score: roundScore(h.Score)}
	}
	return out, nil
}

func roundScore(f float64) float64 { return float64(int64(f*1000+0.5)) / 1000 }

// describeTool answers mcpgw__describe_tool for a: the tool as tools/list
// would show it, or the refusal a direct call would get.
func (g *Gateway) describeTool(a *agentSession, args json.RawMessage) *mcp.CallToolResult {
	var in struct {
		Name string `json:"name"`
	}
	if len(args) > 0 {
		json.Unmarshal(args, &in)
	}
	if in.Name == "" {
		return errorResult(errors.New(DescribeToolTool + ": name the tool, e.g. {\"name\": \"server__tool\"}"))
	}
	visible := g.toolsFor(a)
	e, listed := g.cat.Load().Tool(in.Name)
	if !listed || !visible.Has(in.Name) {
		if listed {
			c := &call{agent: *a}
			c.Kind, c.Exposed, c.Server, c.Name = callpath.ToolCall, e.Name, e.Server, e.Original
			c.Session = &c.agent
			c.identify()
			if v := g.hiddenFrom(c); v != nil {
				out := refusal(c, v)
				r, _ := out.res.(*mcp.CallToolResult)
				return r
			}
		}
		out := g.unknownTool(a.ss, in.Name)
		if r, ok := out.res.(*mcp.CallToolResult); ok {
			return r
		}
		return errorResult(fmt.Errorf("unknown tool %q", in.Name))
	}
	data := e.Data
	if a.ProtocolVersion() >= ProtocolV20260728 && e.Data26 != nil {
		data = e.Data26
	}
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: string(data)}}, StructuredContent: json.RawMessage(data)}
}
