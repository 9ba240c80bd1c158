package config

import (
	"fmt"
	"maps"
	"slices"

	"go.yaml.in/yaml/v3"

	"github.com/mcpgw/mcpgw/policy"
)

// The keys of the identity:, profiles: and policy: sections, and of a
// managed policy file (whose top level is policyTable). They decode
// straight into package policy's typed structs; what the keys mean is
// checked by policy.Compile once the file is decoded (access.go), so a
// glob or a CEL condition is judged by the engine that will run it.

// identityTable is who is calling: identity:, and a profile's identity:.
var identityTable = table[policy.Identity]{
	what: "a mapping such as {user: ana@example.com, team: finance, roles: [analyst]}",
	entries: []entry[policy.Identity]{
		field("user", text(nil), func(i *policy.Identity) *string { return &i.User }),
		field("team", text(nil), func(i *policy.Identity) *string { return &i.Team }),
		field("roles", textList(`roles: [analyst, admin]`, nil), func(i *policy.Identity) *[]string { return &i.Roles }),
	},
}

// profileTable is one agent profile, under profiles.NAME.
var profileTable = table[policy.Profile]{
	what: `a mapping such as {match: {client: "cursor*"}, servers: [github], tools: {deny: ["*__delete_*"]}}`,
	entries: []entry[policy.Profile]{
		field("identity", nested(&identityTable), func(p *policy.Profile) *policy.Identity { return &p.Identity }),
		field("servers", textList(`servers: [github, everything]`, nil), func(p *policy.Profile) *[]string { return &p.Servers }),
		field("tools", nested(&ruleListTable), func(p *policy.Profile) *policy.ToolRules { return &p.Tools }),
		field("match", nested(&matchTable), func(p *policy.Profile) *policy.Match { return &p.Match }),
	},
}

// matchTable is how a profile is selected, under profiles.NAME.match.
var matchTable = table[policy.Match]{
	what: `a mapping such as {client: "cursor*"}`,
	entries: []entry[policy.Match]{
		field("client", text(nil), func(m *policy.Match) *string { return &m.Client }),
	},
}

// ruleListTable is an allow/deny pair of globs: a profile's tools, and a
// grant's tools, prompts or resources.
var ruleListTable = table[policy.ToolRules]{
	what: `a mapping with allow: and/or deny: lists, such as {allow: ["list_*"], deny: ["drop_*"]}`,
	entries: []entry[policy.ToolRules]{
		field("allow", textList(`allow: ["list_*", query]`, nil), func(r *policy.ToolRules) *[]string { return &r.Allow }),
		field("deny", textList(`deny: ["drop_*"]`, nil), func(r *policy.ToolRules) *[]string { return &r.Deny }),
	},
}

// policyTable is the policy: section, and the top level of a managed
// policy file.
var policyTable = table[policy.Policy]{
	what: "a mapping with default:, teams:, roles: and rules:",
	entries: []entry[policy.Policy]{
		field("default", effect(), func(p *policy.Policy) *policy.Effect { return &p.Default }),
		field("teams", namedMap("a mapping of team names (or \"*\" for every team) to grants", &grantsTable), func(p *policy.Policy) *map[string]policy.Grants { return &p.Teams }),
		field("roles", namedMap("a mapping of role names to grants", &grantsTable), func(p *policy.Policy) *map[string]policy.Grants { return &p.Roles }),
		field("rules", mappingList(`rules: [{server: github, tool: create_issue, when: 'args.repo.startsWith("acme/")', effect: allow}]`, &ruleTable),
			func(p *policy.Policy) *[]policy.Rule { return &p.Rules }),
		field("members", mappingList(`members: [{user: ana, team: finance, roles: [analyst]}]`, &memberTable),
			func(p *policy.Policy) *[]policy.Member { return &p.Members }),
	},
}

// grantsTable is what a team or role may use, under teams.NAME or
// roles.NAME.
var grantsTable = table[policy.Grants]{
	what: `a mapping with servers:, such as {servers: {github: {}, postgres: {tools: {allow: [query]}}}}`,
	entries: []entry[policy.Grants]{
		field("servers", namedMap("a mapping of server names (or \"*\" for every server) to what they grant", &serverGrantTable),
			func(g *policy.Grants) *map[string]policy.ServerGrant { return &g.Servers }),
	},
}

// serverGrantTable is what a grant gives of one server: all of it when
// empty.
var serverGrantTable = table[policy.ServerGrant]{
	what: `a mapping with tools:, prompts: and/or resources:, or {} for the whole server`,
	entries: []entry[policy.ServerGrant]{
		field("tools", nested(&ruleListTable), func(g *policy.ServerGrant) *policy.ToolRules { return &g.Tools }),
		field("prompts", nested(&ruleListTable), func(g *policy.ServerGrant) *policy.ToolRules { return &g.Prompts }),
		field("resources", nested(&ruleListTable), func(g *policy.ServerGrant) *policy.ToolRules { return &g.Resources }),
	},
}

// ruleTable is one argument rule, an item of rules:.
var ruleTable = table[policy.Rule]{
	what: `a mapping such as {server: github, tool: create_issue, when: 'args.repo.startsWith("acme/")', effect: allow}`,
	entries: []entry[policy.Rule]{
		field("name", text(nil), func(r *policy.Rule) *string { return &r.Name }),
		field("kind", enum("use tool (the default), prompt or resource", "tool", "prompt", "resource"), func(r *policy.Rule) *string { return &r.Kind }),
		field("server", text(nil), func(r *policy.Rule) *string { return &r.Server }),
		field("tool", text(nil), func(r *policy.Rule) *string { return &r.Tool }),
		field("when", text(nil), func(r *policy.Rule) *string { return &r.When }),
		field("effect", effect(), func(r *policy.Rule) *policy.Effect { return &r.Effect }),
		field("message", text(nil), func(r *policy.Rule) *string { return &r.Message }),
	},
}

// memberTable gives users a team and roles (managed policies only).
var memberTable = table[policy.Member]{
	what: `a mapping such as {user: "ana", team: finance, roles: [analyst]}`,
	entries: []entry[policy.Member]{
		field("user", text(nil), func(m *policy.Member) *string { return &m.User }),
		field("team", text(nil), func(m *policy.Member) *string { return &m.Team }),
		field("roles", textList(`roles: [analyst]`, nil), func(m *policy.Member) *[]string { return &m.Roles }),
	},
}

// forwardingTable is how the caller's identity reaches one server, under
// servers.NAME.identity.
var forwardingTable = table[Forwarding]{
	what: "a mapping such as {forward: false}, {headers: {user: X-Acme-User}} or {assert: true}",
	entries: []entry[Forwarding]{
		field("forward", optionalBool(), func(f *Forwarding) **bool { return &f.Forward }),
		field("headers", nested(&identityHeadersTable), func(f *Forwarding) *IdentityHeaders { return &f.Headers }),
		field("assert", boolean(), func(f *Forwarding) *bool { return &f.Assert }),
	},
}

// identityHeadersTable names the headers a remote server gets the
// identity in.
var identityHeadersTable = table[IdentityHeaders]{
	what: "a mapping of user:, team: and/or roles: to header names, such as {user: X-Acme-User}",
	entries: []entry[IdentityHeaders]{
		field("user", text(validateHeaderName), func(h *IdentityHeaders) *string { return &h.User }),
		field("team", text(validateHeaderName), func(h *IdentityHeaders) *string { return &h.Team }),
		field("roles", text(validateHeaderName), func(h *IdentityHeaders) *string { return &h.Roles }),
	},
}

// effect is allow or deny.
func effect() codec[policy.Effect] {
	inner := enum("write allow or deny", string(policy.Allow), string(policy.Deny))
	return codec[policy.Effect]{
		decode: func(d *decoder, n *yaml.Node, key, name string) (policy.Effect, error) {
			v, err := inner.decode(d, n, key, name)
			return policy.Effect(v), err
		},
		encode: func(v policy.Effect) *yaml.Node { return encodeText(string(v)) },
	}
}

// namedMap is a mapping of names to values of t's shape; a name with no
// value (`github:` or `github: {}`) holds the zero value, which for a
// grant means the whole server. what describes the mapping for "expected
// WHAT, got ..." messages.
func namedMap[S any](what string, t *table[S]) codec[map[string]S] {
	return codec[map[string]S]{
		decode: func(d *decoder, n *yaml.Node, key, _ string) (map[string]S, error) {
			pairs, err := d.mappingPairs(n, key, what)
			if err != nil || len(pairs) == 0 {
				return nil, err
			}
			out := make(map[string]S, len(pairs))
			for _, p := range pairs {
				var s S
				if _, err := t.decode(d, p.val, keyJoin(key, p.key.Value), &s); err != nil {
					return nil, err
				}
				out[p.key.Value] = s
			}
			return out, nil
		},
		encode: func(v map[string]S) *yaml.Node {
			if len(v) == 0 {
				return nil
			}
			m := &yaml.Node{Kind: yaml.MappingNode}
			for _, name := range slices.Sorted(maps.Keys(v)) {
				s := v[name]
				m.Content = append(m.Content, strNode(name), flowIfEmpty(t.encode(&s)))
			}
			return m
		},
	}
}

// mappingList is a list of mappings of t's shape; example shows the shape
// expected when the value is not a list.
func mappingList[S any](example string, t *table[S]) codec[[]S] {
	return codec[[]S]{
		decode: func(d *decoder, n *yaml.Node, key, _ string) ([]S, error) {
			n = deref(n)
			if isNull(n) {
				return nil, nil
			}
			if n.Kind != yaml.SequenceNode {
				return nil, d.errAt(n, key, "expected a list, got %s; write it like %s", describe(n), example)
			}
			out := make([]S, 0, len(n.Content))
			for i, item := range n.Content {
				ik := fmt.Sprintf("%s[%d]", key, i)
				if isNull(item) {
					return nil, d.errAt(item, ik, "empty list item; remove it")
				}
				var s S
				if _, err := t.decode(d, item, ik, &s); err != nil {
					return nil, err
				}
				out = append(out, s)
			}
			return out, nil
		},
		encode: func(v []S) *yaml.Node {
			if len(v) == 0 {
				return nil
			}
			l := &yaml.Node{Kind: yaml.SequenceNode}
			for i := range v {
				l.Content = append(l.Content, flowIfEmpty(t.encode(&v[i])))
			}
			return l
		},
	}
}

// flowIfEmpty writes an empty mapping as {}.
func flowIfEmpty(m *yaml.Node) *yaml.Node {
	if len(m.Content) == 0 {
		m.Style = yaml.FlowStyle
	}
	return m
}

// policy decodes the policy: section; null leaves it unset.
func (d *decoder) policy(n *yaml.Node, key string, c *Config) error {
	if isNull(n) {
		return nil
	}
	p := &policy.Policy{}
	if _, err := policyTable.decode(d, n, key, p); err != nil {
		return err
	}
	c.Policy = p
	return nil
}

func encodePolicy(c *Config) *yaml.Node {
	if c.Policy == nil {
		return nil
	}
	return flowIfEmpty(policyTable.encode(c.Policy))
}

// profiles decodes the profiles: mapping, keeping file order: the first
// profile whose match fits an agent is the one it gets.
func (d *decoder) profiles(n *yaml.Node, key string, c *Config) error {
	pairs, err := d.mappingPairs(n, key, "a mapping of profile names to profiles")
	if err != nil {
		return err
	}
	for _, p := range pairs {
		pr := profileKeys{Profile: policy.Profile{Name: p.key.Value}}
		if _, err := profileKeysTable.decode(d, p.val, keyJoin(key, pr.Name), &pr); err != nil {
			return err
		}
		c.Profiles = append(c.Profiles, pr.Profile)
		if pr.Catalog.Mode != "" || pr.Catalog.Always != nil {
			if c.ProfileCatalogs == nil {
				c.ProfileCatalogs = map[string]Catalog{}
			}
			c.ProfileCatalogs[pr.Name] = pr.Catalog
		}
	}
	return nil
}

func encodeProfiles(c *Config) *yaml.Node {
	if len(c.Profiles) == 0 {
		return nil
	}
	m := &yaml.Node{Kind: yaml.MappingNode}
	for i := range c.Profiles {
		p := profileKeys{Profile: c.Profiles[i], Catalog: c.ProfileCatalogs[c.Profiles[i].Name]}
		m.Content = append(m.Content, strNode(p.Name), flowIfEmpty(profileKeysTable.encode(&p)))
	}
	return m
}
