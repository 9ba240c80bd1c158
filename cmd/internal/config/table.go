package config

import "go.yaml.in/yaml/v3"

// A table lists the keys one YAML mapping may hold, in canonical order, and
// decodes the mapping into a T. Decoding, encoding, unknown-key messages
// (with their did-you-mean) and the order `mcpgw server add` writes keys in
// all read the tables in keys.go, so each key is declared once.
type table[T any] struct {
	// what is the shape expected, for "expected WHAT, got ..." messages.
	what    string
	entries []entry[T]
}

// An entry is one key of a table: its name, and how its value decodes into
// and encodes from a T. Most entries are made by [field].
type entry[T any] struct {
	name string
	// only, for a server key, is the one kind of server it applies to.
	only serverKind
	// decode reads the value n, at dotted key path key, into into.
	decode func(d *decoder, n *yaml.Node, key string, into *T) error
	// encode renders the value held by from, or returns nil when it is
	// unset, leaving the key out.
	encode func(from *T) *yaml.Node
}

// serverKind says which kind of server a key applies to; 0 means both.
type serverKind int

const (
	localServer  serverKind = iota + 1 // one that runs a command
	remoteServer                       // one reached at a url
)

// localOnly marks a server key as valid only for a local server.
func (e entry[T]) localOnly() entry[T] { e.only = localServer; return e }

// remoteOnly marks a server key as valid only for a remote server.
func (e entry[T]) remoteOnly() entry[T] { e.only = remoteServer; return e }

// A codec is a kind of value: how it decodes from a node, checked, and
// encodes back. V is the Go type it fills.
type codec[V any] struct {
	// decode reads n, located at dotted key path key; name is the key's own
	// name, for messages that speak of it ("unknown transport ...").
	decode func(d *decoder, n *yaml.Node, key, name string) (V, error)
	// encode renders v, or returns nil for an unset (zero) value.
	encode func(v V) *yaml.Node
}

// field makes the entry for key name, whose value is of kind c and lives in
// the struct field at returns. A pointer to the field serves both to read
// and to write it, and keeps the table type-checked.
func field[T, V any](name string, c codec[V], at func(*T) *V) entry[T] {
	return entry[T]{
		name: name,
		decode: func(d *decoder, n *yaml.Node, key string, into *T) error {
			v, err := c.decode(d, n, key, name)
			if err != nil {
				return err
			}
			*at(into) = v
			return nil
		},
		encode: func(from *T) *yaml.Node { return c.encode(*at(from)) },
	}
}

// decode reads mapping n, at dotted key path key, into into, key by key in
// file order, so the first problem in the file is the one reported. It
// returns the mapping's entries for checks that span keys.
func (t *table[T]) decode(d *decoder, n *yaml.Node, key string, into *T) ([]pair, error) {
	pairs, err := d.mappingPairs(n, key, t.what)
	if err != nil {
		return nil, err
	}
	for _, p := range pairs {
		e := t.lookup(p.key.Value)
		if e == nil {
			return nil, d.errAt(p.key, key, "%s", unknownKeyMsg(p.key.Value, t.names()))
		}
		if err := e.decode(d, p.val, keyJoin(key, e.name), into); err != nil {
			return nil, err
		}
	}
	return pairs, nil
}

// encode renders from as a mapping of the keys that are set, in canonical
// order.
func (t *table[T]) encode(from *T) *yaml.Node {
	m := &yaml.Node{Kind: yaml.MappingNode}
	for _, e := range t.entries {
		if v := e.encode(from); v != nil {
			m.Content = append(m.Content, strNode(e.name), v)
		}
	}
	return m
}

// lookup returns the entry for key name, or nil.
func (t *table[T]) lookup(name string) *entry[T] {
	for i := range t.entries {
		if t.entries[i].name == name {
			return &t.entries[i]
		}
	}
	return nil
}

// names lists the table's keys in canonical order.
func (t *table[T]) names() []string {
	names := make([]string, len(t.entries))
	for i, e := range t.entries {
		names[i] = e.name
	}
	return names
}
