package main

import (
	"bufio"
	"context"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// guardSample is one line of a corpus in testdata/guard.
type guardSample struct {
	Rule  string `json:"rule"`
	Value string `json:"value"`
}

func guardCorpus(t *testing.T, name string) []guardSample {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "testdata", "guard", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []guardSample
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var s guardSample
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// needle is the part of a sample that must never show: the end of its
// longest line (the secret itself, not the name before it in a
// "NAME=value" sample), or a PII value whole.
func needle(s guardSample) string {
	if strings.HasPrefix(s.Rule, "pii-") {
		return s.Value
	}
	longest := ""
	for _, l := range strings.Split(s.Value, "\n") {
		if len(l) > len(longest) {
			longest = l
		}
	}
	longest = strings.Trim(longest, `"' `)
	return longest[max(0, len(longest)-20):]
}

// TestGuardrails seeds every secret and PII sample of the corpus into calls
// through a real `mcpgw serve`: in arguments (fx__echo, a prompt), each is
// blocked with an error naming the rule and the path; in results (text,
// JSON inside text, an embedded resource, structured content, a prompt's
// messages, a resource), each is redacted. None reaches the agent, the
// record's database file or its WAL, or mcpgw's stderr, and the record
// keeps the rules and paths of what was found.
func TestGuardrails(t *testing.T) {
	t.Parallel()
	samples := append(guardCorpus(t, "secrets.jsonl"), guardCorpus(t, "pii.jsonl")...)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	writePolicyConfig(t, cfg, []string{"fx"}, "guardrails:\n  pii: {input: block, output: redact}\n")
	a := servePolicy(t, cfg, "guard-agent", "2025-11-25", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	var seen []string // everything the agent was given
	for _, s := range samples {
		n := needle(s)
		res := a.call(t, ctx, "fx__echo", map[string]any{"text": s.Value})
		got := textOf(t, res)
		if !res.IsError || !strings.Contains(got, "blocked") || !strings.Contains(got, s.Rule+" at $.arguments.text") {
			t.Errorf("%s in arguments: isError %v, %q; want it blocked, naming %s at $.arguments.text", s.Rule, res.IsError, got, s.Rule)
		}
		seen = append(seen, got)

		res = a.call(t, ctx, "fx__reveal", map[string]any{"hex": hex.EncodeToString([]byte(s.Value))})
		whole, _ := json.Marshal(res)
		if res.IsError || !strings.Contains(string(whole), "[REDACTED:") {
			t.Errorf("%s in results: isError %v, %s; want it redacted", s.Rule, res.IsError, whole)
		}
		if len(res.Content) != 3 || res.StructuredContent == nil {
			t.Errorf("%s: the redacted result lost parts: %s", s.Rule, whole)
		}
		seen = append(seen, string(whole))
		if strings.Contains(string(whole), n) {
			t.Errorf("%s reached the agent in a result: %s", s.Rule, whole)
		}
	}

	// Prompts: arguments blocked, messages redacted; resources redacted.
	secret := samples[0]
	if _, err := a.cs.GetPrompt(ctx, &mcp.GetPromptParams{Name: "fx__greet", Arguments: map[string]string{"name": secret.Value}}); err == nil ||
		!strings.Contains(err.Error(), secret.Rule+" at $.arguments.name") {
		t.Errorf("prompt with a secret argument: %v; want it blocked naming %s at $.arguments.name", err, secret.Rule)
	}
	pr, err := a.cs.GetPrompt(ctx, &mcp.GetPromptParams{Name: "fx__reveal", Arguments: map[string]string{"hex": hex.EncodeToString([]byte(secret.Value))}})
	if err != nil {
		t.Fatal(err)
	}
	pj, _ := json.Marshal(pr)
	if strings.Contains(string(pj), needle(secret)) || !strings.Contains(string(pj), "[REDACTED:"+secret.Rule+"]") {
		t.Errorf("prompt messages: %s; want the secret redacted", pj)
	}
	rr, err := a.cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "fixture://reveal/" + hex.EncodeToString([]byte(secret.Value))})
	if err != nil {
		t.Fatal(err)
	}
	rj, _ := json.Marshal(rr)
	if strings.Contains(string(rj), needle(secret)) || !strings.Contains(string(rj), "[REDACTED:"+secret.Rule+"]") {
		t.Errorf("resource contents: %s; want the secret redacted", rj)
	}
	seen = append(seen, string(pj), string(rj))

	// A clean call passes untouched.
	if res := a.call(t, ctx, "fx__echo", map[string]any{"text": "nothing to see here"}); res.IsError || textOf(t, res) != "nothing to see here" {
		t.Errorf("clean call: %+v", res)
	}
	a.stop()

	var stored []string
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if b, err := os.ReadFile(a.db + suffix); err == nil {
			stored = append(stored, string(b))
		}
	}
	stderr := a.stderr.String()
	for _, s := range samples {
		n := needle(s)
		for _, where := range []struct {
			what string
			all  []string
		}{{"the agent's results", seen}, {"the record's files", stored}, {"stderr", []string{stderr}}} {
			for _, x := range where.all {
				if strings.Contains(x, n) {
					t.Errorf("%s (%q) found in %s", s.Rule, n, where.what)
					break
				}
			}
		}
	}

	blocked, redacted := 0, 0
	for _, c := range recordOf(t, a.db) {
		if c.Method != "tools/call" {
			continue
		}
		switch {
		case c.Status == "blocked" && c.Tool == "fx__echo":
			blocked++
			if len(c.Findings) == 0 || c.Findings[0].Path != "$.arguments.text" || c.Decision != "block" {
				t.Errorf("blocked row: decision %q, findings %+v; want block with the rule at $.arguments.text", c.Decision, c.Findings)
			}
			if !strings.Contains(c.Args, "[REDACTED:") {
				t.Errorf("blocked row's arguments are not masked: %s", c.Args)
			}
		case c.Tool == "fx__reveal" && c.Decision == "redact":
			redacted++
			if len(c.Findings) == 0 || !strings.HasPrefix(c.Findings[0].Path, "$.result.") {
				t.Errorf("redacted row: findings %+v; want paths under $.result", c.Findings)
			}
		}
	}
	if blocked != len(samples) || redacted != len(samples) {
		t.Errorf("record: %d blocked, %d redacted calls; want %d of each", blocked, redacted, len(samples))
	}
}

// TestGuardrailsExplain: `mcpgw policy explain` lists the guardrails a
// call passes, and with --args says what guard-in would find, never the
// value, exiting 7 when the call would be blocked.
func TestGuardrailsExplain(t *testing.T) {
	t.Parallel()
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	writePolicyConfig(t, cfg, []string{"fx"}, "guardrails:\n  pii: {output: redact, types: [email]}\n")
	secret := guardCorpus(t, "secrets.jsonl")[0]
	args, _ := json.Marshal(map[string]string{"token": secret.Value})
	out, stderr, code := mcpgwCmd(t, nil, "", "policy", "explain", "--config", cfg, "--tool", "fx__echo", "--args", string(args), "-o", "json")
	if code != 7 || !strings.Contains(stderr, "would be blocked by the guardrails ("+secret.Rule+")") || strings.Contains(out+stderr, needle(secret)) {
		t.Fatalf("explain with a secret in --args: exit %d\n%s\n%s", code, out, stderr)
	}
	var e struct {
		Guards []struct {
			Guard, Input, Output, Detail string
		} `json:"guards"`
		GuardVerdict struct {
			Decision string `json:"decision"`
			Findings []struct {
				Rule, Path string
			} `json:"findings"`
		} `json:"guard_verdict"`
	}
	if err := json.Unmarshal([]byte(out), &e); err != nil {
		t.Fatal(err)
	}
	if v := e.GuardVerdict; v.Decision != "block" || len(v.Findings) != 1 || v.Findings[0].Path != "$.arguments.token" || v.Findings[0].Rule != secret.Rule {
		t.Errorf("guard verdict %+v; want block, %s at $.arguments.token", v, secret.Rule)
	}
	want := map[string]string{"secrets": "block redact", "pii": "off redact", "stored-secrets": "block redact"}
	for _, g := range e.Guards {
		if w, ok := want[g.Guard]; ok && w != g.Input+" "+g.Output {
			t.Errorf("guard %s: %s %s; want %s", g.Guard, g.Input, g.Output, w)
		}
		if g.Guard == "pii" && g.Detail != "email" {
			t.Errorf("pii types %q; want email", g.Detail)
		}
	}
	out, _, code = mcpgwCmd(t, nil, "", "policy", "explain", "--config", cfg, "--tool", "fx__echo", "--args", `{"text":"hello"}`, "-o", "table")
	if code != 0 || !strings.Contains(out, "guardrails (arguments → result):") || !strings.Contains(out, "--args:   nothing found; they would pass") {
		t.Errorf("explain of clean arguments: exit %d\n%s", code, out)
	}
}

// TestGuardrailsReload: an edited guardrails: applies to a running
// gateway, as limits do: PII redaction turned on, then off again.
func TestGuardrailsReload(t *testing.T) {
	t.Parallel()
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	writePolicyConfig(t, cfg, []string{"fx"}, "")
	a := servePolicy(t, cfg, "reload-guard", "2025-11-25", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	email := hex.EncodeToString([]byte("jane.roe@example.com"))
	reveal := func() string {
		res := a.call(t, ctx, "fx__reveal", map[string]any{"hex": email})
		return textOf(t, res)
	}
	if got := reveal(); !strings.Contains(got, "jane.roe@example.com") {
		t.Fatalf("PII is redacted by default: %q", got)
	}
	writePolicyConfig(t, cfg, []string{"fx"}, "guardrails:\n  pii: {output: redact}\n")
	waitFor(t, ctx, "PII redaction to apply", func() bool { return strings.Contains(reveal(), "[REDACTED:pii-email]") })
	writePolicyConfig(t, cfg, []string{"fx"}, "guardrails:\n  pii: {output: off}\n")
	waitFor(t, ctx, "PII redaction to be turned off", func() bool { return strings.Contains(reveal(), "jane.roe@example.com") })

	// A rules file of the user's applies, and so does an edit of it.
	rules := filepath.Join(filepath.Dir(cfg), "extra.toml")
	writeAtomic(t, rules, "[[rules]]\nid = \"acme-token\"\nregex = '''acme_[0-9a-f]{24}'''\nkeywords = [\"acme_\"]\n")
	writePolicyConfig(t, cfg, []string{"fx"}, "guardrails:\n  secrets: {rules: extra.toml}\n")
	acme := func(token string) string {
		return textOf(t, a.call(t, ctx, "fx__echo", map[string]any{"text": token}))
	}
	waitFor(t, ctx, "the user's rule to apply", func() bool {
		return strings.Contains(acme("acme_0123456789abcdef01234567"), "acme-token at $.arguments.text")
	})
	writeAtomic(t, rules, "[[rules]]\nid = \"acme-token-v2\"\nregex = '''acme2_[0-9a-f]{24}'''\nkeywords = [\"acme2_\"]\n")
	writePolicyConfig(t, cfg, []string{"fx"}, "guardrails:\n  secrets: {rules: extra.toml}\n# edited\n")
	waitFor(t, ctx, "the edited rules file to apply", func() bool {
		return strings.Contains(acme("acme2_0123456789abcdef01234567"), "acme-token-v2 at $.arguments.text")
	})

	// A broken rules file is refused, and the rules in force stay.
	bad := filepath.Join(filepath.Dir(cfg), "bad.toml")
	if err := os.WriteFile(bad, []byte("[extend]\nuseDefault = true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	writePolicyConfig(t, cfg, []string{"fx"}, "guardrails:\n  secrets: {rules: bad.toml}\n")
	waitFor(t, ctx, "the broken rules file to be refused", func() bool {
		return strings.Contains(a.stderr.String(), "guardrails.secrets.rules not applied") && strings.Contains(a.stderr.String(), "[extend] is not supported")
	})
	secret := guardCorpus(t, "secrets.jsonl")[0]
	if res := a.call(t, ctx, "fx__echo", map[string]any{"text": secret.Value}); !res.IsError {
		t.Errorf("after a broken rules file, a secret passes: %s", textOf(t, res))
	}
	a.stop()
}

// TestGuardrailsRulesAtStart: a rules file that cannot be used stops
// mcpgw serve at startup, saying why.
func TestGuardrailsRulesAtStart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	writePolicyConfig(t, cfg, []string{"fx"}, "guardrails:\n  secrets: {rules: missing.toml}\n")
	_, stderr, code := mcpgwCmd(t, []string{"MCPGW_DB=" + filepath.Join(dir, "r.db")}, "", "serve", "--config", cfg)
	if code != 3 || !strings.Contains(stderr, "guardrails.secrets.rules:") || !strings.Contains(stderr, "create the file or remove the key") {
		t.Errorf("serve with a missing rules file: exit %d, %s", code, stderr)
	}
}

// TestGuardrailsRedactInput: with `secrets: {input: redact, output: off}`,
// the server gets a tool's and a prompt's arguments with the token masked
// (its echo shows what it got, and output is off, so nothing after it
// masks it), on the raw fast path and on the SDK's; the record keeps the
// redact decision with the finding's path, and the token reaches neither
// the server, the agent nor the record's files.
func TestGuardrailsRedactInput(t *testing.T) {
	t.Parallel()
	const token = "ghp_Zq4kT9vLm2Xw8RbN3cYp6HdJs1Ff7GuQe5Ao" // fabricated, in GitHub's format
	for _, path := range []struct {
		name string
		env  []string
	}{{"fast path", nil}, {"sdk path", []string{"MCPGW_NO_FASTPATH=1"}}} {
		t.Run(path.name, func(t *testing.T) {
			t.Parallel()
			cfg := filepath.Join(t.TempDir(), "config.yaml")
			writePolicyConfig(t, cfg, []string{"fx"}, "guardrails:\n  secrets: {input: redact, output: off}\n")
			a := servePolicy(t, cfg, "redact-agent", "2025-11-25", nil, path.env...)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()

			res := a.call(t, ctx, "fx__echo", map[string]any{"text": "deploy with " + token + " now"})
			if got, want := textOf(t, res), "deploy with [REDACTED:github-pat] now"; res.IsError || got != want {
				t.Errorf("echo of an argument holding a token: isError %v, %q; want the server to have got %q", res.IsError, got, want)
			}
			pr, err := a.cs.GetPrompt(ctx, &mcp.GetPromptParams{Name: "fx__greet", Arguments: map[string]string{"name": token}})
			if err != nil {
				t.Fatal(err)
			}
			if got := pr.Messages[0].Content.(*mcp.TextContent).Text; got != "Hello, [REDACTED:github-pat]!" {
				t.Errorf("prompt with a token argument: %q; want the server to have got it masked", got)
			}
			a.stop()

			rows := 0
			for _, c := range recordOf(t, a.db) {
				if c.Method != "tools/call" && c.Method != "prompts/get" {
					continue
				}
				rows++
				if c.Status != "ok" || c.Decision != "redact" || c.Rule != "github-pat" || len(c.Findings) != 1 || !strings.HasPrefix(c.Findings[0].Path, "$.arguments.") {
					t.Errorf("%s row: status %q, decision %q, rule %q, findings %+v; want ok, redact, github-pat at $.arguments", c.Method, c.Status, c.Decision, c.Rule, c.Findings)
				}
			}
			if rows != 2 {
				t.Errorf("%d rows for the call and the prompt; want 2", rows)
			}
			for _, suffix := range []string{"", "-wal"} {
				if b, err := os.ReadFile(a.db + suffix); err == nil && strings.Contains(string(b), token[10:]) {
					t.Errorf("the token is in the record's file %s", a.db+suffix)
				}
			}
		})
	}
}
