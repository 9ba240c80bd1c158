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

// readJSON returns the servers of an agent's JSON file, held at the
// member chain in (see [File.In]), in file order.
func (a *Agent) readJSON(path string, data []byte, in []string) ([]*Server, error) {
	_, obj, err := parseJSON(path, data)
	if err != nil {
		return nil, err
	}
	val, err := lookup(path, obj, in)
	if val == nil || err != nil {
		return nil, err
	}
	servers, ok := val.Value.(*hujson.Object)
	if !ok {
		return nil, fmt.Errorf("%s: %s must be an object of servers; fix it in an editor, nothing was changed", path, memberPath(in))
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

// lookup walks obj down the member chain in: the value at its end, or nil
// when a member is missing or null. A member on the way that is not an
// object is an error.
func lookup(path string, obj *hujson.Object, in []string) (*hujson.Value, error) {
	for i, k := range in {
		j := member(obj, k)
		if j < 0 || isNull(obj.Members[j].Value) {
			return nil, nil
		}
		v := &obj.Members[j].Value
		if i == len(in)-1 {
			return v, nil
		}
		next, ok := v.Value.(*hujson.Object)
		if !ok {
			return nil, fmt.Errorf("%s: %s must be an object; fix it in an editor, nothing was changed", path, memberPath(in[:i+1]))
		}
		obj = next
	}
	return nil, nil
}

func isNull(v hujson.Value) bool {
	lit, ok := v.Value.(hujson.Literal)
	return ok && lit.Kind() == 'n'
}

// memberPath writes a member chain for people: "mcpServers", or
// projects["/dir"].mcpServers.
func memberPath(in []string) string {
	if len(in) == 1 {
		return quote(in[0])
	}
	var b strings.Builder
	b.WriteString(in[0])
	for _, k := range in[1 : len(in)-1] {
		b.WriteString("[" + quote(k) + "]")
	}
	b.WriteString("." + in[len(in)-1])
	return b.String()
}

// replaceJSON returns data with the agent's servers, at the member chain
// in, replaced by servers (the JSON text of an object, as written by
// [writeObject] for an indent), and every other byte of the file as it
// was: the old value's bytes are cut out and the new ones spliced in, so
// comments, trailing commas, key order and formatting elsewhere cannot
// change. Missing (or null) objects on the way are created.
func (a *Agent) replaceJSON(path string, data []byte, in []string, servers func(indent, unit string) string) ([]byte, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return []byte("{\n  " + nested(in, "  ", "  ", servers) + "\n}\n"), nil
	}
	root, obj, err := parseJSON(path, data)
	if err != nil {
		return nil, err
	}
	unit := indentUnit(data, obj)
	val, closeIndent := &root, ""
	for i, k := range in {
		j := member(obj, k)
		if j < 0 {
			return insertMember(data, val, obj, closeIndent, unit, func(indent string) string {
				return nested(in[i:], indent, unit, servers)
			})
		}
		m := &obj.Members[j]
		indent := lineIndent(data, m.Name.StartOffset)
		if i == len(in)-1 {
			return splice(data, m.Value.StartOffset, m.Value.EndOffset, servers(indent, unit)), nil
		}
		next, ok := m.Value.Value.(*hujson.Object)
		if !ok {
			if !isNull(m.Value) {
				return nil, fmt.Errorf("%s: %s must be an object; fix it in an editor, nothing was changed", path, memberPath(in[:i+1]))
			}
			text := "{\n" + indent + unit + nested(in[i+1:], indent+unit, unit, servers) + "\n" + indent + "}"
			return splice(data, m.Value.StartOffset, m.Value.EndOffset, text), nil
		}
		val, obj, closeIndent = &m.Value, next, indent
	}
	return nil, errors.New("internal error: no member chain for the servers")
}

// nested writes the member in[0] holding, through objects, the servers at
// the end of the chain in; indent is the indent of the member's line.
func nested(in []string, indent, unit string, servers func(indent, unit string) string) string {
	if len(in) == 1 {
		return quote(in[0]) + ": " + servers(indent, unit)
	}
	return quote(in[0]) + ": {\n" + indent + unit + nested(in[1:], indent+unit, unit, servers) + "\n" + indent + "}"
}

// insertMember adds a new last member, text(indent), to obj, the value
// val, whose closing brace is on a line indented by closeIndent.
func insertMember(data []byte, val *hujson.Value, obj *hujson.Object, closeIndent, unit string, text func(indent string) string) ([]byte, error) {
	indent := closeIndent + unit
	if len(obj.Members) > 0 {
		indent = lineIndent(data, obj.Members[0].Name.StartOffset)
	}
	t := text(indent)
	if len(obj.Members) == 0 {
		open := val.StartOffset
		return splice(data, open+1, open+1, "\n"+indent+t+"\n"+closeIndent), nil
	}
	last := obj.Members[len(obj.Members)-1].Value
	if last.AfterExtra != nil {
		// A trailing comma: the new member goes after it, keeping one.
		comma := last.EndOffset + len(last.AfterExtra)
		if comma >= len(data) || data[comma] != ',' {
			return nil, errors.New("internal error: trailing comma not found")
		}
		return splice(data, comma+1, comma+1, "\n"+indent+t+","), nil
	}
	// A line comment after the last value stays with it.
	end := last.EndOffset
	if nl := bytes.IndexByte(data[end:], '\n'); nl >= 0 {
		seg := bytes.TrimSpace(data[end : end+nl])
		if len(seg) == 0 || bytes.HasPrefix(seg, []byte("//")) {
			out := splice(data, end, end, ",")
			return splice(out, end+1+nl, end+1+nl, "\n"+indent+t), nil
		}
	}
	return splice(data, end, end, ",\n"+indent+t), nil
}

// removeJSON returns data without the member at the end of the chain in,
// and without the objects on the way that this leaves empty and keep says
// not to keep; the rest of the file stays as it is.
func removeJSON(path string, data []byte, in []string, keep func(in []string) bool) ([]byte, error) {
	v, _, err := parseJSON(path, data)
	if err != nil {
		return nil, err
	}
	if v.Find(pointer(in)) == nil {
		return data, nil
	}
	for i := len(in); i >= 1; i-- {
		if i < len(in) {
			o, ok := v.Find(pointer(in[:i])).Value.(*hujson.Object)
			if !ok || len(o.Members) > 0 || keep(in[:i]) {
				break
			}
		}
		if err := v.Patch([]byte(`[{"op": "remove", "path": ` + quote(pointer(in[:i])) + `}]`)); err != nil {
			return nil, fmt.Errorf("cannot edit %s safely: %w", path, err)
		}
	}
	return v.Pack(), nil
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
