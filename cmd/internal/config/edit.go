package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// File and directory modes for a configuration file created by an edit.
const (
	newFileMode fs.FileMode = 0o600
	newDirMode  fs.FileMode = 0o700
)

// AddServer appends server s (named s.Name) under servers: in the file at
// path, creating the file and its directory if missing. Only the fields that
// are set are written, in canonical order; comments, key order and ${...}
// references already in the file are kept. It refuses a name that is
// already taken and a server that would not validate.
func AddServer(path string, s *Server) error {
	if s == nil {
		return errors.New("cannot add a nil server")
	}
	if err := validateName(s.Name); err != nil {
		return fmt.Errorf("cannot add server: %w", err)
	}
	d := &decoder{lookup: os.LookupEnv}
	if _, err := d.server(strNode(s.Name), serverNode(s)); err != nil {
		return fmt.Errorf("cannot add server %q: %w", s.Name, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), newDirMode); err != nil {
		return fmt.Errorf("cannot create the directory for %s: %w", path, err)
	}
	return editFile(path, true, func(servers *yaml.Node) (bool, error) {
		if i := findKey(servers, s.Name); i >= 0 {
			return false, fmt.Errorf("server %q already exists in %s (line %d); remove it first with `mcpgw server remove %s`", s.Name, path, servers.Content[i].Line, s.Name)
		}
		servers.Style = 0 // block style, even if the file had servers: {}
		servers.Content = append(servers.Content, strNode(s.Name), serverNode(s))
		return true, nil
	})
}

// RemoveServer deletes server name from the file at path, keeping
// everything else, and says which servers exist if name is not one of them.
func RemoveServer(path, name string) error {
	return editFile(path, false, func(servers *yaml.Node) (bool, error) {
		i := findKey(servers, name)
		if i < 0 {
			return false, unknownServer(path, name, servers)
		}
		servers.Content = slices.Delete(servers.Content, i, i+2)
		return true, nil
	})
}

// SetEnabled sets server name's enabled: key in the file at path. An
// existing key is updated in place; enabling a server with no key leaves
// the file alone (unset means enabled).
func SetEnabled(path, name string, enabled bool) error {
	return editFile(path, false, func(servers *yaml.Node) (bool, error) {
		i := findKey(servers, name)
		if i < 0 {
			return false, unknownServer(path, name, servers)
		}
		def := servers.Content[i+1]
		if def.Kind != yaml.MappingNode {
			return false, fmt.Errorf("server %q in %s (line %d) is not a plain mapping; set enabled: %t in it by hand", name, path, def.Line, enabled)
		}
		if j := findKey(def, "enabled"); j >= 0 {
			v := def.Content[j+1]
			want := boolNode(enabled)
			if v.Kind == yaml.ScalarNode && v.Value == want.Value {
				return false, nil
			}
			v.Kind, v.Tag, v.Value, v.Style, v.Alias, v.Content = want.Kind, want.Tag, want.Value, 0, nil, nil
			return true, nil
		}
		if enabled {
			return false, nil
		}
		at := canonicalIndex(def, "enabled")
		def.Content = slices.Insert(def.Content, at, strNode("enabled"), boolNode(enabled))
		return true, nil
	})
}

// editFile applies change to the servers: mapping of the file at path and
// writes the result atomically, but only if the file was valid before and
// the result validates. A missing file is started empty when create is set.
// change reports whether it changed anything; if not, nothing is written.
func editFile(path string, create bool, change func(servers *yaml.Node) (bool, error)) error {
	return editRoot(path, create, func(root *yaml.Node) (bool, error) { return change(serversNode(root)) })
}

// editRoot is [editFile] for a change to the whole top-level mapping.
func editRoot(path string, create bool, change func(root *yaml.Node) (bool, error)) error {
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist) && create:
		data = nil
	case err != nil:
		_, err = readFile(path) // for the explained error
		return err
	}
	if _, err := parse(path, data, false); err != nil {
		return fmt.Errorf("not editing %s until this is fixed: %w", path, err)
	}
	doc, err := parseDocument(path, data)
	if err != nil {
		return err
	}
	var prefix []byte
	if doc.Kind == 0 || len(doc.Content) == 0 || isNull(doc.Content[0]) {
		// Empty, comments only, or a lone null: yaml.v3 keeps no comments
		// here, so keep the original text and append the new document.
		if doc.Kind == 0 || len(doc.Content) == 0 {
			prefix = data
		}
		doc = &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{{Kind: yaml.MappingNode}}}
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return fmt.Errorf("cannot edit %s: the file must be a mapping with a servers: key", path)
	}
	changed, err := change(root)
	if err != nil || !changed {
		return err
	}
	out, err := encodeDocument(doc)
	if err != nil {
		return fmt.Errorf("cannot edit %s: %w", path, err)
	}
	if len(prefix) > 0 {
		if !bytes.HasSuffix(prefix, []byte("\n")) {
			prefix = append(prefix, '\n')
		}
		out = append(prefix, out...)
	}
	if _, err := parse(path, out, false); err != nil {
		return fmt.Errorf("not saving %s: the edited file would be invalid: %w", path, err)
	}
	return writeFileAtomic(path, out, newFileMode)
}

// serversNode returns root's servers: mapping, adding one if it is missing
// or empty. Comments on an empty servers: value are kept.
func serversNode(root *yaml.Node) *yaml.Node {
	i := findKey(root, "servers")
	if i < 0 {
		root.Content = append(root.Content, strNode("servers"), &yaml.Node{Kind: yaml.MappingNode})
		i = len(root.Content) - 2
	}
	v := root.Content[i+1]
	if isNull(v) {
		m := &yaml.Node{Kind: yaml.MappingNode, HeadComment: v.HeadComment, LineComment: v.LineComment, FootComment: v.FootComment}
		root.Content[i+1] = m
		return m
	}
	return v
}

// findKey returns the index of key's node in mapping m, or -1.
func findKey(m *yaml.Node, key string) int {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return i
		}
	}
	return -1
}

// canonicalIndex returns where key belongs in server mapping def: before the
// first existing key that comes after it in canonical order.
func canonicalIndex(def *yaml.Node, key string) int {
	keys := serverTable.names()
	rank := slices.Index(keys, key)
	for i := 0; i+1 < len(def.Content); i += 2 {
		if slices.Index(keys, def.Content[i].Value) > rank {
			return i
		}
	}
	return len(def.Content)
}

// unknownServer says that name is not in the file and which servers are.
func unknownServer(path, name string, servers *yaml.Node) error {
	var names []string
	for i := 0; i+1 < len(servers.Content); i += 2 {
		names = append(names, servers.Content[i].Value)
	}
	if len(names) == 0 {
		return fmt.Errorf("no server %q in %s: it has no servers; add one with `mcpgw server add NAME -- CMD ARGS`", name, path)
	}
	msg := fmt.Sprintf("no server %q in %s; known servers: %s", name, path, strings.Join(names, ", "))
	if s := closest(name, names); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	return errors.New(msg)
}

// encodeDocument marshals doc with a two-space indent.
func encodeDocument(doc *yaml.Node) ([]byte, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
