package mux

import (
	"io"
	"log/slog"
	"net/http"
	"path"
	"time"

	"github.com/mcpgw/mcpgw/keystore"
	"github.com/mcpgw/mcpgw/mux/callpath"
	"github.com/mcpgw/mcpgw/mux/oauth"
	"github.com/mcpgw/mcpgw/policy/guard"
)

// ServerSpec describes one downstream MCP server: a stdio child when Command
// is set, a remote streamable HTTP (or legacy SSE) endpoint when URL is set.
//
// Env values, Headers values, Args and URL may hold ${secret:NAME}
// references; they are resolved through [Options].Secrets each time the
// server starts.
type ServerSpec struct {
	Name    string
	Command string
	Args    []string
	Env     map[string]string
	Cwd     string

	URL       string
	Transport string // "" or "streamable" | "sse"
	Headers   map[string]string

	// Prefix is the exposed-name prefix ("" for none).
	Prefix string
	// Lazy servers start when the catalog is first listed, not with the
	// gateway; their tools then arrive with list_changed.
	Lazy bool
	// AllowTools and DenyTools are path.Match globs over the server's own tool
	// names, applied before anything else.
	AllowTools []string
	DenyTools  []string

	ConnectTimeout time.Duration
	CallTimeout    time.Duration
	// ToolTimeouts overrides CallTimeout per tool: keys are the server's
	// tool names or path.Match globs (see [ServerSpec.CallTimeoutFor]).
	ToolTimeouts map[string]time.Duration
	// ProtocolVersion overrides the version spoken to this server; empty
	// means the agent's version.
	ProtocolVersion string
	// Identity says how the caller's identity reaches this server; the
	// zero value forwards it under the default names (see identity.go).
	Identity IdentityForwarding
	// AssertIdentity sends the server a signed identity assertion (see
	// [Options].SignAssertion) with each request whose caller's identity
	// is verified: in _meta["io.mcpgw/assertion"] to a stdio server, in the
	// X-MCPGW-Identity-Assertion header to a remote one.
	AssertIdentity bool
	// OAuth, for a remote server, holds its oauth: settings; its
	// ClientSecret and PrivateKey may hold ${secret:NAME} references. A
	// remote server without it, and without an Authorization header, may
	// still need a login: it says so with a 401 (see [Options].OAuth).
	OAuth *oauth.Config
}

// Options configures a [Gateway]. The zero value is usable.
type Options struct {
	// Name and Version identify mcpgw to agents and servers.
	Name, Version string
	// Logger receives diagnostics; nil discards them. In serve mode it must
	// not write to stdout.
	Logger *slog.Logger
	// Stages are the call path's stages (see package callpath); nil means
	// [DefaultStages] over Redactor.
	Stages []callpath.Stage
	// ProtocolVersion is spoken to downstream servers when no agent has
	// connected yet (mcpgw tools, mcpgw call, the HTTP front). Empty means
	// [DefaultProtocolVersion].
	ProtocolVersion string
	// Identity is the caller attached to every call, when Identify is nil
	// and no credential names one (see [Options].Authenticate).
	Identity callpath.Identity
	// Identify, when set, says who is calling in an agent session, and
	// under which agent profile: the one place a session's identity comes
	// from (see identity.go), but for a caller [Options].Authenticate
	// names. It is asked for every call, so it should remember its
	// answers; nil means Identity, with no profile.
	Identify func(callpath.Session) Caller
	// Authenticate, when set, checks every request to the HTTP front
	// before anything reads it (see auth.go). It returns the caller the
	// request's credential names, whose identity then holds for the whole
	// agent session and overrides Identity; nil to serve the request
	// without one (as Identity), under the loopback Host and Origin checks;
	// or an error, answered 401 Unauthorized with its text and a
	// WWW-Authenticate challenge. With it set, [Gateway.ListenAndServeHTTP]
	// binds any address.
	Authenticate func(r *http.Request) (*Caller, error)
	// SignAssertion, when set, signs an identity assertion of id for the
	// server named server (a JWT whose audience is the server), for servers
	// whose spec has AssertIdentity. It is called per request and should
	// cache. An error fails the request: the server asked for proof of the
	// caller, and gets no request without it.
	SignAssertion func(server string, id callpath.Identity) (string, error)
	// ChildStderr, when set, receives every stdio server's stderr lines,
	// prefixed with the server's name; they are kept for error messages
	// either way.
	ChildStderr io.Writer
	// StateKey signs request state mcpgw hands to agents; nil means a
	// random per-process key.
	StateKey []byte
	// Secrets resolves ${secret:NAME} references in a server's env,
	// headers, args and url when it starts; nil fails any server that has
	// one.
	Secrets keystore.Getter
	// CatalogCache, when set, keeps each server's last good catalog, so
	// tools/list answers from it while servers start; a lazy server with a
	// cached catalog starts on its first call instead of its first list.
	CatalogCache CatalogCache
	// Recorder, when set, keeps a record of every finished tools/call and
	// of the other requests worth auditing.
	Recorder Recorder
	// RecordStrict fails a call whose record cannot be stored, instead of
	// counting the loss.
	RecordStrict bool
	// Status, when set, receives every server's state (and its process,
	// restarts, last error and stderr lines) as it changes, so other
	// processes (`mcpgw tools`, `mcpgw doctor`) can show it. One gateway
	// per process may have one.
	Status StatusStore
	// ConfigPath names the configuration in the status rows.
	ConfigPath string
	// Redactor masks the resolved secret values in everything servers send
	// (messages, stderr, errors); nil means one of the gateway's own.
	Redactor *guard.Known
	// Catalog, when set, says how the tools are shown to agent sessions of
	// each profile ("" for none): every tool (the zero CatalogMode), or
	// the gateway's search tools (search.go). It is asked per request and
	// should be cheap; call [Gateway.CatalogChanged] when its answers
	// change.
	Catalog func(profile string) CatalogMode
	// NoFastPath forwards every tools/call the SDK's way (for debugging and
	// A/B measurements); NoInline keeps the fast path but answers from the
	// call's own goroutine (see fastinline.go).
	NoFastPath, NoInline bool
	// NoSupervisor spawns stdio servers directly, without the supervisor
	// (Linux, macOS, the BSDs) or Job Object (Windows) that takes a
	// server's whole process tree down with mcpgw: for debugging (see
	// Unsupervised in package proc's Spec). The mcpgw command sets it
	// from MCPGW_NO_SUPERVISOR=1.
	NoSupervisor bool
	// OAuth, when set, gives remote servers their OAuth tokens (see
	// package oauth); nil sends no token but the configured headers.
	OAuth *OAuthOptions
}

// OAuthOptions says where remote servers' OAuth logins live.
type OAuthOptions struct {
	// Store is the keychain holding the logins.
	Store keystore.Blobs
	// LockDir holds the files that keep refreshes one at a time across
	// mcpgw processes.
	LockDir string
	// HTTPClient talks to authorization servers; nil means
	// http.DefaultClient.
	HTTPClient *http.Client
	// StepUp, when set, returns the authorizer that runs the browser flow
	// for a server asking for more scope than its login has (403
	// insufficient_scope): for commands a user runs in a terminal. spec
	// has its secrets resolved. Nil (serve): a server with
	// elicit_login asks the call's agent to open the page when it can
	// (elicitlogin.go); otherwise the call fails with an
	// [oauth.ScopeError] naming the login command.
	StepUp func(spec ServerSpec, src *oauth.Source) oauth.Authorizer
}

// DefaultStages is the call path with nothing configured: the guard that
// keeps the stored secrets known keeps out of tool and prompt arguments.
// Policy and further guardrails add their own stages.
func DefaultStages(known *guard.Known) []callpath.Stage {
	return []callpath.Stage{guard.StoredSecrets{Known: known}}
}

// Protocol versions mcpgw knows by name.
const (
	ProtocolV20251125 = "2025-11-25"
	ProtocolV20260728 = "2026-07-28"
	// DefaultProtocolVersion is spoken downstream before an agent says which
	// version it speaks. It is the newest version in which servers may still
	// send requests (elicitation, sampling, roots) of their own.
	DefaultProtocolVersion = ProtocolV20251125
)

func (o *Options) defaults() Options {
	var d Options
	if o != nil {
		d = *o
	}
	if d.Name == "" {
		d.Name = "mcpgw"
	}
	if d.Version == "" {
		d.Version = "dev"
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}

	if d.ProtocolVersion == "" {
		d.ProtocolVersion = DefaultProtocolVersion
	}
	if d.Redactor == nil {
		d.Redactor = guard.NewKnown()
	}
	if d.Stages == nil {
		d.Stages = DefaultStages(d.Redactor)
	}
	return d
}

const (
	defaultConnectTimeout = 30 * time.Second
	defaultCallTimeout    = 120 * time.Second
)

// CallTimeoutFor is how long a call of tool (the server's own name) may go
// without an answer or progress: its entry in ToolTimeouts (an exact name
// first, else the longest matching glob), else CallTimeout.
func (s *ServerSpec) CallTimeoutFor(tool string) time.Duration {
	if d, ok := s.ToolTimeouts[tool]; ok {
		return d
	}
	best, d := "", s.CallTimeout
	for glob, t := range s.ToolTimeouts {
		if len(glob) > len(best) || len(glob) == len(best) && glob < best {
			if ok, _ := path.Match(glob, tool); ok {
				best, d = glob, t
			}
		}
	}
	return d
}
