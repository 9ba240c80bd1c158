package mux

// Forwarding of everything but tools/call: prompts, resources, completion,
// subscriptions and the log level, each routed to the server that owns it.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgw/mcpgw/logs"
	"github.com/mcpgw/mcpgw/mux/callpath"
	"github.com/mcpgw/mcpgw/mux/catalog"
)

// getPrompt governs, forwards and records prompts/get.
func (g *Gateway) getPrompt(ctx context.Context, req *mcp.GetPromptRequest) (mcp.Result, error) {
	rt, ok := g.cat.Load().Prompt(req.Params.Name)
	if !ok {
		return nil, &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: fmt.Sprintf("unknown prompt %q", req.Params.Name)}
	}
	var args json.RawMessage
	if req.Params.Arguments != nil {
		args, _ = json.Marshal(req.Params.Arguments)
	}
	c := g.newCall(callpath.PromptGet, req.Session, req.Params.Name, rt, args)
	c.request, _ = json.Marshal(req.Params)
	out := g.govern(ctx, c, func(ctx context.Context, c *call) outcome {
		p := *req.Params
		p.Name = c.Name
		if !bytes.Equal(c.Params, args) {
			// A stage masked an argument (input: redact): the server gets
			// the arguments as they are now, and the record says so.
			p.Arguments = nil
			if err := json.Unmarshal(c.Params, &p.Arguments); err != nil {
				return c.fail(logs.StatusError, fmt.Errorf("prompt arguments after the request checks: %w", err))
			}
			c.request, _ = json.Marshal(&p)
		}
		return g.forwardOther(ctx, c, "prompts/get", &p, req.Params.Meta, func(ctx context.Context, cs *mcp.ClientSession, meta mcp.Meta) (mcp.Result, error) {
			p.Meta = meta
			return cs.GetPrompt(ctx, &p)
		})
	})
	out = g.recordCall(ctx, c, out, time.Now())
	return out.result()
}

// promptHandler is getPrompt for the SDK, which prompts are registered with
// (upstreamMiddleware answers prompts/get before it).
func (g *Gateway) promptHandler(ctx context.Context, req *mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
	return typed[mcp.GetPromptResult](g.getPrompt(ctx, req))
}

func (g *Gateway) sessionOf(ctx context.Context, server string) (*mcp.ClientSession, *downstream, error) {
	d := g.downstream(server)
	if d == nil {
		return nil, nil, fmt.Errorf("server %q is no longer configured", server)
	}
	cs, err := d.session(ctx)
	return cs, d, err
}

// forwardOther forwards a request other than tools/call to c's server:
// raw to a stdio server that speaks the agent's protocol generation, so the
// agent gets the server's own bytes (no field added or dropped, nothing
// re-ordered); else through the SDK's client (viaSDK, given the _meta to
// send). params are the request's params with the server's own names, and
// in the agent's _meta.
func (g *Gateway) forwardOther(ctx context.Context, c *call, method string, params mcp.Params, in mcp.Meta, viaSDK func(context.Context, *mcp.ClientSession, mcp.Meta) (mcp.Result, error)) outcome {
	cs, d, err := g.sessionOf(ctx, c.Server)
	if err != nil {
		return c.fail(logs.StatusUnavailable, err)
	}
	meta, token := g.downstreamMeta(ctx, d.speaksNew(), in, d.forwarded(c.Identity), c.agent.ss)
	defer g.progress.remove(token)
	fc, upgrade, ok := g.rawConnOther(d, c.agent.ss)
	if ok {
		params.SetMeta(nil)
		b, err := json.Marshal(params)
		if err != nil {
			return c.fail(logs.StatusError, err)
		}
		id := fastIDPrefix + strconv.FormatUint(fc.seq.Add(1), 10)
		req := make([]byte, 0, 64+len(method)+len(b))
		req = append(req, `{"jsonrpc":"2.0","id":"`...)
		req = append(req, id...)
		req = append(req, `","method":`...)
		req = strconv.AppendQuote(req, method)
		req = append(req, `,"params":`...)
		req = append(req, b[:len(b)-1]...) // without its '}'
		if len(b) == 2 {                   // {}: no field for the meta to follow
			req = appendMetaFirst(req, meta, fc.metaFor(d.speaksNew()))
		} else {
			req = appendMeta(req, meta, fc.metaFor(d.speaksNew()))
		}
		req = append(req, "}}"...)
		raw, err, timedOut := g.roundTrip(ctx, fc, id, req, d.spec.CallTimeout, token)
		var jerr *jsonrpc.Error
		switch {
		case timedOut:
			return c.fail(logs.StatusTimeout, fmt.Errorf("server %q did not answer %s within %s", d.spec.Name, method, d.spec.CallTimeout))
		case errors.As(err, &jerr):
			return outcome{err: jerr}
		case err != nil && ctx.Err() != nil:
			return outcome{err: ctx.Err()}
		case err != nil:
			return c.fail(logs.StatusUnavailable, fmt.Errorf("server %q failed on %s: %w", d.spec.Name, method, err))
		}
		if upgrade {
			raw = upgraded(method, raw)
		}
		return outcome{raw: raw}
	}
	ctx, cancel := context.WithTimeout(ctx, d.spec.CallTimeout)
	defer cancel()
	res, err := viaSDK(ctx, cs, meta)
	if err != nil {
		return outcome{err: err}
	}
	return outcome{res: res}
}

// rawConn returns the fast path's connection to d when a request of the
// agent session ss can go to it raw: d is a stdio server that speaks the
// agent's protocol generation (and, at 2026-07-28, mcpgw knows what it tells
// it per request).
func (g *Gateway) rawConn(d *downstream, ss *mcp.ServerSession) (*fastCalls, bool) {
	fc := d.fast.Load()
	if fc == nil || g.opts.NoFastPath || ss == nil {
		return nil, false
	}
	agentNew := agentSpeaksNew(ss)
	if d.speaksNew() != agentNew || agentNew && fc.meta26.Load() == nil {
		return nil, false
	}
	return fc, true
}

// rawConnOther is rawConn for requests other than tools/call, which may
// also go raw from a 2026-07-28 agent to an older stdio server: its result
// is the newer one's but for resultType (upgrade: add it), where the SDK
// would drop what it does not know (hasMore:false, say). The other way, a
// newer server's result has fields an older agent's version lacks: the
// SDK's path drops them.
func (g *Gateway) rawConnOther(d *downstream, ss *mcp.ServerSession) (fc *fastCalls, upgrade, ok bool) {
	if fc, ok := g.rawConn(d, ss); ok {
		return fc, false, true
	}
	fc = d.fast.Load()
	if fc == nil || g.opts.NoFastPath || ss == nil || !agentSpeaksNew(ss) || d.speaksNew() {
		return nil, false, false
	}
	return fc, true, true
}

// upgraded is an older server's result of method as a 2026-07-28 result:
// with what that version requires and the older one lacks, resultType
// ("complete") and, on resources/read, the cache fields (the SDK's values
// when a server sets none).
func upgraded(method string, raw json.RawMessage) json.RawMessage {
	if len(raw) < 2 || raw[0] != '{' {
		return raw
	}
	var add []byte
	if _, _, has := catalog.TopLevelString(raw, "resultType"); !has {
		add = append(add, `"resultType":"complete"`...)
	}
	if _, _, has := catalog.TopLevelString(raw, "cacheScope"); method == "resources/read" && !has {
		if len(add) > 0 {
			add = append(add, ',')
		}
		add = append(add, `"ttlMs":0,"cacheScope":"public"`...)
	}
	if len(add) == 0 {
		return raw
	}
	out := make([]byte, 0, len(raw)+len(add)+2)
	out = append(out, '{')
	out = append(out, add...)
	if rest := bytes.TrimLeft(raw[1:], " \t\r\n"); len(rest) > 0 && rest[0] != '}' {
		out = append(out, ',')
	}
	return append(out, raw[1:]...)
}

// resourceHandler is readResource for the SDK, which resources are
// registered with (upstreamMiddleware answers resources/read before it).
func (g *Gateway) resourceHandler(ctx context.Context, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
	return typed[mcp.ReadResourceResult](g.readResource(ctx, req.Session, req.Params))
}

// readResource governs, forwards and records a resources/read: to the
// server that lists the URI or a template matching it, else to the server
// whose tool returned it (a resource_link).
func (g *Gateway) readResource(ctx context.Context, ss *mcp.ServerSession, params *mcp.ReadResourceParams) (mcp.Result, error) {
	server, ok := g.cat.Load().ResourceOwner(params.URI)
	if !ok {
		if server, ok = g.links.owner(params.URI); !ok {
			return nil, &jsonrpc.Error{
				Code:    mcp.CodeResourceNotFound,
				Message: fmt.Sprintf("resource %q is not listed by any server behind mcpgw and no tool returned it; list resources to see what can be read", params.URI),
				Data:    json.RawMessage(fmt.Sprintf(`{"uri":%q}`, params.URI)),
			}
		}
	}
	c := g.newCall(callpath.ResourceRead, ss, params.URI, catalog.Route{Server: server, Name: params.URI}, nil)
	c.request, _ = json.Marshal(params)
	out := g.govern(ctx, c, func(ctx context.Context, c *call) outcome {
		p := *params
		return g.forwardOther(ctx, c, "resources/read", &p, params.Meta, func(ctx context.Context, cs *mcp.ClientSession, meta mcp.Meta) (mcp.Result, error) {
			p.Meta = meta
			return cs.ReadResource(ctx, &p)
		})
	})
	out = g.recordCall(ctx, c, out, time.Now())
	return out.result()
}

// complete is completeRaw for the SDK, which completion is registered with
// (upstreamMiddleware answers it before the SDK does).
func (g *Gateway) complete(ctx context.Context, req *mcp.CompleteRequest) (*mcp.CompleteResult, error) {
	return typed[mcp.CompleteResult](g.completeRaw(ctx, req))
}

// completeRaw routes completion/complete to the prompt's or template's
// owner. It passes no stage and is not recorded: a completion carries
// nothing a policy decides on.
func (g *Gateway) completeRaw(ctx context.Context, req *mcp.CompleteRequest) (mcp.Result, error) {
	p := *req.Params
	ref := *p.Ref
	var server string
	switch ref.Type {
	case "ref/prompt":
		r, ok := g.cat.Load().Prompt(ref.Name)
		if !ok {
			return nil, &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: fmt.Sprintf("unknown prompt %q", ref.Name)}
		}
		server, ref.Name = r.Server, r.Name
	case "ref/resource":
		s, ok := g.cat.Load().TemplateOwner(ref.URI)
		if !ok {
			return nil, &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: fmt.Sprintf("unknown resource %q", ref.URI)}
		}
		server = s
	default:
		return nil, &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: fmt.Sprintf("unknown reference type %q", ref.Type)}
	}
	p.Ref = &ref
	c := g.newCall(0, req.Session, "", catalog.Route{Server: server}, nil)
	out := g.forwardOther(ctx, c, "completion/complete", &p, req.Params.Meta, func(ctx context.Context, cs *mcp.ClientSession, meta mcp.Meta) (mcp.Result, error) {
		p.Meta = meta
		return cs.Complete(ctx, &p)
	})
	return out.result()
}

// subscribe forwards resources/subscribe to the owner once per URI, however
// many agent sessions subscribe.
func (g *Gateway) subscribe(ctx context.Context, req *mcp.SubscribeRequest) error {
	server, ok := g.cat.Load().ResourceOwner(req.Params.URI)
	if !ok {
		if server, ok = g.links.owner(req.Params.URI); !ok {
			return mcp.ResourceNotFoundError(req.Params.URI)
		}
	}
	cs, d, err := g.sessionOf(ctx, server)
	if err != nil {
		return err
	}
	d.mu.Lock()
	d.subs[req.Params.URI]++
	first := d.subs[req.Params.URI] == 1
	d.mu.Unlock()
	if !first {
		return nil
	}
	if err := cs.Subscribe(ctx, &mcp.SubscribeParams{URI: req.Params.URI}); err != nil {
		d.mu.Lock()
		d.subs[req.Params.URI]--
		d.mu.Unlock()
		return err
	}
	return nil
}

func (g *Gateway) unsubscribe(ctx context.Context, req *mcp.UnsubscribeRequest) error {
	server, ok := g.cat.Load().ResourceOwner(req.Params.URI)
	if !ok {
		if server, ok = g.links.owner(req.Params.URI); !ok {
			return nil
		}
	}
	cs, d, err := g.sessionOf(ctx, server)
	if err != nil {
		return err
	}
	d.mu.Lock()
	n := d.subs[req.Params.URI] - 1
	if n <= 0 {
		delete(d.subs, req.Params.URI)
	} else {
		d.subs[req.Params.URI] = n
	}
	d.mu.Unlock()
	if n > 0 {
		return nil
	}
	return cs.Unsubscribe(ctx, &mcp.UnsubscribeParams{URI: req.Params.URI})
}

// setLevel fans logging/setLevel out to every ready server that logs, and
// remembers the level for servers that start later or take it per request.
func (g *Gateway) setLevel(ctx context.Context, level mcp.LoggingLevel) {
	g.logLevel.Store(&level)
	g.mu.Lock()
	ds := make([]*downstream, 0, len(g.servers))
	for _, d := range g.servers {
		ds = append(ds, d)
	}
	g.mu.Unlock()
	var wg sync.WaitGroup
	for _, d := range ds {
		d.mu.Lock()
		cs, snap := d.cs, d.snap
		d.mu.Unlock()
		if cs == nil || snap == nil || snap.Caps.Logging == nil || snap.ProtocolVersion >= ProtocolV20260728 {
			continue
		}
		wg.Go(func() {
			if err := cs.SetLoggingLevel(ctx, &mcp.SetLoggingLevelParams{Level: level}); err != nil {
				g.logger.Warn("setting log level", "server", d.spec.Name, "err", err)
			}
		})
	}
	wg.Wait()
}
