package mux

// tools/list and tools/call are served from the gateway's merged catalog,
// not from tools registered one by one with the SDK server. Registering a
// tool with Server.AddTool costs two or three JSON round trips through a
// fresh 32 KiB decoder (about 130 µs a tool: 55 ms for 20 servers' 420
// tools before the first answer, and 40 MB of garbage), and the SDK would
// encode the whole list again for every tools/list. Instead:
//
//   - tools/list is answered from each tool's encoding, made once per tool
//     for as long as its server lists it (rawToolsResult): the bytes of
//     the SDK's answer, in the same order and pages (cursors are opaque:
//     they differ in bytes, and each side reads the other's);
//   - tools/call reaches the SDK server under the name of one registered
//     dispatcher tool, with the exposed name in its context, so everything
//     the SDK does around a call (input requests for older agents, result
//     types for newer ones) still happens;
//   - a change of the listed tools re-registers the dispatcher, which makes
//     the SDK send list_changed exactly as it did for the tools themselves;
//   - a tool whose schema the SDK reads (x-mcp-header annotations, checked
//     against HTTP headers, or nesting its decoder refuses) is registered
//     whole as well, so the SDK validates and checks it as before.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/gob"
	"encoding/json"
	"maps"
	"slices"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// toolEntry is one exposed tool as the gateway lists it. Entries are
// immutable once made; successive catalogs share them for as long as a
// server lists the same tool.
type toolEntry struct {
	prefix string
	name   string // the exposed name
	// The rest is set once the tool is visible (not hidden by a collision).
	tool *mcp.Tool // the tool under its exposed name, schema normalized
	data []byte    // tool as a list carries it
	err  error     // why it could not be encoded
	// whole: the SDK server must know the tool itself (see sdkReads).
	whole bool
}

// visible returns e with its tool and encoding, made from the server's
// tool src.
func (e *toolEntry) visible(src *mcp.Tool) *toolEntry {
	if e.tool != nil {
		return e
	}
	v := &toolEntry{prefix: e.prefix, name: e.name, tool: exposeTool(src, e.name)}
	v.data, v.err = marshalNoEscape(v.tool)
	v.whole = v.err == nil && sdkReads(v.data)
	return v
}

// marshalNoEscape encodes v as the SDK writes messages: like json.Marshal,
// without HTML escaping. The result is a copy of its own size: encodings
// are kept for as long as their tools are listed.
func marshalNoEscape(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.Clone(bytes.TrimSuffix(buf.Bytes(), []byte("\n"))), nil
}

// sdkReads reports whether the SDK server would read anything in a tool
// (encoded as data) beyond its name: it rejects schemas with x-mcp-header
// annotations it does not accept or nesting deeper than its decoder
// allows, and checks the Mcp-Param headers of HTTP calls against the
// annotations. (A false positive only costs a registration.)
func sdkReads(data []byte) bool {
	return bytes.Contains(data, []byte(`"x-mcp-header"`)) || jsonDepth(data) > 900
}

// jsonDepth is the deepest nesting of objects and arrays in data.
func jsonDepth(data []byte) int {
	depth, deepest := 0, 0
	inString, escaped := false, false
	for _, c := range data {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
			deepest = max(deepest, depth)
		case c == '}' || c == ']':
			depth--
		}
	}
	return deepest
}

// toolListing is what tools/list answers: the listed tools sorted by name,
// as the SDK's feature set orders them.
type toolListing struct {
	names []string
	data  [][]byte
	whole map[string]bool // tools the SDK server knows by name
}

// publishListing makes the tools in applied (name → encoding) the answer to
// tools/list.
func (g *Gateway) publishListing(applied map[string][]byte, whole map[string]bool) {
	l := &toolListing{names: sortedKeys(applied), whole: maps.Clone(whole)}
	l.data = make([][]byte, len(l.names))
	for i, name := range l.names {
		l.data[i] = applied[name]
	}
	g.listing.Store(l)
}

// listTools answers tools/list like the SDK server's own handler would.
func (g *Gateway) listTools(req mcp.Request) (mcp.Result, error) {
	l := g.listing.Load()
	var cursor string
	if r, ok := req.(*mcp.ListToolsRequest); ok && r.Params != nil {
		cursor = r.Params.Cursor
	}
	start := 0
	if cursor != "" {
		last, err := decodeCursor(cursor)
		if err != nil {
			// As the SDK: an invalid cursor is invalid params.
			return nil, &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: "invalid params"}
		}
		i, found := slices.BinarySearch(l.names, last)
		if found {
			i++
		}
		start = i
	}
	end := min(start+mcp.DefaultPageSize, len(l.names))
	res := &rawToolsResult{ListToolsResult: &mcp.ListToolsResult{Tools: []*mcp.Tool{}}, page: l.data[start:end]}
	if end < len(l.names) {
		next, err := encodeCursor(l.names[end-1])
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
	page                 [][]byte
}

// MarshalJSON encodes the SDK's result and puts the page in its (last,
// empty) tools array.
func (r *rawToolsResult) MarshalJSON() ([]byte, error) {
	head, err := marshalNoEscape(r.ListToolsResult)
	if err != nil {
		return nil, err
	}
	const empty = `"tools":[]}`
	if !bytes.HasSuffix(head, []byte(empty)) {
		// Not the layout this was written against: encode it the slow way.
		return r.decoded()
	}
	n := len(r.page) + 1
	for _, t := range r.page {
		n += len(t)
	}
	out := make([]byte, 0, len(head)+n)
	out = append(out, head[:len(head)-2]...) // up to and including '['
	for i, t := range r.page {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, t...)
	}
	return append(out, "]}"...), nil
}

// decoded encodes r with its tools decoded again.
func (r *rawToolsResult) decoded() ([]byte, error) {
	res := *r.ListToolsResult
	res.Tools = make([]*mcp.Tool, 0, len(r.page))
	for _, t := range r.page {
		var tool mcp.Tool
		if err := json.Unmarshal(t, &tool); err != nil {
			return nil, err
		}
		res.Tools = append(res.Tools, &tool)
	}
	return marshalNoEscape(&res)
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

// dispatchTool is the one tool the SDK server dispatches tools/call to
// (see callThroughDispatcher). Its name can never be an exposed name, which
// has no '.'.
const dispatchTool = "mcpgw.dispatch"

// callNameKey carries a call's exposed name past the SDK's dispatch.
type callNameKey struct{}

// registerDispatcher (re-)registers the dispatcher; with agents connected,
// the SDK tells them the tool list changed.
func (g *Gateway) registerDispatcher() {
	g.server.AddTool(&mcp.Tool{Name: dispatchTool, InputSchema: map[string]any{"type": "object"}}, g.dispatch)
}

// dispatch is the dispatcher's handler: the call path under the name the
// agent called.
func (g *Gateway) dispatch(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	if name, ok := ctx.Value(callNameKey{}).(string); ok && req.Params != nil {
		p := *req.Params
		p.Name = name
		req = &mcp.CallToolRequest{Session: req.Session, Params: &p, Extra: req.Extra}
	}
	return g.toolHandler(ctx, req)
}

// callThroughDispatcher hands a tools/call to the SDK server: a tool it
// knows by name goes as it is, any other listed tool through the
// dispatcher, and a name nobody lists is answered as the SDK answers it.
func (g *Gateway) callThroughDispatcher(ctx context.Context, method string, r *mcp.CallToolRequest, next mcp.MethodHandler) (mcp.Result, error) {
	name := r.Params.Name
	l := g.listing.Load()
	if _, listed := slices.BinarySearch(l.names, name); !listed {
		return nil, unknownToolError(name)
	}
	if l.whole[name] {
		return next(ctx, method, r)
	}
	p := *r.Params
	p.Name = dispatchTool
	return next(context.WithValue(ctx, callNameKey{}, name), method, &mcp.CallToolRequest{Session: r.Session, Params: &p, Extra: r.Extra})
}

// syncTools makes what tools/list answers match the merged catalog c. A
// tool the SDK must know is registered with it (a tool the SDK rejects is
// skipped and logged, as it always was); any change re-registers the
// dispatcher, so agents hear of it.
func (g *Gateway) syncTools(c *catalog) {
	applied, whole := g.applied.tools, g.applied.whole
	changed := false
	var unregister []string
	for name := range applied {
		if _, ok := c.toolRoutes[name]; !ok {
			delete(applied, name)
			changed = true
			if whole[name] {
				unregister = append(unregister, name)
				delete(whole, name)
			}
		}
	}
	for _, e := range c.entries {
		name := e.name
		if e.err != nil {
			g.logger.Warn("skipping entry that does not marshal", "name", name, "err", e.err)
			continue
		}
		if prev, ok := applied[name]; ok && string(prev) == string(e.data) {
			continue
		}
		if e.whole {
			if err := safely(func() { g.server.AddTool(e.tool, g.toolHandler) }); err != nil {
				g.logger.Warn("skipping invalid entry from a server", "name", name, "err", err)
				continue
			}
			whole[name] = true
		} else if whole[name] {
			unregister = append(unregister, name)
			delete(whole, name)
		}
		applied[name] = e.data
		changed = true
	}
	if len(unregister) > 0 {
		g.server.RemoveTools(unregister...)
	}
	if changed {
		g.publishListing(applied, whole)
		g.registerDispatcher() // after the listing: agents told of a change list the new one
	}
}
