package config

import (
	"go.yaml.in/yaml/v3"

	"github.com/mcpgw/mcpgw/policy"
)

// The catalog: key, at the top level and in a profile: how agents are shown
// the tools. Written as a mode (catalog: search), or as a mapping when some
// tools are always listed (catalog: {mode: search, always: [memory__read_graph]}).

const catalogExample = `catalog: search, or catalog: {mode: search, always: [memory__read_graph]}`

// catalogModeHint says what a mode may be.
const catalogModeHint = "use full (every tool the agent may use is listed, the default) or search (the agent gets mcpgw__search_tools, mcpgw__describe_tool and mcpgw__call_tool instead)"

// catalogTable is catalog: written as a mapping.
var catalogTable = table[Catalog]{
	what: "a mapping such as {mode: search, always: [memory__read_graph]}, or just full or search",
	entries: []entry[Catalog]{
		field("mode", enum(catalogModeHint, "full", "search"), func(c *Catalog) *string { return &c.Mode }),
		field("always", textList(`always: [memory__read_graph, "github__get_*"]`, validateGlob), func(c *Catalog) *[]string { return &c.Always }),
	},
}

// catalogSection decodes catalog: as a mode, or a mapping.
func catalogSection() codec[Catalog] {
	mode := enum(catalogModeHint, "full", "search")
	return codec[Catalog]{
		decode: func(d *decoder, n *yaml.Node, key, name string) (Catalog, error) {
			var c Catalog
			switch m := deref(n); {
			case isNull(m):
				return c, nil
			case m.Kind == yaml.ScalarNode:
				v, err := mode.decode(d, m, key, "catalog mode")
				c.Mode = v
				return c, err
			case m.Kind == yaml.MappingNode:
				_, err := catalogTable.decode(d, m, key, &c)
				return c, err
			default:
				return c, d.errAt(m, key, "expected a mode or a mapping, got %s; write it like %s", describe(m), catalogExample)
			}
		},
		encode: func(c Catalog) *yaml.Node {
			if len(c.Always) == 0 {
				if c.Mode == "" {
					return nil
				}
				return encodeText(c.Mode)
			}
			m := catalogTable.encode(&c)
			m.Style = yaml.FlowStyle
			return m
		},
	}
}

// profileKeys is what one profile's keys fill: the profile as package
// policy takes it, and how its agents are shown the catalog.
type profileKeys struct {
	policy.Profile
	Catalog Catalog
}

// profileKeysTable is profileTable's keys, and catalog:.
var profileKeysTable = func() table[profileKeys] {
	t := table[profileKeys]{what: profileTable.what}
	for _, e := range profileTable.entries {
		t.entries = append(t.entries, lift(e, func(p *profileKeys) *policy.Profile { return &p.Profile }))
	}
	t.entries = append(t.entries, field("catalog", catalogSection(), func(p *profileKeys) *Catalog { return &p.Catalog }))
	return t
}()

// lift makes an entry of a T's table one of a U holding that T.
func lift[T, U any](e entry[T], at func(*U) *T) entry[U] {
	return entry[U]{
		name:   e.name,
		only:   e.only,
		decode: func(d *decoder, n *yaml.Node, key string, into *U) error { return e.decode(d, n, key, at(into)) },
		encode: func(from *U) *yaml.Node { return e.encode(at(from)) },
	}
}

// CatalogFor is the catalog mode of agents under profile ("" for none):
// the profile's own mode and always-listed tools where it sets them, the
// top level's where it does not.
func (c *Config) CatalogFor(profile string) Catalog {
	out := c.Catalog
	if pc, ok := c.ProfileCatalogs[profile]; ok && profile != "" {
		if pc.Mode != "" {
			out.Mode = pc.Mode
		}
		if pc.Always != nil {
			out.Always = pc.Always
		}
	}
	return out
}
