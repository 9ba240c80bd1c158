package catalog

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Exposed names must fit the strictest common client limits: Cursor allows 60
// characters, Claude 64, and both only [A-Za-z0-9_-].
const (
	// MaxNameLen is the longest exposed tool or prompt name.
	MaxNameLen = 60
	// NameSeparator joins a server prefix and a tool or prompt name.
	NameSeparator = "__"
	hashLen       = 8
)

// ExposedName returns the name an agent sees for a downstream tool or prompt:
// "<prefix>__<name>" (or just name when prefix is empty), sanitized to
// [A-Za-z0-9_-] and shortened deterministically when longer than [MaxNameLen].
func ExposedName(prefix, name string) string {
	full := name
	if prefix != "" {
		full = prefix + NameSeparator + name
	}
	clean := sanitizeName(full)
	if len(clean) <= MaxNameLen {
		// Sanitizing may make two names equal ("a.b" and "a_b"); the
		// resolve stage reports that as a collision.
		return clean
	}
	// Too long: keep a readable head and append a hash of the original, so the
	// same downstream name always maps to the same exposed name.
	sum := sha256.Sum256([]byte(full))
	suffix := hex.EncodeToString(sum[:])[:hashLen]
	head := strings.TrimRight(clean[:MaxNameLen-hashLen-1], "_-")
	return head + "_" + suffix
}

// sanitizeName replaces every character outside [A-Za-z0-9_-] with '_'.
func sanitizeName(s string) string {
	ok := true
	for i := 0; i < len(s); i++ {
		if !nameByte(s[i]) {
			ok = false
			break
		}
	}
	if ok {
		return s
	}
	b := []byte(s)
	for i := range b {
		if !nameByte(b[i]) {
			b[i] = '_'
		}
	}
	return string(b)
}

func nameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}
