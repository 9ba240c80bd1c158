package mux

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgw/mcpgw/mux/catalog"
)

// CatalogCache keeps each server's last good catalog between runs, so
// tools/list can answer while servers start (see [Options].CatalogCache).
// Implementations must be safe for concurrent use; Save may be slow and is
// called off the call path.
type CatalogCache interface {
	// LoadCatalog returns what SaveCatalog kept for server under the same
	// fingerprint, or false.
	LoadCatalog(server, fingerprint string) ([]byte, bool)
	SaveCatalog(server, fingerprint string, catalog []byte)
}

// cachedSnapshot is a snapshot as the cache keeps it.
type cachedSnapshot struct {
	ProtocolVersion string                  `json:"protocolVersion"`
	Tools           []*mcp.Tool             `json:"tools,omitempty"`
	Prompts         []*mcp.Prompt           `json:"prompts,omitempty"`
	Resources       []*mcp.Resource         `json:"resources,omitempty"`
	Templates       []*mcp.ResourceTemplate `json:"templates,omitempty"`
	Instructions    string                  `json:"instructions,omitempty"`
	// ToolsRaw are Tools as the server encoded them, where known, in the
	// same order (null where not); the same for the other lists.
	ToolsRaw     []json.RawMessage `json:"toolsRaw,omitempty"`
	PromptsRaw   []json.RawMessage `json:"promptsRaw,omitempty"`
	ResourcesRaw []json.RawMessage `json:"resourcesRaw,omitempty"`
	TemplatesRaw []json.RawMessage `json:"templatesRaw,omitempty"`
}

// rawMap pairs items with their cached encodings (raw, in the same order),
// or nil when the cache has none for them.
func rawMap[T any](items []*T, raw []json.RawMessage) map[*T]json.RawMessage {
	if len(raw) != len(items) || len(raw) == 0 {
		return nil
	}
	m := make(map[*T]json.RawMessage, len(items))
	for i, v := range items {
		if len(raw[i]) > 0 && string(raw[i]) != "null" {
			m[v] = raw[i]
		}
	}
	return m
}

// rawSlice is rawMap's inverse: items' encodings in order, or nil.
func rawSlice[T any](items []*T, m map[*T]json.RawMessage) []json.RawMessage {
	if m == nil {
		return nil
	}
	out := make([]json.RawMessage, len(items))
	for i, v := range items {
		out[i] = m[v]
	}
	return out
}

// fingerprint identifies what a catalog was listed under: the server's
// launch spec as written (secret references, not values), and what mcpgw
// told the server of itself, its protocol version and capabilities (a
// server may offer some tools only to clients that can sample, say). A
// catalog cached under another fingerprint is not served.
func fingerprint(s ServerSpec, a advertised) string {
	b, _ := json.Marshal(struct {
		Command, Cwd, URL, Transport, ProtocolVersion string
		Args, AllowTools, DenyTools                   []string
		Env, Headers                                  map[string]string
		Version                                       string
		Caps                                          *mcp.ClientCapabilities
	}{s.Command, s.Cwd, s.URL, s.Transport, s.ProtocolVersion, s.Args, s.AllowTools, s.DenyTools, s.Env, s.Headers, a.version, a.caps})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// advertised is what mcpgw tells a server about itself when it connects.
type advertised struct {
	version string
	caps    *mcp.ClientCapabilities
}

// advertisedLocked is what d is told; the caller holds g.mu.
func (g *Gateway) advertisedLocked(spec ServerSpec) advertised {
	a := advertised{version: spec.ProtocolVersion, caps: g.caps}
	if a.version == "" {
		a.version = g.version
	}
	if a.caps == nil {
		a.caps = fullClientCapabilities()
	}
	return a
}

// advertised is advertisedLocked for callers that do not hold g.mu.
func (g *Gateway) advertised(spec ServerSpec) advertised {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.advertisedLocked(spec)
}

// loadCached reads d's catalog cached under what a tells it, if the
// gateway keeps a cache.
func (d *downstream) loadCached(a advertised) *catalog.Snapshot {
	cache := d.gw.opts.CatalogCache
	if cache == nil {
		return nil
	}
	fp := fingerprint(d.spec, a)
	b, ok := cache.LoadCatalog(d.spec.Name, fp)
	if !ok {
		return nil
	}
	var c cachedSnapshot
	if json.Unmarshal(b, &c) != nil {
		return nil
	}
	d.gw.cacheSums.Store(d.spec.Name+"\x00"+fp, sha256.Sum256(b))
	// The tool filter may have changed the fingerprint, not the tools: it
	// is applied to what the cache holds as to what the server lists.
	return &catalog.Snapshot{ProtocolVersion: c.ProtocolVersion, Tools: catalog.FilterTools(c.Tools, d.spec.AllowTools, d.spec.DenyTools),
		Prompts: c.Prompts, Resources: c.Resources, Templates: c.Templates, Instructions: c.Instructions,
		RawTools: rawMap(c.Tools, c.ToolsRaw), RawPrompts: rawMap(c.Prompts, c.PromptsRaw),
		RawResources: rawMap(c.Resources, c.ResourcesRaw), RawTemplates: rawMap(c.Templates, c.TemplatesRaw)}
}

// saveCached keeps snap, listed under what a told the server, as d's last
// good catalog.
func (d *downstream) saveCached(snap *catalog.Snapshot, a advertised) {
	cache := d.gw.opts.CatalogCache
	if cache == nil {
		return
	}
	cs := cachedSnapshot{snap.ProtocolVersion, snap.Tools, snap.Prompts, snap.Resources, snap.Templates, snap.Instructions,
		rawSlice(snap.Tools, snap.RawTools), rawSlice(snap.Prompts, snap.RawPrompts),
		rawSlice(snap.Resources, snap.RawResources), rawSlice(snap.Templates, snap.RawTemplates)}
	b, err := json.Marshal(cs)
	if err != nil {
		return
	}
	// A server that lists what it listed last time (the usual start) costs
	// no write.
	name, fp := d.spec.Name, fingerprint(d.spec, a)
	sum := sha256.Sum256(b)
	if prev, ok := d.gw.cacheSums.Swap(name+"\x00"+fp, sum); ok && prev == sum {
		return
	}
	d.gw.saves.Go(func() { cache.SaveCatalog(name, fp, b) }) // Close waits for it
}

// hasCached reports whether a cached catalog stands in for d.
func (d *downstream) hasCached() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.cached != nil
}
