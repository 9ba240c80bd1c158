package guard_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mcpgw/mcpgw/mux/callpath"
	"github.com/mcpgw/mcpgw/policy/guard"
)

// Fabricated values in real formats (see testdata/guard).
const (
	ghToken = "ghp_Zq4kT9vLm2Xw8RbN3cYp6HdJs1Ff7GuQe5Ao"
	awsKey  = "AKIAZ7MQ4TXB2WLKR6PN"
)

func newGuard(t *testing.T, cfg *guard.Config) *guard.Guard {
	t.Helper()
	return guard.New(&guard.Options{Config: cfg, Secrets: defaultSecrets(t)})
}

func toolCall(args string) *callpath.Call {
	return &callpath.Call{Kind: callpath.ToolCall, Exposed: "fx__echo", Server: "fx", Name: "echo", Params: json.RawMessage(args)}
}

func TestGuardInBlocksSecrets(t *testing.T) {
	g := newGuard(t, nil)
	c := toolCall(`{"text":"deploy with ` + ghToken + `","n":1}`)
	v := g.CheckRequest(context.Background(), c)
	if !v.Stops() || v.Status != callpath.Blocked || v.Rule != "github-pat" {
		t.Fatalf("verdict %+v; want blocked by github-pat", v)
	}
	if !strings.Contains(v.Reason, "github-pat at $.arguments.text") || strings.Contains(v.Reason, ghToken) {
		t.Errorf("reason %q; want the rule and path, never the value", v.Reason)
	}
	if f := v.Findings[0]; f.Path != "$.arguments.text" || f.Start != len("deploy with ") || f.End != f.Start+len(ghToken) {
		t.Errorf("finding %+v; want the token's span in $.arguments.text", f)
	}
	if v := g.CheckRequest(context.Background(), toolCall(`{"text":"nothing here, just a key = value pair"}`)); v != nil {
		t.Errorf("clean arguments: %+v", v)
	}
}

// TestGuardInRedacts: with input: redact, tool and prompt arguments reach
// the server with the value masked and the rest untouched; a server's own
// elicitation request, which mcpgw does not rewrite, and arguments past
// the scan budget are still refused.
func TestGuardInRedacts(t *testing.T) {
	cfg := guard.DefaultConfig()
	cfg.SecretsIn = guard.Redact
	g := newGuard(t, &cfg)
	for _, kind := range []callpath.Kind{callpath.ToolCall, callpath.PromptGet} {
		c := toolCall(`{"text":"deploy with ` + ghToken + ` now","n":1}`)
		c.Kind = kind
		v := g.CheckRequest(context.Background(), c)
		if v.Stops() || v.Decision != "redact" || v.Rule != "github-pat" || len(v.Findings) != 1 || v.Findings[0].Path != "$.arguments.text" {
			t.Errorf("%s: verdict %+v; want a redact note naming github-pat at $.arguments.text", kind.Method(), v)
		}
		if got, want := string(c.Params), `{"n":1,"text":"deploy with [REDACTED:github-pat] now"}`; got != want {
			t.Errorf("%s: arguments sent %s; want %s", kind.Method(), got, want)
		}
	}

	el := &callpath.Call{Kind: callpath.Elicitation, Server: "fx", Params: json.RawMessage(`{"message":"paste ` + ghToken + `"}`)}
	cfg.SecretsOut = guard.Redact
	g.Update(cfg, nil)
	if v := g.CheckRequest(context.Background(), el); !v.Stops() || strings.Contains(string(el.Params), "REDACTED") {
		t.Errorf("elicitation request: verdict %+v, params %s; want it refused, unchanged", v, el.Params)
	}

	cfg.MaxScanBytes = 16
	g.Update(cfg, nil)
	c := toolCall(`{"text":"` + strings.Repeat("a long but clean argument ", 10) + `"}`)
	if v := g.CheckRequest(context.Background(), c); !v.Stops() || !strings.Contains(v.Reason, "max_scan_bytes") {
		t.Errorf("arguments past the budget: verdict %+v; want them refused (fail closed)", v)
	}
}

func TestGuardOutRedactsEverywhere(t *testing.T) {
	g := newGuard(t, nil)
	// A token in text, JSON inside text (with an escape a server could use
	// to hide it), an embedded resource and structured content.
	hidden := `{\"token\":\"\u0067hp_Zq4kT9vLm2Xw8RbN3cYp6HdJs1Ff7GuQe5Ao\"}`
	raw := `{"content":[{"type":"text","text":"key: ` + awsKey + `"},{"type":"text","text":"` + hidden + `"},` +
		`{"type":"resource","resource":{"uri":"x://y","text":"` + ghToken + `"}}],"structuredContent":{"id":"` + awsKey + `"}}`
	r := &callpath.Result{Raw: json.RawMessage(raw)}
	v := g.CheckResult(context.Background(), toolCall(`{}`), r)
	if v.Stops() || v.Decision != "redact" {
		t.Fatalf("verdict %+v; want a redact note", v)
	}
	out := string(r.Raw)
	if strings.Contains(out, ghToken) || strings.Contains(out, awsKey) || strings.Contains(out, "Zq4kT9vLm2Xw8RbN3cYp6HdJs1Ff7GuQe5Ao") {
		t.Errorf("a secret survived: %s", out)
	}
	var res struct {
		Content []struct {
			Text     string `json:"text"`
			Resource struct {
				Text string `json:"text"`
			} `json:"resource"`
		} `json:"content"`
		Structured map[string]string `json:"structuredContent"`
	}
	if err := json.Unmarshal(r.Raw, &res); err != nil {
		t.Fatalf("the redacted result is not JSON: %v\n%s", err, out)
	}
	if res.Content[0].Text != "key: [REDACTED:aws-access-token]" || res.Content[2].Resource.Text != "[REDACTED:github-pat]" ||
		res.Structured["id"] != "[REDACTED:aws-access-token]" || !strings.Contains(res.Content[1].Text, `"token":"[REDACTED:github-pat]"`) {
		t.Errorf("redacted result: %s", out)
	}
	paths := map[string]bool{}
	for _, f := range v.Findings {
		paths[f.Path] = true
	}
	for _, p := range []string{"$.result.content[0].text", "$.result.content[1].text(json).token", "$.result.content[2].resource.text", "$.result.structuredContent.id"} {
		if !paths[p] {
			t.Errorf("no finding at %s: %+v", p, v.Findings)
		}
	}
}

func TestGuardActions(t *testing.T) {
	ctx := context.Background()
	// warn: the call and its result pass, the findings are noted.
	g := newGuard(t, &guard.Config{SecretsIn: guard.Warn, SecretsOut: guard.Warn})
	if v := g.CheckRequest(ctx, toolCall(`{"t":"`+awsKey+`"}`)); v.Stops() || v.Decision != "warn" || len(v.Findings) != 1 {
		t.Errorf("warn on input: %+v", v)
	}
	r := &callpath.Result{Raw: json.RawMessage(`{"content":[{"type":"text","text":"` + awsKey + `"}]}`)}
	if v := g.CheckResult(ctx, toolCall(`{}`), r); v.Stops() || v.Decision != "warn" || !strings.Contains(string(r.Raw), awsKey) {
		t.Errorf("warn on output: %+v, %s", v, r.Raw)
	}
	// block on output withholds the result, saying what and where.
	g.Update(guard.Config{SecretsIn: guard.Block, SecretsOut: guard.Block}, nil)
	v := g.CheckResult(ctx, toolCall(`{}`), r)
	if !v.Stops() || !strings.Contains(v.Reason, "withheld") || !strings.Contains(v.Reason, "aws-access-token at $.result.content[0].text") || strings.Contains(v.Reason, awsKey) {
		t.Errorf("block on output: %+v", v)
	}
	// off: nothing looks.
	g.Update(guard.Config{SecretsIn: guard.Off, SecretsOut: guard.Off}, nil)
	if v := g.CheckRequest(ctx, toolCall(`{"t":"`+awsKey+`"}`)); v != nil {
		t.Errorf("off: %+v", v)
	}
	// A server's sampling request goes to the agent: output actions apply,
	// and redact, which cannot rewrite a request, blocks it.
	g.Update(guard.DefaultConfig(), nil)
	s := &callpath.Call{Kind: callpath.Sampling, Server: "fx", Params: json.RawMessage(`{"messages":[{"content":{"type":"text","text":"` + ghToken + `"}}]}`)}
	if v := g.CheckRequest(ctx, s); !v.Stops() || !strings.Contains(v.Reason, "github-pat at $.params.messages[0].content.text") {
		t.Errorf("sampling request with a secret: %+v", v)
	}
	// The person's answer to a server's elicitation goes to the server:
	// input actions apply.
	e := &callpath.Call{Kind: callpath.Elicitation, Server: "fx", Params: json.RawMessage(`{"message":"your token?"}`)}
	ans := &callpath.Result{Raw: json.RawMessage(`{"action":"accept","content":{"token":"` + ghToken + `"}}`)}
	if v := g.CheckResult(ctx, e, ans); !v.Stops() || !strings.Contains(v.Reason, "github-pat at $.result.content.token") {
		t.Errorf("elicitation answer with a secret: %+v", v)
	}
}

func TestGuardBudget(t *testing.T) {
	ctx := context.Background()
	g := newGuard(t, &guard.Config{SecretsIn: guard.Block, SecretsOut: guard.Redact, MaxScanBytes: 64})
	big := strings.Repeat("a", 100)
	v := g.CheckRequest(ctx, toolCall(`{"big":"`+big+`"}`))
	if !v.Stops() || !strings.Contains(v.Reason, "larger than guardrails.max_scan_bytes") {
		t.Errorf("arguments over the budget: %+v; want them blocked, saying why", v)
	}
	r := &callpath.Result{Raw: json.RawMessage(`{"content":[{"type":"text","text":"short"},{"type":"text","text":"` + big + `"}]}`)}
	v = g.CheckResult(ctx, toolCall(`{}`), r)
	if v.Stops() || string(r.Raw) != `{"content":[{"text":"short","type":"text"},{"text":"[REDACTED:scan-budget]","type":"text"}]}` {
		t.Errorf("result over the budget: %+v, %s; want the field past it redacted whole", v, r.Raw)
	}
}

func TestGuardTimeBudget(t *testing.T) {
	ctx := context.Background()
	g := guard.New(&guard.Options{Secrets: defaultSecrets(t), MaxScanTime: time.Nanosecond})
	text := strings.Repeat("lorem ipsum ", 20)
	if v := g.CheckRequest(ctx, toolCall(`{"text":"`+text+`"}`)); !v.Stops() || !strings.Contains(v.Reason, "took too long to scan") {
		t.Errorf("arguments past the time budget: %+v; want them blocked", v)
	}
	r := &callpath.Result{Raw: json.RawMessage(`{"content":[{"type":"text","text":"` + text + `"}]}`)}
	if v := g.CheckResult(ctx, toolCall(`{}`), r); v.Stops() || string(r.Raw) != `{"content":[{"text":"[REDACTED:scan-budget]","type":"text"}]}` {
		t.Errorf("result past the time budget: %+v, %s; want its text redacted whole", v, r.Raw)
	}
}

func TestGuardWaitsForRules(t *testing.T) {
	s, ready := guard.UnreadySecrets()
	g := guard.New(&guard.Options{Secrets: s, ReadyWait: time.Minute})
	c := toolCall(`{"t":"` + ghToken + `"}`)
	v := g.CheckRequest(context.Background(), c)
	if v == nil || v.Hold == nil {
		t.Fatalf("a call before the rules are ready: %+v; want it held, not let through", v)
	}
	go ready(rulesFor(t))
	if d := v.Hold(context.Background()); !d.Stops() || d.Rule != "github-pat" {
		t.Errorf("once ready: %+v; want the secret blocked", d)
	}

	s2, _ := guard.UnreadySecrets()
	g2 := guard.New(&guard.Options{Secrets: s2, ReadyWait: time.Millisecond})
	if d := g2.CheckRequest(context.Background(), c).Hold(context.Background()); !d.Stops() || !strings.Contains(d.Reason, "not ready") {
		t.Errorf("rules never ready: %+v; want the call refused", d)
	}
}

func rulesFor(t *testing.T) *guard.Rules {
	defaultSecrets(t)
	return rules
}

func TestUserRules(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	extra, err := guard.UserRules(write("extra.toml", `
[[rules]]
id = "acme-token"
regex = '''acme_[0-9a-f]{24}'''
keywords = ["acme_"]

[[allowlists]]
description = "the AWS documentation's example key"
regexes = ['''AKIAZ7MQ4TXB2WLKR6PN''']
`))
	if err != nil {
		t.Fatal(err)
	}
	s := guard.NewSecretsFrom(rulesFor(t).Merge(extra))
	g := guard.New(&guard.Options{Secrets: s})
	if v := g.CheckRequest(context.Background(), toolCall(`{"t":"acme_0123456789abcdef01234567"}`)); !v.Stops() || v.Rule != "acme-token" {
		t.Errorf("a user rule: %+v", v)
	}
	if v := g.CheckRequest(context.Background(), toolCall(`{"t":"`+awsKey+`"}`)); v != nil {
		t.Errorf("an allowlisted value: %+v", v)
	}
	if v := g.CheckRequest(context.Background(), toolCall(`{"t":"`+ghToken+`"}`)); !v.Stops() {
		t.Errorf("the default rules were lost in the merge: %+v", v)
	}

	// A user rule with a default rule's id replaces it.
	over, err := guard.UserRules(write("over.toml", "[[rules]]\nid = \"github-pat\"\nregex = '''ghp_never_[0-9]{4}'''\nkeywords = [\"ghp_never_\"]\n"))
	if err != nil {
		t.Fatal(err)
	}
	g2 := guard.New(&guard.Options{Secrets: guard.NewSecretsFrom(rulesFor(t).Merge(over))})
	if v := g2.CheckRequest(context.Background(), toolCall(`{"t":"`+ghToken+`"}`)); v != nil {
		t.Errorf("the default github-pat rule was not replaced: %+v", v)
	}
	if v := g2.CheckRequest(context.Background(), toolCall(`{"t":"ghp_never_1234"}`)); !v.Stops() || v.Rule != "github-pat" {
		t.Errorf("the replacing rule: %+v", v)
	}

	if _, err := guard.UserRules(write("extend.toml", "[extend]\nuseDefault = true\n")); err == nil || !strings.Contains(err.Error(), "[extend] is not supported") {
		t.Errorf("[extend]: %v", err)
	}
	if _, err := guard.UserRules(write("bad.toml", "[[rules]]\nid = \"x\"\nregex = '''(unclosed'''\n")); err == nil || !strings.Contains(err.Error(), "fix the rule's regex") {
		t.Errorf("a bad regex: %v", err)
	}
	if _, err := guard.UserRules(filepath.Join(dir, "missing.toml")); err == nil {
		t.Error("a missing file is no error")
	}
}

func TestPIIValidators(t *testing.T) {
	dets := []guard.Detector{guard.NewPII(nil)}
	for _, clean := range []string{
		"4111 1111 1111 1112",    // fails Luhn
		"GB82WEST12345698765431", // fails mod-97
		"000-12-3456",            // no SSN has area 000
		"meet at 12:30:45",       // a time, not an IPv6 address
		"std::vector<int>",       // C++, not an address
		"v1.2.3 released",        // a version
		"1111111111",             // one digit repeated
	} {
		if fs := scanText(dets, "text", clean); len(fs) > 0 {
			t.Errorf("%q: false positive %+v", clean, fs)
		}
	}
	only := []guard.Detector{guard.NewPII([]string{guard.PIIEmail})}
	if fs := scanText(only, "text", "jane@example.com 4111 1111 1111 1111"); len(fs) != 1 || fs[0].Rule != "pii-email" {
		t.Errorf("types [email]: %+v", fs)
	}
	// Off by default.
	g := newGuard(t, nil)
	r := &callpath.Result{Raw: json.RawMessage(`{"content":[{"type":"text","text":"jane@example.com"}]}`)}
	if v := g.CheckResult(context.Background(), toolCall(`{}`), r); v != nil {
		t.Errorf("PII with the default configuration: %+v", v)
	}
}

func TestRecordRedactor(t *testing.T) {
	red := guard.RecordRedactor{Known: guard.NewKnown(), Guard: newGuard(t, &guard.Config{SecretsIn: guard.Block, SecretsOut: guard.Off, PIIIn: guard.Off, PIIOut: guard.Warn})}
	out, changed := red.Redact([]byte(`{"text":"` + ghToken + ` for jane@example.com"}`))
	if !changed || strings.Contains(string(out), ghToken) || strings.Contains(string(out), "jane@example.com") {
		t.Errorf("JSON: %s", out)
	}
	out, changed = red.Redact([]byte("error: bad token " + awsKey))
	if !changed || string(out) != "error: bad token [REDACTED:aws-access-token]" {
		t.Errorf("text: %q", out)
	}
}

// TestRulesCompiledOnDemand: a guard whose rules have not been started
// starts them for the first call that needs them, and scans it (rather
// than refuse it after ReadyWait as unready).
func TestRulesCompiledOnDemand(t *testing.T) {
	s := guard.NewSecretsOnDemand(nil)
	g := guard.New(&guard.Options{Secrets: s, ReadyWait: time.Minute})
	v := g.CheckRequest(context.Background(), toolCall(`{"text":"`+ghToken+`"}`))
	if v == nil || v.Hold == nil {
		t.Fatalf("verdict %+v before the rules are compiled; want the call held", v)
	}
	if v := v.Hold(context.Background()); !v.Stops() || v.Rule != "github-pat" {
		t.Errorf("held call's verdict %+v; want it blocked by github-pat once the rules are compiled", v)
	}
}

// TestRulesCompiledWhenRun: a rule's expression is compiled the first time
// a payload holds its keyword, not before, and the others stay text.
func TestRulesCompiledWhenRun(t *testing.T) {
	s := guard.NewSecretsFrom(rulesFor(t))
	if got := guard.CompiledRules(s); len(got) != 0 {
		t.Fatalf("compiled before any payload: %v", got)
	}
	g := guard.New(&guard.Options{Secrets: s})
	if v := g.CheckRequest(context.Background(), toolCall(`{"text":"hello there"}`)); v != nil {
		t.Fatalf("a clean payload: %+v", v)
	}
	if got := guard.CompiledRules(s); len(got) != 0 {
		t.Errorf("compiled for a payload with no keyword: %v", got)
	}
	if v := g.CheckRequest(context.Background(), toolCall(`{"t":"`+ghToken+`"}`)); !v.Stops() || v.Rule != "github-pat" {
		t.Fatalf("a GitHub token: %+v", v)
	}
	got := guard.CompiledRules(s)
	if !slices.Contains(got, "github-pat") || len(got) > 3 {
		t.Errorf("compiled after a GitHub token: %v; want github-pat and few others", got)
	}
}

// TestUserRuleSecretGroup: a rule whose secret group is not among its
// expression's groups is refused when read, as gitleaks refuses it.
func TestUserRuleSecretGroup(t *testing.T) {
	path := filepath.Join(t.TempDir(), "group.toml")
	if err := os.WriteFile(path, []byte("[[rules]]\nid = \"g\"\nregex = '''tok_([a-z]{8})'''\nsecretGroup = 2\nkeywords = [\"tok_\"]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := guard.UserRules(path); err == nil || !strings.Contains(err.Error(), "secret group") {
		t.Errorf("secretGroup 2 of 1: %v", err)
	}
}
