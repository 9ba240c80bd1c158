package mux

// Who is calling, and how servers learn it.
//
// Every call's identity and profile come from one function,
// Options.Identify, asked with the call's agent session (the CLI's, a
// stdio agent's, an HTTP agent's): whatever knows the caller (the
// configuration and its profiles, a managed policy, an HTTP token) feeds
// it. Servers get that identity three ways, unless their spec turns
// forwarding off:
//
//   - in each request's _meta under io.mcpgw/identity (forward.go), the
//     call's own identity; an agent's io.mcpgw/* keys never pass;
//   - a remote server in HTTP headers on each request: the call's identity
//     on calls, the gateway's agent's on everything else;
//   - a stdio server in its environment, set when it starts: the identity
//     of the gateway's agent (the stdio agent, once it has said who it is;
//     else the CLI's, or, over HTTP, that of an agent that names none). A
//     server whose forwarded environment would change is restarted when
//     the configuration is applied again.

import (
	"context"
	"net/http"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgw/mcpgw/mux/callpath"
)

// Caller is who is calling in an agent session, as [Options].Identify
// says.
type Caller struct {
	// ID names the credential an HTTP caller presented, when
	// [Options].Authenticate named it (a token's id, never its value): all
	// the requests of one agent session must present the same one.
	ID string
	// Identity is who is calling; from a credential, marked Verified.
	Identity callpath.Identity
	// Profile names the agent profile the session runs under ("" for
	// none).
	Profile string
}

// IdentityForwarding is how one server gets the caller's identity. The
// zero value forwards it under the default names.
type IdentityForwarding struct {
	// Off sends the server nothing of the caller's identity: no
	// environment, no headers, no io.mcpgw/identity in _meta.
	Off bool
	// UserHeader, TeamHeader and RolesHeader name a remote server's
	// identity headers; empty means the default (DefaultUserHeader ...).
	UserHeader, TeamHeader, RolesHeader string
}

// The default identity headers of remote servers, and the environment of
// stdio servers. Roles are comma-separated.
const (
	DefaultUserHeader  = "X-MCPGW-User-Email"
	DefaultTeamHeader  = "X-MCPGW-User-Team"
	DefaultRolesHeader = "X-MCPGW-User-Roles"

	EnvUser  = "MCPGW_USER_EMAIL"
	EnvTeam  = "MCPGW_USER_TEAM"
	EnvRoles = "MCPGW_USER_ROLES"
)

// caller is who is calling in a: Options.Identify's answer, or
// Options.Identity.
func (g *Gateway) caller(a *agentSession) Caller {
	c := Caller{Identity: g.opts.Identity}
	if g.opts.Identify != nil {
		c = g.opts.Identify(a)
	}
	// A caller the HTTP front authenticated is who its credential names,
	// whatever config, environment or profile say (the profile, chosen by
	// the agent's name, still narrows what it sees).
	if auth := a.authenticated(); auth != nil {
		c.ID, c.Identity = auth.ID, auth.Identity
	}
	return c
}

// agentCaller is who the gateway's own agent is, for what servers are told
// outside any call (a stdio server's environment, a remote server's
// headers on lists): the stdio agent's, else that of the CLI (`mcpgw tools`, `mcpgw call`), or of no agent in particular
// (the HTTP front).
func (g *Gateway) agentCaller() Caller {
	if ss := g.stdioAgent.Load(); ss != nil {
		return g.caller(&agentSession{g: g, ss: ss})
	}
	return g.caller(&agentSession{g: g, cli: !g.httpMode.Load()})
}

// forwarded is the identity d is told: id, or nothing when d does not take
// it.
func (d *downstream) forwarded(id callpath.Identity) callpath.Identity {
	if d.spec.Identity.Off {
		return callpath.Identity{}
	}
	return id
}

// identityEnv is a stdio server's identity environment: KEY=VALUE entries
// for the parts of id that are known.
func identityEnv(id callpath.Identity) []string {
	var env []string
	if id.User != "" {
		env = append(env, EnvUser+"="+id.User)
	}
	if id.Team != "" {
		env = append(env, EnvTeam+"="+id.Team)
	}
	if len(id.Roles) > 0 {
		env = append(env, EnvRoles+"="+strings.Join(id.Roles, ","))
	}
	return env
}

// envIdentityStale reports whether d runs with an identity in its
// environment other than the one it would be given now.
func (d *downstream) envIdentityStale(now callpath.Identity) bool {
	if d.spec.Command == "" || d.spec.Identity.Off {
		return false
	}
	had := d.envID.Load()
	return had != nil && !sameIdentity(*had, now)
}

func sameIdentity(a, b callpath.Identity) bool {
	return a.User == b.User && a.Team == b.Team && strings.Join(a.Roles, ",") == strings.Join(b.Roles, ",")
}

// callerKey carries a call's identity to a remote server's header
// transport, through the SDK's client, on the request's context.
type callerKey struct{}

func withCaller(ctx context.Context, id callpath.Identity) context.Context {
	return context.WithValue(ctx, callerKey{}, id)
}

// identityHeaders adds the caller's identity to each request to a remote
// server: the call's, from the request's context, else the gateway's
// agent's. mcpgw's headers replace any of the same name.
type identityHeaders struct {
	g                 *Gateway
	user, team, roles string
	base              http.RoundTripper
}

func newIdentityHeaders(g *Gateway, f IdentityForwarding, base http.RoundTripper) identityHeaders {
	or := func(s, def string) string {
		if s == "" {
			return def
		}
		return s
	}
	return identityHeaders{g: g, base: base, user: or(f.UserHeader, DefaultUserHeader),
		team: or(f.TeamHeader, DefaultTeamHeader), roles: or(f.RolesHeader, DefaultRolesHeader)}
}

func (h identityHeaders) RoundTrip(r *http.Request) (*http.Response, error) {
	id, ok := r.Context().Value(callerKey{}).(callpath.Identity)
	if !ok {
		id = h.g.agentCaller().Identity
	}
	r = r.Clone(r.Context())
	for name, v := range map[string]string{h.user: id.User, h.team: id.Team, h.roles: strings.Join(id.Roles, ",")} {
		r.Header.Del(name)
		if v != "" {
			r.Header.Set(name, v)
		}
	}
	return h.base.RoundTrip(r)
}

// noteStdioAgent is receiving middleware, outside the upstream's own: it
// remembers the stdio agent (whose identity stdio servers get in their
// environment) from its first request, before that request can start
// them.
func (g *Gateway) noteStdioAgent(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		if g.stdioMode.Load() && g.stdioAgent.Load() == nil {
			if ss := sessionOf(req); ss != nil {
				g.stdioAgent.CompareAndSwap(nil, ss)
			}
		}
		return next(ctx, method, req)
	}
}
