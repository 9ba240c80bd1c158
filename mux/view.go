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
			return g.chain.Hide(c.Session, entryOf(callpath.ResourceEntry, r.URI, c.Server, r))
		}
		if t, ok := cat.TemplateMatching(c.Exposed); ok {
			return g.chain.Hide(c.Session, entryOf(callpath.TemplateEntry, t.URITemplate, t.Server, t.ResourceTemplate))
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
		out.Prompts = visible(g, s, r.Prompts, func(p *mcp.Prompt) callpath.Entry {
			rt, _ := cat.Prompt(p.Name)
			return promptEntry(rt.Server, rt.Name, p)
		})
		return &out
	case *mcp.ListResourcesResult:
		out := *r
		out.Resources = visible(g, s, r.Resources, func(rs *mcp.Resource) callpath.Entry {
			owner, _ := cat.ResourceOwner(rs.URI)
			return entryOf(callpath.ResourceEntry, rs.URI, owner, rs)
		})
		return &out
	case *mcp.ListResourceTemplatesResult:
		out := *r
		out.ResourceTemplates = visible(g, s, r.ResourceTemplates, func(t *mcp.ResourceTemplate) callpath.Entry {
			owner, _ := cat.TemplateOwner(t.URITemplate)
			return entryOf(callpath.TemplateEntry, t.URITemplate, owner, t)
		})
		return &out
	}
	return res
}

// visible keeps the items no catalog stage hides from s (never nil: an
// empty list is still a list).
func visible[T any](g *Gateway, s callpath.Session, items []T, entry func(T) callpath.Entry) []T {
	out := make([]T, 0, len(items))
	for _, it := range items {
		if g.chain.Hide(s, entry(it)) == nil {
			out = append(out, it)
		}
	}
	return out
}

// entryOf is a resource's or template's catalog entry; its URI (or
// template) is its name on the server and to the agent alike.
func entryOf(kind callpath.EntryKind, uri, server string, def any) callpath.Entry {
	b, _ := json.Marshal(def)
	return callpath.Entry{Kind: kind, Exposed: uri, Server: server, Name: uri, Def: b}
}
