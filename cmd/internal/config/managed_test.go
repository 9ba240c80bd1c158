package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcpgw/mcpgw/policy"
)

// TestLoadManaged reads a managed policy file: members and all, its parts
// located for `mcpgw policy show`, its problems at their lines with keys
// of the file's own (no "policy." section), and no file is no policy.
func TestLoadManaged(t *testing.T) {
	dir := t.TempDir()
	if m, err := LoadManaged(filepath.Join(dir, "absent.yaml")); m != nil || err != nil {
		t.Errorf("a managed policy that does not exist = %v, %v; want none", m, err)
	}
	good := filepath.Join(dir, "policy.yaml")
	os.WriteFile(good, []byte(`default: deny
members:
  - {user: ana, team: finance, roles: [analyst]}
teams:
  finance:
    servers:
      fx: {tools: {deny: ["add"]}}
rules:
  - name: no_prod
    when: 'has(args.db) && args.db == "prod"'
    effect: deny
`), 0o600)
	m, err := LoadManaged(good)
	if err != nil {
		t.Fatal(err)
	}
	if !m.Engine.Managed() || m.Policy.Members[0].Team != "finance" {
		t.Errorf("managed policy = %+v", m.Policy)
	}
	for id, line := range map[string]int{"managed.default": 1, "managed.members[0]": 3, "managed.teams.finance": 5, "managed.rules.no_prod": 9} {
		if m.Lines[id] != line {
			t.Errorf("line of %s = %d; want %d (all: %v)", id, m.Lines[id], line, m.Lines)
		}
	}
	d := policy.Input{Identity: policy.Identity{Team: "finance"}, Server: "fx", Name: "add"}
	if m.Engine.Decide(d).Allow {
		t.Error("the managed policy allows what it denies")
	}

	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("teams:\n  web:\n    servers:\n      fx: {tools: {allow: [\"[x\"]}}\nprofiles: {}\n"), 0o600)
	_, err = LoadManaged(bad)
	if err == nil || !strings.HasPrefix(err.Error(), bad+`:5: unknown key "profiles"`) {
		t.Errorf("a managed policy with profiles: %v", err)
	}
	os.WriteFile(bad, []byte("teams:\n  web:\n    servers:\n      fx: {tools: {allow: [\"[x\"]}}\n"), 0o600)
	_, err = LoadManaged(bad)
	if err == nil || !strings.HasPrefix(err.Error(), bad+`:4: teams.web.servers.fx.tools.allow[0]: "[x" is not a valid glob`) {
		t.Errorf("a managed policy with a bad glob: %v", err)
	}
}
