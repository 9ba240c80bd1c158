package mux

// Logins through the agent: a remote server whose oauth: settings allow it
// (elicit_login) and whose login is missing, revoked or short of scope
// asks the agent behind the call, when it supports URL-mode elicitation,
// to open the authorization page; the redirect comes back to a loopback
// listener in this process, as with `mcpgw auth login`. An agent speaking
// 2026-07-28 cannot be sent requests: it gets the page as input_required
// (logininput.go); a step-up for more scope is not offered to it, and it
// gets the command to run.

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgw/mcpgw/mux/oauth"
)

// loginWait bounds a login through the agent: from the elicitation to the
// redirect, and the server's first answer with the new token.
const loginWait = 5 * time.Minute

// agentSessionKey carries a call's agent session to the remote server's
// transport, where a step-up asks it to open a URL.
type agentSessionKey struct{}

func withAgentSession(ctx context.Context, ss *mcp.ServerSession) context.Context {
	if ss == nil {
		return ctx
	}
	return context.WithValue(ctx, agentSessionKey{}, ss)
}

func agentSessionFrom(ctx context.Context) *mcp.ServerSession {
	ss, _ := ctx.Value(agentSessionKey{}).(*mcp.ServerSession)
	return ss
}

// agentTakesURL reports whether the agent declared URL-mode elicitation
// and can be sent requests (it speaks a version before 2026-07-28).
func agentTakesURL(ss *mcp.ServerSession) bool {
	if ss == nil {
		return false
	}
	ip := ss.InitializeParams()
	if ip == nil || ip.ProtocolVersion >= ProtocolV20260728 || ip.Capabilities == nil || ip.Capabilities.Elicitation == nil {
		return false
	}
	return ip.Capabilities.Elicitation.URL != nil
}

// elicitsLogin reports whether spec allows logins through the agent.
func (g *Gateway) elicitsLogin(spec ServerSpec) bool {
	o := g.opts.OAuth
	return o != nil && o.Store != nil && spec.URL != "" && spec.OAuth != nil && spec.OAuth.ElicitLogin
}

// agentOpener asks an agent to open authorization URLs, and tells it when
// the logins they started have ended.
type agentOpener struct {
	ss     *mcp.ServerSession
	server string
	why    string
	ids    []string
	// refused is the answer of an agent that declined or failed: the
	// flow's further attempts (go-sdk closing the session it could not
	// open meets the same 401) get it rather than ask the person again.
	refused error
}

func (o *agentOpener) open(ctx context.Context, u string) error {
	if o.refused != nil {
		return o.refused
	}
	err := o.ask(ctx, u)
	o.refused = err
	return err
}

func (o *agentOpener) ask(ctx context.Context, u string) error {
	id := rand.Text()
	res, err := o.ss.Elicit(ctx, &mcp.ElicitParams{Mode: "url", URL: u, ElicitationID: id,
		Message: fmt.Sprintf("mcpgw: server %s %s. Open this page to authorize mcpgw; the call goes on once the page comes back.", o.server, o.why)})
	if err != nil {
		return fmt.Errorf("asking the agent to open the authorization page: %w", err)
	}
	if res.Action != "accept" {
		return fmt.Errorf("the agent did not open the authorization page (it answered %q)", res.Action)
	}
	o.ids = append(o.ids, id)
	return nil
}

// complete sends notifications/elicitation/complete for each page opened:
// the login it started has ended, stored or not.
func (o *agentOpener) complete(ctx context.Context) {
	for _, id := range o.ids {
		o.ss.NotifyElicitationComplete(ctx, &mcp.ElicitationCompleteParams{ElicitationID: id})
	}
	o.ids = nil
}

// loginOptions are the options of a login to the server of spec (its
// secrets resolved), in this process.
func (d *downstream) loginOptions(spec ServerSpec) oauth.LoginOptions {
	o := d.gw.opts.OAuth
	return oauth.LoginOptions{Server: spec.Name, URL: spec.URL, SSE: spec.Transport == "sse", Config: *spec.OAuth,
		Store: o.Store, LockDir: o.LockDir, HTTPClient: o.HTTPClient,
		Base: headerTransport{headers: spec.Headers, base: http.DefaultTransport},
		Name: d.gw.opts.Name, Version: d.gw.opts.Version, Seen: func(name, v string) { d.gw.secrets.Add(name, v) }}
}

// loginThroughAgent logs the server in, asking ss to open the login page,
// then has the run loop connect at once with the stored login and waits
// for that attempt to end (the catalog then holds its outcome). Logins
// are one at a time; one that another call finished is not repeated.
func (d *downstream) loginThroughAgent(ctx context.Context, ss *mcp.ServerSession) error {
	d.loginMu.Lock()
	defer d.loginMu.Unlock()
	if d.status().State != StateNeedsLogin {
		return nil
	}
	spec, err := d.gw.resolveSpec(ctx, d.spec)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, loginWait)
	defer cancel()
	op := &agentOpener{ss: ss, server: spec.Name, why: "needs you to log in"}
	lo := d.loginOptions(spec)
	lo.Open = op.open
	_, err = oauth.Login(ctx, lo)
	op.complete(context.WithoutCancel(ctx))
	return d.loggedIn(ctx, err)
}

// loggedIn follows a login through the agent that ended with err: once
// stored (or no longer needed), the server is connected at once, and a
// later loss of the login is offered again.
func (d *downstream) loggedIn(ctx context.Context, err error) error {
	if err != nil && !errors.Is(err, oauth.ErrNoLoginNeeded) {
		return err
	}
	d.gw.logger.Info("server logged in through the agent", "server", d.spec.Name)
	d.loginOffered.Store(false)
	return d.retryNow(ctx)
}

// offerLogins asks the agent that listed tools, when it takes URLs, to log
// in each server in needs_login that allows it, without holding up the
// list: the tools join through list_changed. Each server is offered once
// until a login succeeds, so an agent that declined is not asked at every
// list (a call to one of its tools still asks).
func (g *Gateway) offerLogins(ss *mcp.ServerSession) {
	if !agentTakesURL(ss) {
		return
	}
	for _, d := range g.downstreams() {
		if !g.elicitsLogin(d.spec) || d.status().State != StateNeedsLogin || !d.loginOffered.CompareAndSwap(false, true) {
			continue
		}
		go func() {
			if err := d.loginThroughAgent(context.Background(), ss); err != nil {
				g.logger.Warn("the login through the agent failed", "server", d.spec.Name, "err", g.redactErr(err))
			}
		}()
	}
}

// retryNow has the run loop, in needs_login, try to connect now rather
// than after its backoff, and waits for that attempt to end.
func (d *downstream) retryNow(ctx context.Context) error {
	d.mu.Lock()
	ready := d.ready
	d.mu.Unlock()
	done := make(chan struct{})
	select {
	case d.retry <- done:
		select {
		case <-done:
		case <-ctx.Done():
			return ctx.Err()
		}
	case <-ready:
		// An attempt under way when the login was stored took it: wait
		// for it to end, so the catalog has its tools.
		d.mu.Lock()
		attempt := d.attempt
		d.mu.Unlock()
		select {
		case <-attempt:
		case <-ctx.Done():
			return ctx.Err()
		}
	case <-ctx.Done():
		return ctx.Err()
	}
	return nil
}

// agentStepUp is the [oauth.Authorizer] of a server that allows logins
// through the agent: for a 403 insufficient_scope, it asks the call's
// agent to open the authorization page for the scopes the login has and
// those the server asks for.
func (d *downstream) agentStepUp(spec ServerSpec, src *oauth.Source) oauth.Authorizer {
	return func(ctx context.Context, req *http.Request, resp *http.Response) error {
		ss := agentSessionFrom(ctx)
		if ss == nil {
			resp.Body.Close()
			return errors.New("no agent to ask for more scope")
		}
		creds, err := src.Token(ctx)
		if err != nil {
			resp.Body.Close()
			return err
		}
		ctx, cancel := context.WithTimeout(ctx, loginWait)
		defer cancel()
		op := &agentOpener{ss: ss, server: spec.Name, why: "asks for more scope than its login has"}
		lo := d.loginOptions(spec)
		lo.Config.Scopes = oauth.WantedScopes(resp, creds)
		lo.Open = op.open
		su := oauth.NewStepUp(lo, src)
		defer su.Close()
		err = su.Authorize(ctx, req, resp)
		op.complete(context.WithoutCancel(ctx))
		return err
	}
}
