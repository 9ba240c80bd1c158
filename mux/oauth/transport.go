package oauth

import (
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/oauthex"
)

// Authorizer runs the authorization flow for a request the server refused
// (a 401 no stored login fixes, or a 403 asking for more scope), stores
// the new credentials, and reports whether to retry. It must close resp's
// body.
type Authorizer func(ctx context.Context, req *http.Request, resp *http.Response) error

// Transport attaches a server's access token to every request, from its
// [Source]. A 401 gets one refresh and one retry; one that persists, or a
// request with no login, fails with a [*NeedsLoginError] unless an
// Authorize hook (a login in a terminal) is set.
type Transport struct {
	Source *Source
	// Base sends the requests; nil means http.DefaultTransport.
	Base http.RoundTripper
	// Authorize, when set, runs the browser flow on a 401 that no stored
	// login fixes and, for a 403 insufficient_scope that names scopes the
	// login lacks, a step-up. Nil in serve: there a server needing a login
	// is in state needs_login until `mcpgw auth login` is run, or a call
	// logs it in through the agent (package mux's elicitlogin.go).
	Authorize Authorizer
	// StepUp, when set and Authorize is not, runs the browser flow for a
	// 403 insufficient_scope only: a command in a terminal may ask the
	// user for more scope, but not for a login they never gave.
	StepUp Authorizer
	// StepUpAllowed, when set, says whether StepUp may run for a request
	// (in serve: whether the agent behind the call can be asked to open
	// a URL); when it says no, or StepUp is nil, a 403 insufficient_scope
	// naming scopes the login lacks fails with a [*ScopeError].
	StepUpAllowed func(ctx context.Context) bool
	// LostLogin, when set, is called (on a goroutine of its own) when a
	// request finds the login gone: revoked, or refused by the server.
	LostLogin func(error)

	mu         sync.Mutex
	needsLogin error
}

// NeedsLogin returns the [*NeedsLoginError] of the last request that had
// no usable login, or nil when the last request had one.
func (t *Transport) NeedsLogin() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.needsLogin
}

func (t *Transport) setNeedsLogin(err error) {
	var nl *NeedsLoginError
	if err != nil && !errors.As(err, &nl) {
		return
	}
	t.mu.Lock()
	t.needsLogin = err
	t.mu.Unlock()
	if err != nil && t.LostLogin != nil {
		go t.LostLogin(err)
	}
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(r *http.Request) (*http.Response, error) {
	return t.roundTrip(r)
}

func (t *Transport) roundTrip(r *http.Request) (*http.Response, error) {
	ctx := r.Context()
	creds, err := t.Source.Token(ctx)
	var nl *NeedsLoginError
	if err != nil && !errors.As(err, &nl) {
		return nil, err
	}
	hadLogin := creds != nil
	resp, err := t.send(r, creds)
	if err != nil {
		return nil, err
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized && creds == nil && !bearerChallenge(resp):
		// Not an OAuth server's refusal (an API key header it does not
		// take, say): the server's answer, as without OAuth.
	case resp.StatusCode == http.StatusUnauthorized:
		if creds != nil {
			drain(resp)
			resp = nil
			creds, err = t.Source.Refresh(ctx, creds.AccessToken)
			if err == nil {
				if resp, err = t.send(r, creds); err != nil {
					return nil, err
				}
				if resp.StatusCode != http.StatusUnauthorized {
					break
				}
			}
		}
		if t.Authorize == nil {
			if resp != nil {
				drain(resp)
			}
			switch {
			case err != nil && !errors.As(err, &nl):
				return nil, err
			case err == nil && hadLogin:
				err = &NeedsLoginError{Server: t.Source.Server(), Why: "it refused the stored token, refreshed or not"}
			case err == nil:
				err = &NeedsLoginError{Server: t.Source.Server()}
			}
			t.setNeedsLogin(err)
			return nil, err
		}
		if err != nil && !errors.As(err, &nl) {
			return nil, err
		}
		if resp == nil { // the refresh failed: ask the server again for its challenge
			if resp, err = t.send(r, nil); err != nil {
				return nil, err
			}
			if resp.StatusCode != http.StatusUnauthorized {
				break
			}
		}
		return t.authorizeAndRetry(r, resp)
	case resp.StatusCode == http.StatusForbidden && creds != nil && t.wantsMoreScope(resp, creds):
		if t.stepUp() != nil && (t.Authorize != nil || t.StepUpAllowed == nil || t.StepUpAllowed(ctx)) {
			return t.authorizeAndRetry(r, resp)
		}
		drain(resp)
		return nil, &ScopeError{Server: t.Source.Server(), Scopes: WantedScopes(resp, creds)}
	}
	t.setNeedsLogin(nil)
	return resp, nil
}

// authorizeAndRetry runs the authorization flow for resp and sends r once
// more with what it stored.
func (t *Transport) authorizeAndRetry(r *http.Request, resp *http.Response) (*http.Response, error) {
	authorize := t.Authorize
	if resp.StatusCode == http.StatusForbidden {
		authorize = t.stepUp()
	}
	if err := authorize(r.Context(), r, resp); err != nil {
		return nil, err
	}
	t.Source.Reset()
	creds, err := t.Source.Token(r.Context())
	if err != nil {
		return nil, err
	}
	t.setNeedsLogin(nil)
	return t.send(r, creds)
}

func (t *Transport) stepUp() Authorizer {
	if t.Authorize != nil {
		return t.Authorize
	}
	return t.StepUp
}

// wantsMoreScope reports whether a 403 is insufficient_scope naming scopes
// the login was not granted: a step-up can help. A server that refuses
// scopes already granted will refuse them again, so it gets no new
// authorization (the bound on step-up retries).
func (t *Transport) wantsMoreScope(resp *http.Response, creds *Credentials) bool {
	cs, err := oauthex.ParseWWWAuthenticate(resp.Header.Values("WWW-Authenticate"))
	if err != nil {
		return false
	}
	for _, c := range cs {
		if c.Scheme != "bearer" || c.Params["error"] != "insufficient_scope" {
			continue
		}
		for _, s := range strings.Fields(c.Params["scope"]) {
			if !slices.Contains(creds.Scopes, s) {
				return true
			}
		}
	}
	return false
}

// WantedScopes is the union of the scopes creds were granted and those a
// 403 insufficient_scope challenge in resp names: what a step-up asks for.
func WantedScopes(resp *http.Response, creds *Credentials) []string {
	scopes := slices.Clone(creds.Scopes)
	cs, _ := oauthex.ParseWWWAuthenticate(resp.Header.Values("WWW-Authenticate"))
	for _, c := range cs {
		if c.Scheme != "bearer" || c.Params["error"] != "insufficient_scope" {
			continue
		}
		for _, s := range strings.Fields(c.Params["scope"]) {
			if !slices.Contains(scopes, s) {
				scopes = append(scopes, s)
			}
		}
	}
	return scopes
}

// bearerChallenge reports whether resp challenges for a Bearer token, as
// an OAuth-protected MCP server does. A 401 with no challenge at all
// counts as one (the 2025-03-26 spec's servers may send none).
func bearerChallenge(resp *http.Response) bool {
	h := resp.Header.Values("WWW-Authenticate")
	if len(h) == 0 {
		return true
	}
	cs, err := oauthex.ParseWWWAuthenticate(h)
	if err != nil {
		return false
	}
	return slices.ContainsFunc(cs, func(c oauthex.Challenge) bool { return c.Scheme == "bearer" })
}

// send sends r (again: its body is re-read) with creds' token, if any.
func (t *Transport) send(r *http.Request, creds *Credentials) (*http.Response, error) {
	r2 := r.Clone(r.Context())
	if r.Body != nil && r.GetBody != nil {
		body, err := r.GetBody()
		if err != nil {
			return nil, err
		}
		r2.Body = body
	}
	if creds != nil && creds.AccessToken != "" {
		typ := creds.TokenType
		if typ == "" || strings.EqualFold(typ, "bearer") {
			typ = "Bearer"
		}
		r2.Header.Set("Authorization", typ+" "+creds.AccessToken)
	}
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	return base.RoundTrip(r2)
}

func drain(resp *http.Response) {
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
}
