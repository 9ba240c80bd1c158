package config

import (
	"fmt"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// decoder turns a YAML node tree into a Config, expanding ${VAR} references
// in values and validating as it goes. The first problem found is returned
// as an *Error naming the file, line and key.
type decoder struct {
	file   string
	lookup func(string) (string, bool)
	strict bool // an unset ${VAR} is an error (false: kept as written)
}

// errAt builds an *Error located at node n.
func (d *decoder) errAt(n *yaml.Node, key, format string, args ...any) *Error {
	line := 0
	if n != nil {
		line = n.Line
	}
	return &Error{File: d.file, Line: line, Key: key, Msg: fmt.Sprintf(format, args...)}
}

// check wraps a validation error as an *Error located at node n.
func (d *decoder) check(n *yaml.Node, key string, err error) error {
	if err == nil {
		return nil
	}
	e := d.errAt(n, key, "%s", err.Error())
	e.Err = err
	return e
}

// config decodes the document's root node.
func (d *decoder) config(root *yaml.Node) (*Config, error) {
	c := &Config{Path: d.file, Servers: map[string]*Server{}}
	if isNull(root) {
		return c, nil
	}
	if _, err := configTable.decode(d, root, "", c); err != nil {
		return nil, err
	}
	if err := d.access(root, c); err != nil {
		return nil, err
	}
	return c, nil
}

// servers decodes the servers: mapping into c, keeping file order.
func (d *decoder) servers(n *yaml.Node, key string, c *Config) error {
	pairs, err := d.mappingPairs(n, key, "a mapping of server names to definitions")
	if err != nil {
		return err
	}
	for _, p := range pairs {
		s, err := d.server(p.key, p.val)
		if err != nil {
			return err
		}
		c.Servers[s.Name] = s
		c.Order = append(c.Order, s.Name)
	}
	return nil
}

// server decodes one server definition; key is its name's node.
func (d *decoder) server(key, val *yaml.Node) (*Server, error) {
	name := key.Value
	sk := keyJoin("servers", name)
	if err := d.check(key, sk, validateName(name)); err != nil {
		return nil, err
	}
	s := &Server{Name: name, Line: key.Line}
	pairs, err := serverTable.decode(d, val, sk, s)
	if err != nil {
		return nil, err
	}
	present := map[string]int{}
	for _, p := range pairs {
		if !isNull(p.val) {
			present[p.key.Value] = p.key.Line
		}
	}
	if k, line, err := validateKind(s, present); err != nil {
		e := &Error{File: d.file, Line: key.Line, Key: sk, Msg: err.Error(), Err: err}
		if k != "" {
			e.Line, e.Key = line, sk+"."+k
		}
		return nil, e
	}
	if k, err := validateOAuth(s.OAuth); err != nil {
		return nil, &Error{File: d.file, Line: present["oauth"], Key: sk + ".oauth." + k, Msg: err.Error(), Err: err}
	}
	if s.Identity.Headers != (IdentityHeaders{}) && !s.IsRemote() {
		return nil, &Error{File: d.file, Line: present["identity"], Key: sk + ".identity.headers",
			Msg: "only valid for a remote server (one with url:); a local server gets the identity as MCPGW_USER_EMAIL, MCPGW_USER_TEAM and MCPGW_USER_ROLES in its environment"}
	}
	return s, nil
}

// str decodes a scalar value as a string and expands ${VAR} references in
// it. A null value decodes as "". ${secret:NAME} is refused: secrets go
// only where [decoder.tmpl] reads.
func (d *decoder) str(n *yaml.Node, key string) (string, error) {
	return d.scalar(n, key, false)
}

// tmpl is [decoder.str] for values that may hold ${secret:NAME} references
// (a server's env, headers, args and url). They are kept, escapes included,
// for the keystore to resolve when the server starts.
func (d *decoder) tmpl(n *yaml.Node, key string) (string, error) {
	return d.scalar(n, key, true)
}

func (d *decoder) scalar(n *yaml.Node, key string, secrets bool) (string, error) {
	n = deref(n)
	if isNull(n) {
		return "", nil
	}
	if n.Kind != yaml.ScalarNode {
		return "", d.errAt(n, key, "expected a single value, got %s", describe(n))
	}
	v, err := expand(n.Value, d.lookup, d.strict)
	if err == nil && !secrets {
		v, err = noSecrets(v)
	}
	return v, d.check(n, key, err)
}

// strList decodes a list of scalars, checking each with validate if set.
// example shows the expected shape in the error for a wrong type.
func (d *decoder) strList(n *yaml.Node, key, example string, validate func(string) error, secrets bool) ([]string, error) {
	n = deref(n)
	if isNull(n) {
		return nil, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, d.errAt(n, key, "expected a list, got %s; write it like %s", describe(n), example)
	}
	var out []string
	for i, item := range n.Content {
		ik := fmt.Sprintf("%s[%d]", key, i)
		if isNull(item) {
			return nil, d.errAt(item, ik, "empty list item; remove it or quote it as \"\"")
		}
		v, err := d.scalar(item, ik, secrets)
		if err != nil {
			return nil, err
		}
		if validate != nil {
			if err := d.check(item, ik, validate(v)); err != nil {
				return nil, err
			}
		}
		out = append(out, v)
	}
	return out, nil
}

// strMap decodes a mapping of names to scalars, keeping the names' case and
// checking each name with validateKey. Names are never expanded; values may
// hold ${secret:NAME} references.
func (d *decoder) strMap(n *yaml.Node, key, example string, validateKey func(string) error) (map[string]string, error) {
	if n = deref(n); !isNull(n) && n.Kind != yaml.MappingNode {
		return nil, d.errAt(n, key, "expected a mapping of names to values, got %s; write it like %s", describe(n), example)
	}
	pairs, err := d.mappingPairs(n, key, "a mapping of names to values")
	if err != nil || len(pairs) == 0 {
		return nil, err
	}
	out := make(map[string]string, len(pairs))
	for _, p := range pairs {
		name := p.key.Value
		ek := keyJoin(key, name)
		if err := d.check(p.key, ek, validateKey(name)); err != nil {
			return nil, err
		}
		if isNull(p.val) {
			return nil, d.errAt(p.key, ek, "has no value; set one (e.g. %s: ${%s}) or write \"\" for an empty value", name, strings.ToUpper(strings.ReplaceAll(name, "-", "_")))
		}
		v, err := d.tmpl(p.val, ek)
		if err != nil {
			return nil, err
		}
		out[name] = v
	}
	return out, nil
}

// boolean decodes true or false; null leaves it unset.
func (d *decoder) boolean(n *yaml.Node, key string) (*bool, error) {
	if isNull(n) {
		return nil, nil
	}
	v, err := d.str(n, key)
	if err != nil {
		return nil, err
	}
	var b bool
	switch v {
	case "true", "True", "TRUE":
		b = true
	case "false", "False", "FALSE":
		b = false
	default:
		return nil, d.errAt(deref(n), key, "expected true or false, got %q", v)
	}
	return &b, nil
}

// duration decodes a Go duration such as 30s or 1m30s; null means unset.
func (d *decoder) duration(n *yaml.Node, key string) (time.Duration, error) {
	v, err := d.str(n, key)
	if err != nil || v == "" {
		return 0, err
	}
	t, perr := time.ParseDuration(v)
	if perr != nil {
		e := d.errAt(deref(n), key, "%q is not a duration; write a number with a unit, like 30s, 2m or 1m30s", v)
		e.Err = perr
		return 0, e
	}
	return t, d.check(deref(n), key, validateDuration(t))
}
