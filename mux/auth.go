package mux

// Caller authentication on the HTTP front. Options.Authenticate checks
// every request before anything reads it; a caller it names travels in the
// request's context and, through the SDK's bearer-token middleware, in
// every JSON-RPC request's RequestExtra.TokenInfo. The SDK binds a session
// to the credential that opened it (a request of the session with another
// gets 403), and noteCaller remembers each session's caller, which is then
// the identity of every call of that session (agentSession.Identity).

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// ErrNoCredential is what [Options].Authenticate returns (wrapped) for a
// request that presents no credential where one is required: the 401
// challenge then names no error, as RFC 6750 asks.
var ErrNoCredential = errors.New("no credential")

// callerExtraKey holds the *Caller in the SDK's TokenInfo.Extra.
const callerExtraKey = "io.mcpgw/caller"

type callerCtxKey struct{}

// authenticate runs Options.Authenticate on r. It returns the request to
// serve (with the caller in its context) and the caller, or ok false when
// it answered 401 itself.
func (g *Gateway) authenticate(w http.ResponseWriter, r *http.Request) (_ *http.Request, _ *Caller, ok bool) {
	if g.opts.Authenticate == nil {
		return r, nil, true
	}
	c, err := g.opts.Authenticate(r)
	if err != nil {
		challenge := `Bearer realm="mcpgw"`
		if !errors.Is(err, ErrNoCredential) {
			challenge += `, error="invalid_token", error_description=` + quoteParam(err.Error())
		}
		w.Header().Set("WWW-Authenticate", challenge)
		http.Error(w, "Unauthorized: "+err.Error(), http.StatusUnauthorized)
		return nil, nil, false
	}
	if c == nil {
		return r, nil, true
	}
	cc := *c
	cc.Identity.Verified = true
	return r.WithContext(context.WithValue(r.Context(), callerCtxKey{}, &cc)), &cc, true
}

// quoteParam quotes s as an auth-param value (RFC 9110 quoted-string),
// dropping characters a header cannot carry.
func quoteParam(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f || r > 0x7e:
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// withCallerToken wraps an SDK handler for authenticated requests: the
// SDK's bearer middleware puts the caller into its TokenInfo, which the
// SDK hands to every request (RequestExtra) and checks a session's later
// requests against (same UserID, else 403).
func withCallerToken(h http.Handler) http.Handler {
	verify := func(ctx context.Context, _ string, _ *http.Request) (*auth.TokenInfo, error) {
		c, _ := ctx.Value(callerCtxKey{}).(*Caller)
		if c == nil {
			return nil, auth.ErrInvalidToken // not reached: only authenticated requests come here
		}
		return &auth.TokenInfo{UserID: c.ID, Extra: map[string]any{callerExtraKey: c}}, nil
	}
	return auth.RequireBearerToken(verify, &auth.RequireBearerTokenOptions{AllowMissingExpiration: true})(h)
}

// callerOf returns the caller an HTTP request's context holds, or nil.
func callerOf(ctx context.Context) *Caller {
	c, _ := ctx.Value(callerCtxKey{}).(*Caller)
	return c
}

// sessionCallers maps each authenticated agent session to its caller,
// until the session ends.
type sessionCallers struct{ m sync.Map } // *mcp.ServerSession → *Caller

func (s *sessionCallers) get(ss *mcp.ServerSession) *Caller {
	if v, ok := s.m.Load(ss); ok {
		return v.(*Caller)
	}
	return nil
}

// noteCaller is receiving middleware (outermost, so before any handler
// makes a call): it remembers the caller of each authenticated session.
func (g *Gateway) noteCaller(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		if ex := req.GetExtra(); ex != nil && ex.TokenInfo != nil {
			if c, ok := ex.TokenInfo.Extra[callerExtraKey].(*Caller); ok {
				if ss, ok := req.GetSession().(*mcp.ServerSession); ok {
					if _, had := g.callers.m.LoadOrStore(ss, c); !had {
						go func() {
							ss.Wait()
							g.callers.m.Delete(ss)
						}()
					}
				}
			}
		}
		return next(ctx, method, req)
	}
}

// assertionCtxKey holds the identity assertion of the request a context
// belongs to.
type assertionCtxKey struct{}

// assertion is a signed identity assertion on its way to a server: in
// _meta for a stdio server, in a header for a remote one.
type assertion struct {
	server string
	token  string
	header bool
}

// metaAssertionKey carries the identity assertion to stdio servers;
// assertionHeader to remote ones.
const (
	metaAssertionKey = "io.mcpgw/assertion"
	assertionHeader  = "X-MCPGW-Identity-Assertion"
)

// withAssertion returns ctx carrying c's identity assertion for d when d
// asks for one and the identity is verified; an error when it cannot be
// signed (the request must then fail: the server asked for proof).
func (g *Gateway) withAssertion(ctx context.Context, c *call, d *downstream) (context.Context, error) {
	if g.opts.SignAssertion == nil || d == nil || !d.spec.AssertIdentity || !c.Identity.Verified || c.Identity.User == "" {
		return ctx, nil
	}
	if a, ok := ctx.Value(assertionCtxKey{}).(*assertion); ok && a.server == d.spec.Name {
		return ctx, nil
	}
	tok, err := g.opts.SignAssertion(d.spec.Name, c.Identity)
	if err != nil {
		return ctx, err
	}
	return context.WithValue(ctx, assertionCtxKey{}, &assertion{server: d.spec.Name, token: tok, header: d.spec.URL != ""}), nil
}

// assertionOf returns the assertion ctx carries, or nil.
func assertionOf(ctx context.Context) *assertion {
	a, _ := ctx.Value(assertionCtxKey{}).(*assertion)
	return a
}
