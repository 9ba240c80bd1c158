package clients

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/tailscale/hujson"
)

// parseJSON parses an agent's JSON file, comments and trailing commas
// allowed (VS Code's and Zed's files are JSONC; the others tolerate it
// too). Empty data is an empty object.
func parseJSON(path string, data []byte) (hujson.Value, *hujson.Object, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		data = []byte("{}")
	}
	v, err := hujson.Parse(data)
	if err != nil {
		return v, nil, fmt.Errorf("%s is not valid JSON (%w); fix it in an editor, nothing was changed", path, err)
	}
	obj, ok := v.Value.(*hujson.Object)
	if !ok {
		return v, nil, fmt.Errorf("%s is not a JSON object; fix it in an editor, nothing was changed", path)
	}
	return v, obj, nil
}

// member returns the index of key in obj, or -1.
func member(obj *hujson.Object, key string) int {
	for i, m := range obj.Members {
		if lit, ok := m.Name.Value.(hujson.Literal); ok && lit.String() == key {
			return i
		}
	}
	return -1
}

// standard returns v as plain JSON.
func standard(v hujson.Value) []byte {
	c := v.Clone()
	c.Standardize()
	return c.Pack()
}

// readJSON returns the servers of an agent's JSON file, in file order.
func (a *Agent) readJSON(path string, data []byte) ([]*Server, error) {
	_, obj, err := parseJSON(path, data)
	if err != nil {
		return nil, err
	}
	i := member(obj, a.Key)
	if i < 0 {
		return nil, nil
	}
	val := obj.Members[i].Value
	if lit, ok := val.Value.(hujson.Literal); ok && lit.Kind() == 'n' {
		return nil, nil
	}
	servers, ok := val.Value.(*hujson.Object)
	if !ok {
		return nil, fmt.Errorf("%s: %q must be an object of servers; fix it in an editor, nothing was changed", path, a.Key)
	}
	var out []*Server
	for _, m := range servers.Members {
		name := m.Name.Value.(hujson.Literal).String()
		var e entry
		if err := json.Unmarshal(standard(m.Value), &e); err != nil || e == nil {
			return nil, fmt.Errorf("%s: server %q must be an object; fix it in an editor, nothing was changed", path, name)
		}
		s, err := a.decode(name, e)
		if err != nil {
			return nil, fmt.Errorf("%s: %w; fix it in an editor, nothing was changed", path, err)
		}
		out = append(out, s)
	}
	return out, nil
}

// replaceJSON returns data with the agent's servers replaced by servers
// (the JSON text of an object, as written by [Agent.serversJSON] for an
// indent), and every other byte of the file as it was: the old value's
// bytes are cut out and the new ones spliced in, so comments, trailing
// commas, key order and formatting elsewhere cannot change.
func (a *Agent) replaceJSON(path string, data []byte, servers func(indent, unit string) string) ([]byte, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return []byte("{\n  " + quote(a.Key) + ": " + servers("  ", "  ") + "\n}\n"), nil
	}
	_, obj, err := parseJSON(path, data)
	if err != nil {
		return nil, err
	}
	unit := indentUnit(data, obj)
	if i := member(obj, a.Key); i >= 0 {
		m := obj.Members[i]
		indent := lineIndent(data, m.Name.StartOffset)
		out := splice(data, m.Value.StartOffset, m.Value.EndOffset, servers(indent, unit))
		return out, nil
	}
	// No servers key yet: a new last member of the top-level object.
	indent := unit
	if len(obj.Members) > 0 {
		indent = lineIndent(data, obj.Members[0].Name.StartOffset)
	}
	text := quote(a.Key) + ": " + servers(indent, unit)
	if len(obj.Members) == 0 {
		open := bytes.IndexByte(data, '{')
		return splice(data, open+1, open+1, "\n"+indent+text+"\n"), nil
	}
	last := obj.Members[len(obj.Members)-1].Value
	if last.AfterExtra != nil {
		// A trailing comma: the new member goes after it, keeping one.
		comma := last.EndOffset + len(last.AfterExtra)
		if comma >= len(data) || data[comma] != ',' {
			return nil, errors.New("internal error: trailing comma not found")
		}
		return splice(data, comma+1, comma+1, "\n"+indent+text+","), nil
	}
	// A line comment after the last value stays with it.
	end := last.EndOffset
	if nl := bytes.IndexByte(data[end:], '\n'); nl >= 0 {
		seg := bytes.TrimSpace(data[end : end+nl])
		if len(seg) == 0 || bytes.HasPrefix(seg, []byte("//")) {
			out := splice(data, end, end, ",")
			return splice(out, end+1+nl, end+1+nl, "\n"+indent+text), nil
		}
	}
	return splice(data, end, end, ",\n"+indent+text), nil
}

func splice(data []byte, from, to int, text string) []byte {
	out := make([]byte, 0, len(data)+len(text))
	out = append(out, data[:from]...)
	out = append(out, text...)
	return append(out, data[to:]...)
}

// lineIndent returns the whitespace that starts the line holding offset.
func lineIndent(data []byte, offset int) string {
	start := bytes.LastIndexByte(data[:offset], '\n') + 1
	end := start
	for end < len(data) && (data[end] == ' ' || data[end] == '\t') {
		end++
	}
	return string(data[start:end])
}

// indentUnit guesses the file's indent step from its first member: a tab,
// or as many spaces as it is indented; two spaces when it cannot tell.
func indentUnit(data []byte, obj *hujson.Object) string {
	if len(obj.Members) > 0 {
		ind := lineIndent(data, obj.Members[0].Name.StartOffset)
		if ind != "" && bytes.LastIndexByte(data[:obj.Members[0].Name.StartOffset], '\n') >= 0 {
			return ind
		}
	}
	return "  "
}

// quote writes s as a JSON string, leaving <, > and & as they are.
func quote(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}

// field is one key of a JSON object written in a given order.
type field struct {
	key string
	val any
}

// writeObject writes fields as a JSON object whose lines start with indent
// and nest by unit; the first line has no indent (it follows a key).
func writeObject(fields []field, indent, unit string) string {
	if len(fields) == 0 {
		return "{}"
	}
	var b strings.Builder
	b.WriteString("{\n")
	for i, f := range fields {
		b.WriteString(indent + unit + quote(f.key) + ": ")
		switch v := f.val.(type) {
		case []field:
			b.WriteString(writeObject(v, indent+unit, unit))
		case []string:
			q := make([]string, len(v))
			for i, s := range v {
				q[i] = quote(s)
			}
			b.WriteString("[" + strings.Join(q, ", ") + "]")
		default:
			j, _ := json.Marshal(v)
			b.WriteString(string(j))
		}
		if i < len(fields)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString(indent + "}")
	return b.String()
}
