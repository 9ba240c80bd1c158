package policy

import (
	"slices"
	"strconv"
	"strings"
)

// IdentitySources is what each source says of the caller.
type IdentitySources struct {
	// OS is the OS account: its login name as User, and a team or roles if
	// the wiring derives them (say, from groups). It is the only source a
	// managed policy trusts besides its own members.
	OS Identity
	// Env is MCPGW_USER, MCPGW_TEAM and MCPGW_ROLES.
	Env Identity
	// Config is the configuration file's own identity: section; the
	// environment overrides it.
	Config Identity
	// Profile is the selected profile's identity overrides, and
	// ProfileName its name.
	Profile     Identity
	ProfileName string
}

// ResolvedIdentity is the caller, with where each part came from.
type ResolvedIdentity struct {
	Identity
	// UserFrom, TeamFrom and RolesFrom name each part's source: "os",
	// "env", "config", `profile "NAME"`, a managed member's id
	// (managed.members[0]), or "" when nothing set it.
	UserFrom  string `json:"user_from,omitempty"`
	TeamFrom  string `json:"team_from,omitempty"`
	RolesFrom string `json:"roles_from,omitempty"`
	// Ignored lists the claims a managed policy set aside, e.g.
	// `team "finance" (env)`.
	Ignored []string `json:"ignored,omitempty"`
}

// ResolveIdentity combines the sources into the caller's identity.
//
// Without a managed policy (managed nil), the most specific claim wins
// field by field: the profile's, then the environment's, then the
// configuration's, then the OS account's.
//
// Under a managed policy, claims count for nothing, since they could name
// any team: the user is the OS account (a claimed user only when the OS
// account is unknown, and then no member entry applies), and team and
// roles come from the first of the managed policy's members whose user
// glob matches, else from the OS account. What was claimed and set aside
// is listed in Ignored.
func ResolveIdentity(src IdentitySources, managed *Engine) ResolvedIdentity {
	profile := "profile " + strconv.Quote(src.ProfileName)
	claims := []struct {
		from string
		id   Identity
	}{{profile, src.Profile}, {"env", src.Env}, {"config", src.Config}, {"os", src.OS}}
	var r ResolvedIdentity
	if managed == nil {
		for _, c := range claims {
			if r.User == "" && c.id.User != "" {
				r.User, r.UserFrom = c.id.User, c.from
			}
			if r.Team == "" && c.id.Team != "" {
				r.Team, r.TeamFrom = c.id.Team, c.from
			}
			if r.Roles == nil && len(c.id.Roles) > 0 {
				r.Roles, r.RolesFrom = slices.Clone(c.id.Roles), c.from
			}
		}
		return r
	}
	fromOS := src.OS.User != ""
	if fromOS {
		r.User, r.UserFrom = src.OS.User, "os"
	} else {
		for _, c := range claims[:3] {
			if c.id.User != "" {
				r.User, r.UserFrom = c.id.User, c.from
				break
			}
		}
	}
	r.Team, r.Roles = src.OS.Team, slices.Clone(src.OS.Roles)
	if r.Team != "" {
		r.TeamFrom = "os"
	}
	if len(r.Roles) > 0 {
		r.RolesFrom = "os"
	}
	if fromOS {
		for _, m := range managed.members {
			if m.user.match(r.User) {
				r.Team, r.TeamFrom = m.team, m.id
				r.Roles, r.RolesFrom = slices.Clone(m.roles), m.id
				break
			}
		}
	}
	for _, c := range claims[:3] {
		if c.id.User != "" && c.id.User != r.User {
			r.Ignored = append(r.Ignored, "user "+strconv.Quote(c.id.User)+" ("+c.from+")")
		}
		if c.id.Team != "" && c.id.Team != r.Team {
			r.Ignored = append(r.Ignored, "team "+strconv.Quote(c.id.Team)+" ("+c.from+")")
		}
		if len(c.id.Roles) > 0 && !slices.Equal(c.id.Roles, r.Roles) {
			r.Ignored = append(r.Ignored, "roles "+strings.Join(c.id.Roles, ",")+" ("+c.from+")")
		}
	}
	return r
}
