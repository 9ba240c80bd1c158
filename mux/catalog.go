package mux

import (
	"fmt"
	"maps"
	"slices"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// The catalog is merged in three explicit stages, each with its own type:
//
//	query   snapshot  what one server listed (after its own tool filter)
//	resolve resolved  exposed names assigned, collisions found and reported
//	merge   catalog   one routing table and one list per feature
//
// Routing reads the merged catalog; it never merges.

// snapshot is the query stage's output for one server.
type snapshot struct {
	protocolVersion string
	caps            *mcp.ServerCapabilities
	tools           []*mcp.Tool
	prompts         []*mcp.Prompt
	resources       []*mcp.Resource
	templates       []*mcp.ResourceTemplate
}

// Collision is an exposed name or resource URI that two servers both claim.
// The first server in config order keeps it; the other's entry is hidden.
type Collision struct {
	Kind   string `json:"kind"` // tool | prompt | resource | template
	Name   string `json:"name"`
	Kept   string `json:"kept"`   // server that keeps the name
	Hidden string `json:"hidden"` // server whose entry is hidden
	// Original is the hidden entry's own name on its server.
	Original string `json:"original,omitempty"`
}

// route is where an exposed name goes.
type route struct {
	server string
	name   string // the downstream's own tool or prompt name (or URI)
}

// ExposedTool is one tool of the merged catalog as an agent sees it.
type ExposedTool struct {
	Tool   *mcp.Tool `json:"tool"`
	Server string    `json:"server"`
	// Original is the tool's name on its server.
	Original string `json:"original"`
}

// catalog is the merge stage's output: what the agent sees and where each
// name routes.
type catalog struct {
	tools []ExposedTool
	// entries are tools[i]'s listing data, in the same order; byTool keeps
	// them for the next merge, so a tool is named and encoded once for as
	// long as its server lists it (a rebuild per server start would
	// otherwise re-encode every tool of every server).
	entries    []*toolEntry
	byTool     map[*mcp.Tool]*toolEntry
	toolRoutes map[string]route
	prompts    map[string]*mcp.Prompt
	promptRts  map[string]route
	resources  map[string]*mcp.Resource
	resOwner   map[string]string
	templates  []ownedTemplate
	collisions []Collision
}

type ownedTemplate struct {
	t      *mcp.ResourceTemplate
	server string
}

// serverSnap pairs a server's snapshot with what naming needs of its spec.
type serverSnap struct {
	name, prefix string
	snap         *snapshot
}

// mergeCatalog runs the resolve and merge stages over snapshots given in
// config order.
func mergeCatalog(servers []serverSnap) *catalog { return mergeCatalogFrom(nil, servers) }

// mergeCatalogFrom is mergeCatalog reusing prev's tool entries.
func mergeCatalogFrom(prev *catalog, servers []serverSnap) *catalog {
	// Sized up front: a rebuild runs each time a server starts, over every
	// server's tools.
	n := 0
	for _, s := range servers {
		if s.snap != nil {
			n += len(s.snap.tools)
		}
	}
	c := &catalog{
		tools:      make([]ExposedTool, 0, n),
		entries:    make([]*toolEntry, 0, n),
		byTool:     make(map[*mcp.Tool]*toolEntry, n),
		toolRoutes: make(map[string]route, n),
		prompts:    map[string]*mcp.Prompt{},
		promptRts:  map[string]route{},
		resources:  map[string]*mcp.Resource{},
		resOwner:   map[string]string{},
	}
	seenTemplates := map[string]string{}
	for _, s := range servers {
		if s.snap == nil {
			continue
		}
		for _, t := range s.snap.tools {
			var e *toolEntry
			if prev != nil {
				e = prev.byTool[t]
			}
			if e == nil || e.prefix != s.prefix {
				e = &toolEntry{prefix: s.prefix, name: ExposedName(s.prefix, t.Name)}
			}
			name := e.name
			if kept, ok := c.toolRoutes[name]; ok {
				c.collisions = append(c.collisions, Collision{Kind: "tool", Name: name, Kept: kept.server, Hidden: s.name, Original: t.Name})
				c.byTool[t] = e // named, not encoded
				continue
			}
			e = e.visible(t)
			c.byTool[t] = e
			c.toolRoutes[name] = route{server: s.name, name: t.Name}
			c.tools = append(c.tools, ExposedTool{Tool: e.tool, Server: s.name, Original: t.Name})
			c.entries = append(c.entries, e)
		}
		for _, p := range s.snap.prompts {
			name := ExposedName(s.prefix, p.Name)
			if prev, ok := c.promptRts[name]; ok {
				c.collisions = append(c.collisions, Collision{Kind: "prompt", Name: name, Kept: prev.server, Hidden: s.name, Original: p.Name})
				continue
			}
			p2 := *p
			p2.Name = name
			c.promptRts[name] = route{server: s.name, name: p.Name}
			c.prompts[name] = &p2
		}
		for _, r := range s.snap.resources {
			if prev, ok := c.resOwner[r.URI]; ok {
				c.collisions = append(c.collisions, Collision{Kind: "resource", Name: r.URI, Kept: prev, Hidden: s.name})
				continue
			}
			c.resOwner[r.URI] = s.name
			c.resources[r.URI] = r
		}
		for _, t := range s.snap.templates {
			if prev, ok := seenTemplates[t.URITemplate]; ok {
				c.collisions = append(c.collisions, Collision{Kind: "template", Name: t.URITemplate, Kept: prev, Hidden: s.name})
				continue
			}
			seenTemplates[t.URITemplate] = s.name
			c.templates = append(c.templates, ownedTemplate{t: t, server: s.name})
		}
	}
	return c
}

// exposeTool copies a downstream tool under its exposed name, with an input
// schema the SDK accepts: downstream data is untrusted, and Server.AddTool
// panics on a missing or non-object schema.
func exposeTool(t *mcp.Tool, name string) *mcp.Tool {
	t2 := *t
	t2.Name = name
	m, ok := t.InputSchema.(map[string]any)
	if !ok || m["type"] != "object" {
		fixed := map[string]any{"type": "object"}
		if ok {
			fixed = maps.Clone(m)
			fixed["type"] = "object"
		}
		t2.InputSchema = fixed
	}
	return &t2
}

// collisionText is one line describing a collision, for logs and tables.
func (c Collision) String() string {
	if c.Original != "" {
		return fmt.Sprintf("%s %q: kept %s, hid %s's %q", c.Kind, c.Name, c.Kept, c.Hidden, c.Original)
	}
	return fmt.Sprintf("%s %q: kept %s, hid %s's", c.Kind, c.Name, c.Kept, c.Hidden)
}

// sortedKeys returns m's keys in order, for stable lists.
func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
