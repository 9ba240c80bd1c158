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
	Err  error     // why it could not be encoded
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
	return v
}

// renamed is a JSON object with its top-level "name" set to name, every
// other byte kept.
func renamed(obj []byte, name string) ([]byte, error) {
	start, end, ok := topLevelString(obj, "name")
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

// topLevelString finds the string value of key among obj's own members:
// obj[start:end] is the value, quotes included.
func topLevelString(obj []byte, key string) (start, end int, ok bool) {
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
