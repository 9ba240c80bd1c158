package config

import (
	"time"

	"github.com/mcpgw/mcpgw/policy"
	"github.com/mcpgw/mcpgw/policy/approval"
	"github.com/mcpgw/mcpgw/policy/limits"
)

// The keys of each mapping in the file, in canonical order: the order
// unknown-key messages list them in and `mcpgw server add` writes them in.
// A new key is its struct field (types.go) plus one entry here; the kinds
// of value are in codecs.go.

// configTable is the top level of the file.
var configTable = table[Config]{
	what: "a mapping with a servers: key",
	entries: []entry[Config]{
		{name: "servers", decode: (*decoder).servers, encode: encodeServers},
		field("secrets", nested(&secretsTable), func(c *Config) *Secrets { return &c.Secrets }),
		field("logs", nested(&logsTable), func(c *Config) *Logs { return &c.Logs }),
		field("identity", nested(&identityTable), func(c *Config) *policy.Identity { return &c.Identity }),
		{name: "profiles", decode: (*decoder).profiles, encode: encodeProfiles},
		{name: "policy", decode: (*decoder).policy, encode: encodePolicy},
		field("limits", limitList(), func(c *Config) *[]limits.Rule { return &c.Limits }),
		field("pinning", nested(&pinningTable), func(c *Config) *Pinning { return &c.Pinning }),
		field("guardrails", nested(&guardrailsTable), func(c *Config) *Guardrails { return &c.Guardrails }),
		field("catalog", catalogSection(), func(c *Config) *Catalog { return &c.Catalog }),
		field("approval", nested(&approvalTable), func(c *Config) *approval.Config { return &c.Approval }),
	},
}

// pinningTable is the pinning: section.
var pinningTable = table[Pinning]{
	what: "a mapping such as {on_change: hold}",
	entries: []entry[Pinning]{
		field("on_change", enum("use hold (the default: a tool whose definition changed is hidden and its calls refused until approved), warn (listed, with a warning) or off (no pinning)", "hold", "warn", "off"),
			func(p *Pinning) *string { return &p.OnChange }),
	},
}

// serverTable is one server's definition, under servers.NAME.
var serverTable = table[Server]{
	what: "a mapping with command: or url:",
	entries: []entry[Server]{
		field("command", text(nil), func(s *Server) *string { return &s.Command }),
		field("args", templateList(`args: ["--port", "8080"]`), func(s *Server) *[]string { return &s.Args }).localOnly(),
		field("env", templateMap(`env: {API_KEY: ${secret:api-key}}`, validateEnvName), func(s *Server) *map[string]string { return &s.Env }).localOnly(),
		field("cwd", text(nil), func(s *Server) *string { return &s.Cwd }).localOnly(),
		field("url", template(validateURL), func(s *Server) *string { return &s.URL }),
		field("transport", enum("use streamable or sse (or leave it out for streamable)", "streamable", "sse"),
			func(s *Server) *string { return &s.Transport }).remoteOnly(),
		field("headers", templateMap(`headers: {Authorization: Bearer ${secret:api-token}}`, validateHeaderName),
			func(s *Server) *map[string]string { return &s.Headers }).remoteOnly(),
		field("prefix", optionalText(validatePrefix), func(s *Server) **string { return &s.Prefix }),
		field("enabled", optionalBool(), func(s *Server) **bool { return &s.Enabled }),
		field("start", enum("use eager (start with the gateway) or lazy (start on first call)", "eager", "lazy"),
			func(s *Server) *string { return &s.Start }),
		field("tools", nested(&toolsTable), func(s *Server) *ToolFilter { return &s.Tools }),
		field("timeouts", nested(&timeoutsTable), func(s *Server) *Timeouts { return &s.Timeouts }),
		field("protocol_version", text(validateProtocolVersion), func(s *Server) *string { return &s.ProtocolVersion }),
		field("identity", nested(&forwardingTable), func(s *Server) *Forwarding { return &s.Identity }),
		field("oauth", nested(&oauthTable), func(s *Server) *OAuth { return &s.OAuth }).remoteOnly(),
	},
}

// oauthTable is a remote server's OAuth login, under servers.NAME.oauth.
var oauthTable = table[OAuth]{
	what: "a mapping such as {client_id: my-app, client_secret: ${secret:my-app-secret}, scopes: [read]}",
	entries: []entry[OAuth]{
		field("grant", enum("use authorization_code (the default: a user logs in with a browser) or client_credentials (machine-to-machine, with client_id and client_secret or private_key)", "authorization_code", "client_credentials"),
			func(o *OAuth) *string { return &o.Grant }),
		field("client_id", text(nil), func(o *OAuth) *string { return &o.ClientID }),
		field("client_secret", template(secretOnly("client_secret")), func(o *OAuth) *string { return &o.ClientSecret }),
		field("scopes", textList(`scopes: [read, write]`, nil), func(o *OAuth) *[]string { return &o.Scopes }),
		field("client_metadata_url", text(validateMetadataURL), func(o *OAuth) *string { return &o.ClientMetadataURL }),
		field("private_key", template(secretOnly("private_key")), func(o *OAuth) *string { return &o.PrivateKey }),
		field("elicit_login", boolean(), func(o *OAuth) *bool { return &o.ElicitLogin }),
	},
}

// toolsTable is a server's tool filter, under servers.NAME.tools.
var toolsTable = table[ToolFilter]{
	what: "a mapping with allow: and/or deny: lists",
	entries: []entry[ToolFilter]{
		field("allow", textList(`allow: ["read_*", search]`, validateGlob), func(f *ToolFilter) *[]string { return &f.Allow }),
		field("deny", textList(`deny: ["delete_*"]`, validateGlob), func(f *ToolFilter) *[]string { return &f.Deny }),
	},
}

// timeoutsTable is a server's timeouts, under servers.NAME.timeouts.
var timeoutsTable = table[Timeouts]{
	what: "a mapping with connect: and/or call: durations, and tools: {TOOL: duration}",
	entries: []entry[Timeouts]{
		field("connect", duration(), func(t *Timeouts) *time.Duration { return &t.Connect }),
		field("call", duration(), func(t *Timeouts) *time.Duration { return &t.Call }),
		field("tools", globDurations("a mapping of tool names or globs to durations, like {export_*: 10m}"),
			func(t *Timeouts) *map[string]time.Duration { return &t.Tools }),
	},
}

// secretsTable is the secrets: section.
var secretsTable = table[Secrets]{
	what: "a mapping with fallback: and/or timeout:",
	entries: []entry[Secrets]{
		field("fallback", enum("use env (read MCPGW_SECRET_<NAME> environment variables when the keychain has no value or cannot be reached) or none", "none", "env"),
			func(s *Secrets) *string { return &s.Fallback }),
		field("timeout", duration(), func(s *Secrets) *time.Duration { return &s.Timeout }),
	},
}

// logsTable is the logs: section.
var logsTable = table[Logs]{
	what: "a mapping such as {payloads: redacted, retention: {max_age: 720h}}",
	entries: []entry[Logs]{
		field("enabled", optionalBool(), func(l *Logs) **bool { return &l.Enabled }),
		field("path", text(nil), func(l *Logs) *string { return &l.Path }),
		field("payloads", enum("use redacted (the default: stored with secrets masked), full (stored as sent) or none (sizes and hashes only)", "full", "redacted", "none"),
			func(l *Logs) *string { return &l.Payloads }),
		field("max_payload_bytes", size[int](), func(l *Logs) *int { return &l.MaxPayloadBytes }),
		field("strict", boolean(), func(l *Logs) *bool { return &l.Strict }),
		field("retention", nested(&retentionTable), func(l *Logs) *Retention { return &l.Retention }),
	},
}

// retentionTable bounds the record, under logs.retention.
var retentionTable = table[Retention]{
	what: "a mapping with max_age: (e.g. 720h) and/or max_size: (e.g. 500MB)",
	entries: []entry[Retention]{
		field("max_age", age(), func(r *Retention) *time.Duration { return &r.MaxAge }),
		field("max_size", size[int64](), func(r *Retention) *int64 { return &r.MaxSize }),
	},
}

// limitTable is one rate limit, an item of limits:.
var limitTable = table[limits.Rule]{
	what: `a mapping such as {scope: server, server: github, rate: 5/s, burst: 10}`,
	entries: []entry[limits.Rule]{
		field("scope", limitScope(), func(r *limits.Rule) *limits.Scope { return &r.Scope }),
		field("server", text(validateGlob), func(r *limits.Rule) *string { return &r.Server }),
		field("tool", text(validateGlob), func(r *limits.Rule) *string { return &r.Tool }),
		field("rate", limitRate(), func(r *limits.Rule) *limits.Rate { return &r.Rate }),
		field("burst", count(), func(r *limits.Rule) *int { return &r.Burst }),
	},
}
