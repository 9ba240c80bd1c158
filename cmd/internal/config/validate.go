package config

import (
	"errors"
	"fmt"
	"net/url"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/mcpgw/mcpgw/keystore"
)

var (
	nameRE            = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	prefixRE          = regexp.MustCompile(`^[A-Za-z0-9_-]*$`)
	protocolVersionRE = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`)
)

// validateName checks a server name.
func validateName(name string) error {
	if !nameRE.MatchString(name) {
		return fmt.Errorf("bad server name %q; use only letters, digits, _ and -", name)
	}
	return nil
}

// validatePrefix checks an exposed-name prefix; "" means no prefix.
func validatePrefix(p string) error {
	if !prefixRE.MatchString(p) {
		return fmt.Errorf("bad prefix %q; use only letters, digits, _ and - (or \"\" for no prefix)", p)
	}
	return nil
}

// validateGlob checks a tool-name glob in path.Match syntax.
func validateGlob(g string) error {
	if g == "" {
		return errors.New("empty glob; write a tool name or a pattern such as read_* (path.Match syntax)")
	}
	if _, err := path.Match(g, ""); err != nil {
		return fmt.Errorf("bad glob %q: %w; globs use path.Match syntax: * matches any run of characters, ? one character, [a-z] a class, \\ escapes", g, err)
	}
	return nil
}

// validateProtocolVersion checks an MCP protocol version such as 2025-06-18.
func validateProtocolVersion(v string) error {
	if v == "" {
		return nil
	}
	if !protocolVersionRE.MatchString(v) {
		return fmt.Errorf("bad protocol version %q; it must look like YYYY-MM-DD, e.g. 2025-06-18", v)
	}
	if _, err := time.Parse(time.DateOnly, v); err != nil {
		return fmt.Errorf("bad protocol version %q: not a real date; it must look like YYYY-MM-DD, e.g. 2025-06-18", v)
	}
	return nil
}

// ParseSize reads a byte size such as 500MB, 2GiB, 64KB or 1048576, in
// binary units (500MB is 500 MiB), as the configuration and the CLI do.
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := len(t)
	for i > 0 && (t[i-1] < '0' || t[i-1] > '9') {
		i--
	}
	num, unit := t[:i], strings.ToUpper(strings.TrimSpace(t[i:]))
	mult := map[string]int64{"": 1, "B": 1, "K": 1 << 10, "KB": 1 << 10, "KIB": 1 << 10, "M": 1 << 20, "MB": 1 << 20, "MIB": 1 << 20,
		"G": 1 << 30, "GB": 1 << 30, "GIB": 1 << 30, "T": 1 << 40, "TB": 1 << 40, "TIB": 1 << 40}[unit]
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || mult == 0 || n <= 0 {
		return 0, fmt.Errorf("%q is not a size; write a number with a unit, like 500MB, 2GB or 64KB", s)
	}
	return n * mult, nil
}

var ageChunk = regexp.MustCompile(`^(\d+)([dw])`)

// ParseAge reads a duration that may start with days and weeks: 7d, 2w,
// 1d12h, 90m, 1.5h.
func ParseAge(s string) (time.Duration, error) {
	in := strings.TrimSpace(s)
	rest := in
	var d time.Duration
	for {
		m := ageChunk.FindStringSubmatch(rest)
		if m == nil {
			break
		}
		n, err := strconv.ParseInt(m[1], 10, 32)
		if err != nil {
			return 0, fmt.Errorf("%q is not a duration", s)
		}
		unit := 24 * time.Hour
		if m[2] == "w" {
			unit *= 7
		}
		d += time.Duration(n) * unit
		rest = rest[len(m[0]):]
	}
	if rest != "" {
		r, err := time.ParseDuration(rest)
		if err != nil {
			return 0, fmt.Errorf("%q is not a duration; write e.g. 90s, 15m, 2h, 7d or 1d12h", s)
		}
		d += r
	}
	if in == "" || d < 0 {
		return 0, fmt.Errorf("%q is not a duration; write e.g. 90s, 15m, 2h, 7d or 1d12h", s)
	}
	return d, nil
}

// validateURL checks a remote server's endpoint. ${secret:NAME} references
// are checked as if they were plain text.
func validateURL(raw string) error {
	u, err := url.Parse(strings.NewReplacer("${secret:", "secret-", "}", "").Replace(raw))
	if err != nil {
		return fmt.Errorf("bad url %q: %w", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return fmt.Errorf("bad url %q; it must be an http:// or https:// address such as https://example.com/mcp", raw)
	}
	return nil
}

// secretOnly checks that an oauth: credential is a ${secret:NAME}
// reference: a client secret or key written in the file would sit on disk
// in clear.
func secretOnly(key string) func(string) error {
	return func(v string) error {
		if refs := keystore.Refs(v); len(refs) != 1 || v != "${secret:"+refs[0]+"}" {
			return fmt.Errorf("must be a ${secret:NAME} reference, not the value itself; store the value with: mcpgw secret set NAME, then write %s: ${secret:NAME}", key)
		}
		return nil
	}
}

// validateMetadataURL checks a Client ID Metadata Document's URL: the
// spec wants https, with a path.
func validateMetadataURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Host == "" || strings.Trim(u.Path, "/") == "" {
		return fmt.Errorf("bad client_metadata_url %q; it must be an https:// URL with a path, such as https://example.com/mcpgw/client.json", raw)
	}
	return nil
}

// validateOAuth checks that a server's oauth: settings work together.
func validateOAuth(o OAuth) (key string, err error) {
	switch o.Grant {
	case "", "authorization_code":
		if o.PrivateKey != "" {
			return "private_key", errors.New("private_key is used only with grant: client_credentials; remove it, or set grant: client_credentials")
		}
	case "client_credentials":
		switch {
		case o.ClientID == "":
			return "client_id", errors.New("grant client_credentials needs client_id: the client registered with the authorization server")
		case o.ClientSecret == "" && o.PrivateKey == "":
			return "client_secret", errors.New("grant client_credentials needs client_secret: ${secret:NAME} (or private_key: ${secret:NAME} for private_key_jwt); store it with: mcpgw secret set NAME")
		case o.ClientSecret != "" && o.PrivateKey != "":
			return "private_key", errors.New("set client_secret or private_key, not both")
		case o.ClientMetadataURL != "":
			return "client_metadata_url", errors.New("client_metadata_url is used only when a user logs in (grant authorization_code); remove it")
		case o.ElicitLogin:
			return "elicit_login", errors.New("elicit_login asks a person at the agent to log in, and grant client_credentials has no person; remove it")
		}
	}
	if o.ClientSecret != "" && o.ClientID == "" {
		return "client_id", errors.New("client_secret needs client_id: the client the secret belongs to")
	}
	return "", nil
}

// validateEnvName checks the name of an environment variable given to a child.
func validateEnvName(k string) error {
	if k == "" || strings.ContainsAny(k, "=\x00") {
		return fmt.Errorf("bad environment variable name %q; it must be non-empty and contain no = sign", k)
	}
	return nil
}

// validateHeaderName checks an HTTP header name (an RFC 9110 token).
func validateHeaderName(k string) error {
	if k == "" || strings.ContainsFunc(k, func(r rune) bool {
		return r > 0x7e || r <= ' ' || strings.ContainsRune("\"(),/:;<=>?@[\\]{}", r)
	}) {
		return fmt.Errorf("bad header name %q; use letters, digits and - (e.g. Authorization, X-Api-Key)", k)
	}
	return nil
}

// validateDuration checks a timeout.
func validateDuration(d time.Duration) error {
	if d < 0 {
		return fmt.Errorf("negative duration %s; use a positive value like 30s, or leave it out for the default", d)
	}
	return nil
}

// validateKind checks that a server is exactly one of a local command or a
// remote url, and uses only keys that apply to its kind. present maps each
// key set in the file to its line (0 when unknown).
func validateKind(s *Server, present map[string]int) (key string, line int, err error) {
	switch {
	case s.Command != "" && s.URL != "":
		return "", 0, errors.New("has both command and url; a server is either a local command (command, args, env, cwd) or a remote endpoint (url, transport, headers), so keep one of them")
	case s.Command == "" && s.URL == "":
		return "", 0, errors.New("has neither command nor url; set command: to run a local server (e.g. command: npx) or url: to connect to a remote one (e.g. url: https://example.com/mcp)")
	}
	for _, e := range serverTable.entries {
		l, ok := present[e.name]
		switch {
		case !ok:
		case e.only == remoteServer && s.Command != "":
			return e.name, l, fmt.Errorf("only valid for a remote server (one with url:), but this server runs a command; remove %s:", e.name)
		case e.only == localServer && s.URL != "":
			return e.name, l, fmt.Errorf("only valid for a local server (one with command:), but this server connects to a url; remove %s: (use headers: to send values to a remote server)", e.name)
		}
	}
	return "", 0, nil
}
