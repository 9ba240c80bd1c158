package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgw/mcpgw/cmd/internal/testenv"
)

// secretValue returns a fresh secret with characters that JSON, base64 and
// URL encodings all change, so every form of it can be looked for.
func secretValue(t *testing.T) string {
	t.Helper()
	b := make([]byte, 12)
	rand.Read(b)
	return "tok/" + hex.EncodeToString(b) + `+&"<é>=`
}

// leaks returns the forms of value found in s.
func leaks(s, value string) []string {
	forms := map[string]string{
		"raw":        value,
		"base64":     base64.StdEncoding.EncodeToString([]byte(value)),
		"base64url":  base64.RawURLEncoding.EncodeToString([]byte(value)),
		"url-query":  url.QueryEscape(value),
		"url-path":   url.PathEscape(value),
		"hex-prefix": value[:16], // the distinctive start, in any encoding left
	}
	for _, html := range []bool{true, false} {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(html)
		enc.Encode(value)
		j := strings.TrimSuffix(strings.TrimSpace(b.String()), `"`)[1:]
		forms[fmt.Sprintf("json(html=%v)", html)] = j
		forms[fmt.Sprintf("json-in-json(html=%v)", html)] = strings.ReplaceAll(strings.ReplaceAll(j, `\`, `\\`), `"`, `\"`)
	}
	var found []string
	for name, f := range forms {
		if strings.Contains(s, f) {
			found = append(found, name)
		}
	}
	slices.Sort(found)
	return found
}

// mcpgwCmd runs the built mcpgw with args, extra environment and stdin, and
// returns its stdout, stderr and exit code.
func mcpgwCmd(t *testing.T, env []string, stdin string, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, testenv.Mcpgw(t), args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatalf("mcpgw %s: %v", strings.Join(args, " "), err)
	}
	return out.String(), errb.String(), code
}

// TestSecretsEndToEnd stores a secret in a real Secret Service with
// `mcpgw secret set`, then serves servers whose env references it: they
// receive the value, while nothing the agent sees and nothing mcpgw prints
// holds it. A server referencing a secret that is not set fails alone.
func TestSecretsEndToEnd(t *testing.T) {
	t.Parallel()
	kenv := testenv.Keyring(t)
	fx := testenv.Fixture(t)
	everything := testenv.NpmBin(t, "mcp-server-everything")
	value := secretValue(t)
	cfgPath := writeConfig(t, fmt.Sprintf(`servers:
  fx:
    command: %q
    env: {TOKEN: "${secret:e2e-token}", OTHER: plain}
  everything:
    command: %q
    env: {API_TOKEN: "Bearer ${secret:e2e-token}"}
  broken:
    command: %q
    env: {TOKEN: "${secret:e2e-not-set}"}
`, fx, everything, fx))

	_, stderr, code := mcpgwCmd(t, kenv, value+"\n", "secret", "set", "e2e-token", "--config", cfgPath)
	if code != 0 {
		t.Fatalf("secret set: exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "Used by: fx, everything") {
		t.Errorf("secret set did not say which servers use it: %s", stderr)
	}

	db := filepath.Join(t.TempDir(), "record.db")
	a := startServeEnv(t, cfgPath, "2025-11-25", append(kenv, "MCPGW_SECRET_E2E_TOKEN=must-not-reach-servers", "MCPGW_DB="+db)...)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	waitFor(t, ctx, "fx and everything tools", func() bool {
		names := a.toolNames(t, ctx)
		return slices.Contains(names, "fx__env") && slices.Contains(names, "everything__get-env")
	})
	if names := a.toolNames(t, ctx); slices.ContainsFunc(names, func(n string) bool { return strings.HasPrefix(n, "broken__") }) {
		t.Errorf("tools of the server with a missing secret are listed: %v", names)
	}

	var seen strings.Builder
	callText := func(name string, args map[string]any) string {
		t.Helper()
		res, err := a.cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		b, _ := json.Marshal(res)
		seen.Write(b)
		var texts []string
		for _, c := range res.Content {
			if tc, ok := c.(*mcp.TextContent); ok {
				texts = append(texts, tc.Text)
			}
		}
		return strings.Join(texts, "\n")
	}

	// The server got the exact value: it hands back only a digest.
	sum := sha256.Sum256([]byte(value))
	if got := callText("fx__env", map[string]any{"name": "TOKEN", "form": "sha256"}); got != hex.EncodeToString(sum[:]) {
		t.Errorf("the server's TOKEN has digest %s; want the secret's %x", got, sum)
	}
	// The fallback variables belong to mcpgw, never to servers.
	if got := callText("fx__env", map[string]any{"name": "MCPGW_SECRET_E2E_TOKEN"}); got != "" {
		t.Errorf("a server saw MCPGW_SECRET_E2E_TOKEN=%q", got)
	}
	// Echoed back raw, base64, URL-encoded, inside JSON, on stderr, and as
	// structured content: every form is masked.
	all := callText("fx__env", map[string]any{"name": "TOKEN", "form": "all", "stderr": true})
	if !strings.Contains(all, "[redacted:e2e-token]") {
		t.Errorf("fx env result has no redaction marker: %s", all)
	}
	env := callText("everything__get-env", nil)
	if !strings.Contains(env, `"API_TOKEN": "Bearer [redacted:e2e-token]"`) {
		t.Errorf("server-everything's get-env does not show API_TOKEN redacted:\n%.2000s", env)
	}
	if f := leaks(seen.String(), value); len(f) > 0 {
		t.Errorf("the agent saw the secret as %v:\n%s", f, seen.String())
	}

	// mcpgw tools, run as its own process, shows the failing server with an
	// error that names the secret and the fix.
	out, _, code := mcpgwCmd(t, kenv, "", "tools", "-o", "json", "--config", cfgPath, "--timeout", "30s")
	if f := leaks(out, value); len(f) > 0 {
		t.Errorf("mcpgw tools printed the secret as %v", f)
	}
	if !strings.Contains(out, `secret \"e2e-not-set\" is not set; set it with: mcpgw secret set e2e-not-set`) {
		t.Errorf("mcpgw tools (exit %d) does not explain the broken server:\n%s", code, out)
	}

	// Shut down, so stderr is complete, then look at all of it.
	a.cs.Close()
	a.cmd.Wait()
	logs := a.stderr.String()
	if !strings.Contains(logs, "env TOKEN=[redacted:e2e-token]") {
		t.Errorf("the fixture's stderr line did not come through redacted:\n%s", logs)
	}
	if !strings.Contains(logs, "e2e-not-set") || !strings.Contains(logs, "broken") {
		t.Errorf("stderr does not report the broken server's missing secret:\n%s", logs)
	}
	if f := leaks(logs, value); len(f) > 0 {
		t.Errorf("mcpgw's stderr holds the secret as %v:\n%s", f, logs)
	}

	// The record has the calls, with the secret masked, in the database
	// file and in whatever WAL and shared-memory files are left.
	rows := recordOf(t, db)
	if len(rows) < 4 {
		t.Errorf("%d calls recorded; want the 4 made", len(rows))
	}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		b, err := os.ReadFile(db + suffix)
		if errors.Is(err, os.ErrNotExist) && suffix != "" {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if f := leaks(string(b), value); len(f) > 0 {
			t.Errorf("the record file %s holds the secret as %v", filepath.Base(db+suffix), f)
		}
	}
}

// TestSecretCommands drives `mcpgw secret` against a real Secret Service.
func TestSecretCommands(t *testing.T) {
	kenv := testenv.Keyring(t)
	cfgPath := writeConfig(t, `servers:
  gh:
    command: gh-mcp
    args: ["--token", "${secret:cmd-gh}"]
  api:
    url: https://example.com/mcp
    headers: {Authorization: "Bearer ${secret:cmd-api}"}
`)
	run := func(stdin string, args ...string) (string, string, int) {
		t.Helper()
		return mcpgwCmd(t, kenv, stdin, append(args, "--config", cfgPath)...)
	}
	value := secretValue(t)

	// The value never comes from the command line.
	if _, stderr, code := run("", "secret", "set", "cmd-gh", value); code != 2 || !strings.Contains(stderr, "never taken from the command line") {
		t.Errorf("secret set NAME VALUE: exit %d, %s", code, stderr)
	}
	if _, stderr, code := run("", "secret", "set", "cmd-gh"); code != 2 || !strings.Contains(stderr, "no value on stdin") {
		t.Errorf("secret set with empty stdin: exit %d, %s", code, stderr)
	}
	if _, stderr, code := run(strings.Repeat("x", 2561), "secret", "set", "cmd-big"); code != 2 || !strings.Contains(stderr, "larger than 2560 bytes") {
		t.Errorf("secret set with 2561 bytes: exit %d, %s", code, stderr)
	}
	if _, stderr, code := run("x", "secret", "set", "bad name"); code != 2 || !strings.Contains(stderr, "bad secret name") {
		t.Errorf("secret set with a bad name: exit %d, %s", code, stderr)
	}

	// check fails while a referenced secret is missing.
	out, stderr, code := run("", "secret", "check", "-o", "json")
	if code != 6 || !strings.Contains(stderr, "2 of 2 referenced secrets do not resolve") {
		t.Errorf("secret check with nothing stored: exit %d, %s", code, stderr)
	}
	var rows []struct {
		Name    string   `json:"name"`
		Status  string   `json:"status"`
		Servers []string `json:"servers"`
	}
	if err := json.Unmarshal([]byte(out), &rows); err != nil || len(rows) != 2 || rows[0].Status != "missing" {
		t.Errorf("secret check -o json = %s (%v)", out, err)
	}

	for _, n := range []string{"cmd-gh", "cmd-api", "cmd-unused"} {
		if _, stderr, code := run(value+"\r\n", "secret", "set", n); code != 0 {
			t.Fatalf("secret set %s: exit %d, %s", n, code, stderr)
		}
	}
	out, stderr, code = run("", "secret", "list", "-o", "json")
	if code != 0 {
		t.Fatalf("secret list: exit %d, %s", code, stderr)
	}
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("secret list -o json = %s: %v", out, err)
	}
	got := map[string]string{}
	for _, r := range rows {
		got[r.Name] = r.Status + " " + strings.Join(r.Servers, ",")
	}
	for n, want := range map[string]string{"cmd-gh": "stored gh", "cmd-api": "stored api", "cmd-unused": "stored "} {
		if got[n] != want {
			t.Errorf("secret list: %s is %q; want %q (all: %s)", n, got[n], want, out)
		}
	}
	out2, _, _ := run("", "secret", "list", "-o", "table")
	if !strings.Contains(out2, "NAME") || !strings.Contains(out2, "cmd-gh") {
		t.Errorf("secret list -o table:\n%s", out2)
	}
	if out, stderr, code := run("", "secret", "check"); code != 0 {
		t.Errorf("secret check with everything stored: exit %d\n%s%s", code, out, stderr)
	}
	for _, s := range []string{out, out2, stderr} {
		if f := leaks(s, value); len(f) > 0 {
			t.Errorf("secret commands printed the value as %v", f)
		}
	}

	if _, stderr, code := run("", "secret", "rm", "cmd-gh"); code != 0 || !strings.Contains(stderr, "Still referenced by: gh") {
		t.Errorf("secret rm: exit %d, %s", code, stderr)
	}
	if _, stderr, code := run("", "secret", "rm", "cmd-gh"); code != 6 || !strings.Contains(stderr, `secret "cmd-gh" is not set`) {
		t.Errorf("secret rm of a removed secret: exit %d, %s", code, stderr)
	}
	if _, _, code := run("", "secret", "check"); code != 6 {
		t.Errorf("secret check after rm: exit %d; want 6", code)
	}
}

// TestSecretKeychainNeverAnswers points mcpgw at a D-Bus that accepts
// connections and never replies: commands fail within the configured
// timeout with a message that says what to do, and serve keeps the
// servers that need no secret.
func TestSecretKeychainNeverAnswers(t *testing.T) {
	silent := []string{"DBUS_SESSION_BUS_ADDRESS=" + testenv.SilentBus(t)}
	fx := testenv.Fixture(t)
	cfgPath := writeConfig(t, fmt.Sprintf(`secrets: {timeout: 1s}
servers:
  plain:
    command: %q
  needs:
    command: %q
    env: {TOKEN: "${secret:hung-token}"}
`, fx, fx))
	start := time.Now()
	_, stderr, code := mcpgwCmd(t, silent, "", "secret", "list", "--config", cfgPath)
	if code != 6 || !strings.Contains(stderr, "no answer within 1s") || !strings.Contains(stderr, "gnome-keyring-daemon") {
		t.Errorf("secret list against a silent keychain: exit %d after %s, %s", code, time.Since(start), stderr)
	}

	a := startServeEnv(t, cfgPath, "2025-11-25", silent...)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	waitFor(t, ctx, "plain's tools", func() bool { return slices.Contains(a.toolNames(t, ctx), "plain__echo") })
	res, err := a.cs.CallTool(ctx, &mcp.CallToolParams{Name: "plain__echo", Arguments: map[string]any{"text": "still here"}})
	if err != nil || res.IsError {
		t.Fatalf("plain__echo: %v %+v", err, res)
	}
	waitFor(t, ctx, "needs to fail with the keychain's error", func() bool {
		return strings.Contains(a.stderr.String(), "no answer within 1s")
	})
}

// TestSecretEnvFallback runs without any Secret Service: by default a
// reference fails with an explanation; with secrets: {fallback: env} the
// value comes from MCPGW_SECRET_<NAME>, with a warning, and the variable is
// not passed on.
func TestSecretEnvFallback(t *testing.T) {
	fx := testenv.Fixture(t)
	noBus := []string{"DBUS_SESSION_BUS_ADDRESS=unix:path=" + t.TempDir() + "/no-bus"}
	value := secretValue(t)
	server := fmt.Sprintf(`servers:
  fx:
    command: %q
    env: {TOKEN: "${secret:env-token}"}
`, fx)

	_, stderr, code := mcpgwCmd(t, noBus, "", "secret", "check", "--config", writeConfig(t, server))
	if code != 6 || !strings.Contains(stderr, "OS keychain is not available") || !strings.Contains(stderr, "fallback: env") {
		t.Errorf("secret check without a keychain: exit %d, %s", code, stderr)
	}

	cfgPath := writeConfig(t, "secrets: {fallback: env}\n"+server)
	env := append(noBus, "MCPGW_SECRET_ENV_TOKEN="+value)
	if out, stderr, code := mcpgwCmd(t, env, "", "secret", "check", "-o", "json", "--config", cfgPath); code != 0 || !strings.Contains(out, `"status": "env"`) {
		t.Errorf("secret check with the env fallback: exit %d\n%s%s", code, out, stderr)
	}
	a := startServeEnv(t, cfgPath, "2025-11-25", env...)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	waitFor(t, ctx, "fx's tools", func() bool { return slices.Contains(a.toolNames(t, ctx), "fx__env") })
	sum := sha256.Sum256([]byte(value))
	res, err := a.cs.CallTool(ctx, &mcp.CallToolParams{Name: "fx__env", Arguments: map[string]any{"name": "TOKEN", "form": "sha256"}})
	if err != nil || textOfResult(res) != hex.EncodeToString(sum[:]) {
		t.Errorf("TOKEN digest = %q, %v; want the variable's value", textOfResult(res), err)
	}
	res, err = a.cs.CallTool(ctx, &mcp.CallToolParams{Name: "fx__env", Arguments: map[string]any{"name": "MCPGW_SECRET_ENV_TOKEN"}})
	if err != nil || textOfResult(res) != "" {
		t.Errorf("the server saw MCPGW_SECRET_ENV_TOKEN=%q (%v)", textOfResult(res), err)
	}
	logs := a.stderr.String()
	for _, want := range []string{"secrets.fallback is env", "MCPGW_SECRET_ENV_TOKEN"} {
		if !strings.Contains(logs, want) {
			t.Errorf("stderr does not warn about the fallback (%q):\n%s", want, logs)
		}
	}
}

func textOfResult(res *mcp.CallToolResult) string {
	if res == nil || len(res.Content) == 0 {
		return ""
	}
	if tc, ok := res.Content[0].(*mcp.TextContent); ok {
		return tc.Text
	}
	return ""
}

// TestSecretKeychainLocked points mcpgw at a Secret Service whose login
// keyring is locked, on a headless machine where no unlock prompt can be
// shown: commands fail at once with a message that says so.
func TestSecretKeychainLocked(t *testing.T) {
	locked := testenv.LockedKeyring(t)
	cfgPath := writeConfig(t, "servers:\n  a:\n    command: x\n    env: {T: \"${secret:locked-token}\"}\n")
	for _, args := range [][]string{{"secret", "check"}, {"secret", "list"}} {
		_, stderr, code := mcpgwCmd(t, locked, "", append(args, "--config", cfgPath)...)
		if code != 6 || !strings.Contains(stderr, "the keyring is locked") || !strings.Contains(stderr, "unlock") {
			t.Errorf("mcpgw %s on a locked keyring: exit %d, %s", strings.Join(args, " "), code, stderr)
		}
	}
	if _, stderr, code := mcpgwCmd(t, locked, "value-value", "secret", "set", "locked-token", "--config", cfgPath); code != 6 || !strings.Contains(stderr, "the keyring is locked") {
		t.Errorf("secret set on a locked keyring: exit %d, %s", code, stderr)
	}
}

// TestShortSecretWarned stores a secret shorter than the redactor's
// minimum: secret set says it will not be hidden, and so does mcpgw serve
// on stderr each time it starts a server with it.
func TestShortSecretWarned(t *testing.T) {
	kenv := testenv.Keyring(t)
	fx := testenv.Fixture(t)
	cfgPath := writeConfig(t, fmt.Sprintf("servers:\n  fx:\n    command: %q\n    env: {PIN: \"${secret:short-pin}\"}\n", fx))
	_, stderr, code := mcpgwCmd(t, kenv, "4711\n", "secret", "set", "short-pin", "--config", cfgPath)
	if code != 0 {
		t.Fatalf("secret set: exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, `secret "short-pin" is 4 bytes`) || !strings.Contains(stderr, "in clear") {
		t.Errorf("secret set stored a 4-byte secret without a warning:\n%s", stderr)
	}
	for run := 1; run <= 2; run++ {
		a := startServeEnv(t, cfgPath, "2025-11-25", kenv...)
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		waitFor(t, ctx, "fx's tools", func() bool { return slices.Contains(a.toolNames(t, ctx), "fx__echo") })
		cancel()
		a.cs.Close()
		a.cmd.Wait()
		if got := a.stderr.String(); strings.Count(got, `secret \"short-pin\" is 4 bytes`) != 1 {
			t.Errorf("start %d: want one warning about the short secret on stderr, got:\n%s", run, got)
		}
	}
}

// TestSecretListDespiteConfigTypo: a typo in a server's keys does not keep
// secret list (nor set) from the keychain; it warns.
func TestSecretListDespiteConfigTypo(t *testing.T) {
	kenv := testenv.Keyring(t)
	cfgPath := writeConfig(t, "servers:\n  fx:\n    comand: x\n")
	if _, stderr, code := mcpgwCmd(t, kenv, "typo-test-value\n", "secret", "set", "typo-test", "--config", cfgPath); code != 0 || !strings.Contains(stderr, "comand") {
		t.Errorf("secret set: exit %d; want it stored, with a warning about the config:\n%s", code, stderr)
	}
	out, stderr, code := mcpgwCmd(t, kenv, "", "secret", "list", "-o", "json", "--config", cfgPath)
	if code != 0 || !strings.Contains(out, `"typo-test"`) || strings.Contains(out, "null") {
		t.Errorf("secret list: exit %d, out %s (a secret no server uses has \"servers\": [], not null); stderr:\n%s", code, out, stderr)
	}
	if strings.Count(stderr, "comand") != 1 || !strings.Contains(stderr, "warning") {
		t.Errorf("secret list: want one warning about the config; stderr:\n%s", stderr)
	}
	mcpgwCmd(t, kenv, "", "secret", "rm", "typo-test", "--config", cfgPath)
}

// TestSecretRmCompletesStoredNames: secret rm <TAB> offers the secrets
// stored in the keychain.
func TestSecretRmCompletesStoredNames(t *testing.T) {
	kenv := testenv.Keyring(t)
	cfgPath := writeConfig(t, "servers: {}\n")
	if _, stderr, code := mcpgwCmd(t, kenv, "completion-test-value\n", "secret", "set", "completion-test", "--config", cfgPath); code != 0 {
		t.Fatalf("secret set: exit %d: %s", code, stderr)
	}
	defer mcpgwCmd(t, kenv, "", "secret", "rm", "completion-test", "--config", cfgPath)
	out, stderr, code := mcpgwCmd(t, kenv, "", "__complete", "--config", cfgPath, "secret", "rm", "completion-")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 2 || lines[0] != "completion-test" || lines[1] != ":4" {
		t.Errorf("__complete secret rm completion-: exit %d, out %q; stderr:\n%s", code, out, stderr)
	}
}
