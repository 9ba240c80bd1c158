package config

import (
	"errors"
	"fmt"
	"strconv"

	"go.yaml.in/yaml/v3"

	"github.com/mcpgw/mcpgw/policy/limits"
)

// The limits: section: a list of rate limits, each checked as a whole
// once its keys are read (scope and rate are required). A limit's ID is its
// place in the list, limits[i], as the record and refusals name it.

const limitsExample = `limits: [{scope: user, rate: 60/m}, {scope: server, server: github, rate: 5/s, burst: 10}]`

// limitList decodes limits:.
func limitList() codec[[]limits.Rule] {
	return codec[[]limits.Rule]{
		decode: func(d *decoder, n *yaml.Node, key, _ string) ([]limits.Rule, error) {
			n = deref(n)
			if isNull(n) {
				return nil, nil
			}
			if n.Kind != yaml.SequenceNode {
				return nil, d.errAt(n, key, "expected a list, got %s; write it like %s", describe(n), limitsExample)
			}
			out := make([]limits.Rule, 0, len(n.Content))
			for i, item := range n.Content {
				ik := fmt.Sprintf("%s[%d]", key, i)
				if isNull(item) {
					return nil, d.errAt(item, ik, "empty list item; remove it")
				}
				r := limits.Rule{ID: fmt.Sprintf("limits[%d]", i)}
				if _, err := limitTable.decode(d, item, ik, &r); err != nil {
					return nil, err
				}
				if err := d.check(item, ik, checkLimit(&r)); err != nil {
					return nil, err
				}
				out = append(out, r)
			}
			return out, nil
		},
		encode: func(v []limits.Rule) *yaml.Node {
			if len(v) == 0 {
				return nil
			}
			l := &yaml.Node{Kind: yaml.SequenceNode}
			for i := range v {
				m := limitTable.encode(&v[i])
				m.Style = yaml.FlowStyle
				l.Content = append(l.Content, m)
			}
			return l
		},
	}
}

// checkLimit checks what one limit's keys say together.
func checkLimit(r *limits.Rule) error {
	switch {
	case r.Scope == "":
		return errors.New("a limit needs scope: user, team, server or tool, e.g. {scope: user, rate: 60/m}")
	case r.Rate.N == 0:
		return fmt.Errorf("a limit needs rate: N/s, N/m or N/h, e.g. {scope: %s, rate: 60/m}", r.Scope)
	case r.Scope == limits.Tool && r.Server == "" && r.Tool == "":
		return errors.New("a tool limit counts each tool apart: name the tools it covers with server: and/or tool: (globs), e.g. {scope: tool, server: github, tool: \"create_*\", rate: 10/m}")
	}
	return nil
}

// limitScope is a limit's scope:.
func limitScope() codec[limits.Scope] {
	inner := enum("use user, team, server or tool", string(limits.User), string(limits.Team), string(limits.Server), string(limits.Tool))
	return codec[limits.Scope]{
		decode: func(d *decoder, n *yaml.Node, key, name string) (limits.Scope, error) {
			v, err := inner.decode(d, n, key, name)
			return limits.Scope(v), err
		},
		encode: func(v limits.Scope) *yaml.Node { return encodeText(string(v)) },
	}
}

// limitRate is a limit's rate: N/s, N/m or N/h.
func limitRate() codec[limits.Rate] {
	return codec[limits.Rate]{
		decode: func(d *decoder, n *yaml.Node, key, _ string) (limits.Rate, error) {
			v, err := d.str(n, key)
			if err != nil || v == "" {
				return limits.Rate{}, err
			}
			r, rerr := limits.ParseRate(v)
			return r, d.check(deref(n), key, rerr)
		},
		encode: func(v limits.Rate) *yaml.Node {
			if v.N == 0 {
				return nil
			}
			return encodeText(v.String())
		},
	}
}

// count is a positive whole number (a limit's burst:).
func count() codec[int] {
	return codec[int]{
		decode: func(d *decoder, n *yaml.Node, key, _ string) (int, error) {
			v, err := d.str(n, key)
			if err != nil || v == "" {
				return 0, err
			}
			c, cerr := strconv.Atoi(v)
			if cerr != nil || c <= 0 {
				return 0, d.errAt(deref(n), key, "%q is not a positive whole number; write e.g. burst: 10", v)
			}
			return c, nil
		},
		encode: func(v int) *yaml.Node {
			if v == 0 {
				return nil
			}
			return encodeText(strconv.Itoa(v))
		},
	}
}
