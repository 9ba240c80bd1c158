package mux

// Logins through a 2026-07-28 agent. Such an agent cannot be sent a
// request, but it takes input_required: a call to a tool of a server in
// needs_login, which allows logins through the agent (oauth: elicit_login),
// from an agent that declares URL-mode elicitation, returns a URL-mode
// elicitation of the authorization page with mcpgw's signed request
// state. The login runs meanwhile and waits for the redirect on its
// loopback listener, as `mcpgw auth login` does. The agent's retry says
// whether it opened the page; it then waits for the login to end, and the
// call goes on with the server's tools listed again.

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgw/mcpgw/mux/oauth"
)

// loginInput is a login through a 2026-07-28 agent, parked until its
// retry.
type loginInput struct {
	d      *downstream
	id     string        // the input request's id
	done   chan struct{} // closed when the login ended
	err    error         // how it ended, once done is closed
	cancel func()        // gives the login up
}

type loginInputs = parked[*loginInput]

// agentTakesURLInput reports whether ss speaks 2026-07-28 and declared
// URL-mode elicitation, which it then takes as input_required.
func agentTakesURLInput(ss *mcp.ServerSession) bool {
	if ss == nil || !agentSpeaksNew(ss) {
		return false
	}
	c := agentCaps(ss)
	return c.Elicitation != nil && c.Elicitation.URL != nil
}

// startLoginInput starts a login of d and returns the input_required
// result that asks the agent to open its authorization page, or an error
// when the login could not start. A login needed no more (another process
// stored one) returns a nil result: the call goes on.
func (g *Gateway) startLoginInput(ctx context.Context, d *downstream) (*mcp.CallToolResult, error) {
	if !d.loginMu.TryLock() {
		return nil, errors.New("another login to this server is under way through an agent; finish it in the browser")
	}
	spec, err := g.resolveSpec(ctx, d.spec)
	if err != nil {
		d.loginMu.Unlock()
		return nil, err
	}
	lctx, cancel := context.WithTimeout(context.Background(), loginWait)
	li := &loginInput{d: d, id: "mcpgw-login-" + rand.Text()[:8], done: make(chan struct{}), cancel: cancel}
	urls := make(chan string, 1)
	lo := d.loginOptions(spec)
	lo.Open = func(_ context.Context, u string) error {
		select {
		case urls <- u:
			return nil
		default: // the flow asked twice: the agent has the first page
			return errors.New("the agent was already given the authorization page")
		}
	}
	go func() {
		_, err := oauth.Login(lctx, lo)
		err = d.loggedIn(lctx, err) // elicitlogin.go
		cancel()
		// Free for the next login before anyone hears this one ended: a
		// retry that declined goes on to a call that may ask again.
		d.loginMu.Unlock()
		li.err = err
		close(li.done)
		g.logins.drop(li) // an agent that never came back
	}()
	select {
	case u := <-urls:
		key := randomKey()
		g.logins.park(key, li)
		return &mcp.CallToolResult{
			InputRequests: mcp.InputRequestMap{li.id: &mcp.ElicitParams{Mode: "url", URL: u, ElicitationID: li.id,
				Message: fmt.Sprintf("mcpgw: server %s needs you to log in. Open this page to authorize mcpgw; the call goes on once the page comes back.", spec.Name)}},
			RequestState: signState(g.stateKey, key),
		}, nil
	case <-li.done:
		return nil, li.err
	case <-ctx.Done():
		cancel()
		return nil, ctx.Err()
	}
}

// resumeLoginInput takes the agent's answer to the login page in its retry
// req: accepted, it waits for the login to end; declined, it gives the
// login up.
func (g *Gateway) resumeLoginInput(ctx context.Context, req *mcp.CallToolRequest, li *loginInput) error {
	res, _ := req.Params.InputResponses[li.id].(*mcp.ElicitResult)
	if res == nil || res.Action != "accept" {
		li.cancel()
		select { // the login lets go of the server's listener and lock
		case <-li.done:
		case <-ctx.Done():
		}
		action := "nothing"
		if res != nil {
			action = fmt.Sprintf("%q", res.Action)
		}
		return fmt.Errorf("the agent did not open the authorization page (it answered %s)", action)
	}
	select {
	case <-li.done:
		return li.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// resumeLogin resumes the login r's request state names, if it names one:
// it returns r without mcpgw's state once the login is done, or the
// answer when it failed.
func (g *Gateway) resumeLogin(ctx context.Context, r *mcp.CallToolRequest) (*mcp.CallToolRequest, *outcome) {
	st := r.Params.RequestState
	if st == "" {
		return r, nil
	}
	li, ok := g.logins.resume(g.stateKey, st)
	if !ok {
		return r, nil
	}
	if err := g.resumeLoginInput(ctx, r, li); err != nil {
		out := g.loginFailed(ctx, r.Session, r.Params.Name, r.Params.Arguments, li.d, err)
		return r, &out
	}
	p := *r.Params
	p.RequestState, p.InputResponses = "", nil
	r2 := *r
	r2.Params = &p
	return &r2, nil
}
