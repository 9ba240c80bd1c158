package clients

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Scope is where an agent keeps a configuration file: the user's own, or
// one in a project directory.
type Scope string

// The scopes an agent may have. Local is Claude Code's per-project servers
// kept in the user's file (~/.claude.json) under the project's path.
const (
	User    Scope = "user"
	Project Scope = "project"
	Local   Scope = "local"
)

// Format is the syntax of an agent's file.
type Format string

// The formats agents use: JSON (read and written as JSONC, with comments
// and trailing commas, through hujson) and TOML (Codex).
const (
	JSON Format = "json"
	TOML Format = "toml"
)

// Agent is one supported agent: its name on the command line, its files
// and the shape of its server entries.
type Agent struct {
	// Name is what the commands take: claude-desktop, cursor ...
	Name string
	// Title is the agent's product name.
	Title  string
	Format Format
	// Key holds the servers: mcpServers, servers, context_servers or
	// mcp_servers.
	Key string
	// Scopes lists the scopes the agent has, user first.
	Scopes []Scope
	// remote is how the agent writes a remote server's address.
	remote remoteStyle
	// typed agents write "type": "stdio" in their stdio entries.
	typed bool
	// selfWritten are the scopes whose file the agent itself rewrites as
	// it runs (Claude Code's ~/.claude.json): there mcpgw owns only the
	// servers value (see [File.ServersOnly]).
	selfWritten []Scope
	// path returns the file of scope.
	path func(l *Locator, s Scope) (string, error)
}

// remoteStyle is the key an agent expects a remote server's URL under.
type remoteStyle struct {
	url string // url, serverUrl, httpUrl
	// typeHTTP: the entry also says "type": "http".
	typeHTTP bool
}

// Locator finds agents' files. Its fields come from the process's
// environment ([NewLocator]); tests redirect HOME, XDG_CONFIG_HOME and
// APPDATA so no real user file is touched.
type Locator struct {
	GOOS string
	// Home is the user's home directory.
	Home string
	// Dir is the project directory for the project scope (the working
	// directory).
	Dir string
	// Getenv reads XDG_CONFIG_HOME, APPDATA and CODEX_HOME.
	Getenv func(string) string
}

// NewLocator returns a Locator for this process on goos.
func NewLocator(goos string) (*Locator, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return nil, fmt.Errorf("cannot find your home directory (%w); set HOME", err)
	}
	dir, err := os.Getwd()
	if err != nil {
		return nil, fmt.Errorf("cannot find the working directory for the project scope: %w", err)
	}
	return &Locator{GOOS: goos, Home: home, Dir: dir, Getenv: os.Getenv}, nil
}

// configDir is the OS's per-user application configuration directory:
// $XDG_CONFIG_HOME (default ~/.config) on Linux and the BSDs,
// ~/Library/Application Support on macOS, %APPDATA% on Windows.
func (l *Locator) configDir() (string, error) {
	switch l.GOOS {
	case "windows":
		if d := l.Getenv("APPDATA"); d != "" {
			return d, nil
		}
		return "", errors.New("%APPDATA% is not set")
	case "darwin":
		return filepath.Join(l.Home, "Library", "Application Support"), nil
	}
	if d := l.Getenv("XDG_CONFIG_HOME"); d != "" && filepath.IsAbs(d) {
		return d, nil
	}
	return filepath.Join(l.Home, ".config"), nil
}

// inHome is a file at the same place under the home directory on every OS
// (for the user and local scopes), with an optional project-scope
// counterpart under the project directory.
func inHome(user []string, project []string) func(*Locator, Scope) (string, error) {
	return func(l *Locator, s Scope) (string, error) {
		if s == Project {
			return filepath.Join(append([]string{l.Dir}, project...)...), nil
		}
		return filepath.Join(append([]string{l.Home}, user...)...), nil
	}
}

// inConfigDir is a user file under the OS configuration directory (see
// [Locator.configDir]), with an optional project-scope counterpart.
func inConfigDir(user []string, project []string) func(*Locator, Scope) (string, error) {
	return func(l *Locator, s Scope) (string, error) {
		if s == Project {
			return filepath.Join(append([]string{l.Dir}, project...)...), nil
		}
		dir, err := l.configDir()
		if err != nil {
			return "", err
		}
		return filepath.Join(append([]string{dir}, user...)...), nil
	}
}

// Agents are the supported agents, in the order `mcpgw client list` shows
// them. The paths and shapes are each agent's documented ones:
var Agents = []*Agent{
	// Claude Desktop: claude_desktop_config.json in Claude's application
	// directory: ~/Library/Application Support/Claude (macOS),
	// %APPDATA%\Claude (Windows), $XDG_CONFIG_HOME/Claude (Linux builds);
	// "mcpServers" with command/args/env
	// (https://modelcontextprotocol.io/quickstart/user). Remote servers
	// are connectors in its UI; an entry with a url is read as one.
	{Name: "claude-desktop", Title: "Claude Desktop", Format: JSON, Key: "mcpServers",
		Scopes: []Scope{User}, remote: remoteStyle{url: "url"},
		path: inConfigDir([]string{"Claude", "claude_desktop_config.json"}, nil)},
	// Claude Code: user scope in ~/.claude.json (top-level "mcpServers"),
	// project scope in .mcp.json at the project root, local scope (the
	// default of claude mcp add) in ~/.claude.json under
	// "projects"."/abs/project/dir"."mcpServers"; entries have
	// "type": "stdio" | "http" | "sse" (https://code.claude.com/docs/en/mcp).
	// Claude Code rewrites ~/.claude.json itself (counters, caches).
	{Name: "claude-code", Title: "Claude Code", Format: JSON, Key: "mcpServers",
		Scopes: []Scope{User, Project, Local}, selfWritten: []Scope{User, Local},
		remote: remoteStyle{url: "url", typeHTTP: true}, typed: true,
		path: inHome([]string{".claude.json"}, []string{".mcp.json"})},
	// Cursor: ~/.cursor/mcp.json and the project's .cursor/mcp.json,
	// "mcpServers"; remote entries have "url" and "headers"
	// (https://docs.cursor.com/context/model-context-protocol).
	{Name: "cursor", Title: "Cursor", Format: JSON, Key: "mcpServers",
		Scopes: []Scope{User, Project}, remote: remoteStyle{url: "url"},
		path: inHome([]string{".cursor", "mcp.json"}, []string{".cursor", "mcp.json"})},
	// VS Code: mcp.json in the user profile directory (Code/User under the
	// OS configuration directory) and .vscode/mcp.json in a workspace;
	// "servers" (entries with "type": "stdio" | "http" | "sse") and
	// "inputs" for ${input:ID} prompts
	// (https://code.visualstudio.com/docs/copilot/reference/mcp-configuration).
	{Name: "vscode", Title: "VS Code", Format: JSON, Key: "servers",
		Scopes: []Scope{User, Project}, remote: remoteStyle{url: "url", typeHTTP: true}, typed: true,
		path: inConfigDir([]string{"Code", "User", "mcp.json"}, []string{".vscode", "mcp.json"})},
	// Windsurf: ~/.codeium/windsurf/mcp_config.json (%USERPROFILE% on
	// Windows), "mcpServers"; remote entries have "serverUrl"
	// (https://docs.windsurf.com/windsurf/cascade/mcp). No project file.
	{Name: "windsurf", Title: "Windsurf", Format: JSON, Key: "mcpServers",
		Scopes: []Scope{User}, remote: remoteStyle{url: "serverUrl"},
		path: inHome([]string{".codeium", "windsurf", "mcp_config.json"}, nil)},
	// Zed: settings.json (JSONC) in ~/.config/zed (also on macOS; honours
	// $XDG_CONFIG_HOME) or %APPDATA%\Zed on Windows, and a project's
	// .zed/settings.json; "context_servers" with command/args/env, or url
	// and headers for a remote one (https://zed.dev/docs/ai/mcp).
	{Name: "zed", Title: "Zed", Format: JSON, Key: "context_servers",
		Scopes: []Scope{User, Project}, remote: remoteStyle{url: "url"},
		path: zedPath},
	// Codex: $CODEX_HOME/config.toml (default ~/.codex/config.toml) and a
	// trusted project's .codex/config.toml; [mcp_servers.NAME] tables with
	// command/args/env, or url with bearer_token_env_var / http_headers
	// (https://github.com/openai/codex/blob/main/docs/config.md).
	{Name: "codex", Title: "Codex", Format: TOML, Key: "mcp_servers",
		Scopes: []Scope{User, Project}, remote: remoteStyle{url: "url"},
		path: codexPath},
	// Gemini CLI: ~/.gemini/settings.json and a project's
	// .gemini/settings.json, "mcpServers"; "httpUrl" for a streamable HTTP
	// server, "url" for SSE
	// (https://github.com/google-gemini/gemini-cli/blob/main/docs/tools/mcp-server.md).
	{Name: "gemini", Title: "Gemini CLI", Format: JSON, Key: "mcpServers",
		Scopes: []Scope{User, Project}, remote: remoteStyle{url: "httpUrl"},
		path: inHome([]string{".gemini", "settings.json"}, []string{".gemini", "settings.json"})},
}

func zedPath(l *Locator, s Scope) (string, error) {
	if s == Project {
		return filepath.Join(l.Dir, ".zed", "settings.json"), nil
	}
	if l.GOOS == "windows" {
		dir, err := l.configDir()
		if err != nil {
			return "", err
		}
		return filepath.Join(dir, "Zed", "settings.json"), nil
	}
	// Zed uses ~/.config/zed on macOS too, not Application Support.
	if d := l.Getenv("XDG_CONFIG_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "zed", "settings.json"), nil
	}
	return filepath.Join(l.Home, ".config", "zed", "settings.json"), nil
}

func codexPath(l *Locator, s Scope) (string, error) {
	if s == Project {
		return filepath.Join(l.Dir, ".codex", "config.toml"), nil
	}
	if d := l.Getenv("CODEX_HOME"); d != "" {
		return filepath.Join(d, "config.toml"), nil
	}
	return filepath.Join(l.Home, ".codex", "config.toml"), nil
}

// Lookup returns the agent called name, or an error listing the names.
func Lookup(name string) (*Agent, error) {
	for _, a := range Agents {
		if a.Name == name {
			return a, nil
		}
	}
	return nil, fmt.Errorf("unknown agent %q; the agents are: %s", name, strings.Join(Names(), ", "))
}

// Names returns the agents' names.
func Names() []string {
	var n []string
	for _, a := range Agents {
		n = append(n, a.Name)
	}
	return n
}

// HasScope reports whether the agent has a file in scope s.
func (a *Agent) HasScope(s Scope) bool { return slices.Contains(a.Scopes, s) }

// Path returns the agent's file in scope s.
func (a *Agent) Path(l *Locator, s Scope) (string, error) {
	if !a.HasScope(s) {
		return "", fmt.Errorf("%s has no %s-scope configuration file; its scopes: %s", a.Title, s, scopeList(a.Scopes))
	}
	p, err := a.path(l, s)
	if err != nil {
		return "", fmt.Errorf("locating %s's %s configuration: %w", a.Title, s, err)
	}
	return p, nil
}

func scopeList(ss []Scope) string {
	var b []string
	for _, s := range ss {
		b = append(b, string(s))
	}
	return strings.Join(b, ", ")
}

// ParseScope checks a --scope value.
func ParseScope(s string) (Scope, error) {
	switch Scope(s) {
	case User, Project, Local:
		return Scope(s), nil
	}
	return "", fmt.Errorf("unknown scope %q: use user, project or local (Claude Code's per-project servers in ~/.claude.json)", s)
}
