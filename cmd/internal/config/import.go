package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"go.yaml.in/yaml/v3"
)

// Import adds servers under servers: and, when profile is not "" and not
// yet there, an empty profile of that name under profiles: (it exposes
// every server), in one atomic write of the file at path, which is
// created if missing. Like [AddServer] it keeps everything else in the
// file and refuses a server whose name is taken or that would not
// validate; then nothing is written.
func Import(path string, servers []*Server, profile string) error {
	d := &decoder{lookup: os.LookupEnv}
	for _, s := range servers {
		if s == nil {
			return errors.New("cannot add a nil server")
		}
		if err := validateName(s.Name); err != nil {
			return fmt.Errorf("cannot add server: %w", err)
		}
		if _, err := d.server(strNode(s.Name), serverNode(s)); err != nil {
			return fmt.Errorf("cannot add server %q: %w", s.Name, err)
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), newDirMode); err != nil {
		return fmt.Errorf("cannot create the directory for %s: %w", path, err)
	}
	return editRoot(path, true, func(root *yaml.Node) (bool, error) {
		changed := false
		if len(servers) > 0 {
			sn := serversNode(root)
			for _, s := range servers {
				if i := findKey(sn, s.Name); i >= 0 {
					return false, fmt.Errorf("server %q already exists in %s (line %d)", s.Name, path, sn.Content[i].Line)
				}
				sn.Style = 0
				sn.Content = append(sn.Content, strNode(s.Name), serverNode(s))
			}
			changed = true
		}
		if profile == "" {
			return changed, nil
		}
		i := findKey(root, "profiles")
		if i < 0 {
			root.Content = append(root.Content, strNode("profiles"), &yaml.Node{Kind: yaml.MappingNode})
			i = len(root.Content) - 2
		}
		pn := root.Content[i+1]
		if isNull(pn) {
			pn = &yaml.Node{Kind: yaml.MappingNode, HeadComment: pn.HeadComment, LineComment: pn.LineComment}
			root.Content[i+1] = pn
		}
		if pn.Kind != yaml.MappingNode {
			return false, fmt.Errorf("cannot add profile %q: profiles: in %s (line %d) is not a mapping", profile, path, pn.Line)
		}
		if findKey(pn, profile) >= 0 {
			return changed, nil
		}
		pn.Style = 0
		pn.Content = append(pn.Content, strNode(profile), &yaml.Node{Kind: yaml.MappingNode, Style: yaml.FlowStyle})
		return true, nil
	})
}

// HasProfile reports whether cfg has a profile called name.
func (c *Config) HasProfile(name string) bool {
	for _, p := range c.Profiles {
		if p.Name == name {
			return true
		}
	}
	return false
}

// CheckServer reports whether s would validate as a server of the file,
// as [AddServer] checks it.
func CheckServer(s *Server) error {
	if err := validateName(s.Name); err != nil {
		return err
	}
	d := &decoder{lookup: os.LookupEnv}
	_, err := d.server(strNode(s.Name), serverNode(s))
	return err
}
