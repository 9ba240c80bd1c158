package mux

// What a server lists: its first listing, and re-listing on list_changed.

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgw/mcpgw/mux/catalog"
	"github.com/mcpgw/mcpgw/mux/proc"
)

// refresh lists what changed (or everything) and stores the snapshot.
func (d *downstream) refresh(ctx context.Context, cs *mcp.ClientSession, tools, prompts, resources bool) error {
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
	var err error
	if tools && caps.Tools != nil {
		if snap.Tools, err = collect(cs.Tools(ctx, nil)); err != nil {
			return fmt.Errorf("listing tools: %w", err)
		}
		snap.Tools = catalog.FilterTools(snap.Tools, d.spec.AllowTools, d.spec.DenyTools)
	}
	if prompts && caps.Prompts != nil {
		if snap.Prompts, err = collect(cs.Prompts(ctx, nil)); err != nil {
			return fmt.Errorf("listing prompts: %w", err)
		}
	}
	if resources && caps.Resources != nil {
		if snap.Resources, err = collect(cs.Resources(ctx, nil)); err != nil {
			return fmt.Errorf("listing resources: %w", err)
		}
		if snap.Templates, err = collect(cs.ResourceTemplates(ctx, nil)); err != nil {
			return fmt.Errorf("listing resource templates: %w", err)
		}
	}
	d.mu.Lock()
	d.snap = &snap
	d.saveCached(&snap, d.told)
	d.mu.Unlock()
	return nil
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
	err := d.refresh(lctx, cs, true, true, true)
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
	if err := d.refresh(ctx, cs, tools, prompts, resources); err != nil {
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
