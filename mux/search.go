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
	"fmt"
	"strings"
	"sync"

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
