package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mcpgw/mcpgw/cmd/internal/testenv"
)

// TestAgentCLIsConnect has two agents nobody here wrote check mcpgw the way
// they check any MCP server they are given: Claude Code's `claude mcp list`
// (which speaks 2026-07-28: server/discover, subscriptions/listen,
// tools/list) and Gemini CLI's `gemini mcp list` (2025-06-18: initialize,
// ping), each on the entry `mcpgw client install` wrote into its own
// configuration (stdio) and on `mcpgw serve --http` added with its own
// `mcp add`. A gateway that fails to start, initialize or answer is listed
// as failed, and the test fails with what the agent printed.
func TestAgentCLIsConnect(t *testing.T) {
	claude, gemini := testenv.NpmBin(t, "claude"), testenv.NpmBin(t, "gemini")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	fx := testenv.Fixture(t)
	url := serveHTTP(t, ctx, writeConfig(t, fixtureConfig(fx)))
	sb := newClientSandbox(t,
		// Nothing to update or report: the agents run offline here.
		"DISABLE_AUTOUPDATER=1", "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1", "DISABLE_TELEMETRY=1",
		"GEMINI_CLI_NO_RELAUNCH=true", "NO_COLOR=1")
	sb.write(t, sb.cfg, []byte(fixtureConfig(fx)))
	home := ""
	for _, kv := range sb.env {
		if v, ok := strings.CutPrefix(kv, "HOME="); ok {
			home = v
		}
	}
	agent := func(bin string, args ...string) string {
		t.Helper()
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Env = append(os.Environ(), sb.env...)
		cmd.Dir = sb.dir
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			t.Fatalf("%s %s: %v\n%s", filepath.Base(bin), strings.Join(args, " "), err, out.String())
		}
		return out.String()
	}
	connected := func(name, out string, ok *regexp.Regexp) {
		t.Helper()
		for _, line := range strings.Split(out, "\n") {
			if strings.Contains(line, name+": ") && ok.MatchString(line) {
				return
			}
		}
		t.Errorf("%s is not listed as connected:\n%s", name, out)
	}

	t.Run("claude-code", func(t *testing.T) {
		sb.write(t, sb.row(t, "claude-code", "user").Path, []byte("{}\n"))
		sb.must(t, "client", "install", "claude-code")
		agent(claude, "mcp", "add", "--transport", "http", "mcpgw-http", url)
		out := agent(claude, "mcp", "list")
		ok := regexp.MustCompile(`✔ Connected`)
		connected("mcpgw", out, ok)
		connected("mcpgw-http", out, ok)
	})
	t.Run("gemini", func(t *testing.T) {
		sb.write(t, sb.row(t, "gemini", "user").Path, []byte("{}\n"))
		sb.must(t, "client", "install", "gemini")
		// Gemini CLI starts no server of an untrusted folder.
		sb.write(t, filepath.Join(home, ".gemini", "trustedFolders.json"), []byte(`{`+jsonString(sb.dir)+`: "TRUST_FOLDER"}`))
		agent(gemini, "mcp", "add", "--transport", "http", "mcpgw-http", url)
		out := agent(gemini, "mcp", "list")
		ok := regexp.MustCompile(`✓ .*Connected`)
		connected("mcpgw", out, ok)
		connected("mcpgw-http", out, ok)
	})
}
