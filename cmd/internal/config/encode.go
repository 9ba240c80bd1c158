package config

import (
	"maps"
	"slices"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// serverNode renders s as a YAML mapping holding only the fields that are
// set, in canonical key order. Values are written as given, so ${VAR}
// references are kept.
func serverNode(s *Server) *yaml.Node {
	m := &yaml.Node{Kind: yaml.MappingNode}
	add := func(key string, val *yaml.Node) {
		m.Content = append(m.Content, strNode(key), val)
	}
	if s.Command != "" {
		add("command", strNode(s.Command))
	}
	if len(s.Args) > 0 {
		add("args", listNode(s.Args))
	}
	if len(s.Env) > 0 {
		add("env", mapNode(s.Env))
	}
	if s.Cwd != "" {
		add("cwd", strNode(s.Cwd))
	}
	if s.URL != "" {
		add("url", strNode(s.URL))
	}
	if s.Transport != "" {
		add("transport", strNode(s.Transport))
	}
	if len(s.Headers) > 0 {
		add("headers", mapNode(s.Headers))
	}
	if s.Prefix != nil {
		add("prefix", strNode(*s.Prefix))
	}
	if s.Enabled != nil {
		add("enabled", boolNode(*s.Enabled))
	}
	if s.Start != "" {
		add("start", strNode(s.Start))
	}
	if len(s.Tools.Allow) > 0 || len(s.Tools.Deny) > 0 {
		t := &yaml.Node{Kind: yaml.MappingNode}
		if len(s.Tools.Allow) > 0 {
			t.Content = append(t.Content, strNode("allow"), listNode(s.Tools.Allow))
		}
		if len(s.Tools.Deny) > 0 {
			t.Content = append(t.Content, strNode("deny"), listNode(s.Tools.Deny))
		}
		add("tools", t)
	}
	if s.Timeouts.Connect != 0 || s.Timeouts.Call != 0 || len(s.Timeouts.Tools) > 0 {
		t := &yaml.Node{Kind: yaml.MappingNode}
		if s.Timeouts.Connect != 0 {
			t.Content = append(t.Content, strNode("connect"), strNode(s.Timeouts.Connect.String()))
		}
		if s.Timeouts.Call != 0 {
			t.Content = append(t.Content, strNode("call"), strNode(s.Timeouts.Call.String()))
		}
		if len(s.Timeouts.Tools) > 0 {
			tt := &yaml.Node{Kind: yaml.MappingNode}
			for _, name := range slices.Sorted(maps.Keys(s.Timeouts.Tools)) {
				tt.Content = append(tt.Content, strNode(name), strNode(s.Timeouts.Tools[name].String()))
			}
			t.Content = append(t.Content, strNode("tools"), tt)
		}
		add("timeouts", t)
	}
	if s.ProtocolVersion != "" {
		add("protocol_version", strNode(s.ProtocolVersion))
	}
	return m
}

// strNode is a string scalar; the encoder quotes it when it would otherwise
// read back as another type.
func strNode(v string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v}
}

// boolNode is a boolean scalar.
func boolNode(v bool) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(v)}
}

// listNode is a one-line list of strings: [a, b].
func listNode(vs []string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
	for _, v := range vs {
		n.Content = append(n.Content, strNode(v))
	}
	return n
}

// mapNode is a mapping of strings with sorted keys.
func mapNode(m map[string]string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		n.Content = append(n.Content, strNode(k), strNode(m[k]))
	}
	return n
}
