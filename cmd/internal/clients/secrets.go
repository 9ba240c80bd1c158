package clients

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Secret is a credential found in plain text in a server's env or
// headers, to be moved into the keychain.
type Secret struct {
	// Name is the keychain name proposed for it: SERVER-KEY, lower case.
	Name  string
	Value string
	// Where says where it was: "env GITHUB_TOKEN", "header Authorization".
	Where string
	// set replaces the plain value with the reference it is given.
	set func(ref string)
}

// Reference replaces the plain value in the server with ${secret:name},
// keeping any scheme before it (Bearer ...).
func (s *Secret) Reference(name string) { s.set("${secret:" + name + "}") }

var (
	// secretKey matches env and header names that hold credentials.
	secretKey = regexp.MustCompile(`(?i)(token|secret|passw|api[_-]?key|apikey|access[_-]?key|private[_-]?key|credential|auth|cookie|(^|[_-])key$|(^|[_-])pat$)`)
	// knownToken matches widely used token formats, whatever their name:
	// GitHub, GitLab, OpenAI, Anthropic, Slack, AWS access keys, Google
	// API keys, npm, Hugging Face, Stripe, and JWTs.
	knownToken = regexp.MustCompile(`^(gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|glpat-[A-Za-z0-9_-]{20,}|sk-[A-Za-z0-9_-]{20,}|xox[abprs]-[A-Za-z0-9-]{10,}|AKIA[0-9A-Z]{16}|AIza[A-Za-z0-9_-]{35}|npm_[A-Za-z0-9]{36}|hf_[A-Za-z0-9]{30,}|[rs]k_(live|test)_[A-Za-z0-9]{16,}|eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$`)
	// scheme is an Authorization value's scheme, kept in clear.
	scheme = regexp.MustCompile(`^(?i)(bearer|basic|token)\s+`)
	// badNameChars are the characters a keychain name cannot have.
	badNameChars = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)
)

// looksSecret reports whether the value of key looks like a credential.
// References (${...}) and empty values are not: there is nothing to move.
func looksSecret(key, value string) bool {
	v := scheme.ReplaceAllString(value, "")
	if strings.TrimSpace(v) == "" || strings.Contains(v, "${") {
		return false
	}
	return secretKey.MatchString(key) || knownToken.MatchString(v)
}

// Secrets returns the values in s's env and headers that look like
// credentials, in a stable order; see [Secret.Reference].
func (s *Server) Secrets() []*Secret {
	var out []*Secret
	add := func(what string, m map[string]string) {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			v := m[k]
			if !looksSecret(k, v) {
				continue
			}
			prefix := scheme.FindString(v)
			out = append(out, &Secret{
				Name:  SecretName(s.Name, k),
				Value: v[len(prefix):],
				Where: fmt.Sprintf("%s %s", what, k),
				set:   func(ref string) { m[k] = prefix + ref },
			})
		}
	}
	add("env", s.Env)
	add("header", s.Headers)
	return out
}

// SecretName is the keychain name for a credential of server under key:
// SERVER-KEY in lower case, within the keychain's name rules.
func SecretName(server, key string) string {
	n := strings.ToLower(badNameChars.ReplaceAllString(server+"-"+key, "-"))
	n = strings.TrimLeft(n, "_.-")
	if len(n) > 60 {
		n = n[:60]
	}
	if n == "" {
		n = "secret"
	}
	return n
}
