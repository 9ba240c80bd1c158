package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcpgw/mcpgw/cmd/internal/testenv"
)

// complete runs cobra's __complete for args and returns the candidates
// (each "value" or "value\tdescription") and the directive line.
func complete(t *testing.T, args ...string) ([]string, string) {
	t.Helper()
	code, out, errOut := runCLI(t, append([]string{"__complete"}, args...)...)
	if code != ExitOK {
		t.Fatalf("__complete %v: exit %d; stderr:\n%s", args, code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	return lines[:len(lines)-1], lines[len(lines)-1]
}

func values(cands []string) []string {
	out := make([]string, len(cands))
	for i, c := range cands {
		out[i], _, _ = strings.Cut(c, "\t")
	}
	return out
}

// TestCompletion completes tool names for call from the catalog cache
// without starting any server, server names where commands take one, and
// referenced secrets for secret set; never file names.
func TestCompletion(t *testing.T) {
	fixture := testenv.Fixture(t)
	dir := t.TempDir()
	mark := filepath.Join(dir, "started")
	cfg := filepath.Join(dir, "config.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`secrets: {fallback: env}
servers:
  fx:
    command: %[1]q
    env: {TOKEN: "${secret:fx-token}"}
  marked:
    command: sh
    args: [-c, 'touch %[2]s; exec %[1]s']
    prefix: mk
  off:
    command: %[1]q
    enabled: false
`, fixture, mark)), 0o600)
	t.Setenv("MCPGW_DB", filepath.Join(dir, "record.db"))
	t.Setenv("MCPGW_SECRET_FX_TOKEN", "a-value-long-enough")
	os.WriteFile(filepath.Join(dir, "a-file.txt"), nil, 0o600)
	t.Chdir(dir) // files to complete, were files completed

	// Before any server listed its tools, there is nothing to offer.
	if cands, _ := complete(t, "--config", cfg, "call", ""); len(cands) != 0 {
		t.Errorf("call completes %v with an empty catalog cache", cands)
	}
	// mcpgw tools lists every server's tools, and caches them.
	runCLI(t, "--config", cfg, "tools", "-o", "json")
	os.Remove(mark)

	cands, directive := complete(t, "--config", cfg, "call", "")
	got := values(cands)
	for _, want := range []string{"fx__echo", "mk__echo"} {
		if !contains(got, want) {
			t.Errorf("call completes %v, lacking %s", got, want)
		}
	}
	if contains(got, "a-file.txt") || directive != ":4" {
		t.Errorf("call completes files (%v, directive %s); want ShellCompDirectiveNoFileComp (:4)", got, directive)
	}
	if i := indexOf(got, "fx__echo"); i < 0 || !strings.Contains(cands[i], "\t") {
		t.Errorf("fx__echo has no description: %q", cands)
	}
	if cands, _ := complete(t, "--config", cfg, "call", "fx__ec"); len(cands) != 1 || values(cands)[0] != "fx__echo" {
		t.Errorf("call fx__ec completes %v, want fx__echo alone", cands)
	}
	if cands, _ := complete(t, "--config", cfg, "call", "fx__echo", ""); len(cands) != 0 {
		t.Errorf("call's second argument completes %v", cands)
	}
	if _, err := os.Stat(mark); err == nil {
		t.Error("completing call started a server")
	}

	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"server", "remove", ""}, []string{"fx", "marked", "off"}},
		{[]string{"server", "enable", "o"}, []string{"off"}},
		{[]string{"server", "edit", ""}, []string{"fx", "marked", "off"}},
		{[]string{"tools", "--server", ""}, []string{"fx", "marked", "off"}},
		{[]string{"logs", "--server", "m"}, []string{"marked"}},
		{[]string{"secret", "set", ""}, []string{"fx-token"}},
		{[]string{"tools", ""}, []string{"approve", "pins"}},
		{[]string{"server", "remove", "fx", ""}, nil},
	} {
		cands, directive := complete(t, append([]string{"--config", cfg}, tc.args...)...)
		if got := values(cands); strings.Join(got, " ") != strings.Join(tc.want, " ") || directive != ":4" {
			t.Errorf("%v completes %v (directive %s), want %v (:4)", tc.args, got, directive, tc.want)
		}
	}
}

func contains(s []string, v string) bool { return indexOf(s, v) >= 0 }

func indexOf(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}
