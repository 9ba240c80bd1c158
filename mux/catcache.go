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
}

// fingerprint identifies a server's launch spec as written (secret
// references, not values): a catalog cached under another spec is stale.
func fingerprint(s ServerSpec) string {
	b, _ := json.Marshal(struct {
		Command, Cwd, URL, Transport, ProtocolVersion string
		Args, AllowTools, DenyTools                   []string
		Env, Headers                                  map[string]string
	}{s.Command, s.Cwd, s.URL, s.Transport, s.ProtocolVersion, s.Args, s.AllowTools, s.DenyTools, s.Env, s.Headers})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// loadCached reads d's cached catalog, if the gateway keeps one.
func (d *downstream) loadCached() *catalog.Snapshot {
	cache := d.gw.opts.CatalogCache
	if cache == nil {
		return nil
	}
	fp := fingerprint(d.spec)
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
		Prompts: c.Prompts, Resources: c.Resources, Templates: c.Templates}
}

// saveCached keeps snap as d's last good catalog.
func (d *downstream) saveCached(snap *catalog.Snapshot) {
	cache := d.gw.opts.CatalogCache
	if cache == nil {
		return
	}
	b, err := json.Marshal(cachedSnapshot{snap.ProtocolVersion, snap.Tools, snap.Prompts, snap.Resources, snap.Templates})
	if err != nil {
		return
	}
	// A server that lists what it listed last time (the usual start) costs
	// no write.
	name, fp := d.spec.Name, fingerprint(d.spec)
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
