package mux

// What each agent session sees of the catalog, when catalog stages filter
// it (see callpath.CatalogStage). The tools/list answer is one pre-encoded
// listing; a session's view selects entries from it without encoding
// anything again, once per catalog change and kind of session.

import (
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
	g.searchViews.Clear()
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

// list answers tools/list, prompts/list, resources/list and
// resources/templates/list like the SDK server's own handlers would, but
// from the merged catalog's encodings (servers' own bytes, in their order)
// and with what the asking session may see.
func (g *Gateway) list(method string, req mcp.Request) (mcp.Result, error) {
	s := &agentSession{g: g, ss: sessionOf(req)}
	v2026 := s.ProtocolVersion() >= ProtocolV20260728
	cursor := ""
	// Each list's params have a cursor (nil params: the first page).
	switch r := req.GetParams().(type) {
	case *mcp.ListToolsParams:
		if r != nil {
			cursor = r.Cursor
		}
	case *mcp.ListPromptsParams:
		if r != nil {
			cursor = r.Cursor
		}
	case *mcp.ListResourcesParams:
		if r != nil {
			cursor = r.Cursor
		}
	case *mcp.ListResourceTemplatesParams:
		if r != nil {
			cursor = r.Cursor
		}
	}
	cat := g.cat.Load()
	var items *catalog.Items
	switch method {
	case "tools/list":
		l := g.toolsFor(s)
		if m := g.modeFor(s); m.Search {
			l = g.searchListing(s, l, m) // search.go
		}
		return l.Answer(cursor, v2026)
	case "prompts/list":
		items = cat.PromptItems()
	case "resources/list":
		items = cat.ResourceItems()
	default:
		items = cat.TemplateItems()
	}
	if g.chain.FiltersCatalog() {
		items = items.Filter(func(it *catalog.Item) bool { return g.chain.Hide(s, itemEntry(it)) == nil })
	}
	return items.Answer(cursor, v2026)
}

// itemEntry is a listed prompt's, resource's or template's catalog entry.
func itemEntry(it *catalog.Item) callpath.Entry {
	kind := callpath.PromptEntry
	switch it.Kind {
	case catalog.ResourceItem:
		kind = callpath.ResourceEntry
	case catalog.TemplateItem:
		kind = callpath.TemplateEntry
	}
	return callpath.Entry{Kind: kind, Exposed: it.Key, Server: it.Server, Name: it.Name, Def: it.Data}
}

// entryOf is a resource's or template's catalog entry; its URI (or
// template) is its name on the server and to the agent alike.
func entryOf(kind callpath.EntryKind, uri, server string, def any) callpath.Entry {
	b, _ := json.Marshal(def)
	return callpath.Entry{Kind: kind, Exposed: uri, Server: server, Name: uri, Def: b}
}
