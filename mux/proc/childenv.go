package proc

import (
	"os"
	"runtime"
	"strings"
)

// childEnvNames are the variables of mcpgw's environment a server gets: what
// a program needs to run (PATH, HOME, user, locale, temp dir, and on
// Windows the system ones), to reach the network from behind a proxy, and
// to trust a corporate CA. Everything else (mcpgw's own MCPGW_* settings,
// the env fallback's secrets, an agent's API keys, cloud credentials) stays
// with mcpgw; a server that needs a variable names it in its env, where
// ${NAME} takes it from mcpgw's environment. The MCP SDKs' stdio clients
// pass a similar minimal set.
var childEnvNames = []string{
	"PATH", "HOME", "USER", "LOGNAME", "SHELL", "TERM",
	"LANG", "LANGUAGE", "LC_*", "TZ",
	"TMPDIR", "TMP", "TEMP",
	"XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME", "XDG_RUNTIME_DIR",
	"HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY",
	"SSL_CERT_FILE", "SSL_CERT_DIR", "NODE_EXTRA_CA_CERTS", "REQUESTS_CA_BUNDLE",
	"__CF_USER_TEXT_ENCODING", // macOS: the user's text encoding
}

// childEnvNamesWindows are the system variables Windows programs expect.
var childEnvNamesWindows = []string{
	"SYSTEMROOT", "SYSTEMDRIVE", "WINDIR", "COMSPEC", "PATHEXT",
	"USERNAME", "USERDOMAIN", "USERPROFILE", "HOMEDRIVE", "HOMEPATH",
	"APPDATA", "LOCALAPPDATA", "PROGRAMDATA", "ALLUSERSPROFILE", "PUBLIC",
	"PROGRAMFILES", "PROGRAMFILES(X86)", "PROGRAMW6432",
	"COMMONPROGRAMFILES", "COMMONPROGRAMFILES(X86)", "COMMONPROGRAMW6432",
	"PROCESSOR_ARCHITECTURE", "PROCESSOR_IDENTIFIER", "NUMBER_OF_PROCESSORS", "OS",
}

// childEnviron is the part of mcpgw's environment a server inherits (see
// childEnvNames); its configured env is added on top.
func childEnviron() []string {
	return filterEnviron(os.Environ(), runtime.GOOS == "windows")
}

func filterEnviron(env []string, windows bool) []string {
	names := childEnvNames
	if windows {
		names = append(names[:len(names):len(names)], childEnvNamesWindows...)
	}
	var out []string
	for _, kv := range env {
		k, _, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			continue // Windows keeps per-drive "=C:=C:\dir" entries
		}
		if childEnvAllowed(k, names, windows) {
			out = append(out, kv)
		}
	}
	return out
}

func childEnvAllowed(k string, names []string, windows bool) bool {
	// Proxy variables are conventionally lowercase too; Windows names are
	// case-insensitive.
	up := strings.ToUpper(k)
	fold := windows || strings.HasSuffix(up, "_PROXY")
	for _, n := range names {
		if p, ok := strings.CutSuffix(n, "*"); ok {
			if strings.HasPrefix(k, p) || (fold && strings.HasPrefix(up, p)) {
				return true
			}
			continue
		}
		if k == n || (fold && up == n) {
			return true
		}
	}
	return false
}
