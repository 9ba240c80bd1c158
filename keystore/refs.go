package keystore

import (
	"fmt"
	"strings"
)

// A reference is ${secret:NAME}. In strings handed to [Expand], $${ is a
// literal ${ (the config loader keeps that escape in front of secret:
// for this reason).
const (
	refOpen   = "${secret:"
	refEscape = "$${secret:"
)

// Refs returns the names referenced in s, in order of first appearance.
// Malformed references are skipped; [Expand] reports them.
func Refs(s string) []string {
	var names []string
	_, _ = expand(s, func(name string) (string, error) {
		for _, n := range names {
			if n == name {
				return "", nil
			}
		}
		names = append(names, name)
		return "", nil
	}, true)
	return names
}

// HasRef reports whether s holds a ${secret:NAME} reference or its escape.
func HasRef(s string) bool { return strings.Contains(s, refOpen) }

// Expand replaces each ${secret:NAME} in s with lookup(NAME). The first
// lookup error is returned as is.
func Expand(s string, lookup func(name string) (string, error)) (string, error) {
	return expand(s, lookup, false)
}

func expand(s string, lookup func(string) (string, error), lenient bool) (string, error) {
	if !strings.Contains(s, refOpen) {
		return s, nil
	}
	var b strings.Builder
	for {
		i := strings.Index(s, refOpen)
		if i < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		if i > 0 && s[i-1] == '$' { // $${secret: is a literal ${secret:
			b.WriteString(s[:i-1])
			b.WriteString(refOpen)
			s = s[i+len(refOpen):]
			continue
		}
		b.WriteString(s[:i])
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			if lenient {
				return "", nil
			}
			return "", fmt.Errorf("unterminated reference %q; close it with }", s[i:])
		}
		name := s[i+len(refOpen) : i+end]
		s = s[i+end+1:]
		if err := ValidName(name); err != nil {
			if lenient {
				continue
			}
			return "", err
		}
		v, err := lookup(name)
		if err != nil {
			return "", err
		}
		b.WriteString(v)
	}
}
