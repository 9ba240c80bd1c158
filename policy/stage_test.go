package policy

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mcpgw/mcpgw/mux/callpath"
)

func mustCompile(t testing.TB, p Policy) *Engine {
	t.Helper()
	e, err := Compile(p)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

var stagePolicy = Policy{
	Teams: map[string]Grants{"web": {Servers: map[string]ServerGrant{"github": {Tools: ToolRules{Deny: []string{"delete_*"}}}}}},
	Profiles: []Profile{
		{Name: "cursor", Match: Match{Client: "cursor*"}, Tools: ToolRules{Allow: []string{"github__get_*"}}},
	},
}

// TestStageInTheChain runs the stage through callpath.Chain, as the gateway
// will: denials stop the call with the policy's rule and reason, allowed
// calls carry a note naming the rule, and the catalog phase hides by the
// session's identity and its agent's profile.
func TestStageInTheChain(t *testing.T) {
	e := mustCompile(t, stagePolicy)
	profiles, err := ProfileResolver(e, "")
	if err != nil {
		t.Fatal(err)
	}
	ch, err := callpath.NewChain([]callpath.Stage{&Stage{Policies: Layers{User: e}, Profile: profiles}})
	if err != nil {
		t.Fatal(err)
	}
	if got := ch.String(); got != "request: policy; result: none; catalog: policy" {
		t.Errorf("chain = %q", got)
	}
	web := Identity{User: "ada", Team: "web"}
	claude := fakeSession{id: web, client: "claude-ai"}
	cursor := fakeSession{id: web, client: "Cursor"}
	call := func(s callpath.Session, tool string) *callpath.Call {
		return &callpath.Call{Kind: callpath.ToolCall, Server: "github", Name: tool, Exposed: "github__" + tool, Identity: web, Session: s}
	}

	c := call(claude, "delete_repo")
	v := ch.CheckRequest(context.Background(), c)
	want := callpath.Deny("teams.web.servers.github.tools.deny[0]", `team "web" may not call github__delete_repo: denied by teams.web.servers.github.tools.deny "delete_*"`)
	if diff := cmp.Diff(want, v, ignoreHold); diff != "" {
		t.Errorf("deny (-want +got):\n%s", diff)
	}
	if got := c.Verdict(); got.Status != callpath.Denied || got.Rule != want.Rule {
		t.Errorf("recorded verdict = %+v", got)
	}

	c = call(claude, "create_issue")
	if v := ch.CheckRequest(context.Background(), c); v != nil {
		t.Errorf("allowed call stopped: %+v", v)
	}
	if got := c.Verdict(); got.Decision != "allow" || got.Rule != "teams.web.servers.github" {
		t.Errorf("allowed call's record = %+v; want decision allow by teams.web.servers.github", got)
	}

	// The same call from Cursor: its profile exposes only get_*.
	if v := ch.CheckRequest(context.Background(), call(cursor, "create_issue")); v == nil || v.Rule != "profiles.cursor.tools.allow" {
		t.Errorf("Cursor's create_issue = %+v; want denied by profiles.cursor.tools.allow", v)
	}
	entry := callpath.Entry{Kind: callpath.ToolEntry, Server: "github", Name: "create_issue", Exposed: "github__create_issue"}
	if v := ch.Hide(claude, entry); v != nil {
		t.Errorf("claude's catalog hides create_issue: %+v", v)
	}
	if v := ch.Hide(cursor, entry); v == nil || v.Status != callpath.Denied || v.Rule != "profiles.cursor.tools.allow" {
		t.Errorf("cursor's catalog shows create_issue: %+v", v)
	}
}

var ignoreHold = cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".Hold" }, cmp.Ignore())

// TestStagePassesServerRequests: elicitation and sampling come from
// servers, not callers; the policy does not govern them.
func TestStagePassesServerRequests(t *testing.T) {
	st := &Stage{Policies: Layers{User: mustCompile(t, Policy{Default: Deny})}}
	for _, k := range []callpath.Kind{callpath.Elicitation, callpath.Sampling} {
		if v := st.CheckRequest(context.Background(), &callpath.Call{Kind: k, Server: "github", Session: fakeSession{}}); v != nil {
			t.Errorf("%s: %+v", k.Method(), v)
		}
	}
	if v := st.CheckRequest(context.Background(), &callpath.Call{Kind: callpath.ResourceRead, Server: "fs", Name: "file:///x", Exposed: "file:///x", Session: fakeSession{}}); !v.Stops() {
		t.Errorf("resources/read under default deny: %+v", v)
	}
}

func TestNoPolicyAllows(t *testing.T) {
	var l Layers
	if d := l.Decide(Input{Server: "a", Name: "b"}); !d.Allow {
		t.Errorf("no policy: %+v", d)
	}
	if d := l.Visible(Identity{}, "", callpath.Entry{Kind: callpath.ToolEntry, Server: "a", Name: "b"}); !d.Allow {
		t.Errorf("no policy hides: %+v", d)
	}
}

func TestProfileResolver(t *testing.T) {
	e := mustCompile(t, stagePolicy)
	if _, err := ProfileResolver(e, "nope"); err == nil || !strings.Contains(err.Error(), `profile "nope" is not defined; the policy defines "cursor"`) {
		t.Errorf("unknown explicit profile: %v", err)
	}
	r, err := ProfileResolver(e, "cursor")
	if err != nil {
		t.Fatal(err)
	}
	if got := r(fakeSession{client: "claude-ai"}); got != "cursor" {
		t.Errorf("explicit profile: %q", got)
	}
	r, _ = ProfileResolver(e, "")
	for range 2 { // the second from what it remembered
		if got := r(fakeSession{client: "cursor-vscode"}); got != "cursor" {
			t.Errorf("by client: %q", got)
		}
		if got := r(fakeSession{client: "zed"}); got != "" {
			t.Errorf("no match: %q", got)
		}
	}
	if _, err := ProfileResolver(nil, "x"); err == nil {
		t.Error("a profile named without a policy is not an error")
	}
	if e.Profiles()[0] != "cursor" {
		t.Errorf("Profiles() = %q", e.Profiles())
	}
	if _, err := mustCompile(t, Policy{}).SelectProfile("x", ""); err == nil || err.Error() != `profile "x" is not defined: the policy has no profiles` {
		t.Errorf("no profiles: %v", err)
	}
}

func TestErrorsAreStructured(t *testing.T) {
	_, err := Compile(Policy{Default: "maybe", Rules: []Rule{{When: "args.x ==", Effect: Deny}}})
	var es Errors
	if !errors.As(err, &es) || len(es) != 2 {
		t.Fatalf("Compile error %T %v; want Errors of 2", err, err)
	}
	if es[1].Path != "rules[0].when" || es[1].Line != 1 || es[1].Column != 10 {
		t.Errorf("the condition's error is at %s %d:%d; want rules[0].when 1:10", es[1].Path, es[1].Line, es[1].Column)
	}
	if !strings.HasPrefix(err.Error(), "policy: default: ") || !strings.Contains(err.Error(), "\npolicy: rules[0].when:1:10: Syntax error") {
		t.Errorf("Error() = %q", err)
	}
}

// TestCombine: the intersection, and the chain marks only what decided.
func TestCombine(t *testing.T) {
	step := func(rule string, decides bool) Step { return Step{Rule: rule, Decides: decides} }
	allowM := Decision{Allow: true, Rule: "managed.a", Chain: []Step{step("managed.a", true)}}
	denyM := Decision{Rule: "managed.b", Reason: "m", Chain: []Step{step("managed.b", true)}}
	allowU := Decision{Allow: true, Rule: "c", Reason: "u", Chain: []Step{step("c", true)}}
	denyU := Decision{Rule: "d", Reason: "u", Chain: []Step{step("d", true)}}
	for _, c := range []struct {
		m, u Decision
		want Decision
	}{
		{allowM, allowU, Decision{Allow: true, Rule: "c", Reason: "u", Chain: []Step{step("managed.a", false), step("c", true)}}},
		{allowM, denyU, Decision{Rule: "d", Reason: "u", Chain: []Step{step("managed.a", false), step("d", true)}}},
		{denyM, allowU, Decision{Rule: "managed.b", Reason: "m", Chain: []Step{step("managed.b", true), step("c", false)}}},
		{denyM, denyU, Decision{Rule: "managed.b", Reason: "m", Chain: []Step{step("managed.b", true), step("d", false)}}},
	} {
		if diff := cmp.Diff(c.want, Combine(c.m, c.u)); diff != "" {
			t.Errorf("Combine(%s, %s) (-want +got):\n%s", c.m.Rule, c.u.Rule, diff)
		}
	}
	if !allowU.Chain[0].Decides {
		t.Error("Combine changed its argument's chain")
	}
}

func TestURIGlobs(t *testing.T) {
	for _, c := range []struct {
		pattern, uri string
		want         bool
	}{
		{"file:///repo/**", "file:///repo/a/b/c.go", true},
		{"file:///repo/**", "file:///repository", false},
		{"file:///repo/**/*.go", "file:///repo/main.go", true},
		{"file:///repo/**/*.go", "file:///repo/a/b/main.go", true},
		{"file:///repo/**/*.go", "file:///repo/a/main.rs", false},
		{"file:///repo/*", "file:///repo/a/b", false},
		{"file:///repo/[^a]*", "file:///repo/b", true},
		{"file:///repo/[^a]*", "file:///repo/a", false},
		{"db://t/\\*", "db://t/*", true},
		{"db://t/\\*", "db://t/x", false},
		{"**", "anything://at/all", true},
		{"note://?", "note://1", true},
	} {
		g, err := compileGlob(c.pattern, true)
		if err != nil {
			t.Errorf("%q: %v", c.pattern, err)
			continue
		}
		if got := g.match(c.uri); got != c.want {
			t.Errorf("%q matches %q = %v; want %v", c.pattern, c.uri, got, c.want)
		}
	}
}

// TestConditionCostIsBounded: a comprehension over a large argument ends
// at the cost limit and denies, instead of stalling the call path.
func TestConditionCostIsBounded(t *testing.T) {
	e := mustCompile(t, Policy{Default: Allow, Rules: []Rule{{Server: "s", When: "args.xs.all(x, args.xs.all(y, x + y >= 0))", Effect: Deny}}})
	xs := make([]string, 3000)
	for i := range xs {
		xs[i] = fmt.Sprint(i)
	}
	args := `{"xs":[` + strings.Join(xs, ",") + `]}`
	d := e.Decide(Input{Server: "s", Name: "t", Args: []byte(args)})
	if d.Allow || d.Rule != "rules[0]" || !strings.Contains(d.Reason, "could not be evaluated (operation cancelled: actual cost limit exceeded)") {
		t.Errorf("Decide = %v %s: %s", d.Allow, d.Rule, d.Reason)
	}

	// A linear pass over ten thousand items is well within the bound.
	e = mustCompile(t, Policy{Default: Allow, Rules: []Rule{{Server: "s", When: `args.xs.exists(x, x == "secret")`, Effect: Deny}}})
	xs = make([]string, 10000)
	for i := range xs {
		xs[i] = fmt.Sprintf("%q", fmt.Sprint(i))
	}
	args = `{"xs":[` + strings.Join(xs, ",") + `]}`
	if d := e.Decide(Input{Server: "s", Name: "t", Args: []byte(args)}); !d.Allow {
		t.Errorf("a linear condition over 10,000 items: %s", d.Reason)
	}
}

// TestConcurrentDecisions: one engine, its cache, many callers (run with
// -race).
func TestConcurrentDecisions(t *testing.T) {
	e := mustCompile(t, benchPolicy())
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				in := Input{Identity: Identity{Team: fmt.Sprintf("team%d", g%5), Roles: []string{"reader"}},
					Server: fmt.Sprintf("server%d", i%10), Name: []string{"query", "get_x", "delete_x", "export_y"}[i%4], Args: []byte(`{"limit":5}`)}
				d := e.Decide(in)
				if fast := e.decide(&in, false); fast.Allow != d.Allow || fast.Rule != d.Rule || fast.Reason != d.Reason {
					t.Errorf("%+v: %+v != %+v", in, fast, d)
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestCacheIsBounded: resource URIs are unbounded; the cache is not.
func TestCacheIsBounded(t *testing.T) {
	e := mustCompile(t, Policy{Default: Allow})
	for i := range cacheMax + 10 {
		e.Decide(Input{Kind: Resource, Server: "fs", Name: fmt.Sprintf("file:///%d", i)})
	}
	e.cache.mu.RLock()
	n := len(e.cache.m)
	e.cache.mu.RUnlock()
	if n > cacheMax {
		t.Errorf("cache holds %d decisions; at most %d", n, cacheMax)
	}
}

// TestChainIsTheCallersOwn: a cached decision's chain is not shared.
func TestChainIsTheCallersOwn(t *testing.T) {
	e := mustCompile(t, stagePolicy)
	in := Input{Identity: Identity{Team: "web"}, Server: "github", Name: "get_issue"}
	d := e.Decide(in)
	d.Chain[0].Rule = "changed"
	if again := e.Decide(in); again.Chain[0].Rule == "changed" {
		t.Error("changing a decision's chain changed the cache")
	}
}
