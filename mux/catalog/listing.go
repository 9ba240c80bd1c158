package catalog

import (
	"bytes"
	"encoding/base64"
	"encoding/gob"
	"encoding/json"
	"slices"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
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
// like the SDK server's own handler would.
func (l *Listing) Answer(cursor string) (mcp.Result, error) {
	start := 0
	if cursor != "" {
		last, err := decodeCursor(cursor)
		if err != nil {
			// As the SDK: an invalid cursor is invalid params.
			return nil, &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: "invalid params"}
		}
		i, found := l.index[last]
		if !found {
			// The tool that ended the page is gone since: start over
			// rather than skip what the agent has not seen.
			i = -1
		}
		start = i + 1
	}
	end := min(start+mcp.DefaultPageSize, len(l.entries))
	res := &rawToolsResult{ListToolsResult: &mcp.ListToolsResult{Tools: []*mcp.Tool{}}, page: l.entries[start:end]}
	if end < len(l.entries) {
		next, err := encodeCursor(l.entries[end-1].Name)
		if err != nil {
			return nil, err
		}
		res.NextCursor = next
	}
	// The SDK's resolveCacheable with no SetCacheable option.
	res.CacheScope = "public"
	return res, nil
}

// rawToolsResult is a tools/list result whose tools are already encoded.
// It embeds the SDK's result type so that the SDK completes it as its own
// (result type and server info on 2026-07-28 sessions).
type rawToolsResult struct {
	*mcp.ListToolsResult // everything but the tools, which must be empty
	page                 []*ToolEntry
}

// MarshalJSON encodes the SDK's result and puts the page in its (last,
// empty) tools array.
func (r *rawToolsResult) MarshalJSON() ([]byte, error) {
	head, err := MarshalNoEscape(r.ListToolsResult)
	if err != nil {
		return nil, err
	}
	const empty = `"tools":[]}`
	if !bytes.HasSuffix(head, []byte(empty)) {
		// Not the layout this was written against: encode it the slow way.
		return r.decoded()
	}
	n := len(r.page) + 1
	for _, e := range r.page {
		n += len(e.Data)
	}
	out := make([]byte, 0, len(head)+n)
	out = append(out, head[:len(head)-2]...) // up to and including '['
	for i, e := range r.page {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, e.Data...)
	}
	return append(out, "]}"...), nil
}

// decoded encodes r with its tools decoded again.
func (r *rawToolsResult) decoded() ([]byte, error) {
	res := *r.ListToolsResult
	res.Tools = make([]*mcp.Tool, 0, len(r.page))
	for _, e := range r.page {
		var tool mcp.Tool
		if err := json.Unmarshal(e.Data, &tool); err != nil {
			return nil, err
		}
		res.Tools = append(res.Tools, &tool)
	}
	return MarshalNoEscape(&res)
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
