package clients

import (
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// Server is one agent's server entry in mcpgw's terms: a stdio command or
// a remote URL.
type Server struct {
	Name    string
	Command string
	Args    []string
	Env     map[string]string
	Cwd     string

	URL string
	// Transport is "" (streamable HTTP) or "sse".
	Transport string
	Headers   map[string]string

	// Disabled: the agent has the entry switched off.
	Disabled bool
	// Dropped says what of the entry mcpgw cannot carry over, one item
	// each ("timeout", "env TOKEN: VS Code input ${input:token}").
	Dropped []string
	// Problem, when set, says why mcpgw cannot run the server at all
	// (an entry with neither a command nor a URL, such as a server a Zed
	// extension provides).
	Problem string
}

// Remote reports whether s is a remote server.
func (s *Server) Remote() bool { return s.URL != "" }

// IsMcpgw reports whether s is mcpgw's own entry (as install writes it, or
// as a user wrote it by hand from `mcpgw client print`): a server is never
// imported into the gateway that runs it.
func (s *Server) IsMcpgw() bool {
	if s.Command == "" {
		return false
	}
	base := strings.TrimSuffix(strings.ToLower(filepath.Base(filepath.FromSlash(s.Command))), ".exe")
	return base == "mcpgw" && slices.Contains(s.Args, "serve")
}

// entry is an agent's server entry decoded from JSON or TOML.
type entry map[string]any

// decode turns one agent entry into a Server, noting what it leaves out.
func (a *Agent) decode(name string, e entry) (*Server, error) {
	s := &Server{Name: name}
	var err error
	str := func(k string) string {
		v, ok := e[k]
		if !ok || err != nil {
			return ""
		}
		t, ok := v.(string)
		if !ok {
			err = fmt.Errorf("server %q: %s must be a string, not %s", name, k, kindOf(v))
		}
		return t
	}
	strMap := func(k string) map[string]string {
		v, ok := e[k]
		if !ok || err != nil {
			return nil
		}
		m, ok := v.(map[string]any)
		if !ok {
			err = fmt.Errorf("server %q: %s must be an object of strings, not %s", name, k, kindOf(v))
			return nil
		}
		out := make(map[string]string, len(m))
		for mk, mv := range m {
			switch t := mv.(type) {
			case string:
				out[mk] = t
			case float64, int64, bool:
				out[mk] = fmt.Sprint(t)
			default:
				err = fmt.Errorf("server %q: %s.%s must be a string, not %s", name, k, mk, kindOf(mv))
			}
		}
		return out
	}
	strList := func(k string) []string {
		v, ok := e[k]
		if !ok || err != nil {
			return nil
		}
		l, ok := v.([]any)
		if !ok {
			err = fmt.Errorf("server %q: %s must be a list of strings, not %s", name, k, kindOf(v))
			return nil
		}
		var out []string
		for _, x := range l {
			switch t := x.(type) {
			case string:
				out = append(out, t)
			case float64, int64, bool:
				out = append(out, fmt.Sprint(t))
			default:
				err = fmt.Errorf("server %q: %s must be a list of strings, not a list holding %s", name, k, kindOf(x))
			}
		}
		return out
	}
	used := map[string]bool{}
	take := func(keys ...string) {
		for _, k := range keys {
			used[k] = true
		}
	}

	// Zed's older form: "command": {"path", "args", "env"}.
	if c, ok := e["command"].(map[string]any); ok {
		sub, ierr := a.decode(name, entry{"command": c["path"], "args": c["args"], "env": c["env"]})
		if ierr != nil {
			return nil, ierr
		}
		s.Command, s.Args, s.Env = sub.Command, sub.Args, sub.Env
		take("command")
	} else {
		s.Command = str("command")
		s.Args = strList("args")
		s.Env = strMap("env")
		take("command", "args", "env")
	}
	s.Cwd = str("cwd")
	take("cwd")
	typ := str("type")
	take("type")
	for _, k := range []string{"url", "serverUrl", "httpUrl"} {
		if u := str(k); u != "" {
			s.URL = u
			switch {
			case k == "url" && a.Name == "gemini":
				s.Transport = "sse" // Gemini: url is SSE, httpUrl streamable HTTP
			case typ == "sse":
				s.Transport = "sse"
			case typ == "" && strings.HasSuffix(strings.TrimRight(u, "/"), "/sse"):
				s.Transport = "sse"
			}
		}
		take(k)
	}
	s.Headers = strMap("headers")
	take("headers")
	if a.Format == TOML {
		a.codexExtras(s, e, str, strMap, take)
	}
	if d, ok := e["disabled"].(bool); ok {
		s.Disabled = d
		take("disabled")
	}
	if en, ok := e["enabled"].(bool); ok {
		s.Disabled = !en
		take("enabled")
	}
	if src, ok := e["source"].(string); ok && src == "custom" {
		take("source") // Zed: a settings-defined server, which is all mcpgw reads
	}
	if err != nil {
		return nil, err
	}
	if s.Command == "" && s.URL == "" {
		s.Problem = "it has neither a command nor a URL (a server an extension of the agent provides?); mcpgw cannot run it"
	}
	var rest []string
	for k := range e {
		if !used[k] {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	s.Dropped = append(s.Dropped, rest...)
	s.Env = s.convertRefs("env", s.Env)
	s.Headers = s.convertRefs("header", s.Headers)
	return s, nil
}

// codexExtras reads Codex's remote-server keys: bearer_token_env_var and
// env_http_headers name environment variables, which mcpgw references as
// ${VAR}; http_headers are plain headers.
func (a *Agent) codexExtras(s *Server, e entry, str func(string) string, strMap func(string) map[string]string, take func(...string)) {
	add := func(k, v string) {
		if s.Headers == nil {
			s.Headers = map[string]string{}
		}
		s.Headers[k] = v
	}
	if v := str("bearer_token_env_var"); v != "" {
		add("Authorization", "Bearer ${"+v+"}")
	}
	for k, v := range strMap("http_headers") {
		add(k, v)
	}
	for k, v := range strMap("env_http_headers") {
		add(k, "${"+v+"}")
	}
	take("bearer_token_env_var", "http_headers", "env_http_headers")
}

var (
	// envRef is VS Code's and Windsurf's ${env:NAME}, which mcpgw writes
	// ${NAME}.
	envRef = regexp.MustCompile(`\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}`)
	// bareRef is Gemini's $NAME, a whole value.
	bareRef = regexp.MustCompile(`^\$([A-Za-z_][A-Za-z0-9_]*)$`)
	// inputRef is VS Code's ${input:ID}: a value VS Code prompts for,
	// which mcpgw has no way to ask.
	inputRef = regexp.MustCompile(`\$\{input:[^}]*\}`)
)

// convertRefs rewrites agents' variable references in m's values into
// mcpgw's ${NAME}, and drops (noting why) the values mcpgw cannot
// resolve.
func (s *Server) convertRefs(what string, m map[string]string) map[string]string {
	for k, v := range m {
		if in := inputRef.FindString(v); in != "" {
			delete(m, k)
			s.Dropped = append(s.Dropped, fmt.Sprintf("%s %s (VS Code input %s: store the value with mcpgw secret set and reference it as ${secret:NAME})", what, k, in))
			continue
		}
		v = envRef.ReplaceAllString(v, "$${$1}")
		v = bareRef.ReplaceAllString(v, "$${$1}")
		m[k] = v
	}
	return m
}

func kindOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case float64, int64:
		return "a number"
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}
