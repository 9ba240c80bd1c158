package catalog

import (
	"bytes"
	"encoding/json"
	"slices"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// ItemKind is what an [Item] is.
type ItemKind uint8

const (
	PromptItem ItemKind = iota
	ResourceItem
	TemplateItem
)

// Item is one listed prompt, resource or resource template as agents are
// shown it: encoded once per merge it is new in, as the server wrote it
// where the server was listed raw (a prompt with only its name changed).
type Item struct {
	Kind ItemKind
	// Key names it to agents and pages: a prompt's exposed name, a
	// resource's URI, a template's URI template.
	Key string
	// Server listed it; Name is what the server calls it.
	Server, Name string
	Data         json.RawMessage
	src          any // the snapshot's item it was made from
	prefix       string
}

// Items are the listed items of one kind in merge order (servers in config
// order, each server's items in its own order), in pages the size of the
// SDK's.
type Items struct {
	kind  ItemKind
	items []*Item
	index map[string]int
}

func newItems(kind ItemKind, items []*Item) *Items {
	l := &Items{kind: kind, items: slices.Clip(items), index: make(map[string]int, len(items))}
	for i, it := range items {
		l.index[it.Key] = i
	}
	return l
}

// All are the items in order.
func (l *Items) All() []*Item { return l.items }

// Filter returns the items keep keeps.
func (l *Items) Filter(keep func(*Item) bool) *Items {
	kept := make([]*Item, 0, len(l.items))
	for _, it := range l.items {
		if keep(it) {
			kept = append(kept, it)
		}
	}
	return newItems(l.kind, kept)
}

// Answer answers the list method of the items' kind for the page after
// cursor ("" for the first) like the SDK server's own handler would. v2026
// says whether the agent speaks 2026-07-28, whose results have cache
// fields (ttlMs, cacheScope); older agents never see them.
func (l *Items) Answer(cursor string, v2026 bool) (mcp.Result, error) {
	start, end, next, err := page(cursor, len(l.items), l.index, func(i int) string { return l.items[i].Key })
	if err != nil {
		return nil, err
	}
	p := rawPage{items: make([][]byte, 0, end-start), cache: v2026}
	for _, it := range l.items[start:end] {
		p.items = append(p.items, it.Data)
	}
	// The SDK's resolveCacheable with no SetCacheable option.
	cacheable := mcp.Cacheable{CacheScope: "public"}
	switch l.kind {
	case PromptItem:
		return &rawPromptsResult{&mcp.ListPromptsResult{Cacheable: cacheable, NextCursor: next, Prompts: []*mcp.Prompt{}}, p}, nil
	case ResourceItem:
		return &rawResourcesResult{&mcp.ListResourcesResult{Cacheable: cacheable, NextCursor: next, Resources: []*mcp.Resource{}}, p}, nil
	default:
		return &rawTemplatesResult{&mcp.ListResourceTemplatesResult{Cacheable: cacheable, NextCursor: next, ResourceTemplates: []*mcp.ResourceTemplate{}}, p}, nil
	}
}

// page finds the page after cursor among n items: [start, end), and the
// cursor of the page after it ("" for the last).
func page(cursor string, n int, index map[string]int, key func(int) string) (start, end int, next string, err error) {
	if cursor != "" {
		last, err := decodeCursor(cursor)
		if err != nil {
			// As the SDK: an invalid cursor is invalid params.
			return 0, 0, "", &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: "invalid params"}
		}
		i, found := index[last]
		if !found {
			// The item that ended the page is gone since: start over
			// rather than skip what the agent has not seen.
			i = -1
		}
		start = i + 1
	}
	end = min(start+mcp.DefaultPageSize, n)
	if end < n {
		if next, err = encodeCursor(key(end - 1)); err != nil {
			return 0, 0, "", err
		}
	}
	return start, end, next, nil
}

// rawPage is a page of already encoded items, and whether the agent's
// version has cache fields.
type rawPage struct {
	items [][]byte
	cache bool
}

// The list results embed the SDK's result types so that the SDK completes
// them as its own (result type on 2026-07-28 sessions); their item arrays
// stay empty and the page goes in when encoded.
type (
	rawPromptsResult struct {
		*mcp.ListPromptsResult
		page rawPage
	}
	rawResourcesResult struct {
		*mcp.ListResourcesResult
		page rawPage
	}
	rawTemplatesResult struct {
		*mcp.ListResourceTemplatesResult
		page rawPage
	}
)

func (r *rawPromptsResult) MarshalJSON() ([]byte, error) {
	return r.page.marshal(r.ListPromptsResult, "prompts")
}

func (r *rawResourcesResult) MarshalJSON() ([]byte, error) {
	return r.page.marshal(r.ListResourcesResult, "resources")
}

func (r *rawTemplatesResult) MarshalJSON() ([]byte, error) {
	return r.page.marshal(r.ListResourceTemplatesResult, "resourceTemplates")
}

// marshal encodes the SDK's result head, whose last member is the empty
// array field, with the page in that array; without the cache fields for
// agents whose version has none.
func (p rawPage) marshal(head any, field string) ([]byte, error) {
	b, err := MarshalNoEscape(head)
	if err != nil {
		return nil, err
	}
	if !p.cache {
		b = bytes.Replace(b, []byte(cacheFields), nil, 1)
	}
	empty := `"` + field + `":[]}`
	if !bytes.HasSuffix(b, []byte(empty)) {
		// Not the layout this was written against: put the page in the
		// slow way.
		var m map[string]json.RawMessage
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, err
		}
		arr := []byte{'['}
		arr = append(arr, bytes.Join(p.items, []byte{','})...)
		m[field] = append(arr, ']')
		return MarshalNoEscape(m)
	}
	n := len(b) + len(p.items) + 1
	for _, it := range p.items {
		n += len(it)
	}
	out := make([]byte, 0, n)
	out = append(out, b[:len(b)-2]...) // up to and including '['
	for i, it := range p.items {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, it...)
	}
	return append(out, "]}"...), nil
}

// cacheFields are the cache fields as the SDK encodes the values lists
// are answered with.
const cacheFields = `"ttlMs":0,"cacheScope":"public",`

// promptItem makes the item of a prompt a server listed (raw: its own
// encoding, when known), exposed under name.
func promptItem(server, prefix, name string, p *mcp.Prompt, raw json.RawMessage) *Item {
	it := &Item{Kind: PromptItem, Key: name, Server: server, Name: p.Name, src: p, prefix: prefix}
	if raw != nil {
		if b, err := renamed(raw, name); err == nil {
			it.Data = b
			return it
		}
	}
	p2 := *p
	p2.Name = name
	it.Data, _ = MarshalNoEscape(&p2)
	return it
}

// sourceItem makes the item of a resource or template, listed as the
// server listed it.
func sourceItem(kind ItemKind, server, key string, v any, raw json.RawMessage) *Item {
	it := &Item{Kind: kind, Key: key, Server: server, Name: key, src: v, Data: raw}
	if raw == nil {
		it.Data, _ = MarshalNoEscape(v)
	}
	return it
}

// reuse returns prev's item made from the same source for the same server
// and prefix, or nil.
func reuse(prev map[any]*Item, src any, server, prefix string) *Item {
	if it, ok := prev[src]; ok && it.Server == server && it.prefix == prefix {
		return it
	}
	return nil
}
