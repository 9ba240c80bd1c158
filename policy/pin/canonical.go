// Package pin pins tool definitions by hash (the rug-pull defence): on
// first sight a tool's definition is stored, keyed by server and tool name;
// a definition that later differs from its pin is held (hidden, its calls
// refused) or warned about until a person approves it. It also checks
// descriptions for hidden-instruction markers.
//
// The package has its own value types and a small [Store] interface, so it
// runs without the SDK or the record; package logs stores pins and
// cmd/internal/cli wires the [Stage] into the gateway's call path.
package pin

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
)

// pinnedFields are the parts of a tool's definition a pin covers: what the
// model reads and what the tool accepts and returns. The name is the key,
// not part of the definition, so a renamed tool keeps its hash.
var pinnedFields = []string{"title", "description", "inputSchema", "outputSchema", "annotations"}

// Canonical returns the canonical JSON of a tool's definition (the
// pinned fields only, object keys sorted, numbers as written, no HTML
// escaping) and its sha256, hex encoded.
func Canonical(def json.RawMessage) (canon []byte, hash string, err error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(def, &m); err != nil {
		return nil, "", fmt.Errorf("a tool definition that is not a JSON object: %w", err)
	}
	keep := map[string]any{}
	for _, k := range pinnedFields {
		raw, ok := m[k]
		if !ok || string(raw) == "null" {
			continue
		}
		d := json.NewDecoder(bytes.NewReader(raw))
		d.UseNumber()
		var v any
		if err := d.Decode(&v); err != nil {
			return nil, "", fmt.Errorf("the tool definition's %s: %w", k, err)
		}
		keep[k] = v
	}
	canon, err = encode(keep, "")
	if err != nil {
		return nil, "", err
	}
	sum := sha256.Sum256(canon)
	return canon, hex.EncodeToString(sum[:]), nil
}

// Pretty returns canonical JSON indented, for diffs.
func Pretty(canon json.RawMessage) string {
	if len(canon) == 0 {
		return ""
	}
	d := json.NewDecoder(bytes.NewReader(canon))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return string(canon) + "\n"
	}
	b, err := encode(v, "  ")
	if err != nil {
		return string(canon) + "\n"
	}
	return string(b) + "\n"
}

// encode marshals v with sorted keys (encoding/json sorts map keys) and
// without HTML escaping, so "<IMPORTANT>" reads as written.
func encode(v any, indent string) ([]byte, error) {
	var buf bytes.Buffer
	e := json.NewEncoder(&buf)
	e.SetEscapeHTML(false)
	if indent != "" {
		e.SetIndent("", indent)
	}
	if err := e.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// SpecHash hashes a server's launch spec: the command, its arguments and
// working directory, or the URL and transport. Environment and header
// values are left out (they hold secrets, and change with them).
func SpecHash(command string, args []string, cwd, url, transport string) (canon []byte, hash string) {
	spec := map[string]any{}
	if command != "" {
		spec["command"] = command
		spec["args"] = append([]string{}, args...)
		if cwd != "" {
			spec["cwd"] = cwd
		}
	}
	if url != "" {
		spec["url"] = url
		if transport != "" {
			spec["transport"] = transport
		}
	}
	canon, _ = encode(spec, "")
	sum := sha256.Sum256(canon)
	return canon, hex.EncodeToString(sum[:])
}
