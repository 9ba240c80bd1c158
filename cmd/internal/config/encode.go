package config

import (
	"slices"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// serverNode renders s as a YAML mapping holding only the fields that are
// set, in canonical key order. Values are written as given, so ${VAR}
// references are kept.
func serverNode(s *Server) *yaml.Node { return serverTable.encode(s) }

// encodeServers renders c's servers in file order, or nil when it has none.
func encodeServers(c *Config) *yaml.Node {
	if len(c.Order) == 0 {
		return nil
	}
	m := &yaml.Node{Kind: yaml.MappingNode}
	for _, name := range c.Order {
		m.Content = append(m.Content, strNode(name), serverNode(c.Servers[name]))
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
