package guard

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
)

// Match is a registered secret found in a JSON document: which one, and
// where. It never holds the value.
type Match struct {
	Secret string // the name it was registered under
	Path   string // JSON path of the string (or key) that holds it, e.g. $.query
}

// Find returns the names of the registered secrets that appear in b, in
// any form [Known.Redact] masks, sorted and without repeats; nil when none.
func (k *Known) Find(b []byte) []string {
	if k == nil {
		return nil
	}
	m := k.m.Load()
	if m == nil {
		return nil
	}
	var names []string
	for s, _, f := m.find(b, 0); s >= 0; s, _, f = m.find(b, s+1) {
		names = append(names, markerSecret(f.marker))
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// FindJSON finds the registered secrets in the JSON document b and says
// where each is: the path of every string or key holding one, under root
// ("$" when empty). A match the structure does not explain (a value split
// across two strings, say) is reported at root. Invalid JSON is searched
// as bytes and reported at root.
func (k *Known) FindJSON(b []byte, root string) []Match {
	if root == "" {
		root = "$"
	}
	names := k.Find(b)
	if names == nil {
		return nil
	}
	var matches []Match
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err == nil {
		k.walk(v, root, &matches)
	}
	for _, n := range names {
		if !slices.ContainsFunc(matches, func(m Match) bool { return m.Secret == n }) {
			matches = append(matches, Match{Secret: n, Path: root})
		}
	}
	return matches
}

func (k *Known) walk(v any, path string, out *[]Match) {
	add := func(s, p string) {
		for _, n := range k.Find([]byte(s)) {
			*out = append(*out, Match{Secret: n, Path: p})
		}
	}
	switch x := v.(type) {
	case string:
		add(x, path)
	case json.Number:
		add(string(x), path)
	case []any:
		for i, e := range x {
			k.walk(e, path+"["+strconv.Itoa(i)+"]", out)
		}
	case map[string]any:
		keys := make([]string, 0, len(x))
		for key := range x {
			keys = append(keys, key)
		}
		slices.Sort(keys)
		for _, key := range keys {
			p := path + "." + key
			if !isIdent(key) {
				p = path + "[" + strconv.Quote(key) + "]"
			}
			add(key, p)
			k.walk(x[key], p, out)
		}
	}
}

// markerSecret is the name inside a "[redacted:NAME]" marker.
func markerSecret(marker string) string {
	return strings.TrimSuffix(strings.TrimPrefix(marker, "[redacted:"), "]")
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		if !(c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || i > 0 && '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}
