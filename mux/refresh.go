package mux

// What a server lists: its first listing, and re-listing on list_changed.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	segjson "github.com/segmentio/encoding/json"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgw/mcpgw/mux/catalog"
	"github.com/mcpgw/mcpgw/mux/proc"
)

// refresh lists what changed (or everything) and stores the snapshot. fc,
// when set, is the fast path's connection to a stdio server: its tools are
// listed raw, so the agent is shown them as the server wrote them.
func (d *downstream) refresh(ctx context.Context, cs *mcp.ClientSession, fc *fastCalls, tools, prompts, resources bool) error {
	d.mu.Lock()
	var snap catalog.Snapshot
	if d.snap != nil {
		snap = *d.snap
	}
	d.mu.Unlock()
	init := cs.InitializeResult()
	caps := &mcp.ServerCapabilities{}
	if init != nil && init.Capabilities != nil {
		caps = init.Capabilities
		snap.ProtocolVersion = init.ProtocolVersion
		snap.Instructions = init.Instructions
	}
	snap.Caps = caps
	// A stdio server is listed raw, on the fast path's connection, when the
	// fast path speaks its version.
	own := fc.metaFor(snap.ProtocolVersion >= ProtocolV20260728)
	raw := fc != nil && !d.gw.opts.NoFastPath && (own != nil || snap.ProtocolVersion < ProtocolV20260728)
	var err error
	if tools && caps.Tools != nil {
		snap.RawTools = nil
		if raw {
			snap.Tools, snap.RawTools, err = listRaw[mcp.Tool](ctx, d.gw, fc, own, "tools/list", "tools")
		} else {
			snap.Tools, err = collect(cs.Tools(ctx, nil))
		}
		if err != nil {
			return fmt.Errorf("listing tools: %w", err)
		}
		snap.Tools = catalog.FilterTools(snap.Tools, d.spec.AllowTools, d.spec.DenyTools)
	}
	if prompts && caps.Prompts != nil {
		snap.RawPrompts = nil
		if raw {
			snap.Prompts, snap.RawPrompts, err = listRaw[mcp.Prompt](ctx, d.gw, fc, own, "prompts/list", "prompts")
		} else {
			snap.Prompts, err = collect(cs.Prompts(ctx, nil))
		}
		if err != nil {
			return fmt.Errorf("listing prompts: %w", err)
		}
	}
	if resources && caps.Resources != nil {
		snap.RawResources, snap.RawTemplates = nil, nil
		if raw {
			snap.Resources, snap.RawResources, err = listRaw[mcp.Resource](ctx, d.gw, fc, own, "resources/list", "resources")
		} else {
			snap.Resources, err = collect(cs.Resources(ctx, nil))
		}
		if err != nil {
			return fmt.Errorf("listing resources: %w", err)
		}
		if raw {
			snap.Templates, snap.RawTemplates, err = listRaw[mcp.ResourceTemplate](ctx, d.gw, fc, own, "resources/templates/list", "resourceTemplates")
		} else {
			snap.Templates, err = collect(cs.ResourceTemplates(ctx, nil))
		}
		if err != nil {
			return fmt.Errorf("listing resource templates: %w", err)
		}
	}
	d.mu.Lock()
	d.snap = &snap
	d.saveCached(&snap, d.told)
	d.mu.Unlock()
	return nil
}

// listRaw lists a stdio server's items of a paginated list method (field
// names them in each page) the fast path's way, following nextCursor: each
// item decoded, and its own bytes. own is the _meta a 2026-07-28 server
// takes.
func listRaw[T any](ctx context.Context, g *Gateway, fc *fastCalls, own []byte, method, field string) ([]*T, map[*T]json.RawMessage, error) {
	var items []*T
	raws := map[*T]json.RawMessage{}
	cursor := ""
	for {
		id := fastIDPrefix + strconv.FormatUint(fc.seq.Add(1), 10)
		req := make([]byte, 0, 128+len(cursor)+len(own))
		req = append(req, `{"jsonrpc":"2.0","id":"`...)
		req = append(req, id...)
		req = append(req, `","method":`...)
		req = strconv.AppendQuote(req, method)
		req = append(req, `,"params":{`...)
		if cursor != "" {
			req = append(req, `"cursor":`...)
			req = strconv.AppendQuote(req, cursor)
			req = appendMeta(req, nil, own)
		} else {
			req = appendMetaFirst(req, nil, own)
		}
		req = append(req, "}}"...)
		result, err, timedOut := g.roundTrip(ctx, fc, id, req, time.Hour, "") // ctx bounds it
		if timedOut || err == nil && result == nil {
			return nil, nil, errors.New("no answer")
		}
		if err != nil {
			return nil, nil, err
		}
		var page map[string]segjson.RawMessage
		if _, err := segjson.Parse(result, &page, 0); err != nil {
			return nil, nil, err
		}
		var list []segjson.RawMessage
		if _, err := segjson.Parse(page[field], &list, 0); err != nil && page[field] != nil {
			return nil, nil, err
		}
		for _, b := range list {
			raw := json.RawMessage(bytes.Clone(b))
			v := new(T)
			if err := json.Unmarshal(raw, v); err != nil {
				return nil, nil, fmt.Errorf("%s: %w", method, err)
			}
			items = append(items, v)
			raws[v] = raw
		}
		if err := json.Unmarshal(page["nextCursor"], &cursor); err != nil || cursor == "" {
			return items, raws, nil
		}
	}
}

// collect drains a paginated list; the SDK's iterators follow nextCursor.
func collect[T any](seq func(func(*T, error) bool)) ([]*T, error) {
	var out []*T
	for v, err := range seq {
		if err != nil {
			return out, err
		}
		out = append(out, v)
	}
	return out, nil
}

// firstList lists a new session's catalog under the connect deadline: a
// server that answers initialize but not its lists must not hold up its
// start, and everyone waiting for the first attempts, for ever.
func (d *downstream) firstList(ctx context.Context, cs *mcp.ClientSession, proc *proc.Process) error {
	lctx, cancel := context.WithTimeout(ctx, d.spec.ConnectTimeout)
	defer cancel()
	d.mu.Lock()
	fc := d.nextFast // the fast path's connection, published once ready
	d.mu.Unlock()
	err := d.refresh(lctx, cs, fc, true, true, true)
	if err != nil && ctx.Err() == nil && errors.Is(lctx.Err(), context.DeadlineExceeded) {
		what, _, _ := strings.Cut(err.Error(), ":") // "listing tools"
		return fmt.Errorf("%s: no answer within %s%s", what, d.spec.ConnectTimeout, proc.StderrHint())
	}
	return err
}

// onListChanged re-lists one kind of feature after the server said it
// changed, then rebuilds the merged catalog (which notifies the agent).
func (d *downstream) onListChanged(tools, prompts, resources bool) {
	d.mu.Lock()
	cs := d.cs
	d.mu.Unlock()
	if cs == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), d.spec.ConnectTimeout)
	defer cancel()
	if err := d.refresh(ctx, cs, d.fast.Load(), tools, prompts, resources); err != nil {
		d.gw.logger.Warn("re-listing after list_changed", "server", d.spec.Name, "err", err)
		return
	}
	d.gw.rebuild()
}

// applyLogLevel gives a (re)started legacy server the level the agent set.
func (d *downstream) applyLogLevel(ctx context.Context, cs *mcp.ClientSession) {
	lvl := d.gw.logLevel.Load()
	init := cs.InitializeResult()
	if lvl == nil || init == nil || init.Capabilities == nil || init.Capabilities.Logging == nil || init.ProtocolVersion >= ProtocolV20260728 {
		return
	}
	// Bounded: the server's start is not settled until this returns.
	ctx, cancel := context.WithTimeout(ctx, d.spec.ConnectTimeout)
	defer cancel()
	if err := cs.SetLoggingLevel(ctx, &mcp.SetLoggingLevelParams{Level: *lvl}); err != nil {
		d.gw.logger.Warn("setting log level", "server", d.spec.Name, "err", err)
	}
}
