package clients

import (
	"bytes"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/pelletier/go-toml/v2"
)

// readTOML returns the servers of Codex's config.toml, in file order.
func (a *Agent) readTOML(path string, data []byte) ([]*Server, error) {
	doc, err := decodeTOML(path, data)
	if err != nil {
		return nil, err
	}
	raw, ok := doc[a.Key]
	if !ok {
		return nil, nil
	}
	m, ok := raw.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: %s must be a table of servers; fix it in an editor, nothing was changed", path, a.Key)
	}
	var out []*Server
	for _, name := range tomlOrder(data, m) {
		e, ok := m[name].(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s: [%s.%s] must be a table; fix it in an editor, nothing was changed", path, a.Key, name)
		}
		s, err := a.decode(name, e)
		if err != nil {
			return nil, fmt.Errorf("%s: %w; fix it in an editor, nothing was changed", path, err)
		}
		out = append(out, s)
	}
	return out, nil
}

func decodeTOML(path string, data []byte) (map[string]any, error) {
	doc := map[string]any{}
	if err := toml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s is not valid TOML (%w); fix it in an editor, nothing was changed", path, err)
	}
	return doc, nil
}

// tomlOrder returns m's names in the order their tables appear in data,
// then any others (inline tables) sorted.
func tomlOrder(data []byte, m map[string]any) []string {
	var names []string
	for _, line := range splitLines(data) {
		if keys, ok := tomlHeader(line); ok && len(keys) >= 2 && keys[0] == "mcp_servers" {
			if _, in := m[keys[1]]; in && !slices.Contains(names, keys[1]) {
				names = append(names, keys[1])
			}
		}
	}
	var rest []string
	for k := range m {
		if !slices.Contains(names, k) {
			rest = append(rest, k)
		}
	}
	slices.Sort(rest)
	return append(names, rest...)
}

// headerRE matches a TOML table or array-of-tables header line.
var headerRE = regexp.MustCompile(`^\s*\[\[?\s*([^\[\]]+?)\s*\]\]?\s*(#.*)?$`)

// tomlHeader returns the keys of a table header line ([a."b".c]).
func tomlHeader(line string) ([]string, bool) {
	m := headerRE.FindStringSubmatch(strings.TrimRight(line, "\r\n"))
	if m == nil {
		return nil, false
	}
	var keys []string
	rest := m[1]
	for rest != "" {
		rest = strings.TrimLeft(rest, " \t")
		var k string
		switch {
		case strings.HasPrefix(rest, `"`) || strings.HasPrefix(rest, `'`):
			end := strings.IndexByte(rest[1:], rest[0])
			if end < 0 {
				return nil, false
			}
			k, rest = rest[1:end+1], rest[end+2:]
		default:
			i := strings.IndexByte(rest, '.')
			if i < 0 {
				i = len(rest)
			}
			k, rest = strings.TrimSpace(rest[:i]), rest[i:]
		}
		keys = append(keys, k)
		rest = strings.TrimLeft(rest, " \t")
		rest = strings.TrimPrefix(rest, ".")
	}
	return keys, true
}

func splitLines(data []byte) []string {
	return strings.SplitAfter(string(data), "\n")
}

// replaceTOML returns data with its [mcp_servers.*] tables replaced by
// block, written where the first of them was (or at the end). Everything
// outside those tables stays as it was, comments included; comments just
// above the next table are taken to belong to it and kept. The result is
// checked: decoded, it must equal the original apart from mcp_servers.
func (a *Agent) replaceTOML(path string, data []byte, block string) ([]byte, error) {
	before, err := decodeTOML(path, data)
	if err != nil {
		return nil, err
	}
	var keep, dropped []string
	insertAt := -1
	removing := false
	multi := ""
	for _, line := range splitLines(data) {
		if line == "" {
			continue
		}
		if multi == "" {
			if keys, ok := tomlHeader(line); ok {
				// Comments and blank lines at the end of a removed
				// table lead into this one.
				lead := trailingComments(dropped)
				dropped = nil
				removing = keys[0] == a.Key
				if removing && insertAt < 0 {
					insertAt = len(keep)
				}
				if !removing {
					keep = append(keep, lead...)
				}
			}
		}
		if removing {
			dropped = append(dropped, line)
		} else {
			keep = append(keep, line)
		}
		multi = multilineState(multi, line)
	}
	keep = append(keep, trailingComments(dropped)...)
	if insertAt < 0 {
		insertAt = len(keep)
	}
	var out bytes.Buffer
	for _, l := range keep[:insertAt] {
		out.WriteString(l)
	}
	if out.Len() > 0 && !bytes.HasSuffix(out.Bytes(), []byte("\n")) {
		out.WriteByte('\n')
	}
	if out.Len() > 0 && !bytes.HasSuffix(out.Bytes(), []byte("\n\n")) {
		out.WriteByte('\n')
	}
	out.WriteString(block)
	if insertAt < len(keep) {
		if strings.TrimSpace(keep[insertAt]) != "" {
			out.WriteByte('\n')
		}
		for _, l := range keep[insertAt:] {
			out.WriteString(l)
		}
	}
	result := out.Bytes()
	after, err := decodeTOML(path, result)
	if err != nil {
		return nil, fmt.Errorf("cannot edit %s safely (the result would not parse: %v); replace its [%s] tables by hand with: mcpgw client print %s", path, err, a.Key, a.Name)
	}
	delete(before, a.Key)
	delete(after, a.Key)
	if !reflect.DeepEqual(before, after) {
		return nil, fmt.Errorf("cannot edit %s safely: it defines %s outside [%s.NAME] tables (a dotted key or an inline table); replace them by hand with the output of: mcpgw client print %s", path, a.Key, a.Key, a.Name)
	}
	return result, nil
}

// trailingComments returns the comment and blank lines that end lines.
func trailingComments(lines []string) []string {
	i := len(lines)
	for i > 0 {
		t := strings.TrimSpace(lines[i-1])
		if t != "" && !strings.HasPrefix(t, "#") {
			break
		}
		i--
	}
	// A blank line right after the table's own content is the table's.
	for i < len(lines) && strings.TrimSpace(lines[i]) == "" {
		i++
	}
	return lines[i:]
}

// multilineState tracks whether a line ends inside a multi-line string
// (three double or three single quotes), where a line that looks like a
// header is not one.
func multilineState(state, line string) string {
	for {
		if state == "" {
			i, j := strings.Index(line, `"""`), strings.Index(line, `'''`)
			if c := strings.IndexByte(line, '#'); c >= 0 && (i < 0 || c < i) && (j < 0 || c < j) {
				return ""
			}
			switch {
			case i >= 0 && (j < 0 || i < j):
				state, line = `"""`, line[i+3:]
			case j >= 0:
				state, line = `'''`, line[j+3:]
			default:
				return ""
			}
		}
		k := strings.Index(line, state)
		if k < 0 {
			return state
		}
		state, line = "", line[k+3:]
	}
}

// tomlString quotes s as a TOML basic string (JSON's escapes are TOML's).
func tomlString(s string) string { return quote(s) }

func tomlList(l []string) string {
	q := make([]string, len(l))
	for i, s := range l {
		q[i] = tomlString(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}
