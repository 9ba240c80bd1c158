package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/user"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/mcpgw/mcpgw/cmd/internal/config"
	"github.com/mcpgw/mcpgw/mux"
	"github.com/mcpgw/mcpgw/mux/callpath"
	"github.com/mcpgw/mcpgw/policy"
)

// access is what a gateway's policy stage and identity come from: the
// managed policy, the configuration's policy, profiles and identity, the
// environment and the OS account. It is the call path's policy stage
// (first of all stages) and the gateway's Options.Identify; a changed
// configuration is applied with update, at once for every session.
type access struct {
	state atomic.Pointer[accessState]
	// explicit is the profile named by --profile or MCPGW_PROFILE ("" for
	// none: each agent by its clientInfo name).
	explicit string
	env, os  policy.Identity
}

// accessState is one configuration's policies and identity sources.
type accessState struct {
	layers  policy.Layers
	stage   *policy.Stage
	managed *config.Managed
	user    *policy.Engine
	config  policy.Identity
	profile func(callpath.Session) string
	callers sync.Map // client name → mux.Caller
	src     accessSource
}

var (
	_ callpath.RequestStage = (*access)(nil)
	_ callpath.CatalogStage = (*access)(nil)
)

// Environment of the policy and identity.
const (
	envProfile       = "MCPGW_PROFILE"
	envManagedPolicy = "MCPGW_MANAGED_POLICY"
)

// newAccess reads the managed policy and the identity's sources for cfg,
// with the profile explicit (empty: MCPGW_PROFILE, else by agent).
func newAccess(cfg *config.Config, explicit string) (*access, error) {
	if explicit == "" {
		explicit = os.Getenv(envProfile)
	}
	a := &access{explicit: explicit, env: identityFromEnv(), os: osIdentity()}
	if _, err := a.update(cfg); err != nil {
		return nil, err
	}
	return a, nil
}

// managedPolicyPath is the managed policy's file: the one installed at the
// OS path if there is one, else MCPGW_MANAGED_POLICY if set. The variable
// never replaces an installed policy: it is for trying one out (and for
// tests), not a way around it.
func managedPolicyPath() string {
	p := config.ManagedPolicyPath()
	if _, err := os.Stat(p); err != nil && errors.Is(err, os.ErrNotExist) {
		if e := os.Getenv(envManagedPolicy); e != "" {
			return e
		}
	}
	return p
}

// loadManaged reads the managed policy in force, if any.
func loadManaged() (*config.Managed, error) {
	m, err := config.LoadManaged(managedPolicyPath())
	if err != nil {
		return nil, withCode(ExitConfig, fmt.Errorf("the managed policy: %w", err))
	}
	return m, nil
}

// update applies cfg (and the managed policy as it is now on disk), and
// reports whether the policies or identity changed. On an error nothing
// changes.
func (a *access) update(cfg *config.Config) (changed bool, err error) {
	m, err := loadManaged()
	if err != nil {
		return false, err
	}
	st := &accessState{managed: m, user: cfg.Access, config: cfg.Identity,
		src: accessSource{cfg.Policy, cfg.Profiles, cfg.Identity, nil}}
	if m != nil {
		st.src.managed = &m.Policy
	}
	if m != nil {
		st.layers.Managed = m.Engine
	}
	st.layers.User = cfg.Access
	st.profile, err = policy.ProfileResolver(cfg.Access, a.explicit)
	if err != nil {
		return false, withCode(ExitConfig, fmt.Errorf("%w (in %s; chosen with --profile or %s)", err, cfg.Path, envProfile))
	}
	st.stage = &policy.Stage{Policies: st.layers, Profile: st.profile}
	old := a.state.Swap(st)
	return old == nil || !reflect.DeepEqual(old.src, st.src), nil
}

// accessSource is what an accessState was made of, as written.
type accessSource struct {
	policy   *policy.Policy
	profiles []policy.Profile
	identity policy.Identity
	managed  *policy.Policy
}

// inForce reports whether any policy is in force.
func (st *accessState) inForce() bool { return st.layers.Managed != nil || st.layers.User != nil }

// identify is who is calling in s, and under which profile (mux's
// Options.Identify): remembered per agent name.
func (a *access) identify(s callpath.Session) mux.Caller {
	st := a.state.Load()
	client, _ := s.Client()
	if c, ok := st.callers.Load(client); ok {
		return c.(mux.Caller)
	}
	profile := st.profile(s)
	r := a.resolve(st, profile)
	c := mux.Caller{Identity: r.Identity, Profile: profile}
	// Under a managed policy, team and roles come only from it and the
	// user from the OS account: the administrator's word, worth a signed
	// assertion to servers that ask.
	c.Identity.Verified = st.layers.Managed != nil
	st.callers.Store(client, c)
	return c
}

// resolve combines the identity's sources for profile.
func (a *access) resolve(st *accessState, profile string) policy.ResolvedIdentity {
	src := policy.IdentitySources{OS: a.os, Env: a.env, Config: st.config, ProfileName: profile}
	if profile != "" && st.user != nil {
		src.Profile, _ = st.user.ProfileIdentity(profile)
	}
	return policy.ResolveIdentity(src, st.layers.Managed)
}

// Name implements callpath.Stage.
func (a *access) Name() string { return "policy" }

// CheckRequest implements callpath.RequestStage: nothing to say when no
// policy is in force, so the record shows no decision.
func (a *access) CheckRequest(ctx context.Context, c *callpath.Call) *callpath.Verdict {
	st := a.state.Load()
	if !st.inForce() {
		return nil
	}
	return st.stage.CheckRequest(ctx, c)
}

// Hide implements callpath.CatalogStage.
func (a *access) Hide(s callpath.Session, e callpath.Entry) *callpath.Verdict {
	st := a.state.Load()
	if !st.inForce() {
		return nil
	}
	return st.stage.Hide(s, e)
}

// identityFromEnv is the local caller: MCPGW_USER, MCPGW_TEAM and
// MCPGW_ROLES (comma-separated).
func identityFromEnv() policy.Identity {
	id := policy.Identity{User: os.Getenv("MCPGW_USER"), Team: os.Getenv("MCPGW_TEAM")}
	id.Roles = splitRoles(os.Getenv("MCPGW_ROLES"))
	return id
}

// splitRoles reads a comma-separated list of roles.
func splitRoles(s string) []string {
	var roles []string
	for _, role := range strings.Split(s, ",") {
		if role = strings.TrimSpace(role); role != "" {
			roles = append(roles, role)
		}
	}
	return roles
}

// osIdentity is the OS account: its login name, the one identity a
// managed policy trusts.
func osIdentity() policy.Identity {
	u, err := user.Current()
	if err != nil {
		return policy.Identity{}
	}
	return policy.Identity{User: u.Username}
}
