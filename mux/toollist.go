package mux

// tools/list and tools/call are served from the gateway's merged catalog,
// not from tools registered one by one with the SDK server. Registering a
// tool with Server.AddTool costs two or three JSON round trips through a
// fresh 32 KiB decoder (about 130 µs a tool: 55 ms for 20 servers' 420
// tools before the first answer, and 40 MB of garbage), and the SDK would
// encode the whole list again for every tools/list. Instead:
//
//   - tools/list is answered from each tool's encoding, made once per tool
//     for as long as its server lists it (catalog.Listing): the bytes of
//     the SDK's answer, in the same order and pages, filtered per session
//     when catalog stages hide tools (view.go);
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
	"context"
	"maps"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgw/mcpgw/mux/catalog"
)

// publishListing makes the applied tools the answer to tools/list, in the
// order of the catalog c.
func (g *Gateway) publishListing(c *catalog.Catalog) {
	entries := make([]*catalog.ToolEntry, 0, len(g.applied.tools))
	for _, e := range c.Entries() {
		if applied, ok := g.applied.tools[e.Name]; ok {
			entries = append(entries, applied)
		}
	}
	g.listing.Store(catalog.NewListing(entries, maps.Clone(g.applied.whole)))
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
	if !l.Has(name) {
		out := g.unknownTool(r.Session, name)
		res, err := out.result()
		return completeFor(r.Session, res, err)
	}
	if l.Whole(name) {
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
func (g *Gateway) syncTools(c *catalog.Catalog) {
	applied, whole := g.applied.tools, g.applied.whole
	changed := false
	var unregister []string
	for name := range applied {
		if !c.HasTool(name) {
			delete(applied, name)
			changed = true
			if whole[name] {
				unregister = append(unregister, name)
				delete(whole, name)
			}
		}
	}
	for _, e := range c.Entries() {
		name := e.Name
		if e.Err != nil {
			g.logger.Warn("skipping entry that does not marshal", "name", name, "err", e.Err)
			continue
		}
		if prev, ok := applied[name]; ok && prev.Route() == e.Route() && string(prev.Data) == string(e.Data) {
			continue
		}
		if e.Whole {
			if err := safely(func() { g.server.AddTool(e.Tool, g.toolHandler) }); err != nil {
				g.logger.Warn("skipping invalid entry from a server", "name", name, "err", err)
				continue
			}
			whole[name] = true
		} else if whole[name] {
			unregister = append(unregister, name)
			delete(whole, name)
		}
		applied[name] = e
		changed = true
	}
	if len(unregister) > 0 {
		g.server.RemoveTools(unregister...)
	}
	if changed || !sameOrder(g.listing.Load(), c) {
		g.publishListing(c)
		g.registerDispatcher() // after the listing: agents told of a change list the new one
	}
}

// sameOrder reports whether l lists c's tools in c's order (a server that
// re-ordered its tools changes the listing without changing a tool).
func sameOrder(l *catalog.Listing, c *catalog.Catalog) bool {
	names := l.Names()
	i := 0
	for _, e := range c.Entries() {
		if !l.Has(e.Name) {
			continue
		}
		if i >= len(names) || names[i] != e.Name {
			return false
		}
		i++
	}
	return i == len(names)
}
