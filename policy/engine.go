package policy

import (
	"slices"

	"github.com/google/cel-go/cel"
)

// Engine is a compiled policy: globs checked, conditions compiled, ready to
// decide. It is safe for concurrent use and never changes; a changed policy
// is a new Engine.
type Engine struct {
	label    string // "managed." for a managed policy: prefixes every rule id
	managed  bool
	def      Effect
	teams    map[string]*grantSet
	roles    map[string]*grantSet
	rules    []*rule
	profiles []*profile
	members  []member
	env      *cel.Env
	cache    decisionCache
}

// grantSet is one team's or role's grants.
type grantSet struct {
	id      string // teams.web, roles.dev
	owner   string // `team "web"`, `role "dev"`; "" for teams.*, which speaks for whoever calls
	servers map[string]*serverGrant
}

type serverGrant struct {
	id    string // teams.web.servers.github
	every bool   // the "*" key
	kinds [kinds]kindRules
}

// kindRules is a ServerGrant's rules for one kind of target.
type kindRules struct {
	allowID, denyID string
	allow, deny     globs
	allowSrc        []string
}

type profile struct {
	name, id   string
	identity   Identity
	servers    globs
	serversSrc []string
	tools      kindRules
	client     glob
	hasClient  bool
}

type member struct {
	id    string
	user  glob
	team  string
	roles []string
}

// Managed reports whether e was compiled as a managed policy.
func (e *Engine) Managed() bool { return e.managed }

// Default is the effect for what nothing in the policy speaks of.
func (e *Engine) Default() Effect { return e.def }

// Profiles returns the names of the policy's profiles, in file order.
func (e *Engine) Profiles() []string {
	names := make([]string, len(e.profiles))
	for i, p := range e.profiles {
		names[i] = p.name
	}
	return names
}

// ProfileIdentity returns the identity overrides of the named profile.
func (e *Engine) ProfileIdentity(name string) (Identity, bool) {
	p := e.profile(name)
	if p == nil {
		return Identity{}, false
	}
	id := p.identity
	id.Roles = slices.Clone(id.Roles)
	return id, true
}

func (e *Engine) profile(name string) *profile {
	for _, p := range e.profiles {
		if p.name == name {
			return p
		}
	}
	return nil
}
