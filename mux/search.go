package mux

// Search mode: an agent session whose profile lists tools by search (see
// [CatalogMode]) is shown three gateway tools (and the tools its profile
// always lists) instead of the whole catalog:
//
//   - mcpgw__search_tools ranks the tools the session may see (the same
//     view tools/list gives a session in full mode, so policy hides and
//     pin holds apply) with the full-text index of package toolindex;
//   - mcpgw__describe_tool gives one of them whole;
//   - mcpgw__call_tool is rewritten, where the agent's request enters the
//     gateway (the upstream middleware and the stdio fast path), into the
//     tools/call of the tool it names: every stage, the record, progress,
//     cancellation and the answer then see the inner call, under the
//     agent's own request id and progress token.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgw/mcpgw/mux/callpath"
	"github.com/mcpgw/mcpgw/mux/catalog"
	"github.com/mcpgw/mcpgw/mux/toolindex"
)

// CatalogMode is how an agent session is shown the tools.
type CatalogMode struct {
	// Search lists the gateway's search tools instead of the catalog.
	Search bool
	// Always are tools (exposed names, or globs over them) that search
	// mode lists as well.
	Always []string
}

// The gateway's tools in search mode.
const (
	SearchToolsTool  = "mcpgw__search_tools"
	DescribeToolTool = "mcpgw__describe_tool"
	CallToolTool     = "mcpgw__call_tool"
	metaPrefix       = "mcpgw__"
)

// defaultSearchLimit and maxSearchLimit bound mcpgw__search_tools' limit.
const (
	defaultSearchLimit = 8
	maxSearchLimit     = 50
)

// modeFor is the catalog mode of a's profile.
func (g *Gateway) modeFor(a *agentSession) CatalogMode {
	if g.opts.Catalog == nil {
		return CatalogMode{}
	}
	return g.opts.Catalog(g.caller(a).Profile)
}

// searchState is the search index and the listing it was last synced to.
type searchState struct {
	mu  sync.Mutex
	ix  *toolindex.Index
	src *catalog.Listing
	err error
}

// searchIndex returns the index, synced with the listed tools.
func (g *Gateway) searchIndex() (*toolindex.Index, error) {
	st := &g.search
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.ix == nil && st.err == nil {
		st.ix, st.err = toolindex.New()
	}
	if st.err != nil {
		return nil, st.err
	}
	l := g.listing.Load()
	if st.src == l {
		return st.ix, nil
	}
	entries := l.Entries()
	docs := make([]toolindex.Doc, 0, len(entries))
	for _, e := range entries {
		docs = append(docs, indexDoc(e))
	}
	if err := st.ix.Sync(docs); err != nil {
		return nil, err
	}
	st.src = l
	return st.ix, nil
}

// indexDoc is what the index knows of a tool. Entries are immutable and
// replaced when their tool changes, so the entry itself is the version.
func indexDoc(e *catalog.ToolEntry) toolindex.Doc {
	d := toolindex.Doc{Name: e.Name, Server: e.Server, Version: fmt.Sprintf("%p", e)}
	if t := e.Tool; t != nil {
		d.Description = t.Description
		if t.Title != "" {
			d.Description = t.Title + ". " + d.Description
		}
		if s, ok := t.InputSchema.(map[string]any); ok {
			if props, ok := s["properties"].(map[string]any); ok {
				for name, p := range props {
					param := name
					if pm, ok := p.(map[string]any); ok {
						if desc, ok := pm["description"].(string); ok {
							param += " " + desc
						}
					}
					d.Params = append(d.Params, param)
				}
			}
		}
	}
	return d
}

// searchView is one kind of session's search-mode listing.
type searchView struct {
	src    *catalog.Listing // the session's full view it was made from
	always string
	tools  *catalog.Listing
}

// searchListing is the listing of a search-mode session whose full view
// is visible: the gateway's tools, then the always-listed ones it may see.
func (g *Gateway) searchListing(a *agentSession, visible *catalog.Listing, m CatalogMode) *catalog.Listing {
	key := viewKey(a)
	always := strings.Join(m.Always, "\x00")
	if v, ok := g.searchViews.Load(key); ok {
		if v := v.(*searchView); v.src == visible && v.always == always {
			return v.tools
		}
	}
	entries := append([]*catalog.ToolEntry{}, g.metaEntries(visible)...)
	for _, e := range visible.Entries() {
		if catalog.MatchAny(m.Always, e.Name) {
			entries = append(entries, e)
		}
	}
	l := catalog.NewListing(entries, nil)
	g.searchViews.Store(key, &searchView{src: visible, always: always, tools: l})
	return l
}

// metaEntries are the gateway's tools, described for the servers in
// visible.
func (g *Gateway) metaEntries(visible *catalog.Listing) []*catalog.ToolEntry {
	servers := g.serverSummary(visible)
	tools := metaTools(servers)
	out := make([]*catalog.ToolEntry, len(tools))
	for i, t := range tools {
		data, err := catalog.MarshalNoEscape(t)
		out[i] = &catalog.ToolEntry{Name: t.Name, Original: t.Name, Tool: t, Data: data, Err: err}
	}
	return out
}

// serverSummary is one line per server with a tool in visible, in config
// order, saying what it is for: the first sentence of its instructions,
// else some of its tools' names.
func (g *Gateway) serverSummary(visible *catalog.Listing) string {
	byServer := map[string][]string{}
	var order []string
	for _, e := range visible.Entries() {
		if _, ok := byServer[e.Server]; !ok {
			order = append(order, e.Server)
		}
		byServer[e.Server] = append(byServer[e.Server], e.Original)
	}
	instructions := map[string]string{}
	for _, s := range g.snapshots() {
		if s.Snap != nil {
			instructions[s.Server] = firstSentence(s.Snap.Instructions)
		}
	}
	var b strings.Builder
	for _, s := range order {
		names := byServer[s]
		fmt.Fprintf(&b, "- %s (%d tools)", s, len(names))
		if in := instructions[s]; in != "" {
			fmt.Fprintf(&b, ": %s", in)
		}
		shown := names[:min(len(names), 6)]
		fmt.Fprintf(&b, " Tools include %s", strings.Join(shown, ", "))
		if len(names) > len(shown) {
			b.WriteString(", ...")
		}
		b.WriteString(".\n")
	}
	return b.String()
}

// firstSentence is s's first sentence (or line), at most 200 bytes.
func firstSentence(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if i := strings.Index(s, ". "); i >= 0 {
		s = s[:i+1]
	}
	return oneLine(s, 200)
}

// oneLine is s on one line, cut to n bytes (on a rune boundary) with "...".
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= n {
		return s
	}
	cut := n - 3
	for cut > 0 && !utf8RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }

// searchGuide is the gateway's part of initialize's instructions in
// search mode: what the model can find, and how.
func searchGuide(servers string) string {
	return "This gateway does not list its servers' tools up front. To do anything with the servers below, first call " +
		SearchToolsTool + " with a few words describing the task (it ranks the tools by name, description and parameters), then " +
		DescribeToolTool + " to read a tool's full input schema if you need it, then " + CallToolTool +
		" with the tool's name and its arguments. Search again with other words when nothing fits; do not guess tool names.\n\nServers:\n" + servers
}

// metaTools are the gateway's tools, their descriptions naming servers.
func metaTools(servers string) []*mcp.Tool {
	readOnly := &mcp.ToolAnnotations{ReadOnlyHint: true}
	return []*mcp.Tool{
		{
			Name:  SearchToolsTool,
			Title: "Search tools",
			Description: "Find the tools that can do a task. Call this first, whenever you need a capability you do not see listed: " +
				"pass a few words describing the task (e.g. \"read a file\", \"create an issue\"); results are the best matching tools " +
				"with their server, a one-line description and a relevance score. Then call " + CallToolTool + " (after " + DescribeToolTool +
				" if you need the arguments). Servers:\n" + servers,
			InputSchema: map[string]any{
				"type": "object",
				"properties": map[string]any{
					"query": map[string]any{"type": "string", "description": "What you want to do, in a few words"},
					"limit": map[string]any{"type": "integer", "minimum": 1, "maximum": maxSearchLimit, "description": fmt.Sprintf("How many tools to return (default %d)", defaultSearchLimit)},
				},
				"required": []any{"query"},
			},
			OutputSchema: map[string]any{
				"type": "object",
				"properties": map[string]any{
					"tools": map[string]any{"type": "array", "items": map[string]any{
						"type": "object",
						"properties": map[string]any{
							"name":        map[string]any{"type": "string"},
							"server":      map[string]any{"type": "string"},
							"description": map[string]any{"type": "string"},
							"score":       map[string]any{"type": "number"},
						},
						"required": []any{"name", "server", "description", "score"},
					}},
				},
				"required": []any{"tools"},
			},
			Annotations: readOnly,
		},
		{
			Name:        DescribeToolTool,
			Title:       "Describe a tool",
			Description: "Get a tool's full definition (description, input schema, output schema) by the name " + SearchToolsTool + " gave, before calling it with " + CallToolTool + ".",
			InputSchema: map[string]any{
				"type":       "object",
				"properties": map[string]any{"name": map[string]any{"type": "string", "description": "The tool's name, as search results give it"}},
				"required":   []any{"name"},
			},
			Annotations: readOnly,
		},
		{
			Name:  CallToolTool,
			Title: "Call a tool",
			Description: "Call a tool found with " + SearchToolsTool + ", by its name, with its arguments (an object matching its input schema; see " +
				DescribeToolTool + "). The result is the tool's own.",
			InputSchema: map[string]any{
				"type": "object",
				"properties": map[string]any{
					"name":      map[string]any{"type": "string", "description": "The tool's name, as search results give it"},
					"arguments": map[string]any{"type": "object", "description": "The tool's arguments"},
				},
				"required": []any{"name"},
			},
		},
	}
}

// instructionsFor is initialize's instructions for the session a: the
// servers' own, after the search guide in search mode.
func (g *Gateway) instructionsFor(a *agentSession) string {
	own := g.cat.Load().Instructions()
	if !g.modeFor(a).Search {
		return own
	}
	guide := searchGuide(g.serverSummary(g.toolsFor(a)))
	if own == "" {
		return guide
	}
	return guide + "\n\n" + own
}

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
