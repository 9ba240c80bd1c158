package mux

// Forwarding of everything but tools/call: prompts, resources, completion,
// subscriptions and the log level, each routed to the server that owns it.

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgw/mcpgw/mux/callpath"
	"github.com/mcpgw/mcpgw/mux/catalog"
)

// promptHandler governs, forwards and records prompts/get.
func (g *Gateway) promptHandler(ctx context.Context, req *mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
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
		cs, d, err := g.sessionOf(ctx, c.Server)
		if err != nil {
			return outcome{err: err}
		}
		p := *req.Params
		p.Name = c.Name
		var token string
		p.Meta, token = g.downstreamMeta(ctx, d.speaksNew(), req.Params.Meta, c.Identity, req.Session)
		defer g.progress.remove(token)
		ctx, cancel := context.WithTimeout(ctx, d.spec.CallTimeout)
		defer cancel()
		res, err := cs.GetPrompt(ctx, &p)
		return outcome{res: res, err: err}
	})
	out = g.recordCall(ctx, c, out, time.Now())
	return decoded[mcp.GetPromptResult](&out)
}

func (g *Gateway) sessionOf(ctx context.Context, server string) (*mcp.ClientSession, *downstream, error) {
	d := g.downstream(server)
	if d == nil {
		return nil, nil, fmt.Errorf("server %q is no longer configured", server)
	}
	cs, err := d.session(ctx)
	return cs, d, err
}

// resourceHandler forwards resources/read to the URI's owner.
func (g *Gateway) resourceHandler(ctx context.Context, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
	server, ok := g.cat.Load().ResourceOwner(req.Params.URI)
	if !ok {
		return nil, mcp.ResourceNotFoundError(req.Params.URI)
	}
	return g.readFrom(ctx, server, req.Params, req.Session)
}

// readFrom governs, forwards and records a resources/read of server's.
func (g *Gateway) readFrom(ctx context.Context, server string, params *mcp.ReadResourceParams, ss *mcp.ServerSession) (*mcp.ReadResourceResult, error) {
	c := g.newCall(callpath.ResourceRead, ss, params.URI, catalog.Route{Server: server, Name: params.URI}, nil)
	c.request, _ = json.Marshal(params)
	out := g.govern(ctx, c, func(ctx context.Context, c *call) outcome {
		cs, d, err := g.sessionOf(ctx, c.Server)
		if err != nil {
			return outcome{err: err}
		}
		ctx, cancel := context.WithTimeout(ctx, d.spec.CallTimeout)
		defer cancel()
		p := *params
		var token string
		p.Meta, token = g.downstreamMeta(ctx, d.speaksNew(), params.Meta, c.Identity, ss)
		defer g.progress.remove(token)
		res, err := cs.ReadResource(ctx, &p)
		return outcome{res: res, err: err}
	})
	out = g.recordCall(ctx, c, out, time.Now())
	return decoded[mcp.ReadResourceResult](&out)
}

// readUnlisted routes a URI that no server listed (for example one from a
// resource_link) to the server whose tool produced it; handled is false when
// the SDK's own routing applies.
func (g *Gateway) readUnlisted(ctx context.Context, req mcp.Request, p *mcp.ReadResourceParams) (res mcp.Result, err error, handled bool) {
	if _, ok := g.cat.Load().ResourceOwner(p.URI); ok {
		return nil, nil, false
	}
	if server, ok := g.links.owner(p.URI); ok {
		r, err := g.readFrom(ctx, server, p, sessionOf(req))
		return r, err, true
	}
	return nil, &jsonrpc.Error{
		Code:    mcp.CodeResourceNotFound,
		Message: fmt.Sprintf("resource %q is not listed by any server behind mcpgw and no tool returned it; list resources to see what can be read", p.URI),
		Data:    json.RawMessage(fmt.Sprintf(`{"uri":%q}`, p.URI)),
	}, true
}

// complete routes completion/complete to the prompt's or template's owner.
func (g *Gateway) complete(ctx context.Context, req *mcp.CompleteRequest) (*mcp.CompleteResult, error) {
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
	cs, d, err := g.sessionOf(ctx, server)
	if err != nil {
		return nil, err
	}
	p.Ref = &ref
	p.Meta = nil
	ctx, cancel := context.WithTimeout(ctx, d.spec.CallTimeout)
	defer cancel()
	return cs.Complete(ctx, &p)
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
