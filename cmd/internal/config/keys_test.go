package config

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/mcpgw/mcpgw/policy"
	"github.com/mcpgw/mcpgw/policy/limits"
)

// TestTablesRoundTrip sets every key the tables know, encodes the
// configuration with them and decodes it back: an entry whose encoding
// does not read back as it was, or that was left out, fails here.
func TestTablesRoundTrip(t *testing.T) {
	f, tr, empty := false, true, ""
	want := &Config{
		Path:  "c.yaml",
		Order: []string{"local", "remote"},
		Servers: map[string]*Server{
			"local": {
				Name: "local", Command: "npx", Args: []string{"-y", "${secret:a}", "8080"},
				Env: map[string]string{"B": "${secret:b}", "A": "1"}, Cwd: "/tmp",
				Prefix: &empty, Enabled: &f, Start: "lazy",
				Tools:           ToolFilter{Allow: []string{"read_*"}, Deny: []string{"delete_*", "drop"}},
				Timeouts:        Timeouts{Connect: 10 * time.Second, Call: 90 * time.Second, Tools: map[string]time.Duration{"export_*": 10 * time.Minute}},
				ProtocolVersion: "2025-06-18",
				Identity:        Forwarding{Forward: &f},
			},
			"remote": {
				Name: "remote", URL: "https://${secret:host}/mcp", Transport: "sse",
				Headers: map[string]string{"Authorization": "Bearer ${secret:t}"}, Enabled: &tr, Start: "eager",
				Identity: Forwarding{Forward: &tr, Headers: IdentityHeaders{User: "X-U", Team: "X-T", Roles: "X-R"}, Assert: true},
			},
		},
		Secrets: Secrets{Fallback: "env", Timeout: 5 * time.Second},
		Logs: Logs{Enabled: &tr, Path: "/var/mcpgw.db", Payloads: "full", MaxPayloadBytes: 1 << 20, Strict: true,
			Retention: Retention{MaxAge: 30 * 24 * time.Hour, MaxSize: 500 << 20}},
		Identity: policy.Identity{User: "ana@example.com", Team: "finance", Roles: []string{"analyst"}},
		Profiles: []policy.Profile{
			{Name: "cursor", Identity: policy.Identity{Team: "web"}, Servers: []string{"local"},
				Tools: policy.ToolRules{Deny: []string{"*__delete_*"}}, Match: policy.Match{Client: "cursor*"}},
			{Name: "all"},
		},
		Policy: &policy.Policy{
			Default: policy.Deny,
			Teams: map[string]policy.Grants{
				"finance": {Servers: map[string]policy.ServerGrant{
					"local":  {Tools: policy.ToolRules{Allow: []string{"query", "list_*"}, Deny: []string{"drop_*"}}},
					"remote": {},
				}},
				"*": {Servers: map[string]policy.ServerGrant{"local": {Prompts: policy.ToolRules{Allow: []string{"greet"}}, Resources: policy.ToolRules{Deny: []string{"file:///**"}}}}},
			},
			Roles: map[string]policy.Grants{"admin": {Servers: map[string]policy.ServerGrant{"*": {}}}},
			Rules: []policy.Rule{{Name: "acme", Kind: "tool", Server: "remote", Tool: "create_issue", When: `args.repo.startsWith("acme/")`, Effect: policy.Allow, Message: "acme only"}},
		},
		Limits: []limits.Rule{
			{ID: "limits[0]", Scope: limits.User, Rate: limits.Rate{N: 60, Per: time.Minute}},
			{ID: "limits[1]", Scope: limits.Tool, Server: "remote", Tool: "create_*", Rate: limits.Rate{N: 5, Per: time.Second}, Burst: 10},
		},
	}
	doc, err := encodeDocument(configTable.encode(want))
	if err != nil {
		t.Fatal(err)
	}
	got, err := parse("c.yaml", doc, false)
	if err != nil {
		t.Fatalf("encoded configuration does not load: %v\n%s", err, doc)
	}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(Server{}, "Line"), cmpopts.IgnoreFields(Config{}, "Access", "PolicyLines"), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("round trip (-want +got):\n%s\nencoded as:\n%s", diff, doc)
	}
}
