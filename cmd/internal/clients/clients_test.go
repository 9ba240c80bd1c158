package clients

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tailscale/hujson"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/clients/golden")

// fixture returns the agent's fixture file in testdata/clients.
func fixture(t *testing.T, a *Agent) (string, []byte) {
	t.Helper()
	p := filepath.Join("..", "..", "..", "testdata", "clients", a.Name+"."+string(a.Format))
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return p, data
}

// testEntry is the entry the golden files hold.
var testEntry = NewEntry("/usr/local/bin/mcpgw", "", "/home/user/.config/mcpgw/config.yaml")

func entryFor(a *Agent) Entry {
	return NewEntry(testEntry.Command, a.Name, testEntry.Args[len(testEntry.Args)-1])
}

// wantServers is what each fixture holds, in mcpgw's terms: name, command
// or URL, transport, and what is not carried over.
var wantServers = map[string][]string{
	"claude-desktop": {"github npx stdio", "files npx stdio", "search https://mcp.example.com/mcp http"},
	"claude-code":    {"github npx stdio", "files npx stdio", "sentry https://mcp.sentry.example/mcp http", "events https://events.example.com/sse sse"},
	"cursor":         {"github npx stdio", "files npx stdio disabled", "linear https://mcp.linear.example/sse sse"},
	"vscode": {"github npx stdio", "perplexity npx stdio dropped=envFile|env PERPLEXITY_API_KEY (VS Code input ${input:perplexity-key}: store the value with mcpgw secret set and reference it as ${secret:NAME})",
		"fetch https://mcp.fetch.example/mcp http"},
	"windsurf": {"github npx stdio", "files npx stdio", "figma https://mcp.figma.example/mcp http"},
	"zed":      {"github npx stdio", "files npx stdio dropped=settings", "docs https://mcp.docs.example/mcp http"},
	"codex":    {"github npx stdio dropped=startup_timeout_sec", "files npx stdio", "figma https://mcp.figma.example/mcp http"},
	"gemini":   {"github npx stdio dropped=timeout|trust", "files npx stdio", "context7 https://mcp.context7.example/mcp http", "legacy https://legacy.example.com/sse sse"},
}

func summary(s *Server) string {
	var b []string
	b = append(b, s.Name)
	if s.Remote() {
		tr := "http"
		if s.Transport == "sse" {
			tr = "sse"
		}
		b = append(b, s.URL, tr)
	} else {
		b = append(b, s.Command, "stdio")
	}
	if s.Disabled {
		b = append(b, "disabled")
	}
	if len(s.Dropped) > 0 {
		b = append(b, "dropped="+strings.Join(s.Dropped, "|"))
	}
	return strings.Join(b, " ")
}

func TestReadFixtures(t *testing.T) {
	for _, a := range Agents {
		t.Run(a.Name, func(t *testing.T) {
			p, data := fixture(t, a)
			servers, err := a.Read(p, data)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, s := range servers {
				got = append(got, summary(s))
			}
			if !reflect.DeepEqual(got, wantServers[a.Name]) {
				t.Errorf("servers:\n got %q\nwant %q", got, wantServers[a.Name])
			}
			// Every fixture has a GitHub token in plain text.
			secs := servers[0].Secrets()
			if len(secs) != 1 || secs[0].Where != "env GITHUB_PERSONAL_ACCESS_TOKEN" || !strings.HasPrefix(secs[0].Value, "ghp_Fixture") {
				t.Errorf("github's secrets = %+v; want its token", secs)
			}
		})
	}
}

func TestReadDetails(t *testing.T) {
	read := func(name string) map[string]*Server {
		a, _ := Lookup(name)
		p, data := fixture(t, a)
		servers, err := a.Read(p, data)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]*Server{}
		for _, s := range servers {
			m[s.Name] = s
		}
		return m
	}
	codex := read("codex")
	if h := codex["figma"].Headers; h["Authorization"] != "Bearer ${FIGMA_OAUTH_TOKEN}" || h["X-Figma-Region"] != "us-east-1" {
		t.Errorf("codex figma headers = %v", h)
	}
	if e := codex["files"].Env; e["LOG_LEVEL"] != "debug" {
		t.Errorf("codex files env = %v", e)
	}
	vs := read("vscode")
	if e := vs["perplexity"].Env; e["HOME_DIR"] != "${HOME}" || len(e) != 1 {
		t.Errorf("vscode perplexity env = %v; want ${env:HOME} as ${HOME} and the input dropped", e)
	}
	zed := read("zed")
	if f := zed["files"]; strings.Join(f.Args, " ") != "-y @modelcontextprotocol/server-filesystem /tmp" {
		t.Errorf("zed files (command object) args = %q", f.Args)
	}
	// A bearer token keeps its scheme in clear.
	cc := read("claude-code")
	secs := cc["sentry"].Secrets()
	if len(secs) != 1 || secs[0].Value != "sntrys_fixture_claude_code_0000000002" {
		t.Fatalf("sentry secrets = %+v", secs)
	}
	secs[0].Reference("sentry-authorization")
	if got := cc["sentry"].Headers["Authorization"]; got != "Bearer ${secret:sentry-authorization}" {
		t.Errorf("reference = %q", got)
	}
}

func TestInstallGolden(t *testing.T) {
	for _, a := range Agents {
		t.Run(a.Name, func(t *testing.T) {
			p, data := fixture(t, a)
			out, err := a.Install(p, data, entryFor(a))
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("..", "..", "..", "testdata", "clients", "golden", a.Name+"."+string(a.Format))
			if *update {
				os.MkdirAll(filepath.Dir(golden), 0o755)
				if err := os.WriteFile(golden, out, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(out, want) {
				t.Errorf("installed file differs from %s:\n%s", golden, out)
			}
			if a.Format == JSON {
				sameOutside(t, a, data, out)
			}
			// Installing again changes nothing.
			again, err := a.Install(p, out, entryFor(a))
			if err != nil || !bytes.Equal(again, out) {
				t.Errorf("a second install changed the file (err %v):\n%s", err, again)
			}
		})
	}
}

// sameOutside checks that before and after differ only in the value of
// the agent's servers key.
func sameOutside(t *testing.T, a *Agent, before, after []byte) {
	t.Helper()
	span := func(data []byte) (int, int) {
		v, err := hujson.Parse(data)
		if err != nil {
			t.Fatal(err)
		}
		obj := v.Value.(*hujson.Object)
		i := member(obj, a.Key)
		if i < 0 {
			t.Fatalf("no %s in %s", a.Key, data)
		}
		return obj.Members[i].Value.StartOffset, obj.Members[i].Value.EndOffset
	}
	bs, be := span(before)
	as, ae := span(after)
	if !bytes.Equal(before[:bs], after[:as]) || !bytes.Equal(before[be:], after[ae:]) {
		t.Errorf("bytes outside %s changed", a.Key)
	}
}

// TestInstallAddsServersKey covers files without a servers key: missing,
// empty, with a trailing comma, with a comment after the last value.
func TestInstallAddsServersKey(t *testing.T) {
	a, _ := Lookup("cursor")
	e := Entry{Command: "/bin/mcpgw", Args: []string{"serve"}}
	const obj = `{
    "mcpgw": {
      "command": "/bin/mcpgw",
      "args": ["serve"]
    }
  }`
	cases := []struct{ in, want string }{
		{"", "{\n  \"mcpServers\": " + obj + "\n}\n"},
		{"{}", "{\n  \"mcpServers\": " + obj + "\n}"},
		{"{\n  \"other\": 1,\n}\n", "{\n  \"other\": 1,\n  \"mcpServers\": " + obj + ",\n}\n"},
		{"{\n  \"other\": 1 // why\n}\n", "{\n  \"other\": 1, // why\n  \"mcpServers\": " + obj + "\n}\n"},
		{"{\n  \"mcpServers\": null\n}", "{\n  \"mcpServers\": " + obj + "\n}"},
	}
	for _, c := range cases {
		got, err := a.Install("f", []byte(c.in), e)
		if err != nil || string(got) != c.want {
			t.Errorf("Install(%q) = %v\n%s\nwant:\n%s", c.in, err, got, c.want)
		}
	}
	c, _ := Lookup("codex")
	got, err := c.Install("f", []byte("# mine\nmodel = \"x\"\n\n[mcp_servers.a]\ncommand = \"a\"\n\n# about tui\n[tui]\nx = 1\n"), e)
	want := "# mine\nmodel = \"x\"\n\n[mcp_servers.mcpgw]\ncommand = \"/bin/mcpgw\"\nargs = [\"serve\"]\n\n# about tui\n[tui]\nx = 1\n"
	if err != nil || string(got) != want {
		t.Errorf("codex Install = %v\n%s\nwant:\n%s", err, got, want)
	}
}

func TestMalformedIsAnError(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "..", "testdata", "clients", "malformed.json"))
	if err != nil {
		t.Fatal(err)
	}
	a, _ := Lookup("cursor")
	if _, err := a.Read("malformed.json", data); err == nil || !strings.Contains(err.Error(), "not valid JSON") {
		t.Errorf("Read = %v; want a not valid JSON error", err)
	}
	if _, err := a.Install("malformed.json", data, entryFor(a)); err == nil {
		t.Error("Install of a malformed file succeeded")
	}
	c, _ := Lookup("codex")
	if _, err := c.Read("x.toml", []byte("[mcp_servers.a\ncommand=1")); err == nil || !strings.Contains(err.Error(), "not valid TOML") {
		t.Errorf("Read TOML = %v", err)
	}
	// A server defined by dotted keys outside a table cannot be replaced
	// safely: refused, not half-edited.
	if _, err := c.Install("x.toml", []byte("mcp_servers.a.command = \"x\"\n"), entryFor(c)); err == nil {
		t.Error("Install over a dotted-key server succeeded")
	}
}

func TestPaths(t *testing.T) {
	env := map[string]string{"XDG_CONFIG_HOME": "/xdg", "APPDATA": `C:\Users\u\AppData\Roaming`}
	want := map[string]map[string]string{
		"linux": {
			"claude-desktop": "/xdg/Claude/claude_desktop_config.json",
			"claude-code":    "/home/u/.claude.json",
			"cursor":         "/home/u/.cursor/mcp.json",
			"vscode":         "/xdg/Code/User/mcp.json",
			"windsurf":       "/home/u/.codeium/windsurf/mcp_config.json",
			"zed":            "/xdg/zed/settings.json",
			"codex":          "/home/u/.codex/config.toml",
			"gemini":         "/home/u/.gemini/settings.json",
		},
		"darwin": {
			"claude-desktop": "/home/u/Library/Application Support/Claude/claude_desktop_config.json",
			"vscode":         "/home/u/Library/Application Support/Code/User/mcp.json",
			"zed":            "/xdg/zed/settings.json",
		},
	}
	for goos, paths := range want {
		l := &Locator{GOOS: goos, Home: "/home/u", Dir: "/proj", Getenv: func(k string) string { return env[k] }}
		for name, p := range paths {
			a, _ := Lookup(name)
			got, err := a.Path(l, User)
			if err != nil || filepath.ToSlash(got) != p {
				t.Errorf("%s %s user path = %q, %v; want %q", goos, name, got, err, p)
			}
		}
	}
	l := &Locator{GOOS: "linux", Home: "/home/u", Dir: "/proj", Getenv: func(string) string { return "" }}
	proj := map[string]string{"claude-code": "/proj/.mcp.json", "cursor": "/proj/.cursor/mcp.json", "vscode": "/proj/.vscode/mcp.json", "zed": "/proj/.zed/settings.json", "codex": "/proj/.codex/config.toml", "gemini": "/proj/.gemini/settings.json"}
	for _, a := range Agents {
		got, err := a.Path(l, Project)
		if want, ok := proj[a.Name]; ok != (err == nil) || filepath.ToSlash(got) != want {
			t.Errorf("%s project path = %q, %v; want %q", a.Name, got, err, want)
		}
	}
}

// TestLocalScopeOnlyClaudeCode: local is Claude Code's alone, a scope the
// command line takes, and on Windows the project is named with forward
// slashes as Claude Code names it.
func TestLocalScopeOnlyClaudeCode(t *testing.T) {
	l := &Locator{GOOS: "linux", Home: "/home/u", Dir: "/proj", Getenv: func(string) string { return "" }}
	for _, a := range Agents {
		_, err := a.File(l, Local)
		if (a.Name == "claude-code") != (err == nil) {
			t.Errorf("%s local scope: %v", a.Name, err)
		}
	}
	if s, err := ParseScope("local"); s != Local || err != nil {
		t.Errorf("ParseScope(local) = %q, %v", s, err)
	}
	if _, err := ParseScope("global"); err == nil || !strings.Contains(err.Error(), "local") {
		t.Errorf("ParseScope(global) = %v; want an error naming local", err)
	}
	a, _ := Lookup("claude-code")
	w := &Locator{GOOS: "windows", Home: `C:\Users\u`, Dir: `C:\src\app`, Getenv: func(k string) string { return "" }}
	f, err := a.File(w, Local)
	if err != nil || f.In[1] != "C:/src/app" {
		t.Errorf("windows local file = %+v, %v; want the project as C:/src/app", f, err)
	}
	if u, _ := a.File(l, User); u.Key() != "/home/u/.claude.json" || u.ServersOnly() != true {
		t.Errorf("user file key %q, servers only %v", u.Key(), u.ServersOnly())
	}
	if p, _ := a.File(l, Project); p.ServersOnly() {
		t.Error(".mcp.json is servers-only; it is the project's, byte for byte")
	}
}

func TestSecretDetection(t *testing.T) {
	cases := []struct {
		key, value string
		want       bool
	}{
		{"GITHUB_TOKEN", "abc", true},
		{"API_KEY", "x1", true},
		{"DB_PASSWORD", "hunter2", true},
		{"Authorization", "Bearer abc", true},
		{"X-Api-Key", "k", true},
		{"NOTES", "ghp_" + strings.Repeat("a", 36), true}, // a known format, whatever the name
		{"OPENAI", "sk-" + strings.Repeat("b", 40), true},
		{"LOG_LEVEL", "debug", false},
		{"MONKEY", "banana", false},
		{"GITHUB_TOKEN", "${GITHUB_TOKEN}", false}, // a reference: nothing to move
		{"GITHUB_TOKEN", "", false},
		{"PATH", "/usr/bin", false},
	}
	for _, c := range cases {
		if got := looksSecret(c.key, c.value); got != c.want {
			t.Errorf("looksSecret(%q, %q) = %v; want %v", c.key, c.value, got, c.want)
		}
	}
	if n := SecretName("My Server", "GITHUB_TOKEN"); n != "my-server-github_token" {
		t.Errorf("SecretName = %q", n)
	}
}

// TestExtensionServer reads a Zed server an extension provides (settings
// only): listed, with the problem said, not an error for the whole file.
func TestExtensionServer(t *testing.T) {
	a, _ := Lookup("zed")
	servers, err := a.Read("s.json", []byte(`{"context_servers": {"mcp-server-github": {"settings": {"token": "x"}}, "ok": {"command": "ok"}}}`))
	if err != nil || len(servers) != 2 {
		t.Fatalf("Read = %v, %v", servers, err)
	}
	if servers[0].Problem == "" || servers[1].Problem != "" {
		t.Errorf("problems: %q, %q; want the first only", servers[0].Problem, servers[1].Problem)
	}
}

func TestGeminiBareReference(t *testing.T) {
	a, _ := Lookup("gemini")
	servers, err := a.Read("s.json", []byte(`{"mcpServers": {"x": {"command": "x", "env": {"API_KEY": "$MY_KEY", "MIXED": "a$b"}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if e := servers[0].Env; e["API_KEY"] != "${MY_KEY}" || e["MIXED"] != "a$b" {
		t.Errorf("env = %v; want $MY_KEY as ${MY_KEY}, a$b as it was", e)
	}
}

// TestBackupNeverOverwrites makes two backups of one file in the same
// second: both are kept, each with its own content.
func TestBackupNeverOverwrites(t *testing.T) {
	st, err := LoadState(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	a, _ := Lookup("cursor")
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	p1, err := st.Backup(a, User, "/x/mcp.json", []byte("one"), now)
	if err != nil {
		t.Fatal(err)
	}
	p2, err := st.Backup(a, User, "/x/mcp.json", []byte("two"), now)
	if err != nil {
		t.Fatal(err)
	}
	b1, _ := os.ReadFile(p1)
	b2, _ := os.ReadFile(p2)
	if p1 == p2 || string(b1) != "one" || string(b2) != "two" {
		t.Errorf("backups %s=%q, %s=%q; want two files", p1, b1, p2, b2)
	}
	if !strings.Contains(filepath.Base(p1), "cursor-user-20260102T030405Z") {
		t.Errorf("backup name %s has no agent, scope and time", p1)
	}
}

// localFile is Claude Code's local-scope file for the project dir, with
// the claude-code fixture's content.
func localFile(t *testing.T, dir string) (*File, []byte) {
	t.Helper()
	a, _ := Lookup("claude-code")
	l := &Locator{GOOS: "linux", Home: "/home/user", Dir: dir, Getenv: func(string) string { return "" }}
	f, err := a.File(l, Local)
	if err != nil {
		t.Fatal(err)
	}
	_, data := fixture(t, a)
	return f, data
}

// TestLocalScope reads and replaces Claude Code's per-project servers in
// ~/.claude.json (projects.DIR.mcpServers): only that value changes, for a
// project that has servers, one that has an entry but no servers, and one
// with no entry yet; the user-scope servers are untouched.
func TestLocalScope(t *testing.T) {
	f, data := localFile(t, "/home/user/src/api")
	if f.Path != "/home/user/.claude.json" || f.Key() != "/home/user/.claude.json#/projects/~1home~1user~1src~1api/mcpServers" ||
		f.Where() != `projects["/home/user/src/api"].mcpServers` || !f.ServersOnly() {
		t.Errorf("local file = %+v, key %s, where %s", f, f.Key(), f.Where())
	}
	servers, err := f.Read(data)
	if err != nil || len(servers) != 1 || servers[0].Name != "db" || servers[0].Secrets()[0].Where != "env DB_PASSWORD" {
		t.Fatalf("local servers = %v, %v; want db with its password", servers, err)
	}
	a := f.Agent
	user, _ := a.Read("u", data)
	for _, dir := range []string{"/home/user/src/api", "/home/user/src/app", "/home/user/new"} {
		f, _ := localFile(t, dir)
		out, err := f.Install(data, entryFor(a))
		if err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		got, err := f.Read(out)
		if err != nil || len(got) != 1 || !got[0].IsMcpgw() {
			t.Errorf("%s: installed servers = %v, %v", dir, got, err)
		}
		if u, _ := a.Read("u", out); !reflect.DeepEqual(u, user) {
			t.Errorf("%s: user-scope servers changed", dir)
		}
		// Everything but the project's servers is as it was.
		var before, after map[string]any
		mustJSON(t, data, &before)
		mustJSON(t, out, &after)
		delete(before["projects"].(map[string]any), dir)
		delete(after["projects"].(map[string]any), dir)
		if !reflect.DeepEqual(before, after) {
			t.Errorf("%s: install changed more than the project's servers:\n%s", dir, out)
		}
		// Putting the backup's servers back gives the file back byte for
		// byte; the entry install created is removed again.
		back, err := f.PutServers(out, data)
		if err != nil || !bytes.Equal(back, data) {
			t.Errorf("%s: PutServers = %v\n%s", dir, err, back)
		}
	}
}

func mustJSON(t *testing.T, data []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(standardize(t, data), v); err != nil {
		t.Fatal(err)
	}
}

func standardize(t *testing.T, data []byte) []byte {
	t.Helper()
	v, err := hujson.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	v.Standardize()
	return v.Pack()
}

// TestServersOnlyDrift: the servers value's canonical form ignores the
// agent reformatting the file and changing the rest of it, and changes when
// a server does; PutServers keeps the agent's newer state.
func TestServersOnlyDrift(t *testing.T) {
	f, data := localFile(t, "/home/user/src/api")
	installed, err := f.Install(data, entryFor(f.Agent))
	if err != nil {
		t.Fatal(err)
	}
	want, found, err := f.Servers(installed)
	if err != nil || !found {
		t.Fatalf("Servers = %v, %v", found, err)
	}
	// Claude Code rewrites the file: other keys change, formatting too.
	var doc map[string]any
	mustJSON(t, installed, &doc)
	doc["numStartups"] = 43.0
	doc["projects"].(map[string]any)["/home/user/src/other"] = map[string]any{"allowedTools": []any{}}
	rewritten, _ := json.MarshalIndent(doc, "", "\t")
	if got, _, err := f.Servers(rewritten); err != nil || !bytes.Equal(got, want) {
		t.Errorf("servers after the agent rewrote the file = %s, %v; want %s", got, err, want)
	}
	// A server added beside mcpgw is a change.
	doc["projects"].(map[string]any)["/home/user/src/api"].(map[string]any)["mcpServers"].(map[string]any)["x"] = map[string]any{"command": "x"}
	edited, _ := json.Marshal(doc)
	if got, _, _ := f.Servers(edited); bytes.Equal(got, want) {
		t.Error("a server added beside mcpgw is not a change")
	}
	// Restore into the rewritten file: the backup's servers, the agent's
	// numStartups and new project.
	back, err := f.PutServers(rewritten, data)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	mustJSON(t, back, &got)
	if got["numStartups"] != 43.0 || got["projects"].(map[string]any)["/home/user/src/other"] == nil {
		t.Errorf("restore lost the agent's newer state:\n%s", back)
	}
	if s, _ := f.Read(back); len(s) != 1 || s[0].Name != "db" {
		t.Errorf("restored servers = %v; want db", s)
	}
	// No file before install: restore takes out mcpgw's entry and what
	// install created for it, and leaves what the agent wrote since.
	created, err := f.Install(nil, entryFor(f.Agent))
	if err != nil {
		t.Fatal(err)
	}
	doc = nil
	mustJSON(t, created, &doc)
	doc["numStartups"] = 1.0
	rewritten, _ = json.MarshalIndent(doc, "", "  ")
	back, err = f.PutServers(rewritten, []byte("{}"))
	if err != nil || string(standardize(t, back)) != "{\n  \"numStartups\": 1\n}" {
		t.Errorf("PutServers with no backup = %v\n%s\nwant only numStartups", err, back)
	}
	if _, found, _ := f.Servers([]byte(`{"projects": {}}`)); found {
		t.Error("Servers found a value in a file without one")
	}
}
