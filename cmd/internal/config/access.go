package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/mcpgw/mcpgw/policy"
)

// Compiling the policy: and profiles: sections when the file loads, so a
// bad glob or CEL condition is a configuration error with its line, like
// any other, and the running gateway is handed an engine that cannot fail
// to build.

// access compiles c's policy and profiles into c.Access. Profiles alone,
// with no policy: section, only narrow: what they leave is allowed.
func (d *decoder) access(root *yaml.Node, c *Config) error {
	if c.Policy == nil && len(c.Profiles) == 0 {
		return nil
	}
	p := policy.Policy{Default: policy.Allow}
	if c.Policy != nil {
		p = *c.Policy
	}
	p.Profiles = c.Profiles
	polNode, profNode := valueOf(root, "policy"), valueOf(root, "profiles")
	where := func(id string) place {
		if rest, ok := strings.CutPrefix(id, "profiles"); ok && (rest == "" || rest[0] == '.' || rest[0] == '[') {
			return locate(profNode, "profiles", rest)
		}
		return locate(polNode, "policy", id)
	}
	e, err := policy.Compile(p)
	if err != nil {
		return d.policyError(err, where)
	}
	c.Access = e
	c.PolicyLines = partLines(p, "", where)
	return nil
}

// place is where a part of a policy is in the file: its line (0 when
// unknown), its node, and its dotted key.
type place struct {
	line int
	node *yaml.Node
	key  string
}

// policyError turns policy.Compile's problems into one *Error at the first
// problem's line; the others follow in its message, each with its line, so
// one run shows them all (on one line, as every configuration error).
func (d *decoder) policyError(err error, where func(id string) place) error {
	var errs policy.Errors
	if !errors.As(err, &errs) || len(errs) == 0 {
		return &Error{File: d.file, Msg: err.Error(), Err: err}
	}
	out := make([]*Error, len(errs))
	for i, pe := range errs {
		at := where(pe.Path)
		e := &Error{File: d.file, Line: at.line, Key: at.key, Msg: pe.Msg, Err: pe}
		if pe.Line > 0 && at.node != nil && at.node.Kind == yaml.ScalarNode {
			// A CEL problem: its line in the file, and its column in the
			// expression.
			e.Line = at.node.Line + pe.Line - 1
			if at.node.Style == yaml.LiteralStyle || at.node.Style == yaml.FoldedStyle {
				e.Line++ // the expression starts on the line after | or >
			}
			e.Msg = fmt.Sprintf("column %d of the condition: %s", pe.Column, pe.Msg)
		}
		out[i] = e
	}
	first := out[0]
	if len(out) > 1 {
		more := make([]string, len(out)-1)
		for i, e := range out[1:] {
			more[i] = e.Error()
		}
		noun := "problem"
		if len(more) > 1 {
			noun += "s"
		}
		first.Msg += fmt.Sprintf(" (and %d more %s: %s)", len(more), noun, strings.Join(more, "; "))
	}
	return first
}

// partLines locates the parts of p that `mcpgw policy show` lists, by
// rule id; label is "managed." for a managed policy's ids.
func partLines(p policy.Policy, label string, where func(id string) place) map[string]int {
	lines := map[string]int{}
	add := func(id string) {
		if l := where(id).line; l > 0 {
			lines[label+id] = l
		}
	}
	add("default")
	for name := range p.Teams {
		add(PolicyKey("teams", name))
	}
	for name := range p.Roles {
		add(PolicyKey("roles", name))
	}
	for i, r := range p.Rules {
		id := "rules[" + strconv.Itoa(i) + "]"
		add(id)
		if r.Name != "" {
			if l := where(id).line; l > 0 {
				lines[label+PolicyKey("rules", r.Name)] = l
			}
		}
	}
	for i := range p.Members {
		add("members[" + strconv.Itoa(i) + "]")
	}
	for i, pr := range p.Profiles {
		if l := where("profiles[" + strconv.Itoa(i) + "]").line; l > 0 {
			lines[PolicyKey("profiles", pr.Name)] = l
		}
	}
	return lines
}

// PolicyKey is a rule id with a map key, as package policy writes it:
// teams.web, teams["eng.web"].
func PolicyKey(id, k string) string {
	if k == "*" || k != "" && strings.Trim(k, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-@") == "" {
		return id + "." + k
	}
	return id + "[" + strconv.Quote(k) + "]"
}

// valueOf returns the value of key in mapping n, or nil.
func valueOf(n *yaml.Node, key string) *yaml.Node {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// locate follows a policy id (teams.web.servers.github.tools.allow[1],
// rules[0].when, [0].match.client) from the section node n, whose key is
// section, as far as the file has it. A map key ends at its key's line; a
// list item at the item's.
func locate(n *yaml.Node, section, id string) place {
	at := place{node: n, key: section}
	if n != nil {
		at.line = n.Line
	}
	for _, s := range idSegments(id) {
		n = deref(n)
		if n == nil {
			break
		}
		switch {
		case n.Kind == yaml.MappingNode && s.isIndex:
			// A map the policy holds as a list (profiles, in file order).
			if 2*s.index+1 >= len(n.Content) {
				return at
			}
			k := n.Content[2*s.index]
			n = n.Content[2*s.index+1]
			at = place{line: k.Line, node: n, key: keyJoin(at.key, k.Value)}
		case n.Kind == yaml.MappingNode:
			var found bool
			for i := 0; i+1 < len(n.Content); i += 2 {
				if k := deref(n.Content[i]); k.Value == s.name {
					n, found = n.Content[i+1], true
					at = place{line: k.Line, node: deref(n), key: keyJoin(at.key, s.name)}
					break
				}
			}
			if !found {
				return at
			}
		case n.Kind == yaml.SequenceNode && s.isIndex && s.index < len(n.Content):
			n = n.Content[s.index]
			at = place{line: deref(n).Line, node: deref(n), key: fmt.Sprintf("%s[%d]", at.key, s.index)}
		default:
			return at
		}
	}
	return at
}

// segment is one step of a policy id: a key, or a list index.
type segment struct {
	name    string
	index   int
	isIndex bool
}

// idSegments splits a policy id into its steps: .key, ["quoted key"] and
// [index].
func idSegments(id string) []segment {
	var out []segment
	for i := 0; i < len(id); {
		switch id[i] {
		case '.':
			i++
		case '[':
			if i+1 < len(id) && id[i+1] == '"' {
				q, err := strconv.QuotedPrefix(id[i+1:])
				if err != nil {
					return out
				}
				name, _ := strconv.Unquote(q)
				out = append(out, segment{name: name})
				i += 1 + len(q) + 1
				continue
			}
			end := strings.IndexByte(id[i:], ']')
			if end < 0 {
				return out
			}
			n, err := strconv.Atoi(id[i+1 : i+end])
			if err != nil {
				return out
			}
			out = append(out, segment{index: n, isIndex: true})
			i += end + 1
		default:
			end := strings.IndexAny(id[i:], ".[")
			if end < 0 {
				end = len(id) - i
			}
			out = append(out, segment{name: id[i : i+end]})
			i += end
		}
	}
	return out
}
