package policy

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// Compile checks p and compiles it into an [Engine] for the user's own
// policy. It reports every problem at once, as [Errors]: each names the
// place (teams.web.servers.github.tools.allow[1], rules[2].when:1:9) and
// says what is wrong and what to write instead.
func Compile(p Policy) (*Engine, error) { return compile(p, false) }

// CompileManaged compiles a managed policy: the one an administrator sets,
// which outranks the user's (see [Layers]). Its rule ids start with
// "managed.", it may assign members, and it has no profiles (narrowing an
// agent is the user's business; the managed policy speaks through teams,
// roles and rules).
func CompileManaged(p Policy) (*Engine, error) { return compile(p, true) }

type compiler struct {
	e    *Engine
	errs Errors
}

func (c *compiler) fail(path, format string, args ...any) {
	c.errs = append(c.errs, &Error{Path: c.e.label + path, Msg: fmt.Sprintf(format, args...)})
}

func compile(p Policy, managed bool) (*Engine, error) {
	env, err := newEnv()
	if err != nil {
		return nil, fmt.Errorf("policy: setting up CEL: %w", err)
	}
	e := &Engine{managed: managed, env: env, teams: map[string]*grantSet{}, roles: map[string]*grantSet{}}
	if managed {
		e.label = "managed."
	}
	c := &compiler{e: e}
	switch p.Default {
	case Allow, Deny:
		e.def = p.Default
	case "":
		e.def = Deny
	default:
		c.fail("default", "%q is not an effect; write allow or deny", p.Default)
	}
	for _, name := range slices.Sorted(maps.Keys(p.Teams)) {
		id := key("teams", name)
		if name == "" {
			c.fail(id, "an empty team name matches nobody; name the team, or use \"*\" for every caller")
			continue
		}
		owner := ""
		if name != "*" {
			owner = "team " + strconv.Quote(name)
		}
		e.teams[name] = c.grants(id, owner, p.Teams[name])
	}
	for _, name := range slices.Sorted(maps.Keys(p.Roles)) {
		id := key("roles", name)
		switch name {
		case "":
			c.fail(id, "an empty role name matches nobody; name the role")
			continue
		case "*":
			c.fail(id, "roles add grants to the callers who hold them, so \"*\" is not a role; put grants for every caller under teams.\"*\"")
			continue
		}
		e.roles[name] = c.grants(id, "role "+strconv.Quote(name), p.Roles[name])
	}
	c.rules(p.Rules)
	c.profiles(p.Profiles)
	c.members(p.Members)
	if len(c.errs) > 0 {
		return nil, c.errs
	}
	return e, nil
}

func (c *compiler) grants(id, owner string, g Grants) *grantSet {
	gs := &grantSet{id: c.e.label + id, owner: owner, servers: map[string]*serverGrant{}}
	for _, server := range slices.Sorted(maps.Keys(g.Servers)) {
		sid := key(id+".servers", server)
		switch {
		case server == "":
			c.fail(sid, "an empty server name matches no server; name the server, or use \"*\" for every server")
			continue
		case server != "*" && strings.ContainsAny(server, "*?["):
			c.fail(sid, "server keys are server names or \"*\", not globs; name each server, or use \"*\" with tool patterns")
			continue
		}
		sg := g.Servers[server]
		out := &serverGrant{id: c.e.label + sid, every: server == "*"}
		out.kinds[Tool] = c.kindRules(sid+".tools", sg.Tools, false)
		out.kinds[Prompt] = c.kindRules(sid+".prompts", sg.Prompts, false)
		out.kinds[Resource] = c.kindRules(sid+".resources", sg.Resources, true)
		gs.servers[server] = out
	}
	return gs
}

func (c *compiler) kindRules(id string, r ToolRules, uri bool) kindRules {
	return kindRules{
		allowID: c.e.label + id + ".allow", denyID: c.e.label + id + ".deny",
		allow: c.globs(id+".allow", r.Allow, uri), deny: c.globs(id+".deny", r.Deny, uri),
		allowSrc: slices.Clone(r.Allow),
	}
}

func (c *compiler) globs(id string, patterns []string, uri bool) globs {
	var gs globs
	for i, p := range patterns {
		g, err := compileGlob(p, uri)
		if err != nil {
			c.fail(index(id, i), "%s", globProblem(p, err, uri))
			continue
		}
		gs = append(gs, g)
	}
	return gs
}

func globProblem(p string, err error, uri bool) string {
	if err == errEmptyGlob {
		return "an empty pattern matches nothing; remove it, or write \"*\" for everything"
	}
	how := "globs use *, ? and [...] as in path.Match"
	if uri {
		how = "URI globs use *, ? and [...] as in path.Match, and ** across /"
	}
	return fmt.Sprintf("%q is not a valid glob (%v); %s", p, err, how)
}

func (c *compiler) rules(rules []Rule) {
	named := map[string]int{}
	for i, r := range rules {
		path := index("rules", i)
		out := &rule{index: i, id: c.e.label + path, effect: r.Effect, message: r.Message}
		if r.Name != "" {
			if j, dup := named[r.Name]; dup {
				c.fail(path+".name", "%q already names rules[%d]; rule names must be unique", r.Name, j)
			}
			named[r.Name] = i
			out.id = c.e.label + key("rules", r.Name)
		}
		switch r.Kind {
		case "", "tool":
			out.kind = Tool
		case "prompt":
			out.kind = Prompt
		case "resource":
			out.kind = Resource
		default:
			c.fail(path+".kind", "%q is not a kind; write tool (the default), prompt or resource", r.Kind)
		}
		switch r.Effect {
		case Allow, Deny:
		case "":
			c.fail(path+".effect", "a rule needs an effect: allow or deny")
		default:
			c.fail(path+".effect", "%q is not an effect; write allow or deny", r.Effect)
		}
		out.server = c.optionalGlob(path+".server", r.Server, false)
		out.tool = c.optionalGlob(path+".tool", r.Tool, out.kind == Resource)
		if r.When != "" {
			cond, errs := compileCondition(c.e.env, c.e.label+path+".when", r.Name, r.When)
			c.errs = append(c.errs, errs...)
			out.when = cond
		}
		c.e.rules = append(c.e.rules, out)
	}
}

// optionalGlob compiles a rule's server or tool pattern; empty matches all.
func (c *compiler) optionalGlob(path, p string, uri bool) glob {
	if p == "" {
		p = "*"
		if uri {
			p = "**"
		}
	}
	g, err := compileGlob(p, uri)
	if err != nil {
		c.fail(path, "%s", globProblem(p, err, uri))
	}
	return g
}

func (c *compiler) profiles(ps []Profile) {
	if len(ps) > 0 && c.e.managed {
		c.fail("profiles", "a managed policy has no profiles: they narrow one agent, which is the user's business; put what the administrator requires in teams, roles or rules")
		return
	}
	seen := map[string]int{}
	for i, p := range ps {
		path := index("profiles", i)
		if p.Name == "" {
			c.fail(path+".name", "a profile needs a name (agents select it by name, or by match.client)")
		} else if j, dup := seen[p.Name]; dup {
			c.fail(path+".name", "%q already names profiles[%d]; profile names must be unique", p.Name, j)
		}
		seen[p.Name] = i
		id := key("profiles", p.Name)
		out := &profile{name: p.Name, id: id, identity: p.Identity, serversSrc: slices.Clone(p.Servers)}
		out.identity.Roles = slices.Clone(p.Identity.Roles)
		out.servers = c.globs(path+".servers", p.Servers, false)
		out.tools = c.kindRules(path+".tools", p.Tools, false)
		out.tools.allowID, out.tools.denyID = id+".tools.allow", id+".tools.deny"
		if p.Match.Client != "" {
			out.client = c.optionalGlob(path+".match.client", strings.ToLower(p.Match.Client), false)
			out.hasClient = true
		}
		c.e.profiles = append(c.e.profiles, out)
	}
}

func (c *compiler) members(ms []Member) {
	if len(ms) > 0 && !c.e.managed {
		c.fail("members", "only a managed policy assigns teams and roles to users; for yourself, set MCPGW_TEAM and MCPGW_ROLES, or a profile's identity")
		return
	}
	for i, m := range ms {
		path := index("members", i)
		if m.User == "" {
			c.fail(path+".user", "a member needs a user (a name or a glob, e.g. \"*\" for everyone else)")
			continue
		}
		c.e.members = append(c.e.members, member{id: c.e.label + path, user: c.optionalGlob(path+".user", m.User, false),
			team: m.Team, roles: slices.Clone(m.Roles)})
	}
}
