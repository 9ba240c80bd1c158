package catalog

import (
	"bytes"
	"encoding/base64"
	"encoding/gob"
	"slices"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Listing is what tools/list answers: the listed tools in the order the
// catalog merged them (servers in config order, each server's tools in its
// own order), each already encoded, in pages the size of the SDK's, with
// cursors the SDK's own reads too (they name the last tool of the page).
type Listing struct {
	entries []*ToolEntry
	index   map[string]int // exposed name → position in entries
	whole   map[string]bool
}

// NewListing makes a listing of entries, in their order; whole names the
// tools the SDK server knows by name.
func NewListing(entries []*ToolEntry, whole map[string]bool) *Listing {
	l := &Listing{entries: slices.Clip(entries), index: make(map[string]int, len(entries)), whole: whole}
	for i, e := range entries {
		l.index[e.Name] = i
	}
	return l
}

// Len is the number of tools listed.
func (l *Listing) Len() int { return len(l.entries) }

// Has reports whether the listing has a tool of that exposed name.
func (l *Listing) Has(name string) bool {
	_, found := l.index[name]
	return found
}

// Names are the listed tools' exposed names, in order.
func (l *Listing) Names() []string {
	out := make([]string, len(l.entries))
	for i, e := range l.entries {
		out[i] = e.Name
	}
	return out
}

// Entries are the listed tools' entries, in order; callers must not
// change them.
func (l *Listing) Entries() []*ToolEntry { return l.entries }

// Whole reports whether the SDK server knows the tool by name.
func (l *Listing) Whole(name string) bool { return l.whole[name] }

// Filter returns the listing of the entries keep keeps; nothing is encoded
// again.
func (l *Listing) Filter(keep func(*ToolEntry) bool) *Listing {
	kept := make([]*ToolEntry, 0, len(l.entries))
	for _, e := range l.entries {
		if keep(e) {
			kept = append(kept, e)
		}
	}
	return NewListing(kept, l.whole)
}

// Answer answers tools/list for the page after cursor ("" for the first)
// like the SDK server's own handler would; v2026 as for [Items.Answer],
// and tools lose what that version's Tool lacks ([ToolEntry].Data26).
func (l *Listing) Answer(cursor string, v2026 bool) (mcp.Result, error) {
	start, end, next, err := page(cursor, len(l.entries), l.index, func(i int) string { return l.entries[i].Name })
	if err != nil {
		return nil, err
	}
	p := rawPage{items: make([][]byte, 0, end-start), cache: v2026}
	for _, e := range l.entries[start:end] {
		if v2026 && e.Data26 != nil {
			p.items = append(p.items, e.Data26)
		} else {
			p.items = append(p.items, e.Data)
		}
	}
	// The SDK's resolveCacheable with no SetCacheable option.
	return &rawToolsResult{&mcp.ListToolsResult{Cacheable: mcp.Cacheable{CacheScope: "public"}, NextCursor: next, Tools: []*mcp.Tool{}}, p}, nil
}

// rawToolsResult is a tools/list result whose tools are already encoded
// (see rawPromptsResult).
type rawToolsResult struct {
	*mcp.ListToolsResult
	page rawPage
}

func (r *rawToolsResult) MarshalJSON() ([]byte, error) {
	return r.page.marshal(r.ListToolsResult, "tools")
}

// pageToken is the SDK's pagination cursor before encoding. Cursors are
// opaque; this one decodes the SDK's and the SDK's decodes this one (gob
// matches fields by name).
type pageToken struct {
	LastUID string
}

// encodeCursor and decodeCursor make and read cursors as the SDK does.
func encodeCursor(uid string) (string, error) {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(pageToken{LastUID: uid}); err != nil {
		return "", err
	}
	return base64.URLEncoding.EncodeToString(buf.Bytes()), nil
}

// DecodeCursor reads a tools/list cursor (the SDK's or a [Listing]'s): the
// name of the last tool of the page before.
func DecodeCursor(cursor string) (string, error) { return decodeCursor(cursor) }

func decodeCursor(cursor string) (string, error) {
	b, err := base64.URLEncoding.DecodeString(cursor)
	if err != nil {
		return "", err
	}
	var t pageToken
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&t); err != nil {
		return "", err
	}
	return t.LastUID, nil
}
