package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mcpgw/mcpgw/policy/approval"
)

func TestApprovalParse(t *testing.T) {
	c, err := Parse("c.yaml", []byte(`approval:
  channel: out-of-band
  timeout: 90s
  rules:
    - {server: github, tool: "delete_*"}
    - {destructive: true}
    - {server: postgres, tool: query, when: 'args.sql.contains("DROP")'}
`))
	if err != nil {
		t.Fatal(err)
	}
	want := approval.Config{Channel: approval.OutOfBand, Timeout: 90 * time.Second, Rules: []approval.Rule{
		{ID: "approval.rules[0]", Server: "github", Tool: "delete_*"},
		{ID: "approval.rules[1]", Destructive: true},
		{ID: "approval.rules[2]", Server: "postgres", Tool: "query", When: `args.sql.contains("DROP")`},
	}}
	if diff := cmp.Diff(want, c.Approval); diff != "" {
		t.Errorf("approval (-want +got):\n%s", diff)
	}
}

func TestApprovalErrors(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"approval: {channel: phone}\n", `c.yaml:1: approval.channel: unknown channel "phone"; use auto`},
		{"approval: {timeout: soon}\n", `c.yaml:1: approval.timeout:`},
		{"approval: {rules: {destructive: true}}\n", "c.yaml:1: approval.rules: expected a list"},
		{"approval:\n  rules:\n    - {}\n", "c.yaml:3: approval.rules[0]: approval.rules[0] matches every call: give it server:, tool:, destructive: true or when:"},
		{"approval:\n  rules:\n    - {tool: x}\n    - {tool: \"[\"}\n", `c.yaml:4: approval.rules[1].tool: bad glob "["`},
		{"approval:\n  rules:\n    - {tool: query, when: 'args.sql.contains('}\n", `c.yaml:3: approval.rules[0]: approval.rules[0]: when "args.sql.contains(":`},
		{"approval:\n  rules:\n    - {tool: query, when: 'nope == 1'}\n", "conditions see args, server and tool"},
		{"approval:\n  rules:\n    - {tool: query, destructive: maybe}\n", "c.yaml:3: approval.rules[0].destructive:"},
		{"approval:\n  rules:\n    - {tool: query, hint: x}\n", `c.yaml:3: approval.rules[0]: unknown key "hint"`},
	} {
		_, err := Parse("c.yaml", []byte(tc.yaml))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v; want it to contain %q", tc.yaml, err, tc.want)
		}
	}
}

func TestManagedApproval(t *testing.T) {
	path := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(path, []byte("default: allow\napproval:\n  channel: out-of-band\n  rules: [{server: prod, tool: \"*\"}]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	m, err := LoadManaged(path)
	if err != nil {
		t.Fatal(err)
	}
	want := approval.Config{Channel: approval.OutOfBand, Rules: []approval.Rule{{ID: "managed.approval.rules[0]", Server: "prod", Tool: "*"}}}
	if diff := cmp.Diff(want, m.Approval); diff != "" {
		t.Errorf("managed approval (-want +got):\n%s", diff)
	}
	if m.Policy.Default != "allow" {
		t.Errorf("the policy beside approval: default %q", m.Policy.Default)
	}
	if err := os.WriteFile(path, []byte("approval: {channel: later}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadManaged(path); err == nil || !strings.Contains(err.Error(), `approval.channel: unknown channel "later"`) {
		t.Errorf("a bad channel in the managed policy: %v", err)
	}
}
