package catalog

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// ToolEntry is one exposed tool as the gateway lists it. Entries are
// immutable once made; successive catalogs share them for as long as a
// server lists the same tool.
type ToolEntry struct {
	prefix string
	// Name is the exposed name; Server and Original route it.
	Name, Server, Original string
	// The rest is set once the tool is visible (not hidden by a collision).
	Tool *mcp.Tool // the tool under its exposed name, schema normalized
	Data []byte    // Tool as a list carries it
	// Data26 is Data for 2026-07-28 agents where it differs: without
	// execution, which that version's Tool has no more (tasks left the
	// core protocol), as an older server may send it.
	Data26 []byte
	Err    error // why it could not be encoded
	// Whole: the SDK server must know the tool itself (see sdkReads).
	Whole bool
}

// Route is where the entry's calls go.
func (e *ToolEntry) Route() Route { return Route{Server: e.Server, Name: e.Original} }

// visible returns e with its tool and encoding, made from the server's
// tool src and, when known, its own encoding of it (raw): that is kept but
// for the name, unless the schema needed fixing.
func (e *ToolEntry) visible(src *mcp.Tool, raw json.RawMessage) *ToolEntry {
	if e.Tool != nil {
		return e
	}
	v := &ToolEntry{prefix: e.prefix, Name: e.Name, Server: e.Server, Original: e.Original, Tool: exposeTool(src, e.Name)}
	if m, ok := src.InputSchema.(map[string]any); ok && m["type"] == "object" && raw != nil {
		v.Data, v.Err = renamed(raw, e.Name)
	}
	if v.Data == nil {
		v.Data, v.Err = MarshalNoEscape(v.Tool)
	}
	v.Whole = v.Err == nil && sdkReads(v.Data)
	if v.Err == nil {
		v.Data26, _ = withoutMember(v.Data, "execution")
	}
	return v
}

// withoutMember is obj without its top-level member key, or nil when it
// has none (or is not an object).
func withoutMember(obj []byte, key string) ([]byte, bool) {
	if !bytes.Contains(obj, []byte(`"`+key+`"`)) {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(obj))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, false
	}
	for dec.More() {
		before := int(dec.InputOffset()) // after '{' or the previous value
		t, err := dec.Token()
		if err != nil {
			return nil, false
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, false
		}
		if t != key {
			continue
		}
		// The member runs from its key's quote to the end of its value;
		// a comma goes with it: the one after it, or else (the last
		// member) the one before it, between the previous value and q.
		q := before + bytes.IndexByte(obj[before:], '"')
		start, end := q, int(dec.InputOffset())
		if rest := bytes.TrimLeft(obj[end:], " \t\r\n"); len(rest) > 0 && rest[0] == ',' {
			end = len(obj) - len(rest) + 1
		} else if c := bytes.LastIndexByte(obj[before:q], ','); c >= 0 {
			start = before + c
		}
		out := make([]byte, 0, len(obj)-(end-start))
		out = append(out, obj[:start]...)
		return append(out, obj[end:]...), true
	}
	return nil, false
}

// renamed is a JSON object with its top-level "name" set to name, every
// other byte kept.
func renamed(obj []byte, name string) ([]byte, error) {
	start, end, ok := TopLevelString(obj, "name")
	if !ok {
		return nil, fmt.Errorf("no name in the server's tool %.100s", obj)
	}
	q, err := MarshalNoEscape(name)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(obj)-(end-start)+len(q))
	out = append(out, obj[:start]...)
	out = append(out, q...)
	return append(out, obj[end:]...), nil
}

// TopLevelString finds the string value of key among obj's own members:
// obj[start:end] is the value, quotes included.
func TopLevelString(obj []byte, key string) (start, end int, ok bool) {
	depth := 0
	expectValue := false
	for i := 0; i < len(obj); i++ {
		switch c := obj[i]; c {
		case '{', '[':
			if expectValue {
				return 0, 0, false // not a string
			}
			depth++
		case '}', ']':
			depth--
		case '"':
			s := i
			for i++; i < len(obj) && obj[i] != '"'; i++ {
				if obj[i] == '\\' {
					i++
				}
			}
			if depth != 1 {
				continue
			}
			if expectValue {
				return s, i + 1, true
			}
			// A member's key is followed by ':'.
			j := i + 1
			for j < len(obj) && (obj[j] == ' ' || obj[j] == '\t' || obj[j] == '\r' || obj[j] == '\n') {
				j++
			}
			if j < len(obj) && obj[j] == ':' && string(obj[s+1:i]) == key {
				expectValue = true
				i = j
			}
		case ' ', '\t', '\r', '\n':
		default:
			if expectValue {
				return 0, 0, false // not a string
			}
		}
	}
	return 0, 0, false
}

// MarshalNoEscape encodes v as the SDK writes messages: like json.Marshal,
// without HTML escaping. The result is a copy of its own size: encodings
// are kept for as long as their tools are listed.
func MarshalNoEscape(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.Clone(bytes.TrimSuffix(buf.Bytes(), []byte("\n"))), nil
}

// sdkReads reports whether the SDK server would read anything in a tool
// (encoded as data) beyond its name: it rejects schemas with x-mcp-header
// annotations it does not accept or nesting deeper than its decoder
// allows, and checks the Mcp-Param headers of HTTP calls against the
// annotations. (A false positive only costs a registration.)
func sdkReads(data []byte) bool {
	return bytes.Contains(data, []byte(`"x-mcp-header"`)) || jsonDepth(data) > 900
}

// jsonDepth is the deepest nesting of objects and arrays in data.
func jsonDepth(data []byte) int {
	depth, deepest := 0, 0
	inString, escaped := false, false
	for _, c := range data {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
			deepest = max(deepest, depth)
		case c == '}' || c == ']':
			depth--
		}
	}
	return deepest
}
