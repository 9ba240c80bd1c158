package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const fullConfig = `# my gateway
servers:
  everything:
    command: npx
    args: ["-y", "@modelcontextprotocol/server-everything", 8080]
    env:
      API_Key: ${MCPGW_TEST_KEY}
      Token: ${secret:everything_token}
      DEBUG: true
    cwd: /tmp
    prefix: ev
    enabled: false
    start: lazy
    tools:
      allow: ["read_*", search]
      deny: [delete_*]
    timeouts: {connect: 10s, call: 1m30s, tools: {export_*: 10m, ping: 5s}}
    protocol_version: 2025-06-18
  remote:
    url: https://${MCPGW_TEST_HOST}/mcp
    transport: sse
    headers:
      Authorization: Bearer ${secret:remote}
      X-Literal: $${NOT_EXPANDED}
    prefix: ""
`

func TestParseFullConfig(t *testing.T) {
	t.Setenv("MCPGW_TEST_KEY", "k3y")
	t.Setenv("MCPGW_TEST_HOST", "example.com")
	got, err := Parse("config.yaml", []byte(fullConfig))
	if err != nil {
		t.Fatal(err)
	}
	f, empty := false, ""
	ev := "ev"
	want := &Config{
		Path:  "config.yaml",
		Order: []string{"everything", "remote"},
		Servers: map[string]*Server{
			"everything": {
				Name: "everything", Line: 3,
				Command: "npx",
				Args:    []string{"-y", "@modelcontextprotocol/server-everything", "8080"},
				Env:     map[string]string{"API_Key": "k3y", "Token": "${secret:everything_token}", "DEBUG": "true"},
				Cwd:     "/tmp",
				Prefix:  &ev, Enabled: &f, Start: "lazy",
				Tools:           ToolFilter{Allow: []string{"read_*", "search"}, Deny: []string{"delete_*"}},
				Timeouts:        Timeouts{Connect: 10 * time.Second, Call: 90 * time.Second, Tools: map[string]time.Duration{"export_*": 10 * time.Minute, "ping": 5 * time.Second}},
				ProtocolVersion: "2025-06-18",
			},
			"remote": {
				Name: "remote", Line: 19,
				URL: "https://example.com/mcp", Transport: "sse",
				Headers: map[string]string{"Authorization": "Bearer ${secret:remote}", "X-Literal": "${NOT_EXPANDED}"},
				Prefix:  &empty,
			},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Parse mismatch (-want +got):\n%s", diff)
	}
}

func TestParseKeysAreNotExpanded(t *testing.T) {
	t.Setenv("MCPGW_TEST_KEY", "expanded")
	got, err := Parse("c.yaml", []byte("servers:\n  s:\n    command: x\n    env:\n      ${MCPGW_TEST_KEY}: ${MCPGW_TEST_KEY}\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"${MCPGW_TEST_KEY}": "expanded"}
	if diff := cmp.Diff(want, got.Servers["s"].Env); diff != "" {
		t.Errorf("env (-want +got):\n%s", diff)
	}
}

func TestParseAnchorsAndMerge(t *testing.T) {
	src := `
common: &common
  command: node
servers:
  a:
    <<: *common
    args: [a.js]
`
	// common: is not a known top-level key, so anchors live inside servers.
	if _, err := Parse("c.yaml", []byte(src)); err == nil || !strings.Contains(err.Error(), `unknown key "common"`) {
		t.Fatalf("want unknown key error, got %v", err)
	}
	src = `
servers:
  a: &base
    command: node
    env: {A: "1"}
  b:
    <<: *base
    args: [b.js]
`
	got, err := Parse("c.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	b := got.Servers["b"]
	if b.Command != "node" || b.Env["A"] != "1" || len(b.Args) != 1 {
		t.Errorf("merged server b = %+v", b)
	}
}

func TestParseEmpty(t *testing.T) {
	for _, src := range []string{"", "# nothing yet\n", "servers:\n", "servers: {}\n", "~\n"} {
		got, err := Parse("c.yaml", []byte(src))
		if err != nil {
			t.Errorf("Parse(%q): %v", src, err)
			continue
		}
		if len(got.Servers) != 0 || got.Servers == nil || len(got.Order) != 0 {
			t.Errorf("Parse(%q) = %+v, want no servers and a non-nil map", src, got)
		}
	}
}

func TestLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte("servers:\n  a:\n    command: echo\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.Path != path || c.Servers["a"].Command != "echo" {
		t.Errorf("Load = %+v", c)
	}
}

func TestLoadMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope.yaml")
	_, err := Load(path)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("want fs.ErrNotExist, got %v", err)
	}
	for _, want := range []string{path, "does not exist", "mcpgw server add NAME -- CMD ARGS", "--config PATH"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestLoadUnreadable(t *testing.T) {
	dir := t.TempDir() // a directory cannot be read as a file, even by root
	_, err := Load(dir)
	if err == nil {
		t.Fatal("want an error")
	}
	for _, want := range []string{dir, "cannot read config file", "--config PATH"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestDefaultPath(t *testing.T) {
	dir, err := os.UserConfigDir()
	if err != nil {
		t.Skip("no user config dir:", err)
	}
	got, err := DefaultPath()
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "mcpgw", "config.yaml"); got != want {
		t.Errorf("DefaultPath = %q, want %q", got, want)
	}
}

func TestLoadSections(t *testing.T) {
	dir := t.TempDir()
	write := func(text string) string {
		p := filepath.Join(dir, "config.yaml")
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// A typo in a server: the whole file fails, its logs: section loads.
	p := write("servers:\n  fx:\n    comand: x\nlogs:\n  path: rec.db\nsecrets:\n  fallback: env\n")
	if _, err := Load(p); err == nil {
		t.Fatal("Load accepted a typo")
	}
	c, err := LoadSections(p, "logs")
	if err != nil || c.Logs.Path != "rec.db" || len(c.Servers) != 0 || c.Secrets.Fallback != "" {
		t.Errorf("LoadSections(logs) = %+v, %v; want logs.path rec.db alone", c, err)
	}
	if c, err := LoadSections(p, "secrets"); err != nil || c.Secrets.Fallback != "env" {
		t.Errorf("LoadSections(secrets) = %+v, %v", c, err)
	}
	// A problem in the section itself, or YAML that does not parse, is
	// still an error.
	for _, text := range []string{"logs:\n  pth: x\n", "logs: [\n"} {
		if _, err := LoadSections(write(text), "logs"); err == nil {
			t.Errorf("LoadSections accepted %q", text)
		}
	}
}
