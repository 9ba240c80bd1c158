package config

import (
	"fmt"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/mcpgw/mcpgw/policy/approval"
)

// The approval: section: which calls wait for a person, how the person is
// asked, and for how long. Each rule is compiled as it is read (globs and
// its CEL condition), so a bad one is reported at its line; its ID is
// approval.rules[i], as the record and refusals name it.

const approvalRulesExample = `rules: [{server: github, tool: "delete_*"}, {destructive: true}, {server: postgres, tool: query, when: 'args.sql.contains("DROP")'}]`

// approvalTable is the approval: section (also in a managed policy).
var approvalTable = table[approval.Config]{
	what: "a mapping such as {channel: auto, timeout: 2m, rules: [{destructive: true}]}",
	entries: []entry[approval.Config]{
		field("channel", approvalChannel(), func(c *approval.Config) *approval.Channel { return &c.Channel }),
		field("timeout", duration(), func(c *approval.Config) *time.Duration { return &c.Timeout }),
		field("rules", approvalRules(), func(c *approval.Config) *[]approval.Rule { return &c.Rules }),
	},
}

// approvalRuleTable is one approval rule, an item of approval.rules.
var approvalRuleTable = table[approval.Rule]{
	what: `a mapping such as {server: github, tool: "delete_*"}, {destructive: true} or {tool: query, when: 'args.sql.contains("DROP")'}`,
	entries: []entry[approval.Rule]{
		field("server", text(validateGlob), func(r *approval.Rule) *string { return &r.Server }),
		field("tool", text(validateGlob), func(r *approval.Rule) *string { return &r.Tool }),
		field("destructive", boolean(), func(r *approval.Rule) *bool { return &r.Destructive }),
		field("when", text(nil), func(r *approval.Rule) *string { return &r.When }),
	},
}

// approvalChannel is approval.channel.
func approvalChannel() codec[approval.Channel] {
	inner := enum("use auto (the agent's elicitation when it can be asked, else out-of-band), elicitation or out-of-band (mcpgw approvals from a terminal)",
		string(approval.Auto), string(approval.Elicitation), string(approval.OutOfBand))
	return codec[approval.Channel]{
		decode: func(d *decoder, n *yaml.Node, key, name string) (approval.Channel, error) {
			v, err := inner.decode(d, n, key, name)
			return approval.Channel(v), err
		},
		encode: func(v approval.Channel) *yaml.Node {
			if v == "" {
				return nil
			}
			return encodeText(string(v))
		},
	}
}

// approvalRules decodes approval.rules, compiling each rule.
func approvalRules() codec[[]approval.Rule] {
	return codec[[]approval.Rule]{
		decode: func(d *decoder, n *yaml.Node, key, _ string) ([]approval.Rule, error) {
			n = deref(n)
			if isNull(n) {
				return nil, nil
			}
			if n.Kind != yaml.SequenceNode {
				return nil, d.errAt(n, key, "expected a list, got %s; write it like %s", describe(n), approvalRulesExample)
			}
			out := make([]approval.Rule, 0, len(n.Content))
			for i, item := range n.Content {
				ik := fmt.Sprintf("%s[%d]", key, i)
				if isNull(item) {
					return nil, d.errAt(item, ik, "empty list item; remove it")
				}
				r := approval.Rule{ID: fmt.Sprintf("approval.rules[%d]", i)}
				if _, err := approvalRuleTable.decode(d, item, ik, &r); err != nil {
					return nil, err
				}
				if _, err := approval.Compile([]approval.Rule{r}); err != nil {
					return nil, d.check(item, ik, err)
				}
				out = append(out, r)
			}
			return out, nil
		},
		encode: func(v []approval.Rule) *yaml.Node {
			if len(v) == 0 {
				return nil
			}
			l := &yaml.Node{Kind: yaml.SequenceNode}
			for i := range v {
				m := approvalRuleTable.encode(&v[i])
				m.Style = yaml.FlowStyle
				l.Content = append(l.Content, m)
			}
			return l
		},
	}
}
