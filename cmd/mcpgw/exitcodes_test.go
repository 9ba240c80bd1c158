package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/mcpgw/mcpgw/cmd/internal/testenv"
)

// readmeExitCodes parses the README's "Exit codes" table: meaning → code.
func readmeExitCodes(t *testing.T) map[string]int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "### Exit codes")
	if !ok {
		t.Fatal(`README.md has no "### Exit codes" section`)
	}
	if i := strings.Index(section, "\n#"); i >= 0 {
		section = section[:i]
	}
	codes := map[string]int{}
	row := regexp.MustCompile(`(?m)^\|\s*(\d+)\s*\|\s*(.*?)\s*\|\s*$`)
	for _, m := range row.FindAllStringSubmatch(section, -1) {
		n, _ := strconv.Atoi(m[1])
		codes[strings.ReplaceAll(m[2], "`", "")] = n
	}
	if len(codes) == 0 {
		t.Fatal("no rows in the README's exit code table")
	}
	return codes
}

// readmeCode is the code of the one README row whose meaning starts with
// meaning.
func readmeCode(t *testing.T, codes map[string]int, meaning string) int {
	t.Helper()
	found, n := -1, 0
	for m, c := range codes {
		if strings.HasPrefix(m, meaning) {
			found = c
			n++
		}
	}
	if n != 1 {
		t.Fatalf("want one README exit code row starting %q, found %d in %v", meaning, n, codes)
	}
	return found
}

// TestExitCodesAsDocumented runs commands that end each way a user meets
// in the first hour and checks each exit code against the README's table,
// looked up by meaning, so the table and the behaviour cannot drift apart.
// (Ctrl-C and SIGTERM are TestServeStopsOnSignals'.)
func TestExitCodesAsDocumented(t *testing.T) {
	t.Parallel()
	codes := readmeExitCodes(t)
	fixture := testenv.Fixture(t)
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.yaml", fmt.Sprintf("servers:\n  fx:\n    command: %q\n", fixture))
	mixed := write("mixed.yaml", fmt.Sprintf(`servers:
  fx:
    command: %[1]q
  bad:
    command: mcpgw-no-such-command-anywhere
  sec:
    command: %[1]q
    env: {TOKEN: "${secret:exitcode-test-unset}"}
`, fixture))
	allBad := write("allbad.yaml", "servers:\n  bad:\n    command: mcpgw-no-such-command-anywhere\n  worse:\n    command: /nonexistent/server\n")
	typo := write("typo.yaml", "servers:\n  fx:\n    comand: x\n")
	missing := filepath.Join(dir, "missing.yaml")
	// An editor that saves a typo, for server edit.
	typoEditor := write("typo-editor", "#!/bin/sh\nprintf 'servers:\\n  x:\\n    comand: y\\n' > \"$1\"\n")
	os.Chmod(typoEditor, 0o700)
	edited := write("edited.yaml", "servers: {}\n")
	policed := write("policed.yaml", fmt.Sprintf("servers:\n  fx:\n    command: %q\npolicy: {default: deny}\n", fixture))
	badPolicy := write("badpolicy.yaml", "policy:\n  rules: [{effect: deny, when: 'args.x +'}]\n")

	for _, tc := range []struct {
		name    string
		args    []string
		keyring bool   // needs the private Secret Service
		meaning string // the README row
		says    string // stderr must say this
	}{
		{"version", []string{"version"}, false, "success", ""},
		{"a call", []string{"--config", good, "call", "fx__echo", "--arg", "text=hi"}, false, "success", ""},
		{"an unknown command", []string{"no-such-command"}, false, "bad command line", "no-such-command"},
		{"an unknown server subcommand", []string{"server", "bogus"}, false, "bad command line", `unknown command "bogus"`},
		{"an unknown secret subcommand", []string{"secret", "bogus"}, false, "bad command line", `unknown command "bogus"`},
		{"an unknown flag", []string{"tools", "--bogus"}, false, "bad command line", "--bogus"},
		{"a missing argument", []string{"call"}, false, "bad command line", ""},
		{"--http not HOST:PORT", []string{"--config", good, "serve", "--http", "nonsense"}, false, "bad command line", "--http"},
		{"--http not loopback", []string{"--config", good, "serve", "--http", "10.1.2.3:8931"}, false, "bad command line", "loopback"},
		{"--prefix with --no-prefix", []string{"--config", filepath.Join(dir, "new.yaml"), "server", "add", "x", "--prefix", "p", "--no-prefix", "--", "cat"}, false, "bad command line", "prefix"},
		{"a call to no tool", []string{"--config", good, "call", "nope"}, false, "bad command line", `no tool "nope"`},
		{"serve with a missing --config", []string{"--config", missing, "serve"}, false, "configuration file", missing},
		{"doctor with a missing --config", []string{"--config", missing, "doctor"}, false, "configuration file", "checks failed"},
		{"tools with a typo in the config", []string{"--config", typo, "tools"}, false, "configuration file", "comand"},
		{"server edit saving a typo", []string{"--config", edited, "server", "edit"}, false, "configuration file", "comand"},
		{"a call the tool fails", []string{"--config", good, "call", "fx__fail"}, false, "mcpgw call: the tool returned", ""},
		{"a call to a server that failed to start", []string{"--config", mixed, "call", "bad__echo"}, false, "a server could not be started", `"bad"`},
		{"tools with every server failed", []string{"--config", allBad, "tools"}, false, "a server could not be started", `"bad"`},
		{"a call to a server without its secret", []string{"--config", mixed, "call", "sec__echo"}, true, "a secret is missing", "exitcode-test-unset"},
		{"policy explain of a denied tool", []string{"--config", policed, "policy", "explain", "--tool", "fx__echo"}, false, "the policy denies it", "would be denied (default)"},
		{"a call to a tool the policy hides", []string{"--config", policed, "call", "fx__echo", "--arg", "text=hi"}, false, "the policy denies it", "policy explain --tool fx__echo"},
		{"policy explain allowed", []string{"--config", good, "policy", "explain", "--tool", "fx__echo"}, false, "success", ""},
		{"serve with an invalid policy condition", []string{"--config", badPolicy, "serve"}, false, "configuration file", "policy.rules[0].when"},
		{"serve with an unknown --profile", []string{"--config", good, "serve", "--profile", "nosuch"}, false, "configuration file", `profile "nosuch" is not defined`},
		{"secret check with a secret missing", []string{"--config", mixed, "secret", "check"}, true, "a secret is missing", "exitcode-test-unset"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := []string{"MCPGW_DB=" + filepath.Join(t.TempDir(), "record.db"), "VISUAL=", "EDITOR=" + typoEditor, "TMPDIR=" + t.TempDir(),
				"MCPGW_PROFILE=", "MCPGW_MANAGED_POLICY="}
			if tc.keyring {
				env = append(env, testenv.Keyring(t)...)
			}
			want := readmeCode(t, codes, tc.meaning)
			_, stderr, code := mcpgwCmd(t, env, "", tc.args...)
			if code != want {
				t.Errorf("mcpgw %s: exit %d, want %d (%s); stderr:\n%s", strings.Join(tc.args, " "), code, want, tc.meaning, stderr)
			}
			if !strings.Contains(stderr, tc.says) {
				t.Errorf("mcpgw %s: stderr does not say %q:\n%s", strings.Join(tc.args, " "), tc.says, stderr)
			}
			if n := strings.Count(strings.TrimSpace(stderr), "\n") + 1; code != 0 && n > 3 {
				t.Errorf("mcpgw %s: %d lines on stderr; want the problem said once:\n%s", strings.Join(tc.args, " "), n, stderr)
			}
		})
	}
}
