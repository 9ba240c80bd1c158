package cli

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/mcpgw/mcpgw/cmd/internal/config"
	"github.com/mcpgw/mcpgw/mux"
	"github.com/mcpgw/mcpgw/mux/callpath"
	"github.com/mcpgw/mcpgw/policy"
)

// agentNamed is an agent session as the policy sees it: a name.
type agentNamed string

func (a agentNamed) ID() string                  { return "s" }
func (a agentNamed) Client() (string, string)    { return string(a), "1" }
func (a agentNamed) ProtocolVersion() string     { return "2025-11-25" }
func (a agentNamed) Identity() callpath.Identity { return callpath.Identity{} }
func (a agentNamed) Elicit(context.Context, callpath.Question) (callpath.Answer, error) {
	return callpath.Answer{}, callpath.ErrCannotAsk
}

func parseConfig(t *testing.T, src string) *config.Config {
	t.Helper()
	cfg, err := config.Parse("config.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestAccessIdentify resolves each agent's identity and profile from the
// configuration and the environment, and tells a change to the policy or
// identity from a reload that changes neither.
func TestAccessIdentify(t *testing.T) {
	t.Setenv(envManagedPolicy, filepath.Join(t.TempDir(), "none.yaml"))
	t.Setenv("MCPGW_USER", "")
	t.Setenv("MCPGW_TEAM", "data")
	t.Setenv("MCPGW_ROLES", "dev, oncall")
	t.Setenv(envProfile, "")
	const src = `identity: {user: ana@example.com, team: finance}
profiles:
  cursor: {match: {client: "cursor*"}, identity: {team: web}}
`
	a, err := newAccess(parseConfig(t, src), "")
	if err != nil {
		t.Fatal(err)
	}
	for client, want := range map[string]mux.Caller{
		"Cursor": {Identity: policy.Identity{User: "ana@example.com", Team: "web", Roles: []string{"dev", "oncall"}}, Profile: "cursor"},
		"claude": {Identity: policy.Identity{User: "ana@example.com", Team: "data", Roles: []string{"dev", "oncall"}}},
	} {
		got := a.identify(agentNamed(client))
		if got.Profile != want.Profile || got.Identity.User != want.Identity.User || got.Identity.Team != want.Identity.Team || len(got.Identity.Roles) != 2 {
			t.Errorf("%s: %+v; want %+v", client, got, want)
		}
	}
	if changed, err := a.update(parseConfig(t, src+"servers: {}\n")); err != nil || changed {
		t.Errorf("a reload that changes no policy or identity: changed %v, %v", changed, err)
	}
	if changed, err := a.update(parseConfig(t, src+"policy: {default: allow}\n")); err != nil || !changed {
		t.Errorf("a reload that adds a policy: changed %v, %v", changed, err)
	}
	if _, err := newAccess(parseConfig(t, src), "nosuch"); err == nil || exitCode(err) != ExitConfig {
		t.Errorf("an unknown --profile: %v", err)
	}
}

// TestManagedPolicyPath: MCPGW_MANAGED_POLICY names the managed policy
// only while none is installed at the OS path.
func TestManagedPolicyPath(t *testing.T) {
	p := filepath.Join(t.TempDir(), "policy.yaml")
	t.Setenv(envManagedPolicy, p)
	installed := config.ManagedPolicyPath()
	if _, err := os.Stat(installed); err == nil {
		if got := managedPolicyPath(); got != installed {
			t.Errorf("with a policy installed at %s, the variable chose %s", installed, got)
		}
		return
	}
	if got := managedPolicyPath(); got != p {
		t.Errorf("managedPolicyPath() = %s; want %s", got, p)
	}
}
