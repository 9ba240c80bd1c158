package catalog

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/yosida95/uritemplate/v3"
)

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

// String describes the collision in one line, for logs and tables.
func (c Collision) String() string {
	if c.Original != "" {
		return fmt.Sprintf("%s %q: kept %s, hid %s's %q", c.Kind, c.Name, c.Kept, c.Hidden, c.Original)
	}
	return fmt.Sprintf("%s %q: kept %s, hid %s's", c.Kind, c.Name, c.Kept, c.Hidden)
}

// Route is where an exposed name goes.
type Route struct {
	Server string
	Name   string // the server's own tool or prompt name
}

// ExposedTool is one tool of the merged catalog as an agent sees it.
type ExposedTool struct {
	Tool   *mcp.Tool `json:"tool"`
	Server string    `json:"server"`
	// Original is the tool's name on its server.
	Original string `json:"original"`
}

// Template is a resource template with the server that owns it.
type Template struct {
	*mcp.ResourceTemplate
	Server string
}

// Catalog is the merge stage's output: what the agent sees and where each
// name routes. It is never changed once made.
type Catalog struct {
	tools []ExposedTool
	// entries are tools[i]'s listing data, in the same order; byTool keeps
	// them for the next merge, so a tool is named and encoded once for as
	// long as its server lists it (a rebuild per server start would
	// otherwise re-encode every tool of every server).
	entries    []*ToolEntry
	byTool     map[*mcp.Tool]*ToolEntry
	toolRoutes map[string]*ToolEntry
	prompts    map[string]*mcp.Prompt
	promptRts  map[string]Route
	resources  map[string]*mcp.Resource
	resOwner   map[string]string
	templates  []Template
	collisions []Collision
	// The prompts, resources and templates lists, and their items by the
	// snapshot item they were made from (reused by the next merge).
	promptItems, resourceItems, templateItems *Items
	itemOf                                    map[any]*Item
	// instructions are the servers' own, each under a heading with its
	// name, in config order.
	instructions string
}

// Merge runs the resolve and merge stages over the servers' snapshots,
// given in config order: on a name two servers claim, the first keeps it.
// prev, when set, is the previous catalog: tools it encoded are reused.
func Merge(prev *Catalog, servers []Source) *Catalog {
	// Sized up front: a rebuild runs each time a server starts, over every
	// server's tools.
	n := 0
	for _, s := range servers {
		if s.Snap != nil {
			n += len(s.Snap.Tools)
		}
	}
	c := &Catalog{
		tools:      make([]ExposedTool, 0, n),
		entries:    make([]*ToolEntry, 0, n),
		byTool:     make(map[*mcp.Tool]*ToolEntry, n),
		toolRoutes: make(map[string]*ToolEntry, n),
		prompts:    map[string]*mcp.Prompt{},
		promptRts:  map[string]Route{},
		resources:  map[string]*mcp.Resource{},
		resOwner:   map[string]string{},
	}
	seenTemplates := map[string]string{}
	var instructions []string
	var prevItems map[any]*Item
	if prev != nil {
		prevItems = prev.itemOf
	}
	c.itemOf = map[any]*Item{}
	var prompts, resources, templates []*Item
	for _, s := range servers {
		if s.Snap == nil {
			continue
		}
		// The server's text goes in whole, trailing newlines and all.
		if in := s.Snap.Instructions; strings.TrimSpace(in) != "" {
			instructions = append(instructions, "## "+s.Server+"\n\n"+in)
		}
		for _, t := range s.Snap.Tools {
			var e *ToolEntry
			if prev != nil {
				e = prev.byTool[t]
			}
			if e == nil || e.prefix != s.Prefix || e.Server != s.Server {
				e = &ToolEntry{prefix: s.Prefix, Name: ExposedName(s.Prefix, t.Name), Server: s.Server, Original: t.Name}
			}
			name := e.Name
			if kept, ok := c.toolRoutes[name]; ok {
				c.collisions = append(c.collisions, Collision{Kind: "tool", Name: name, Kept: kept.Server, Hidden: s.Server, Original: t.Name})
				c.byTool[t] = e // named, not encoded
				continue
			}
			e = e.visible(t, s.Snap.RawTools[t])
			c.byTool[t] = e
			c.toolRoutes[name] = e
			c.tools = append(c.tools, ExposedTool{Tool: e.Tool, Server: s.Server, Original: t.Name})
			c.entries = append(c.entries, e)
		}
		for _, p := range s.Snap.Prompts {
			name := ExposedName(s.Prefix, p.Name)
			if prev, ok := c.promptRts[name]; ok {
				c.collisions = append(c.collisions, Collision{Kind: "prompt", Name: name, Kept: prev.Server, Hidden: s.Server, Original: p.Name})
				continue
			}
			p2 := *p
			p2.Name = name
			c.promptRts[name] = Route{Server: s.Server, Name: p.Name}
			c.prompts[name] = &p2
			it := reuse(prevItems, p, s.Server, s.Prefix)
			if it == nil || it.Key != name {
				it = promptItem(s.Server, s.Prefix, name, p, s.Snap.RawPrompts[p])
			}
			c.itemOf[p] = it
			prompts = append(prompts, it)
		}
		for _, r := range s.Snap.Resources {
			if prev, ok := c.resOwner[r.URI]; ok {
				c.collisions = append(c.collisions, Collision{Kind: "resource", Name: r.URI, Kept: prev, Hidden: s.Server})
				continue
			}
			c.resOwner[r.URI] = s.Server
			c.resources[r.URI] = r
			it := reuse(prevItems, r, s.Server, s.Prefix)
			if it == nil {
				it = sourceItem(ResourceItem, s.Server, r.URI, r, s.Snap.RawResources[r])
			}
			c.itemOf[r] = it
			resources = append(resources, it)
		}
		for _, t := range s.Snap.Templates {
			if prev, ok := seenTemplates[t.URITemplate]; ok {
				c.collisions = append(c.collisions, Collision{Kind: "template", Name: t.URITemplate, Kept: prev, Hidden: s.Server})
				continue
			}
			seenTemplates[t.URITemplate] = s.Server
			c.templates = append(c.templates, Template{ResourceTemplate: t, Server: s.Server})
			it := reuse(prevItems, t, s.Server, s.Prefix)
			if it == nil {
				it = sourceItem(TemplateItem, s.Server, t.URITemplate, t, s.Snap.RawTemplates[t])
			}
			c.itemOf[t] = it
			templates = append(templates, it)
		}
	}
	c.instructions = strings.Join(instructions, "\n\n")
	c.promptItems = newItems(PromptItem, prompts)
	c.resourceItems = newItems(ResourceItem, resources)
	c.templateItems = newItems(TemplateItem, templates)
	return c
}

// Instructions are the servers' instructions, each under a Markdown
// heading with its name, in config order; "" when none has any.
func (c *Catalog) Instructions() string { return c.instructions }

// Tools are the listed tools in merge order.
func (c *Catalog) Tools() []ExposedTool { return c.tools }

// Entries are the listed tools' entries, in the order of [Catalog.Tools].
func (c *Catalog) Entries() []*ToolEntry { return c.entries }

// Collisions are the names two servers claimed, in merge order.
func (c *Catalog) Collisions() []Collision { return c.collisions }

// Tool returns the entry of the tool listed under an exposed name.
func (c *Catalog) Tool(exposed string) (*ToolEntry, bool) {
	e, ok := c.toolRoutes[exposed]
	return e, ok
}

// HasTool reports whether a tool is listed under the exposed name.
func (c *Catalog) HasTool(exposed string) bool {
	_, ok := c.toolRoutes[exposed]
	return ok
}

// PromptItems, ResourceItems and TemplateItems are what prompts/list,
// resources/list and resources/templates/list answer, in merge order.
func (c *Catalog) PromptItems() *Items   { return c.items(PromptItem) }
func (c *Catalog) ResourceItems() *Items { return c.items(ResourceItem) }
func (c *Catalog) TemplateItems() *Items { return c.items(TemplateItem) }

// items are the items of a kind; none for a catalog no merge made (nil
// before the first).
func (c *Catalog) items(kind ItemKind) *Items {
	var l *Items
	if c != nil {
		l = [...]*Items{c.promptItems, c.resourceItems, c.templateItems}[kind]
	}
	if l == nil {
		return newItems(kind, nil)
	}
	return l
}

// Prompts are the listed prompts by exposed name.
func (c *Catalog) Prompts() map[string]*mcp.Prompt { return c.prompts }

// Prompt routes an exposed prompt name.
func (c *Catalog) Prompt(exposed string) (Route, bool) {
	r, ok := c.promptRts[exposed]
	return r, ok
}

// Resources are the listed resources by URI.
func (c *Catalog) Resources() map[string]*mcp.Resource { return c.resources }

// Templates are the listed resource templates in merge order.
func (c *Catalog) Templates() []Template { return c.templates }

// ResourceOwner finds the server that listed uri, or whose template matches
// it (the first in config order).
func (c *Catalog) ResourceOwner(uri string) (string, bool) {
	if s, ok := c.resOwner[uri]; ok {
		return s, true
	}
	if t, ok := c.TemplateMatching(uri); ok {
		return t.Server, true
	}
	return "", false
}

// TemplateMatching returns the first template (in config order) that uri
// matches.
func (c *Catalog) TemplateMatching(uri string) (Template, bool) {
	for _, t := range c.templates {
		if templateMatches(t.URITemplate, uri) {
			return t, true
		}
	}
	return Template{}, false
}

// TemplateOwner finds the server that listed a URI template (as completion
// references name them), else the owner of the URI.
func (c *Catalog) TemplateOwner(uri string) (string, bool) {
	for _, t := range c.templates {
		if t.URITemplate == uri {
			return t.Server, true
		}
	}
	return c.ResourceOwner(uri)
}

var templateCache sync.Map // template string → *uritemplate.Template

func templateMatches(tmpl, uri string) bool {
	v, ok := templateCache.Load(tmpl)
	if !ok {
		t, err := uritemplate.New(tmpl)
		if err != nil {
			return false
		}
		v, _ = templateCache.LoadOrStore(tmpl, t)
	}
	return v.(*uritemplate.Template).Regexp().MatchString(uri)
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

// SortedKeys returns m's keys in order, for stable lists.
func SortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
