package config

import (
	"fmt"

	"go.yaml.in/yaml/v3"
)

// pair is one key/value entry of a YAML mapping.
type pair struct {
	key, val *yaml.Node
}

// deref follows aliases to the node they name.
func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// isNull reports whether n is absent or an explicit null (`key:` or `~`).
func isNull(n *yaml.Node) bool {
	n = deref(n)
	return n == nil || n.Kind == 0 || n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// describe names what n holds, for "expected X, got Y" messages.
func describe(n *yaml.Node) string {
	n = deref(n)
	switch {
	case isNull(n):
		return "nothing"
	case n.Kind == yaml.SequenceNode:
		return "a list"
	case n.Kind == yaml.MappingNode:
		return "a mapping"
	case n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str":
		return fmt.Sprintf("%q", n.Value)
	case n.Kind == yaml.ScalarNode:
		return n.Value
	}
	return "something else"
}

// mappingPairs returns the entries of mapping node n in file order, with
// merge keys (<<: *anchor) expanded and later explicit keys overriding merged
// ones. It reports keys that are not plain scalars and duplicate keys.
func (d *decoder) mappingPairs(n *yaml.Node, key string, what string) ([]pair, error) {
	n = deref(n)
	if isNull(n) {
		return nil, nil
	}
	if n.Kind != yaml.MappingNode {
		return nil, d.errAt(n, key, "expected %s, got %s", what, describe(n))
	}
	var merged, own []pair
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return nil, d.errAt(k, key, "keys must be plain names, got %s", describe(k))
		}
		if k.Value == "<<" && k.ShortTag() == "!!merge" {
			ps, err := d.mergePairs(v, key, what)
			if err != nil {
				return nil, err
			}
			merged = append(merged, ps...)
			continue
		}
		if first, dup := seen[k.Value]; dup {
			return nil, d.errAt(k, key, "key %q appears twice (first on line %d); keep one", k.Value, first.Line)
		}
		seen[k.Value] = k
		own = append(own, pair{k, v})
	}
	var out []pair
	for _, p := range merged {
		if _, overridden := seen[p.key.Value]; !overridden {
			seen[p.key.Value] = p.key
			out = append(out, p)
		}
	}
	return append(out, own...), nil
}

// mergePairs returns the entries brought in by a merge key's value: a
// mapping, or a list of mappings where earlier ones win.
func (d *decoder) mergePairs(v *yaml.Node, key, what string) ([]pair, error) {
	v = deref(v)
	if v.Kind != yaml.SequenceNode {
		return d.mappingPairs(v, key, what)
	}
	var out []pair
	seen := map[string]bool{}
	for _, m := range v.Content {
		ps, err := d.mappingPairs(m, key, what)
		if err != nil {
			return nil, err
		}
		for _, p := range ps {
			if !seen[p.key.Value] {
				seen[p.key.Value] = true
				out = append(out, p)
			}
		}
	}
	return out, nil
}
