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
	root = deref(root)
	if isNull(root) {
		return c, nil
	}
	pairs, err := d.mappingPairs(root, "", "a mapping with a servers: key")
	if err != nil {
		return nil, err
	}
	for _, p := range pairs {
		switch p.key.Value {
		case "servers":
			if err := d.servers(c, p.val); err != nil {
				return nil, err
			}
		case "secrets":
			if c.Secrets, err = d.secrets(p.val, "secrets"); err != nil {
				return nil, err
			}
		case "logs":
			if c.Logs, err = d.logs(p.val, "logs"); err != nil {
				return nil, err
			}
		default:
			return nil, d.errAt(p.key, "", "%s", unknownKeyMsg(p.key.Value, topKeys))
		}
	}
	return c, nil
}

// servers decodes the servers: mapping into c, keeping file order.
func (d *decoder) servers(c *Config, n *yaml.Node) error {
	pairs, err := d.mappingPairs(n, "servers", "a mapping of server names to definitions")
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
	pairs, err := d.mappingPairs(val, sk, "a mapping with command: or url:")
	if err != nil {
		return nil, err
	}
	present := map[string]int{}
	for _, p := range pairs {
		k, v := p.key.Value, p.val
		fk := sk + "." + k
		var err error
		switch k {
		case "command":
			s.Command, err = d.str(v, fk)
		case "args":
			s.Args, err = d.strList(v, fk, "args: [\"--port\", \"8080\"]", nil, true)
		case "env":
			s.Env, err = d.strMap(v, fk, "env: {API_KEY: ${secret:api-key}}", validateEnvName)
		case "cwd":
			s.Cwd, err = d.str(v, fk)
		case "url":
			if s.URL, err = d.tmpl(v, fk); err == nil && s.URL != "" {
				err = d.check(v, fk, validateURL(s.URL))
			}
		case "transport":
			if s.Transport, err = d.str(v, fk); err == nil {
				err = d.check(v, fk, validateTransport(s.Transport))
			}
		case "headers":
			s.Headers, err = d.strMap(v, fk, "headers: {Authorization: Bearer ${secret:api-token}}", validateHeaderName)
		case "prefix":
			if !isNull(v) {
				var p string
				if p, err = d.str(v, fk); err == nil {
					s.Prefix = &p
					err = d.check(v, fk, validatePrefix(p))
				}
			}
		case "enabled":
			s.Enabled, err = d.boolean(v, fk)
		case "start":
			if s.Start, err = d.str(v, fk); err == nil {
				err = d.check(v, fk, validateStart(s.Start))
			}
		case "tools":
			s.Tools, err = d.tools(v, fk)
		case "timeouts":
			s.Timeouts, err = d.timeouts(v, fk)
		case "protocol_version":
			if s.ProtocolVersion, err = d.str(v, fk); err == nil {
				err = d.check(v, fk, validateProtocolVersion(s.ProtocolVersion))
			}
		default:
			return nil, d.errAt(p.key, sk, "%s", unknownKeyMsg(k, serverKeys))
		}
		if err != nil {
			return nil, err
		}
		if !isNull(v) {
			present[k] = p.key.Line
		}
	}
	if k, line, err := validateKind(s, present); err != nil {
		e := &Error{File: d.file, Line: key.Line, Key: sk, Msg: err.Error(), Err: err}
		if k != "" {
			e.Line, e.Key = line, sk+"."+k
		}
		return nil, e
	}
	return s, nil
}

// tools decodes a server's tools: {allow, deny} filter.
func (d *decoder) tools(n *yaml.Node, key string) (ToolFilter, error) {
	var f ToolFilter
	pairs, err := d.mappingPairs(n, key, "a mapping with allow: and/or deny: lists")
	if err != nil {
		return f, err
	}
	for _, p := range pairs {
		fk := key + "." + p.key.Value
		switch p.key.Value {
		case "allow":
			f.Allow, err = d.strList(p.val, fk, "allow: [\"read_*\", search]", validateGlob, false)
		case "deny":
			f.Deny, err = d.strList(p.val, fk, "deny: [\"delete_*\"]", validateGlob, false)
		default:
			return f, d.errAt(p.key, key, "%s", unknownKeyMsg(p.key.Value, toolsKeys))
		}
		if err != nil {
			return f, err
		}
	}
	return f, nil
}

// secrets decodes the secrets: section.
func (d *decoder) secrets(n *yaml.Node, key string) (Secrets, error) {
	var s Secrets
	pairs, err := d.mappingPairs(n, key, "a mapping with fallback: and/or timeout:")
	if err != nil {
		return s, err
	}
	for _, p := range pairs {
		fk := key + "." + p.key.Value
		switch p.key.Value {
		case "fallback":
			if s.Fallback, err = d.str(p.val, fk); err == nil {
				err = d.check(p.val, fk, validateFallback(s.Fallback))
			}
		case "timeout":
			s.Timeout, err = d.duration(p.val, fk)
		default:
			return s, d.errAt(p.key, key, "%s", unknownKeyMsg(p.key.Value, secretsKeys))
		}
		if err != nil {
			return s, err
		}
	}
	return s, nil
}

// logs decodes the logs: section.
func (d *decoder) logs(n *yaml.Node, key string) (Logs, error) {
	var l Logs
	pairs, err := d.mappingPairs(n, key, "a mapping such as {payloads: redacted, retention: {max_age: 720h}}")
	if err != nil {
		return l, err
	}
	for _, p := range pairs {
		fk := key + "." + p.key.Value
		switch p.key.Value {
		case "enabled":
			l.Enabled, err = d.boolean(p.val, fk)
		case "path":
			l.Path, err = d.str(p.val, fk)
		case "payloads":
			if l.Payloads, err = d.str(p.val, fk); err == nil {
				err = d.check(p.val, fk, validatePayloads(l.Payloads))
			}
		case "max_payload_bytes":
			var n int64
			if n, err = d.size(p.val, fk); err == nil {
				l.MaxPayloadBytes = int(n)
			}
		case "strict":
			var b *bool
			if b, err = d.boolean(p.val, fk); err == nil && b != nil {
				l.Strict = *b
			}
		case "retention":
			l.Retention, err = d.retention(p.val, fk)
		default:
			return l, d.errAt(p.key, key, "%s", unknownKeyMsg(p.key.Value, logsKeys))
		}
		if err != nil {
			return l, err
		}
	}
	return l, nil
}

// retention decodes logs.retention: {max_age, max_size}.
func (d *decoder) retention(n *yaml.Node, key string) (Retention, error) {
	var r Retention
	pairs, err := d.mappingPairs(n, key, "a mapping with max_age: (e.g. 720h) and/or max_size: (e.g. 500MB)")
	if err != nil {
		return r, err
	}
	for _, p := range pairs {
		fk := key + "." + p.key.Value
		switch p.key.Value {
		case "max_age":
			r.MaxAge, err = d.age(p.val, fk)
		case "max_size":
			r.MaxSize, err = d.size(p.val, fk)
		default:
			return r, d.errAt(p.key, key, "%s", unknownKeyMsg(p.key.Value, retentionKeys))
		}
		if err != nil {
			return r, err
		}
	}
	return r, nil
}

// age decodes a duration that may also be given in days and weeks (30d).
func (d *decoder) age(n *yaml.Node, key string) (time.Duration, error) {
	v, err := d.str(n, key)
	if err != nil || v == "" {
		return 0, err
	}
	a, perr := ParseAge(v)
	if perr != nil {
		e := d.errAt(deref(n), key, "%v", perr)
		e.Err = perr
		return 0, e
	}
	return a, d.check(deref(n), key, validateDuration(a))
}

// size decodes a byte size such as 500MB; null means unset.
func (d *decoder) size(n *yaml.Node, key string) (int64, error) {
	v, err := d.str(n, key)
	if err != nil || v == "" {
		return 0, err
	}
	s, serr := ParseSize(v)
	return s, d.check(deref(n), key, serr)
}

// timeouts decodes a server's timeouts: {connect, call}.
func (d *decoder) timeouts(n *yaml.Node, key string) (Timeouts, error) {
	var t Timeouts
	pairs, err := d.mappingPairs(n, key, "a mapping with connect: and/or call: durations, and tools: {TOOL: duration}")
	if err != nil {
		return t, err
	}
	for _, p := range pairs {
		fk := key + "." + p.key.Value
		switch p.key.Value {
		case "connect":
			t.Connect, err = d.duration(p.val, fk)
		case "call":
			t.Call, err = d.duration(p.val, fk)
		case "tools":
			t.Tools, err = d.toolTimeouts(p.val, fk)
		default:
			return t, d.errAt(p.key, key, "%s", unknownKeyMsg(p.key.Value, timeoutsKeys))
		}
		if err != nil {
			return t, err
		}
	}
	return t, nil
}

// toolTimeouts decodes per-tool call timeouts: {TOOL or GLOB: duration}.
func (d *decoder) toolTimeouts(n *yaml.Node, key string) (map[string]time.Duration, error) {
	pairs, err := d.mappingPairs(n, key, "a mapping of tool names or globs to durations, like {export_*: 10m}")
	if err != nil || len(pairs) == 0 {
		return nil, err
	}
	out := make(map[string]time.Duration, len(pairs))
	for _, p := range pairs {
		fk := key + "." + p.key.Value
		if err := d.check(p.key, fk, validateGlob(p.key.Value)); err != nil {
			return nil, err
		}
		v, err := d.duration(p.val, fk)
		if err != nil {
			return nil, err
		}
		if v == 0 {
			return nil, d.errAt(deref(p.val), fk, "a tool's call timeout must be set; write a duration like 10m")
		}
		out[p.key.Value] = v
	}
	return out, nil
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
