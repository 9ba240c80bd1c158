package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mcpgw/mcpgw/cmd/internal/config"
	"github.com/mcpgw/mcpgw/cmd/internal/testenv"
	"github.com/mcpgw/mcpgw/keystore"
)

// clientSandbox is a home, configuration and state directory of a test's
// own, so `mcpgw client` never touches the user's agents' files.
type clientSandbox struct {
	dir, cfg string
	env      []string
}

func newClientSandbox(t *testing.T, extra ...string) *clientSandbox {
	t.Helper()
	dir := t.TempDir()
	home := filepath.Join(dir, "home")
	project := filepath.Join(dir, "project")
	for _, d := range []string{home, project} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	sb := &clientSandbox{dir: project, cfg: filepath.Join(dir, "mcpgw", "config.yaml")}
	sb.env = append([]string{
		"HOME=" + home, "USERPROFILE=" + home,
		"XDG_CONFIG_HOME=" + filepath.Join(home, ".config"),
		"APPDATA=" + filepath.Join(home, "AppData", "Roaming"),
		"LOCALAPPDATA=" + filepath.Join(home, "AppData", "Local"),
		"XDG_STATE_HOME=" + filepath.Join(dir, "state"),
		"CODEX_HOME=",
		"MCPGW_CONFIG=" + sb.cfg,
	}, extra...)
	return sb
}

// run runs mcpgw with args in the sandbox's project directory.
func (sb *clientSandbox) run(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, testenv.Mcpgw(t), args...)
	cmd.Env = append(os.Environ(), sb.env...)
	cmd.Dir = sb.dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("mcpgw %s: %v", strings.Join(args, " "), err)
	}
	return out.String(), errb.String(), code
}

// must runs mcpgw and fails the test unless it exits 0.
func (sb *clientSandbox) must(t *testing.T, args ...string) string {
	t.Helper()
	out, errs, code := sb.run(t, args...)
	if code != 0 {
		t.Fatalf("mcpgw %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out, errs)
	}
	return out
}

type clientRow struct {
	Agent, Scope, Path, State string
	ServersAt                 string `json:"servers_at"`
	Servers                   int
	Managed, Changed          bool
}

// row returns `client list -o json`'s row for agent in scope.
func (sb *clientSandbox) row(t *testing.T, agent, scope string) clientRow {
	t.Helper()
	var rows []clientRow
	if err := json.Unmarshal([]byte(sb.must(t, "client", "list", "-o", "json")), &rows); err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.Agent == agent && r.Scope == scope {
			return r
		}
	}
	t.Fatalf("client list has no %s %s row", agent, scope)
	return clientRow{}
}

// place copies an agent's fixture to where the agent keeps its file.
func (sb *clientSandbox) place(t *testing.T, agent, scope, fixture string) (string, []byte) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "testdata", "clients", fixture))
	if err != nil {
		t.Fatal(err)
	}
	path := sb.row(t, agent, scope).Path
	sb.write(t, path, data)
	return path, data
}

// write writes an agent's file, creating its directory.
func (sb *clientSandbox) write(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func fixtureName(agent string) string {
	if agent == "codex" {
		return "codex.toml"
	}
	return agent + ".json"
}

// agentServers are the servers each fixture in testdata/clients holds.
var agentServers = map[string][]string{
	"claude-desktop": {"github", "files", "search"},
	"claude-code":    {"github", "files", "sentry", "events"},
	"cursor":         {"github", "files", "linear"},
	"vscode":         {"github", "perplexity", "fetch"},
	"windsurf":       {"github", "files", "figma"},
	"zed":            {"github", "files", "docs"},
	"codex":          {"github", "files", "figma"},
	"gemini":         {"github", "files", "context7", "legacy"},
}

var secretRef = regexp.MustCompile(`^\$\{secret:([A-Za-z0-9_.-]+)\}$`)

// TestClientImportInstallRestore takes each agent's fixture file through
// the whole round trip, in a sandboxed home with a real Secret Service:
// list, install --dry-run (writes nothing), import (servers in mcpgw's
// configuration, the GitHub token in the keychain and a reference in its
// place), install (the golden file: one mcpgw entry with this binary's
// absolute path, everything else as it was), list (managed, then changed),
// restore refused after a change, restore --force (byte for byte).
func TestClientImportInstallRestore(t *testing.T) {
	t.Parallel()
	kenv := testenv.Keyring(t)
	store := keystore.NewKeyring(nil)
	bin := testenv.Mcpgw(t)
	for _, agent := range []string{"claude-desktop", "claude-code", "cursor", "vscode", "windsurf", "zed", "codex", "gemini"} {
		t.Run(agent, func(t *testing.T) {
			sb := newClientSandbox(t, kenv...)
			path, orig := sb.place(t, agent, "user", fixtureName(agent))
			if r := sb.row(t, agent, "user"); r.State != "servers" || r.Servers != len(agentServers[agent]) {
				t.Errorf("list before: %+v; want %d servers", r, len(agentServers[agent]))
			}

			// --dry-run: the diff, and nothing written anywhere.
			out := sb.must(t, "client", "install", "-o", "table", agent, "--dry-run")
			wantAll(t, "install --dry-run", out, "--- "+path, "+++ ", `mcpgw`, "Would import github", "Would move to the OS keychain", "Dry run: nothing was written.")
			if got, _ := os.ReadFile(path); !bytes.Equal(got, orig) {
				t.Error("install --dry-run changed the agent's file")
			}
			if _, err := os.Stat(sb.cfg); err == nil {
				t.Error("install --dry-run wrote mcpgw's configuration")
			}
			if _, err := os.Stat(filepath.Join(filepath.Dir(sb.cfg), "..", "state")); err == nil {
				t.Error("install --dry-run wrote mcpgw's state directory")
			}

			var reports []struct {
				Agent    string
				Imported []struct{ Name string }
				Secrets  []struct{ Server, Where, Secret string }
			}
			if err := json.Unmarshal([]byte(sb.must(t, "client", "import", "-o", "json", agent)), &reports); err != nil || len(reports) != 1 {
				t.Fatalf("import -o json: %v %+v", err, reports)
			}
			if r := reports[0]; r.Agent != agent || len(r.Imported) != len(agentServers[agent]) || len(r.Secrets) == 0 ||
				r.Secrets[0].Server != "github" || r.Secrets[0].Where != "env GITHUB_PERSONAL_ACCESS_TOKEN" {
				t.Errorf("import report: %+v", r)
			}
			cfg, err := config.LoadAsWritten(sb.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(cfg.Order, agentServers[agent]) {
				t.Errorf("imported servers = %v; want %v", cfg.Order, agentServers[agent])
			}
			ref := cfg.Servers["github"].Env["GITHUB_PERSONAL_ACCESS_TOKEN"]
			m := secretRef.FindStringSubmatch(ref)
			if m == nil {
				t.Fatalf("github's token in mcpgw's configuration = %q; want a ${secret:...} reference", ref)
			}
			token := regexp.MustCompile(`ghp_Fixture[A-Za-z0-9]+`).FindString(string(orig))
			if m[1] != reports[0].Secrets[0].Secret {
				t.Errorf("the reference names %s; the report %s", m[1], reports[0].Secrets[0].Secret)
			}
			if v, err := store.Get(context.Background(), m[1]); err != nil || v != token {
				t.Errorf("keychain %s = %q, %v; want the fixture's token %q", m[1], v, err, token)
			}
			if raw, _ := os.ReadFile(sb.cfg); bytes.Contains(raw, []byte(token)) {
				t.Errorf("the token is in mcpgw's configuration in clear:\n%s", raw)
			}
			for _, s := range cfg.Servers {
				for k, v := range s.Headers {
					if !strings.Contains(v, "${") && (strings.Contains(strings.ToLower(k), "key") || strings.Contains(strings.ToLower(k), "authorization")) {
						t.Errorf("server %s header %s = %q kept in clear", s.Name, k, v)
					}
				}
			}

			// install: everything is in mcpgw already; the file becomes
			// the golden one.
			out = sb.must(t, "client", "install", "-o", "table", agent)
			wantAll(t, "install", out, "Already in mcpgw: github", "Created profile "+agent, "Installed mcpgw into "+path)
			golden, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "testdata", "clients", "golden", fixtureName(agent)))
			if err != nil {
				t.Fatal(err)
			}
			want := bytes.ReplaceAll(golden, []byte(jsonString("/usr/local/bin/mcpgw")), []byte(jsonString(bin)))
			want = bytes.ReplaceAll(want, []byte(jsonString("/home/user/.config/mcpgw/config.yaml")), []byte(jsonString(sb.cfg)))
			got, _ := os.ReadFile(path)
			if !bytes.Equal(got, want) {
				t.Errorf("installed file:\n%s\nwant:\n%s", got, want)
			}
			if cfg, err := config.LoadAsWritten(sb.cfg); err != nil || !cfg.HasProfile(agent) {
				t.Errorf("profile %s missing after install (%v)", agent, err)
			}
			if r := sb.row(t, agent, "user"); r.State != "managed" || !r.Managed || r.Changed {
				t.Errorf("list after install: %+v; want managed", r)
			}

			// A change after install: listed, and restore refuses it. In
			// Claude Code's ~/.claude.json only its servers count (see
			// TestClientClaudeCodeOwnState); elsewhere any byte does.
			changed := append(slices.Clone(got), '\n')
			if agent == "claude-code" {
				changed = bytes.Replace(got, []byte(`"serve"`), []byte(`"serve", "-v"`), 1)
			}
			sb.write(t, path, changed)
			if r := sb.row(t, agent, "user"); r.State != "changed" || !r.Changed {
				t.Errorf("list after a change: %+v; want changed", r)
			}
			_, errs, code := sb.run(t, "client", "restore", agent)
			if code == 0 || !strings.Contains(errs, "--force") {
				t.Errorf("restore of a changed file: exit %d, %s; want a refusal naming --force", code, errs)
			}
			if now, _ := os.ReadFile(path); !bytes.Equal(now, changed) {
				t.Error("a refused restore changed the file")
			}
			sb.must(t, "client", "restore", agent, "--force")
			if now, _ := os.ReadFile(path); !bytes.Equal(now, orig) {
				t.Errorf("restored file differs from the original:\n%s", now)
			}
			if r := sb.row(t, agent, "user"); r.State != "servers" || r.Managed {
				t.Errorf("list after restore: %+v; want servers", r)
			}
		})
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestClientRestoreUnchanged installs into a file no one touches since and
// restores it without --force, byte for byte; a second install keeps the
// first backup, and restore after both still gives the original.
func TestClientRestoreUnchanged(t *testing.T) {
	sb := newClientSandbox(t)
	path, orig := sb.place(t, "zed", "user", "zed.json")
	sb.must(t, "client", "install", "-o", "table", "zed", "--keep-secrets")
	sb.must(t, "client", "install", "-o", "table", "zed", "--keep-secrets")
	sb.must(t, "client", "restore", "zed")
	if now, _ := os.ReadFile(path); !bytes.Equal(now, orig) {
		t.Errorf("restored file differs from the original:\n%s", now)
	}
	// install into a file that did not exist; restore removes it again.
	p2 := sb.row(t, "gemini", "project").Path
	sb.must(t, "client", "install", "-o", "table", "gemini", "--scope", "project")
	if _, err := os.Stat(p2); err != nil {
		t.Fatalf("install created no file: %v", err)
	}
	sb.must(t, "client", "restore", "gemini", "--scope", "project")
	if _, err := os.Stat(p2); !os.IsNotExist(err) {
		t.Errorf("restore left the file install created: %v", err)
	}
}

// TestClientBadInput: a malformed agent file is a clear error and nothing
// is written; --no-import refuses naming the servers mcpgw lacks; an
// unknown agent lists the known ones.
func TestClientBadInput(t *testing.T) {
	sb := newClientSandbox(t)
	path, orig := sb.place(t, "cursor", "user", "malformed.json")
	for _, args := range [][]string{{"client", "import", "-o", "table", "cursor"}, {"client", "install", "-o", "table", "cursor"}} {
		_, errs, code := sb.run(t, args...)
		if code != 3 || !strings.Contains(errs, path) || !strings.Contains(errs, "not valid JSON") {
			t.Errorf("%v on a malformed file: exit %d, %q; want 3 and the file named", args, code, errs)
		}
	}
	if now, _ := os.ReadFile(path); !bytes.Equal(now, orig) {
		t.Error("the malformed file was changed")
	}
	if _, err := os.Stat(sb.cfg); err == nil {
		t.Error("mcpgw's configuration was written")
	}
	if r := sb.row(t, "cursor", "user"); r.State != "invalid" {
		t.Errorf("list of a malformed file: %+v; want invalid", r)
	}

	path, orig = sb.place(t, "cursor", "user", "cursor.json")
	_, errs, code := sb.run(t, "client", "install", "-o", "table", "cursor", "--no-import")
	if code == 0 || !strings.Contains(errs, "github, files, linear") {
		t.Errorf("install --no-import: exit %d, %q; want a refusal naming the servers", code, errs)
	}
	if now, _ := os.ReadFile(path); !bytes.Equal(now, orig) {
		t.Error("install --no-import changed the file")
	}

	// A server mcpgw cannot take: import leaves it out and says why;
	// install refuses, since the agent would lose it.
	ccPath := sb.row(t, "claude-code", "user").Path
	cc := []byte(`{"mcpServers": {"ok": {"command": "ok-server"}, "bad": {"command": "x", "env": {"A": "${not a name}"}}}}`)
	sb.write(t, ccPath, cc)
	_, errs, code = sb.run(t, "client", "install", "-o", "table", "claude-code", "--keep-secrets")
	if code != 3 || !strings.Contains(errs, "cannot import: bad") {
		t.Errorf("install with a server mcpgw cannot take: exit %d, %q", code, errs)
	}
	if now, _ := os.ReadFile(ccPath); !bytes.Equal(now, cc) {
		t.Error("the refused install changed the file")
	}
	out := sb.must(t, "client", "import", "-o", "table", "claude-code", "--keep-secrets")
	wantAll(t, "import", out, "Imported ok", "Not imported: bad: ")

	_, errs, code = sb.run(t, "client", "import", "-o", "table", "kursor")
	if code != 2 || !strings.Contains(errs, "claude-desktop, claude-code, cursor") {
		t.Errorf("unknown agent: exit %d, %q", code, errs)
	}
	_, errs, code = sb.run(t, "client", "install", "-o", "table", "windsurf", "--scope", "project")
	if code != 2 || !strings.Contains(errs, "no project-scope") {
		t.Errorf("windsurf project scope: exit %d, %q", code, errs)
	}
}

// TestClientInstallRuns installs mcpgw into Claude Code's file, whose one
// server is the fixture with a token in its env, then does what Claude Code
// would: runs the installed entry's command and args as a process and talks
// MCP to it. The fixture's tools are listed through it, and the fixture got
// its token, now resolved from the keychain.
func TestClientInstallRuns(t *testing.T) {
	kenv := testenv.Keyring(t)
	fx := testenv.Fixture(t)
	token := "fxtok_" + strings.Repeat("7", 24)
	sb := newClientSandbox(t, kenv...)
	path := sb.row(t, "claude-code", "user").Path
	sb.write(t, path, fmt.Appendf(nil, `{"numStartups": 3, "mcpServers": {"fx": {"type": "stdio", "command": %s, "env": {"FX_API_TOKEN": %q}}}}`, jsonString(fx), token))
	out := sb.must(t, "client", "install", "-o", "table", "claude-code")
	wantAll(t, "install", out, "Imported fx", "env FX_API_TOKEN → ${secret:fx-fx_api_token}")

	var file struct {
		NumStartups int `json:"numStartups"`
		MCPServers  map[string]struct {
			Type    string   `json:"type"`
			Command string   `json:"command"`
			Args    []string `json:"args"`
		} `json:"mcpServers"`
	}
	data, _ := os.ReadFile(path)
	if err := json.Unmarshal(data, &file); err != nil {
		t.Fatal(err)
	}
	e, ok := file.MCPServers["mcpgw"]
	if len(file.MCPServers) != 1 || !ok || file.NumStartups != 3 || e.Type != "stdio" || !filepath.IsAbs(e.Command) {
		t.Fatalf("installed file = %s", data)
	}
	cmd := exec.Command(e.Command, e.Args...)
	// The agent's environment: no MCPGW_CONFIG (the entry names the file).
	for _, kv := range append(os.Environ(), sb.env...) {
		if !strings.HasPrefix(kv, "MCPGW_CONFIG=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = ownRecord(t, cmd.Env)
	cmd.Stderr = &testWriter{t: t}
	a := connectAgent(t, cmd, "2025-11-25")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	tools, err := a.cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatalf("tools/list through the installed entry: %v", err)
	}
	var names []string
	for _, tl := range tools.Tools {
		names = append(names, tl.Name)
	}
	if !slices.Contains(names, "fx__echo") || !slices.Contains(names, "fx__env") {
		t.Fatalf("tools through the installed entry: %v", names)
	}
	res := call(t, ctx, a, "fx__env", map[string]any{"name": "FX_API_TOKEN", "form": "sha256"})
	sum := sha256.Sum256([]byte(token))
	if got := textOf(t, res); got != hex.EncodeToString(sum[:]) {
		t.Errorf("the fixture's FX_API_TOKEN hashes to %q; want the token's hash (resolved from the keychain)", got)
	}
}

// TestClientAllAndClashes imports and installs every agent that has a file
// (--all), with --keep-secrets: credentials are copied as they are, a
// server already in mcpgw is not added twice, and a name mcpgw uses for
// another server is imported as NAME-AGENT. Agents without a file get
// none. print shows the entry install writes.
func TestClientAllAndClashes(t *testing.T) {
	sb := newClientSandbox(t)
	sb.write(t, sb.cfg, []byte("servers:\n  files:\n    command: other-files-server\n"))
	_, cursorOrig := sb.place(t, "cursor", "user", "cursor.json")
	sb.place(t, "windsurf", "user", "windsurf.json")

	out := sb.must(t, "client", "import", "-o", "table", "--all", "--keep-secrets")
	wantAll(t, "import --all", out, "Imported files (as files-cursor: mcpgw has another server called files)", "Imported files (as files-windsurf", "Already in mcpgw: github", "Imported figma")
	if strings.Contains(out, "keychain") {
		t.Errorf("import --keep-secrets mentions the keychain: %s", out)
	}
	cfg, err := config.LoadAsWritten(sb.cfg)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"files", "github", "files-cursor", "linear", "files-windsurf", "figma"}; !slices.Equal(cfg.Order, want) {
		t.Errorf("servers = %v; want %v", cfg.Order, want)
	}
	if v := cfg.Servers["github"].Env["GITHUB_PERSONAL_ACCESS_TOKEN"]; !bytes.Contains(cursorOrig, []byte(v)) || !strings.HasPrefix(v, "ghp_") {
		t.Errorf("--keep-secrets: github's token = %q; want it as it was", v)
	}
	if cfg.Servers["files-cursor"].IsEnabled() {
		t.Error("cursor's disabled server was imported enabled")
	}
	if s := cfg.Servers["linear"]; s.Transport != "sse" || s.URL != "https://mcp.linear.example/sse" {
		t.Errorf("linear = %+v; want the SSE URL", s)
	}

	sb.must(t, "client", "install", "-o", "table", "--all", "--keep-secrets")
	for _, agent := range []string{"cursor", "windsurf"} {
		if r := sb.row(t, agent, "user"); r.State != "managed" {
			t.Errorf("%s after install --all: %+v; want managed", agent, r)
		}
	}
	for _, agent := range []string{"claude-desktop", "claude-code", "vscode", "zed", "codex", "gemini"} {
		if r := sb.row(t, agent, "user"); r.State != "absent" {
			t.Errorf("install --all touched %s, which had no file: %+v", agent, r)
		}
	}

	out = sb.must(t, "client", "print", "cursor")
	var snippet struct {
		MCPServers map[string]struct {
			Command string
			Args    []string
		} `json:"mcpServers"`
	}
	if err := json.Unmarshal([]byte(out), &snippet); err != nil {
		t.Fatalf("print cursor: %v\n%s", err, out)
	}
	e := snippet.MCPServers["mcpgw"]
	if e.Command != testenv.Mcpgw(t) || !slices.Equal(e.Args, []string{"serve", "--profile", "cursor", "--config", sb.cfg}) {
		t.Errorf("print cursor = %+v", e)
	}
}

// claudeJSON reads ~/.claude.json as data.
func claudeJSON(t *testing.T, path string) map[string]any {
	t.Helper()
	var doc map[string]any
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%s: %v\n%s", path, err, data)
	}
	return doc
}

// serverNames are the names in a servers object, sorted.
func serverNames(v any) []string {
	m, _ := v.(map[string]any)
	var names []string
	for n := range m {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// TestClientClaudeCodeOwnState: Claude Code's local scope (this project's
// servers in ~/.claude.json, projects.DIR.mcpServers) is listed, imported,
// installed into and restored, touching only that value; and since Claude
// Code rewrites ~/.claude.json as it runs, a rewrite that leaves the servers
// alone is not a change: list says managed, restore needs no --force and
// keeps Claude Code's newer state, putting back only the servers. A change
// to the servers is refused without --force. doctor reports the local scope.
func TestClientClaudeCodeOwnState(t *testing.T) {
	sb := newClientSandbox(t)
	fixture, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "testdata", "clients", "claude-code.json"))
	if err != nil {
		t.Fatal(err)
	}
	// The fixture's project with local servers is the sandbox's project.
	orig := bytes.ReplaceAll(fixture, []byte(`"/home/user/src/api"`), []byte(jsonString(sb.dir)))
	path := sb.row(t, "claude-code", "user").Path
	sb.write(t, path, orig)
	project := func(doc map[string]any) map[string]any {
		return doc["projects"].(map[string]any)[sb.dir].(map[string]any)
	}

	loc := sb.row(t, "claude-code", "local")
	if loc.Path != path || loc.State != "servers" || loc.Servers != 1 || loc.ServersAt != "projects["+jsonString(sb.dir)+"].mcpServers" {
		t.Errorf("list local: %+v; want ~/.claude.json with 1 server under projects[DIR].mcpServers", loc)
	}
	out := sb.must(t, "client", "list", "-o", "table")
	wantAll(t, "list", out, path+" (projects["+jsonString(sb.dir)+"].mcpServers)")
	doctorLocal := func() doctorLine {
		t.Helper()
		out, _, _ := sb.run(t, "doctor", "--no-start", "-o", "json")
		var r struct{ Checks []doctorLine }
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("doctor -o json: %v\n%s", err, out)
		}
		for _, c := range r.Checks {
			if c.Check == "agent claude-code (local)" {
				return c
			}
		}
		t.Fatalf("doctor has no line for claude-code's local scope: %+v", r.Checks)
		return doctorLine{}
	}
	if c := doctorLocal(); c.Status != "ok" || !strings.Contains(c.Detail, "does not use mcpgw") || !strings.Contains(c.Detail, "db") ||
		!strings.Contains(c.Detail, "mcpgw client install claude-code --scope local") {
		t.Errorf("doctor before install: %+v", c)
	}

	// install --scope local: db imported, only this project's servers
	// replaced; the user scope's servers and everything else as they were.
	out = sb.must(t, "client", "install", "-o", "table", "claude-code", "--scope", "local", "--keep-secrets")
	wantAll(t, "install --scope local", out, "Imported db", "Installed mcpgw into "+path)
	cfg, err := config.LoadAsWritten(sb.cfg)
	if err != nil || cfg.Servers["db"] == nil || cfg.Servers["db"].Env["DB_PASSWORD"] != "fixture-local-db-password-0001" {
		t.Fatalf("mcpgw's configuration after install --scope local: %+v, %v", cfg, err)
	}
	after := claudeJSON(t, path)
	if got := serverNames(project(after)["mcpServers"]); !slices.Equal(got, []string{"mcpgw"}) {
		t.Errorf("local servers after install = %v; want mcpgw", got)
	}
	var origDoc map[string]any
	json.Unmarshal(orig, &origDoc)
	delete(project(origDoc), "mcpServers")
	delete(project(after), "mcpServers")
	if !reflect.DeepEqual(origDoc, after) {
		t.Errorf("install --scope local changed more than the project's servers:\n%s", must(os.ReadFile(path)))
	}
	if c := doctorLocal(); c.Status != "ok" || !strings.Contains(c.Detail, "runs mcpgw (profile claude-code)") {
		t.Errorf("doctor after install: %+v", c)
	}

	// The user scope too: both are managed, each recorded on its own.
	sb.must(t, "client", "install", "-o", "table", "claude-code", "--keep-secrets")
	for _, sc := range []string{"user", "local"} {
		if r := sb.row(t, "claude-code", sc); r.State != "managed" {
			t.Errorf("%s after both installs: %+v; want managed", sc, r)
		}
	}

	// Claude Code rewrites the file: a counter, a new project, its own
	// formatting and key order. The servers are as mcpgw wrote them.
	doc := claudeJSON(t, path)
	doc["numStartups"] = 43.0
	doc["projects"].(map[string]any)["/elsewhere"] = map[string]any{"allowedTools": []any{}}
	sb.write(t, path, must(json.MarshalIndent(doc, "", "  ")))
	for _, sc := range []string{"user", "local"} {
		if r := sb.row(t, "claude-code", sc); r.State != "managed" || r.Changed {
			t.Errorf("%s after Claude Code rewrote the file: %+v; want managed, not changed", sc, r)
		}
	}
	if c := doctorLocal(); c.Status != "ok" || strings.Contains(c.Detail, "edited") {
		t.Errorf("doctor after Claude Code rewrote the file: %+v; want ok, not edited", c)
	}

	// restore --scope local, no --force: this project's servers are back,
	// mcpgw stays in the user scope, Claude Code's newer state is kept.
	sb.must(t, "client", "restore", "claude-code", "--scope", "local")
	doc = claudeJSON(t, path)
	if got := serverNames(project(doc)["mcpServers"]); !slices.Equal(got, []string{"db"}) {
		t.Errorf("local servers after restore = %v; want db", got)
	}
	if got := serverNames(doc["mcpServers"]); !slices.Equal(got, []string{"mcpgw"}) {
		t.Errorf("user servers after restoring the local scope = %v; want mcpgw", got)
	}
	if doc["numStartups"] != 43.0 || doc["projects"].(map[string]any)["/elsewhere"] == nil {
		t.Errorf("restore lost Claude Code's newer state: numStartups %v, projects %v", doc["numStartups"], serverNames(doc["projects"]))
	}
	if r := sb.row(t, "claude-code", "local"); r.State != "servers" || r.Managed {
		t.Errorf("local after restore: %+v; want servers", r)
	}

	// A server added beside mcpgw in the user scope is a change: listed,
	// and restore refuses it without --force.
	doc["mcpServers"].(map[string]any)["direct"] = map[string]any{"type": "stdio", "command": "direct-server"}
	changed := must(json.MarshalIndent(doc, "", "  "))
	sb.write(t, path, changed)
	if r := sb.row(t, "claude-code", "user"); r.State != "changed" || !r.Changed {
		t.Errorf("user after a server was added: %+v; want changed", r)
	}
	_, errs, code := sb.run(t, "client", "restore", "claude-code")
	if code == 0 || !strings.Contains(errs, "had its servers changed") || !strings.Contains(errs, "--force") {
		t.Errorf("restore after a servers change: exit %d, %s; want a refusal naming --force", code, errs)
	}
	if now, _ := os.ReadFile(path); !bytes.Equal(now, changed) {
		t.Error("a refused restore changed the file")
	}
	sb.must(t, "client", "restore", "claude-code", "--force")
	doc = claudeJSON(t, path)
	if got := serverNames(doc["mcpServers"]); !slices.Equal(got, []string{"events", "files", "github", "sentry"}) {
		t.Errorf("user servers after restore --force = %v; want the fixture's", got)
	}
	if doc["numStartups"] != 43.0 {
		t.Errorf("restore --force lost Claude Code's numStartups: %v", doc["numStartups"])
	}
}
