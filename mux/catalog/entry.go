package catalog

import (
	"bytes"
	"encoding/json"

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
// tool src.
func (e *ToolEntry) visible(src *mcp.Tool) *ToolEntry {
	if e.Tool != nil {
		return e
	}
	v := &ToolEntry{prefix: e.prefix, Name: e.Name, Server: e.Server, Original: e.Original, Tool: exposeTool(src, e.Name)}
	v.Data, v.Err = MarshalNoEscape(v.Tool)
	v.Whole = v.Err == nil && sdkReads(v.Data)
	return v
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
