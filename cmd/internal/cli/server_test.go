package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/mcpgw/mcpgw/cmd/internal/testenv"
)

func listServers(t *testing.T, cfg string) []ServerRow {
	t.Helper()
	code, out, errOut := runCLI(t, "--config", cfg, "server", "list", "-o", "json")
	if code != ExitOK {
		t.Fatalf("server list: exit %d; stderr:\n%s", code, errOut)
	}
	var rows []ServerRow
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("server list -o json printed invalid JSON: %v\n%s", err, out)
	}
	return rows
}

func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errOut := runCLI(t, args...)
	if code != ExitOK {
		t.Fatalf("mcpgw %s: exit %d; stderr:\n%s", strings.Join(args, " "), code, errOut)
	}
	return out
}

func TestServerCommandsRoundTrip(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "sub", "config.yaml") // the directory is created too
	t.Setenv("MCPGW_CONFIG", filepath.Join(t.TempDir(), "not-this-one.yaml"))
	// Loading (list) expands ${VAR} strictly; the file must keep the references.
	t.Setenv("SOME_VAR", "expanded-some-var")
	t.Setenv("TOKEN", "expanded-token")

	mustRun(t, "--config", cfg, "server", "add", "local", "-e", "FOO=bar", "--env", "REF=${SOME_VAR}", "--", "/bin/echo", "hi", "--flag-for-child")
	mustRun(t, "--config", cfg, "server", "add", "remote", "--url", "https://mcp.example.com/mcp", "--header", "Authorization=Bearer ${TOKEN}", "--lazy")
	mustRun(t, "--config", cfg, "server", "add", "bare", "--no-prefix", "--", "/bin/cat")

	want := []ServerRow{
		{Name: "local", Kind: "stdio", Target: "/bin/echo hi --flag-for-child", Enabled: true, Start: "eager", Prefix: "local"},
		{Name: "remote", Kind: "http", Target: "https://mcp.example.com/mcp", Enabled: true, Start: "lazy", Prefix: "remote"},
		{Name: "bare", Kind: "stdio", Target: "/bin/cat", Enabled: true, Start: "eager", Prefix: ""},
	}
	if diff := cmp.Diff(want, listServers(t, cfg)); diff != "" {
		t.Fatalf("server list after add (-want +got):\n%s", diff)
	}
	text, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"FOO: bar", "${SOME_VAR}", "Bearer ${TOKEN}", "--flag-for-child"} {
		if !bytes.Contains(text, []byte(s)) {
			t.Errorf("config file lacks %q:\n%s", s, text)
		}
	}
	if bytes.Contains(text, []byte("expanded-")) {
		t.Errorf("server add expanded a ${VAR} reference into the file:\n%s", text)
	}
	if _, err := os.Stat(os.Getenv("MCPGW_CONFIG")); err == nil {
		t.Error("--config did not take precedence over MCPGW_CONFIG")
	}
	if runtime.GOOS != "windows" {
		if fi, err := os.Stat(cfg); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("new config mode = %v (%v), want 0600", fi.Mode().Perm(), err)
		}
	}

	// disable / enable round trip.
	mustRun(t, "--config", cfg, "server", "disable", "local")
	want[0].Enabled = false
	if diff := cmp.Diff(want, listServers(t, cfg)); diff != "" {
		t.Fatalf("server list after disable (-want +got):\n%s", diff)
	}
	mustRun(t, "--config", cfg, "server", "enable", "local")
	want[0].Enabled = true
	if diff := cmp.Diff(want, listServers(t, cfg)); diff != "" {
		t.Fatalf("server list after enable (-want +got):\n%s", diff)
	}

	// remove.
	if _, _, errOut := runCLI(t, "--config", cfg, "server", "remove", "local"); errOut != fmt.Sprintf("Removed server %q from %s\n", "local", cfg) {
		t.Errorf("server remove said %q", errOut)
	}
	mustRun(t, "--config", cfg, "server", "rm", "bare")
	if diff := cmp.Diff(want[1:2], listServers(t, cfg)); diff != "" {
		t.Fatalf("server list after remove (-want +got):\n%s", diff)
	}
}

// TestServerCommandErrors checks that a refused edit exits with the right
// code and leaves the file exactly as it was.
func TestServerCommandErrors(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	orig := "# my servers\nservers:\n  one:\n    command: /bin/cat   # keep me\n"
	if err := os.WriteFile(cfg, []byte(orig), 0o600); err != nil {
		t.Fatal(err)
	}
	unchanged := func(what string) {
		t.Helper()
		b, err := os.ReadFile(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != orig {
			t.Errorf("%s changed the file:\n%s", what, b)
		}
	}
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"add without command or url", []string{"server", "add", "two"}, ExitUsage, "--url"},
		{"add with command and url", []string{"server", "add", "two", "--url", "http://x", "--", "/bin/cat"}, ExitUsage, "either"},
		{"add with words before --", []string{"server", "add", "two", "extra", "--", "/bin/cat"}, ExitUsage, "--"},
		{"add without --", []string{"server", "add", "two", "/bin/cat"}, ExitUsage, "after --"},
		{"add with the command's flags without --", []string{"server", "add", "two", "--lazy", "npx", "-y", "pkg"}, ExitUsage, "go after --: mcpgw --config " + cfg + " server add two --lazy -- npx -y pkg"},
		{"add with --prefix and --no-prefix", []string{"server", "add", "two", "--prefix", "p", "--no-prefix", "--", "/bin/cat"}, ExitUsage, "--no-prefix and --prefix cannot be used together"},
		{"add bad env", []string{"server", "add", "two", "-e", "NOEQUALS", "--", "/bin/cat"}, ExitUsage, "KEY=VALUE"},
		{"add duplicate", []string{"server", "add", "one", "--", "/bin/echo"}, ExitConfig, "already exists"},
		{"remove unknown", []string{"server", "remove", "onw"}, ExitConfig, `"one"`},
		{"disable unknown", []string{"server", "disable", "nope"}, ExitConfig, "nope"},
		{"enable unknown", []string{"server", "enable", "nope"}, ExitConfig, "nope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := runCLI(t, append([]string{"--config", cfg}, tt.args...)...)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tt.code, errOut)
			}
			if !strings.Contains(errOut, tt.msg) {
				t.Errorf("stderr does not mention %q:\n%s", tt.msg, errOut)
			}
			unchanged(tt.name)
		})
	}

	// A refused add does not create a missing file either.
	missing := filepath.Join(t.TempDir(), "config.yaml")
	if code, _, errOut := runCLI(t, "--config", missing, "server", "add", "x"); code != ExitUsage {
		t.Errorf("add without command to a missing file: exit %d; stderr:\n%s", code, errOut)
	}
	if _, err := os.Stat(missing); err == nil {
		t.Error("a refused add created the configuration file")
	}
	// Listing a missing file is a configuration error that says how to start.
	code, _, errOut := runCLI(t, "--config", missing, "server", "list")
	if code != ExitConfig || !strings.Contains(errOut, "server add") {
		t.Errorf("list of a missing file: exit %d, stderr:\n%s", code, errOut)
	}
}

func TestVersionJSON(t *testing.T) {
	out := mustRun(t, "version", "-o", "json")
	var v VersionInfo
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("version -o json: %v\n%s", err, out)
	}
	want := versionInfo(debug.ReadBuildInfo())
	if diff := cmp.Diff(want, v); diff != "" {
		t.Errorf("version -o json (-want +got):\n%s", diff)
	}
	table := mustRun(t, "version", "-o", "table")
	if !strings.Contains(table, "mcpgw "+want.Version) || strings.HasPrefix(strings.TrimSpace(table), "{") {
		t.Errorf("version -o table = %q", table)
	}
}

// TestVersionFromBuildInfo: a binary built by `go install` (no ldflags)
// reports the module version and VCS stamp the toolchain recorded; a
// release build keeps what ldflags set.
func TestVersionFromBuildInfo(t *testing.T) {
	installed := &debug.BuildInfo{Main: debug.Module{Path: "github.com/mcpgw/mcpgw", Version: "v1.4.2"}}
	checkout := &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0123456789abcdef"}, {Key: "vcs.time", Value: "2026-11-30T10:00:00Z"}, {Key: "vcs.modified", Value: "true"}}}
	for _, tc := range []struct {
		name                  string
		ldflags               [3]string
		bi                    *debug.BuildInfo
		version, commit, date string
	}{
		{"go install", [3]string{"dev", "", ""}, installed, "v1.4.2", "", ""},
		{"go build in a checkout", [3]string{"dev", "", ""}, checkout, "dev", "0123456789abcdef-dirty", "2026-11-30T10:00:00Z"},
		{"release", [3]string{"1.5.0", "abc", "2026-12-01"}, installed, "1.5.0", "abc", "2026-12-01"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func(v, c, d string) { Version, Commit, Date = v, c, d }(Version, Commit, Date)
			Version, Commit, Date = tc.ldflags[0], tc.ldflags[1], tc.ldflags[2]
			v := versionInfo(tc.bi, true)
			if v.Version != tc.version || v.Commit != tc.commit || v.Date != tc.date {
				t.Errorf("got %s %s %s, want %s %s %s", v.Version, v.Commit, v.Date, tc.version, tc.commit, tc.date)
			}
		})
	}
}

// TestServerListUsesTheTerminalWidth: on a wide terminal the TARGET column
// is shown whole; on a narrow one the line is cut at its width.
func TestServerListUsesTheTerminalWidth(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	target := "/opt/servers/bin/a-server-with-a-long-path --with --many --arguments --that --go --on --and --on"
	mustRun(t, "--config", cfg, "server", "add", "long", "--", target)
	for _, width := range []int{160, 80} {
		t.Setenv("COLUMNS", fmt.Sprint(width))
		var out, errOut testenv.SyncBuffer
		s := &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut, IsTerminal: true}
		if code := Run(context.Background(), []string{"--config", cfg, "server", "list"}, s); code != ExitOK {
			t.Fatalf("server list: exit %d: %s", code, errOut.String())
		}
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		row := lines[len(lines)-1]
		whole := strings.Contains(row, target)
		if width == 160 && !whole {
			t.Errorf("at 160 columns the target is cut:\n%s", out.String())
		}
		if width == 80 && (whole || len([]rune(row)) != 80 || !strings.HasSuffix(row, "…")) {
			t.Errorf("at 80 columns the row is not cut to 80 (%d):\n%s", len([]rune(row)), out.String())
		}
	}
}
