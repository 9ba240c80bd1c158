package config

import (
	"fmt"
	"strings"

	"github.com/mcpgw/mcpgw/keystore"
)

// secretRefPrefix starts a keystore reference, ${secret:NAME}, which
// expansion leaves untouched for the keystore to resolve later.
const secretRefPrefix = "secret:"

// expand replaces ${NAME} references in s with environment variables looked
// up with lookup. ${secret:NAME} is kept as written and $${ is a literal ${.
// A $ not followed by { is literal. When strict is false an unset variable is
// kept as written instead of being an error (used when validating an edit,
// whose variables need not be set in the editing shell).
func expand(s string, lookup func(string) (string, bool), strict bool) (string, error) {
	if !strings.Contains(s, "${") {
		return s, nil
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		if i > 0 && s[i-1] == '$' { // $${ escapes a literal ${
			b.WriteString(s[:i])
			if strings.HasPrefix(s[i:], "${"+secretRefPrefix) {
				// Kept escaped: the keystore resolves ${secret:…} later
				// and unescapes $${secret:… itself.
				b.WriteString("$")
			}
			b.WriteString("{")
			s = s[i+2:]
			continue
		}
		b.WriteString(s[:i])
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			return "", fmt.Errorf("unterminated reference %q; close it with } or write $${ for a literal ${", s[i:])
		}
		ref := s[i : i+end+1]
		name := ref[2 : len(ref)-1]
		s = s[i+end+1:]
		switch {
		case strings.HasPrefix(name, secretRefPrefix):
			if err := keystore.ValidName(name[len(secretRefPrefix):]); err != nil {
				return "", fmt.Errorf("reference %s: %w", ref, err)
			}
			b.WriteString(ref)
		case !isEnvName(name):
			return "", fmt.Errorf("bad reference %s; write ${NAME} for an environment variable (letters, digits and _), ${secret:NAME} for a stored secret, or $${ for a literal ${", ref)
		default:
			v, ok := lookup(name)
			switch {
			case ok:
				b.WriteString(v)
			case strict:
				return "", fmt.Errorf("environment variable %s is not set; export it (export %s=...) before starting mcpgw, or write $${%s} for a literal ${%s}", name, name, name, name)
			default:
				b.WriteString(ref)
			}
		}
	}
}

// noSecrets refuses ${secret:NAME} references in a value that cannot take
// them, and turns their escape, $${secret:, into the literal text.
func noSecrets(v string) (string, error) {
	const ref, esc = "${" + secretRefPrefix, "$${" + secretRefPrefix
	if strings.Contains(strings.ReplaceAll(v, esc, ""), ref) {
		return "", fmt.Errorf("${secret:NAME} references are resolved only in a server's env, headers, args and url; move the secret there (e.g. env: {TOKEN: ${secret:NAME}}), or write $${secret: for the literal text")
	}
	return strings.ReplaceAll(v, esc, ref), nil
}

// isEnvName reports whether name is a portable environment variable name.
func isEnvName(name string) bool {
	if name == "" || name[0] >= '0' && name[0] <= '9' {
		return false
	}
	for _, r := range name {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}
