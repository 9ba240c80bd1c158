package mux

// What each agent session sees of the catalog, when catalog stages filter
// it (see callpath.CatalogStage). The tools/list answer is one pre-encoded
// listing; a session's view selects entries from it without encoding
// anything again, once per catalog change and kind of session.

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgw/mcpgw/mux/callpath"
	"github.com/mcpgw/mcpgw/mux/catalog"
)

// toolView is one kind of session's tools.
type toolView struct {
	src   *catalog.Listing // the listing it was made from
	gen   uint64           // g.viewGen when made
	tools *catalog.Listing
}

// CatalogChanged tells the gateway that what catalog stages hide has
// changed (a policy reloaded, a pin approved): every session's view is
// made again, and agents are told their lists changed.
func (g *Gateway) CatalogChanged() {
	g.viewGen.Add(1)
	g.views.Clear()
	g.registerDispatcher() // the SDK tells agents tools changed
	g.rebuildMu.Lock()
	g.refreshPromptsAndResources()
	g.rebuildMu.Unlock()
}

// viewKey is what a session's view depends on: catalog stages decide by
// the caller and the agent, never by the session itself.
func viewKey(s callpath.Session) string {
	id := s.Identity()
	name, version := s.Client()
	return strings.Join([]string{id.User, id.Team, strings.Join(id.Roles, ","), name, version, s.ProtocolVersion()}, "\x00")
}

// toolsFor returns the tools listing s may see.
func (g *Gateway) toolsFor(s callpath.Session) *catalog.Listing {
	l := g.listing.Load()
	if !g.chain.FiltersCatalog() {
		return l
	}
	key, gen := viewKey(s), g.viewGen.Load()
	if v, ok := g.views.Load(key); ok {
		if v := v.(*toolView); v.src == l && v.gen == gen {
			return v.tools
		}
	}
	tools := l.Filter(func(e *catalog.ToolEntry) bool { return g.chain.Hide(s, toolEntry(e)) == nil })
	g.views.Store(key, &toolView{src: l, gen: gen, tools: tools})
	return tools
}

func toolEntry(e *catalog.ToolEntry) callpath.Entry {
	return callpath.Entry{Kind: callpath.ToolEntry, Exposed: e.Name, Server: e.Server, Name: e.Original, Def: e.Data}
}

func promptEntry(server, name string, p *mcp.Prompt) callpath.Entry {
	def, _ := json.Marshal(p)
	return callpath.Entry{Kind: callpath.PromptEntry, Exposed: p.Name, Server: server, Name: name, Def: def}
}

// hiddenFrom returns the verdict of the catalog stage that hides c's target
// from its session, or nil.
func (g *Gateway) hiddenFrom(c *call) *callpath.Verdict {
	cat := g.cat.Load()
	switch c.Kind {
	case callpath.ToolCall:
		if g.toolsFor(c.Session).Has(c.Exposed) {
			return nil
		}
		if e, ok := cat.Tool(c.Exposed); ok {
			return g.chain.Hide(c.Session, toolEntry(e))
		}
	case callpath.PromptGet:
		if p, ok := cat.Prompts()[c.Exposed]; ok {
			return g.chain.Hide(c.Session, promptEntry(c.Server, c.Name, p))
		}
	case callpath.ResourceRead:
		if r, ok := cat.Resources()[c.Exposed]; ok {
			def, _ := json.Marshal(r)
			return g.chain.Hide(c.Session, callpath.Entry{Kind: callpath.ResourceEntry, Exposed: r.URI, Server: c.Server, Name: r.URI, Def: def})
		}
	}
	return nil
}

// filterList removes from a prompts, resources or templates list what
// catalog stages hide from the session that asked.
func (g *Gateway) filterList(ctx context.Context, req mcp.Request, res mcp.Result) mcp.Result {
	if !g.chain.FiltersCatalog() || res == nil {
		return res
	}
	s := &agentSession{g: g, ss: sessionOf(req)}
	cat := g.cat.Load()
	switch r := res.(type) {
	case *mcp.ListPromptsResult:
		out := *r
		out.Prompts = nil
		for _, p := range r.Prompts {
			rt, ok := cat.Prompt(p.Name)
			if !ok || g.chain.Hide(s, promptEntry(rt.Server, rt.Name, p)) == nil {
				out.Prompts = append(out.Prompts, p)
			}
		}
		if out.Prompts == nil {
			out.Prompts = []*mcp.Prompt{}
		}
		return &out
	case *mcp.ListResourcesResult:
		out := *r
		out.Resources = nil
		for _, rs := range r.Resources {
			owner, _ := cat.ResourceOwner(rs.URI)
			def, _ := json.Marshal(rs)
			if g.chain.Hide(s, callpath.Entry{Kind: callpath.ResourceEntry, Exposed: rs.URI, Server: owner, Name: rs.URI, Def: def}) == nil {
				out.Resources = append(out.Resources, rs)
			}
		}
		if out.Resources == nil {
			out.Resources = []*mcp.Resource{}
		}
		return &out
	case *mcp.ListResourceTemplatesResult:
		out := *r
		out.ResourceTemplates = nil
		for _, t := range r.ResourceTemplates {
			owner, _ := cat.TemplateOwner(t.URITemplate)
			def, _ := json.Marshal(t)
			if g.chain.Hide(s, callpath.Entry{Kind: callpath.TemplateEntry, Exposed: t.URITemplate, Server: owner, Name: t.URITemplate, Def: def}) == nil {
				out.ResourceTemplates = append(out.ResourceTemplates, t)
			}
		}
		if out.ResourceTemplates == nil {
			out.ResourceTemplates = []*mcp.ResourceTemplate{}
		}
		return &out
	}
	return res
}
