// Package config owns mcpgw's configuration file: where it lives, how it is
// decoded and validated into typed structs, and how the CLI edits it in place
// without losing comments or ${VAR} references.
package config

import (
	"slices"
	"time"

	"github.com/mcpgw/mcpgw/keystore"
	"github.com/mcpgw/mcpgw/policy"
	"github.com/mcpgw/mcpgw/policy/approval"
	"github.com/mcpgw/mcpgw/policy/limits"
)

// Config is a decoded, validated and ${VAR}-expanded configuration file.
// Which key fills which field is declared in keys.go.
type Config struct {
	// Path is the file the configuration was read from.
	Path string
	// Servers maps a server name to its definition.
	Servers map[string]*Server
	// Order lists the server names in the order they appear in the file;
	// resource URI collisions are resolved by it.
	Order []string
	// Secrets says how ${secret:NAME} references are resolved.
	Secrets Secrets
	// Logs configures the call record.
	Logs Logs

	// Identity is the identity: section: who uses the agents this
	// configuration serves. MCPGW_USER, MCPGW_TEAM and MCPGW_ROLES override
	// it field by field, and a profile's identity overrides both.
	Identity policy.Identity
	// Profiles are the profiles: section, in file order.
	Profiles []policy.Profile
	// Policy is the policy: section; nil when the file has none.
	Policy *policy.Policy
	// Access is Policy and Profiles compiled, checked when the file
	// loaded; nil when the file has neither (everything is allowed, unless
	// a managed policy says otherwise).
	Access *policy.Engine
	// PolicyLines locates the parts of Policy and Profiles in the file, by
	// their rule ids (default, teams.web, rules[0], profiles.cursor ...),
	// for `mcpgw policy show`.
	PolicyLines map[string]int

	// Limits are the limits: section, in file order; each one's ID is
	// limits[i].
	Limits []limits.Rule
	// Pinning is the pinning: section: what a changed tool definition gets.
	Pinning Pinning
	// Guardrails is the guardrails: section (guardkeys.go).
	Guardrails Guardrails
	// Catalog is the catalog: section: how agents are shown the tools;
	// ProfileCatalogs are the profiles' own, by profile name (see
	// [Config.CatalogFor]).
	Catalog         Catalog
	ProfileCatalogs map[string]Catalog
	// Approval is the approval: section: calls that wait for a person.
	Approval approval.Config
}

// Catalog is how agents are shown the tools (catalogkeys.go).
type Catalog struct {
	// Mode is "" (the default: full, or a profile's inherited mode),
	// "full" or "search".
	Mode string
	// Always are exposed tool names (or globs) search mode lists too.
	Always []string
}

// Search reports whether the mode is search.
func (c Catalog) Search() bool { return c.Mode == "search" }

// Pinning configures tool definition pinning (the rug-pull defence).
type Pinning struct {
	// OnChange is "" or "hold" (the default), "warn" or "off".
	OnChange string
}

// Mode is OnChange with the default applied.
func (p Pinning) Mode() string {
	if p.OnChange == "" {
		return "hold"
	}
	return p.OnChange
}

// Logs configures the call record (SQLite).
type Logs struct {
	// Enabled is nil for the default (on).
	Enabled *bool
	// Path of the database; "" means --db, MCPGW_DB, or the OS state dir.
	Path string
	// Payloads is "" (redacted), "full", "redacted" or "none".
	Payloads string
	// MaxPayloadBytes caps each stored payload; 0 means the default.
	MaxPayloadBytes int
	// Strict makes a call fail when its record cannot be written, for
	// audit setups; by default the call completes and the loss is counted.
	Strict bool
	// Retention bounds the record by age and total size.
	Retention Retention
}

// Retention bounds the record; zero values mean no bound of that kind.
type Retention struct {
	MaxAge  time.Duration
	MaxSize int64 // bytes
}

// IsEnabled reports whether calls are recorded.
func (l Logs) IsEnabled() bool { return l.Enabled == nil || *l.Enabled }

// Secrets configures the keystore.
type Secrets struct {
	// Fallback is "" or "none" (the OS keychain only) or "env": a secret the
	// keychain lacks, or every secret when it cannot be reached, is read
	// from MCPGW_SECRET_<NAME>. Opt-in, and warned about at each start.
	Fallback string
	// Timeout bounds each keychain operation; zero means the keystore's
	// default.
	Timeout time.Duration
}

// Server is one downstream MCP server: a stdio child (Command) or a remote
// endpoint (URL).
type Server struct {
	// Name is the key under servers:.
	Name string
	// Line is the line in the file where the server's definition starts.
	Line int

	Command string
	Args    []string
	Env     map[string]string
	Cwd     string

	URL       string
	Transport string // "" or "streamable" | "sse"
	Headers   map[string]string

	// Prefix is the exposed-name prefix; nil means the server name, "" means none.
	Prefix          *string
	Enabled         *bool  // nil means true
	Start           string // "" or "eager" | "lazy"
	Tools           ToolFilter
	Timeouts        Timeouts
	ProtocolVersion string
	// Identity says how the caller's identity is forwarded to the server.
	Identity Forwarding
	// OAuth configures a remote server's OAuth login; the zero value
	// discovers everything when the server asks for a login.
	OAuth OAuth
}

// OAuth is a remote server's oauth: settings (see `mcpgw auth login`).
type OAuth struct {
	// Grant is "" or "authorization_code" (a user's login in a browser),
	// or "client_credentials" (machine-to-machine, no user).
	Grant string
	// ClientID names a client registered with the authorization server
	// beforehand; without it mcpgw registers itself.
	ClientID string
	// ClientSecret is a ${secret:NAME} reference to that client's secret.
	ClientSecret string
	// Scopes replace the scopes the server advertises.
	Scopes []string
	// ClientMetadataURL is an https URL of a Client ID Metadata Document
	// for mcpgw, used where the authorization server supports them.
	ClientMetadataURL string
	// PrivateKey is a ${secret:NAME} reference to a PEM private key the
	// client credentials grant authenticates with (private_key_jwt).
	PrivateKey string
	// ElicitLogin lets mcpgw serve ask an agent that supports URL-mode
	// elicitation to open this server's login page (a call finding it in
	// needs_login, or refused for want of scope).
	ElicitLogin bool
}

// Forwarding says how the caller's identity reaches one server: for a
// stdio server as MCPGW_USER_EMAIL, MCPGW_USER_TEAM and MCPGW_USER_ROLES in
// its environment, for a remote one as HTTP headers, and for both in each
// request's _meta under io.mcpgw/identity.
type Forwarding struct {
	// Forward is nil for the default (on); false sends the server nothing
	// of the caller's identity.
	Forward *bool
	// Headers names a remote server's identity headers; an empty field
	// means its default (X-MCPGW-User-Email, X-MCPGW-User-Team,
	// X-MCPGW-User-Roles).
	Headers IdentityHeaders
	// Assert sends the server a signed identity assertion with each
	// request whose caller is verified (an HTTP token, a managed policy);
	// see `mcpgw identity public-key`.
	Assert bool
}

// IdentityHeaders are the header names of a remote server's identity.
type IdentityHeaders struct {
	User, Team, Roles string
}

// IsOn reports whether the identity is forwarded; unset means it is.
func (f Forwarding) IsOn() bool { return f.Forward == nil || *f.Forward }

// SecretRefs returns the names of the secrets the server's env, headers,
// args and url reference, sorted and without repeats.
func (s *Server) SecretRefs() []string {
	vals := append([]string{s.URL}, s.Args...)
	for _, v := range s.Env {
		vals = append(vals, v)
	}
	for _, v := range s.Headers {
		vals = append(vals, v)
	}
	vals = append(vals, s.OAuth.ClientSecret, s.OAuth.PrivateKey)
	var names []string
	for _, v := range vals {
		names = append(names, keystore.Refs(v)...)
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// ToolFilter is a server's own allow/deny list of tool-name globs
// (path.Match syntax). An empty Allow allows everything; Deny wins.
type ToolFilter struct {
	Allow []string
	Deny  []string
}

// Timeouts bounds a server's connect (spawn + initialize) and each call.
type Timeouts struct {
	Connect time.Duration
	Call    time.Duration
	// Tools overrides Call per tool: keys are tool names (as the server
	// names them) or globs in path.Match syntax.
	Tools map[string]time.Duration
}

// Defaults applied when a field is unset.
const (
	DefaultConnectTimeout = 30 * time.Second
	DefaultCallTimeout    = 120 * time.Second
)
