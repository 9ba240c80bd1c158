package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgw/mcpgw/cmd/internal/config"
	"github.com/mcpgw/mcpgw/cmd/internal/testenv"
)

// Policy, identity and profiles end to end: a real `mcpgw serve` on a
// configuration file, the fixture servers behind it, a go-sdk agent in
// front, and the record read back from SQLite.

// policyAgent is a go-sdk agent of `mcpgw serve` with a name of its own
// (profiles match it), noting list_changed notifications.
type policyAgent struct {
	cs      *mcp.ClientSession
	cmd     *exec.Cmd
	db      string
	changed chan struct{}
	stderr  *logBuffer
}

// servePolicy starts `mcpgw serve --config cfgPath args...` with env and a
// record of its own, and connects as an agent called client at version.
func servePolicy(t *testing.T, cfgPath, client, version string, args []string, env ...string) *policyAgent {
	t.Helper()
	a := &policyAgent{changed: make(chan struct{}, 64), stderr: &logBuffer{t: t}, db: filepath.Join(t.TempDir(), "record.db")}
	c := mcp.NewClient(&mcp.Implementation{Name: client, Version: "1"}, &mcp.ClientOptions{
		ToolListChangedHandler: func(context.Context, *mcp.ToolListChangedRequest) {
			select {
			case a.changed <- struct{}{}:
			default:
			}
		},
	})
	a.cmd = exec.Command(testenv.Mcpgw(t), append([]string{"serve", "--config", cfgPath}, args...)...)
	// Nothing of the caller's own identity or managed policy leaks in.
	a.cmd.Env = append(os.Environ(), "MCPGW_USER=", "MCPGW_TEAM=", "MCPGW_ROLES=", "MCPGW_PROFILE=", "MCPGW_MANAGED_POLICY=", "MCPGW_DB="+a.db)
	a.cmd.Env = append(a.cmd.Env, env...)
	a.cmd.Stderr = a.stderr
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cs, err := c.Connect(ctx, &mcp.CommandTransport{Command: a.cmd}, &mcp.ClientSessionOptions{ProtocolVersion: version})
	if err != nil {
		t.Fatalf("connecting to mcpgw serve: %v", err)
	}
	t.Cleanup(func() { cs.Close() })
	a.cs = cs
	return a
}

func (a *policyAgent) tools(t *testing.T, ctx context.Context) []string {
	t.Helper()
	return (&reloadAgent{cs: a.cs}).toolNames(t, ctx)
}

func (a *policyAgent) call(t *testing.T, ctx context.Context, name string, args map[string]any) *mcp.CallToolResult {
	t.Helper()
	return call(t, ctx, &agent{cs: a.cs}, name, args)
}

// stop ends the session and waits for mcpgw to exit, which flushes the
// record.
func (a *policyAgent) stop() {
	a.cs.Close()
	a.cmd.Wait()
}

// envOf asks the fixture server for its environment variable name.
func (a *policyAgent) envOf(t *testing.T, ctx context.Context, tool, name string) string {
	t.Helper()
	return textOf(t, a.call(t, ctx, tool, map[string]any{"name": name}))
}

// metaIdentity is the io.mcpgw/identity the fixture server received.
func (a *policyAgent) metaIdentity(t *testing.T, ctx context.Context, tool string, meta mcp.Meta) map[string]any {
	t.Helper()
	res, err := a.cs.CallTool(ctx, &mcp.CallToolParams{Name: tool, Meta: meta})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(textOf(t, res)), &m); err != nil {
		t.Fatalf("%s: %v", textOf(t, res), err)
	}
	id, _ := m["io.mcpgw/identity"].(map[string]any)
	return id
}

// writePolicyConfig writes a configuration: the fixture as each of
// servers, then rest.
func writePolicyConfig(t *testing.T, path string, servers []string, rest string) {
	t.Helper()
	writeAtomic(t, path, fixtureServers(testenv.Fixture(t), servers...)+rest)
}

// TestPolicyEnforced serves a policy that hides tools, a prompt and a
// resource from the caller's team and denies a call by its arguments: the
// hidden ones are not listed, a guessed tool name gets an error result the
// model can read, a hidden prompt or resource a JSON-RPC error, and each
// refusal is a denied row in the record with the rule that decided.
func TestPolicyEnforced(t *testing.T) {
	for _, version := range agentVersions {
		t.Run(version, func(t *testing.T) {
			t.Parallel()
			cfg := filepath.Join(t.TempDir(), "config.yaml")
			writePolicyConfig(t, cfg, []string{"fx"}, `identity: {user: ana@example.com, team: web}
policy:
  default: deny
  teams:
    web:
      servers:
        fx:
          tools: {deny: [add, toggle]}
          prompts: {deny: [greet]}
          resources: {deny: ["fixture://static/pixel.png"]}
  rules:
    - name: no_secret_echo
      server: fx
      tool: echo
      when: 'args.text.startsWith("secret")'
      effect: deny
      message: echoing secrets is off limits
`)
			a := servePolicy(t, cfg, "e2e-agent", version, nil)
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()

			tools := a.tools(t, ctx)
			if slices.Contains(tools, "fx__add") || slices.Contains(tools, "fx__toggle") || !slices.Contains(tools, "fx__echo") {
				t.Errorf("tools listed: %v; want fx__echo, without fx__add and fx__toggle", tools)
			}
			res := a.call(t, ctx, "fx__add", map[string]any{"a": 1, "b": 2})
			want := `mcpgw: team "web" may not call fx__add: denied by teams.web.servers.fx.tools.deny "add"`
			if !res.IsError || textOf(t, res) != want {
				t.Errorf("guessed hidden tool: isError %v, %q; want %q", res.IsError, textOf(t, res), want)
			}
			if res := a.call(t, ctx, "fx__echo", map[string]any{"text": "secret plans"}); !res.IsError || !strings.Contains(textOf(t, res), "echoing secrets is off limits") {
				t.Errorf("echo denied by its arguments: %+v", textOf(t, res))
			}
			if got := textOf(t, a.call(t, ctx, "fx__echo", map[string]any{"text": "hi"})); got != "hi" {
				t.Errorf("allowed echo = %q", got)
			}
			prompts, err := a.cs.ListPrompts(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range prompts.Prompts {
				if p.Name == "fx__greet" {
					t.Error("the hidden prompt fx__greet is listed")
				}
			}
			if _, err := a.cs.GetPrompt(ctx, &mcp.GetPromptParams{Name: "fx__greet", Arguments: map[string]string{"name": "x"}}); err == nil || !strings.Contains(err.Error(), `may not get the prompt fx__greet: denied by teams.web.servers.fx.prompts.deny`) {
				t.Errorf("hidden prompt: %v; want a JSON-RPC error with the reason", err)
			}
			resources, err := a.cs.ListResources(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range resources.Resources {
				if r.URI == "fixture://static/pixel.png" {
					t.Error("the hidden resource is listed")
				}
			}
			if _, err := a.cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "fixture://static/pixel.png"}); err == nil || !strings.Contains(err.Error(), "fixture://static/pixel.png") {
				t.Errorf("hidden resource: %v; want a JSON-RPC error with the reason", err)
			}
			a.stop()

			type row struct{ Method, Tool, Status, Decision, Rule, User, Team string }
			var got []row
			for _, c := range recordOf(t, a.db) {
				got = append(got, row{c.Method, c.Tool, string(c.Status), c.Decision, c.Rule, c.User, c.Team})
			}
			const u, w = "ana@example.com", "web"
			wantRows := []row{
				{"tools/call", "fx__add", "denied", "deny", "teams.web.servers.fx.tools.deny[0]", u, w},
				{"tools/call", "fx__echo", "denied", "deny", "rules.no_secret_echo", u, w},
				{"tools/call", "fx__echo", "ok", "allow", "teams.web.servers.fx", u, w},
				{"prompts/get", "fx__greet", "denied", "deny", "teams.web.servers.fx.prompts.deny[0]", u, w},
				{"resources/read", "fixture://static/pixel.png", "denied", "deny", "teams.web.servers.fx.resources.deny[0]", u, w},
			}
			if diff := cmp.Diff(wantRows, got); diff != "" {
				t.Errorf("the record (-want +got):\n%s", diff)
			}
		})
	}
}

// TestPolicyLiveEdit edits the policy under a running `mcpgw serve`: the
// agent is told its tools changed, and the new policy decides at once,
// with no restart.
func TestPolicyLiveEdit(t *testing.T) {
	t.Parallel()
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	const before = "identity: {team: web}\npolicy:\n  default: allow\n  teams:\n    web: {servers: {fx: {tools: {deny: [add]}}}}\n"
	const after = "identity: {team: web}\npolicy:\n  default: allow\n  teams:\n    web: {servers: {fx: {tools: {deny: [echo]}}}}\n"
	writePolicyConfig(t, cfg, []string{"fx"}, before)
	a := servePolicy(t, cfg, "e2e-agent", "2025-11-25", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if tools := a.tools(t, ctx); slices.Contains(tools, "fx__add") || !slices.Contains(tools, "fx__echo") {
		t.Fatalf("tools before the edit: %v", tools)
	}
	ra := &reloadAgent{cs: a.cs, changed: a.changed, stderr: a.stderr}
	ra.reconfigure(t, ctx, cfg, fixtureServers(testenv.Fixture(t), "fx")+after, "editing the policy", func(names []string) bool {
		return slices.Contains(names, "fx__add") && !slices.Contains(names, "fx__echo")
	})
	if res := a.call(t, ctx, "fx__add", map[string]any{"a": 1, "b": 2}); res.IsError {
		t.Errorf("fx__add after the edit allowed it: %s", textOf(t, res))
	}
	if res := a.call(t, ctx, "fx__echo", map[string]any{"text": "x"}); !res.IsError || !strings.Contains(textOf(t, res), "teams.web.servers.fx.tools.deny") {
		t.Errorf("fx__echo after the edit denied it: %s", textOf(t, res))
	}
	// A policy that does not compile is reported and not applied.
	writeAtomic(t, cfg, fixtureServers(testenv.Fixture(t), "fx")+"policy:\n  rules: [{effect: deny, when: 'nosuch'}]\n")
	waitFor(t, ctx, "the invalid policy to be reported", func() bool {
		return strings.Contains(a.stderr.String(), "undeclared reference to 'nosuch'")
	})
	if res := a.call(t, ctx, "fx__add", map[string]any{"a": 1, "b": 2}); res.IsError {
		t.Errorf("an invalid policy was applied: %s", textOf(t, res))
	}
}

// TestIdentityForwardedToServers checks what servers learn of the caller,
// from the configuration's identity with the environment over it: a stdio
// server in its environment and in each request's _meta (where the agent's
// own io.mcpgw/identity is dropped), a remote server in headers (default
// names, or its own), and a server with forwarding off nothing at all.
func TestIdentityForwardedToServers(t *testing.T) {
	t.Parallel()
	fixture := testenv.Fixture(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	remote := exec.CommandContext(ctx, fixture, "-http", "127.0.0.1:0")
	stderr, err := remote.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { remote.Process.Kill(); remote.Wait() })
	url := readServingURL(t, stderr)

	cfg := filepath.Join(t.TempDir(), "config.yaml")
	writeAtomic(t, cfg, fmt.Sprintf(`servers:
  fx:
    command: %[1]q
    env: {MCPGW_USER_TEAM: spoofed-by-config}
  quiet:
    command: %[1]q
    identity: {forward: false}
  web:
    url: %[2]s
  own:
    url: %[2]s
    identity: {headers: {user: X-Acme-User, roles: X-Acme-Roles}}
identity: {user: ana@example.com, team: finance, roles: [analyst]}
`, fixture, url))
	a := servePolicy(t, cfg, "e2e-agent", "2025-11-25", nil, "MCPGW_TEAM=data", "MCPGW_ROLES=dev, oncall")

	for name, want := range map[string]string{"MCPGW_USER_EMAIL": "ana@example.com", "MCPGW_USER_TEAM": "data", "MCPGW_USER_ROLES": "dev,oncall"} {
		if got := a.envOf(t, ctx, "fx__env", name); got != want {
			t.Errorf("stdio server's %s = %q; want %q", name, got, want)
		}
		if got := a.envOf(t, ctx, "quiet__env", name); got != "" {
			t.Errorf("a server with forwarding off has %s = %q", name, got)
		}
	}
	spoof := mcp.Meta{"io.mcpgw/identity": map[string]any{"user": "mallory@example.com", "team": "admins"}, "io.mcpgw/other": "x"}
	wantID := map[string]any{"user": "ana@example.com", "team": "data", "roles": []any{"dev", "oncall"}}
	for _, tool := range []string{"fx__meta", "web__meta"} {
		if got := a.metaIdentity(t, ctx, tool, spoof); !cmp.Equal(got, wantID) {
			t.Errorf("%s: io.mcpgw/identity = %v; want %v (the agent's own dropped)", tool, got, wantID)
		}
	}
	if got := a.metaIdentity(t, ctx, "quiet__meta", spoof); got != nil {
		t.Errorf("a server with forwarding off got io.mcpgw/identity %v", got)
	}
	headers := func(tool string) map[string][]string {
		var h map[string][]string
		if err := json.Unmarshal([]byte(textOf(t, a.call(t, ctx, tool, nil))), &h); err != nil {
			t.Fatal(err)
		}
		return h
	}
	h := headers("web__headers")
	for name, want := range map[string]string{"X-Mcpgw-User-Email": "ana@example.com", "X-Mcpgw-User-Team": "data", "X-Mcpgw-User-Roles": "dev,oncall"} {
		if got := strings.Join(h[name], ","); got != want {
			t.Errorf("remote server's %s = %q; want %q (all: %v)", name, got, want, h)
		}
	}
	h = headers("own__headers")
	if h["X-Acme-User"][0] != "ana@example.com" || h["X-Acme-Roles"][0] != "dev,oncall" || h["X-Mcpgw-User-Team"][0] != "data" || h["X-Mcpgw-User-Email"] != nil {
		t.Errorf("headers with names of the server's own: %v", h)
	}

	// A changed identity applies without a restart of mcpgw: at once in
	// _meta and headers, and in a stdio server's environment once mcpgw has
	// started it again.
	b, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	writeAtomic(t, cfg, strings.Replace(string(b), "user: ana@example.com", "user: bob@example.com", 1))
	waitFor(t, ctx, "the stdio server to get the new identity", func() bool {
		res, err := a.cs.CallTool(ctx, &mcp.CallToolParams{Name: "fx__env", Arguments: map[string]any{"name": "MCPGW_USER_EMAIL"}})
		return err == nil && !res.IsError && textOf(t, res) == "bob@example.com"
	})
	if got := a.metaIdentity(t, ctx, "web__meta", nil); got["user"] != "bob@example.com" {
		t.Errorf("remote server's io.mcpgw/identity after the edit = %v", got)
	}
	if got := headers("web__headers")["X-Mcpgw-User-Email"]; len(got) != 1 || got[0] != "bob@example.com" {
		t.Errorf("remote server's user header after the edit = %v", got)
	}
}

// TestProfiles selects agent profiles: by the agent's clientInfo name (the
// first match in file order), or by --profile, which wins. Each narrows
// servers and tools and sets its identity, which servers receive and the
// record keeps, with the profile's name.
func TestProfiles(t *testing.T) {
	t.Parallel()
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	writePolicyConfig(t, cfg, []string{"fx", "fy"}, `identity: {user: ana@example.com, team: finance}
profiles:
  cursor:
    identity: {team: web}
    servers: [fx]
    tools: {deny: ["*__add"]}
    match: {client: "cursor*"}
  anything:
    match: {client: "*"}
  claude:
    identity: {team: data, roles: [writer]}
    tools: {deny: [fx__echo]}
`)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	for _, tc := range []struct {
		name, client, profile string
		args                  []string
		has, hasNot           []string
		team                  string
	}{
		{"by clientInfo", "Cursor-IDE", "cursor", nil, []string{"fx__echo"}, []string{"fx__add", "fy__echo"}, "web"},
		{"--profile wins", "Cursor-IDE", "claude", []string{"--profile", "claude"}, []string{"fx__add", "fy__echo"}, []string{"fx__echo"}, "data"},
		{"MCPGW_PROFILE", "other", "claude", nil, []string{"fy__echo"}, []string{"fx__echo"}, "data"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var env []string
			if tc.name == "MCPGW_PROFILE" {
				env = []string{"MCPGW_PROFILE=claude"}
			}
			a := servePolicy(t, cfg, tc.client, "2025-11-25", tc.args, env...)
			tools := a.tools(t, ctx)
			for _, n := range tc.has {
				if !slices.Contains(tools, n) {
					t.Errorf("profile %s: %s not listed (%v)", tc.profile, n, tools)
				}
			}
			for _, n := range tc.hasNot {
				if slices.Contains(tools, n) {
					t.Errorf("profile %s: %s listed (%v)", tc.profile, n, tools)
				}
			}
			if got := a.envOf(t, ctx, "fx__env", "MCPGW_USER_TEAM"); got != tc.team {
				t.Errorf("server's MCPGW_USER_TEAM = %q; want %q", got, tc.team)
			}
			if got := a.metaIdentity(t, ctx, "fx__meta", nil); got["team"] != tc.team || got["user"] != "ana@example.com" {
				t.Errorf("io.mcpgw/identity = %v; want team %s", got, tc.team)
			}
			a.stop()
			for _, c := range recordOf(t, a.db) {
				if c.Profile != tc.profile || c.Team != tc.team {
					t.Errorf("record of %s: profile %q team %q; want %q %q", c.Tool, c.Profile, c.Team, tc.profile, tc.team)
				}
			}
		})
	}
	// An unknown profile is a configuration error before anything starts.
	_, stderr, code := mcpgwCmd(t, []string{"MCPGW_MANAGED_POLICY="}, "", "serve", "--config", cfg, "--profile", "nosuch")
	if code != 3 || !strings.Contains(stderr, `profile "nosuch" is not defined; the policy defines "cursor", "anything", "claude"`) {
		t.Errorf("serve --profile nosuch: exit %d, %s", code, stderr)
	}
}

// managedPolicy writes a managed policy and returns the environment that
// points mcpgw at it (an installed one at the OS path would win).
func managedPolicy(t *testing.T, content string) (path string, env []string) {
	t.Helper()
	if _, err := os.Stat(config.ManagedPolicyPath()); err == nil {
		testenv.Missing(t, "a machine without a managed policy installed", "remove "+config.ManagedPolicyPath()+" to run this test")
	}
	path = filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, []string{"MCPGW_MANAGED_POLICY=" + path}
}

// TestManagedPolicy runs under a managed policy: it outranks the user's
// configuration (which narrows it but cannot widen it), and team and roles
// come from its members, never from the configuration or the environment.
// policy show and policy explain say so.
func TestManagedPolicy(t *testing.T) {
	t.Parallel()
	me, err := user.Current()
	if err != nil {
		testenv.Missing(t, "the OS account", err.Error())
	}
	const managedText = `default: deny
members:
  - {user: "*", team: staff}
teams:
  staff:
    servers:
      fx: {tools: {allow: [echo, env, meta, add]}}
`
	managed, env := managedPolicy(t, managedText)
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	writePolicyConfig(t, cfg, []string{"fx"}, `identity: {team: admins, roles: [admin]}
policy:
  default: allow                      # cannot widen the managed default
  roles:
    admin: {servers: {"*": {}}}      # nor grant through a claimed role
  teams:
    "*": {servers: {fx: {tools: {deny: [add]}}}}   # but narrows
`)
	a := servePolicy(t, cfg, "e2e-agent", "2025-11-25", nil, append(env, "MCPGW_TEAM=admins", "MCPGW_ROLES=admin")...)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	tools := a.tools(t, ctx)
	slices.Sort(tools)
	if want := []string{"fx__echo", "fx__env", "fx__meta"}; !slices.Equal(tools, want) {
		t.Errorf("tools under the managed policy: %v; want %v", tools, want)
	}
	if res := a.call(t, ctx, "fx__toggle", nil); !res.IsError || !strings.Contains(textOf(t, res), "managed") {
		t.Errorf("a tool the managed policy does not grant: %s", textOf(t, res))
	}
	if got := a.metaIdentity(t, ctx, "fx__meta", nil); got["team"] != "staff" || got["user"] != me.Username || got["roles"] != nil {
		t.Errorf("identity under the managed policy = %v; want user %s, team staff, no roles", got, me.Username)
	}
	// An administrator's edit of the managed policy applies while mcpgw
	// runs, as the user's config does: the agent is told its tools changed.
	for len(a.changed) > 0 {
		<-a.changed
	}
	writeAtomic(t, managed, strings.Replace(managedText, "add]", "add, toggle]", 1))
	for !slices.Contains(a.tools(t, ctx), "fx__toggle") {
		select {
		case <-a.changed:
		case <-ctx.Done():
			t.Fatal("the managed policy's edit was not applied (no list_changed)")
		}
	}
	a.stop()

	run := func(args ...string) (string, string, int) {
		return mcpgwCmd(t, append(env, "MCPGW_TEAM=admins", "MCPGW_ROLES=admin", "MCPGW_PROFILE=", "MCPGW_USER="), "", append(args, "--config", cfg)...)
	}
	out, stderr, code := run("policy", "show", "-o", "json")
	var show struct {
		Managed string
		Caller  struct {
			Team     string
			TeamFrom string `json:"team_from"`
		}
		Parts []struct {
			Source, File, ID string
			Line             int
		}
	}
	if err := json.Unmarshal([]byte(out), &show); code != 0 || err != nil {
		t.Fatalf("policy show: exit %d, %v\n%s%s", code, err, out, stderr)
	}
	if show.Managed != managed {
		t.Errorf("policy show: managed %q; want %q", show.Managed, managed)
	}
	where := map[string]string{}
	for _, p := range show.Parts {
		where[p.ID] = fmt.Sprintf("%s %s:%d", p.Source, filepath.Base(p.File), p.Line)
	}
	for id, want := range map[string]string{"managed.default": "managed policy.yaml:1", "managed.members[0]": "managed policy.yaml:3",
		"managed.teams.staff": "managed policy.yaml:5", "default": "config config.yaml:6", "roles.admin": "config config.yaml:8", "teams.*": "config config.yaml:10"} {
		if where[id] != want {
			t.Errorf("policy show: %s from %q; want %q (all: %v)", id, where[id], want, where)
		}
	}
	out, _, _ = run("policy", "show", "-o", "table")
	for _, want := range []string{"policies: managed (" + managed + ") over the configuration's", "team staff (managed.members[0])", `set aside under the managed policy: team "admins" (env)`} {
		if !strings.Contains(out, want) {
			t.Errorf("policy show does not say %q:\n%s", want, out)
		}
	}
	out, _, code = run("policy", "explain", "--tool", "fx__add", "-o", "table")
	if code != 7 || !strings.Contains(out, "decision: deny, by teams.*.servers.fx.tools.deny[0]") {
		t.Errorf("explain of what the user narrowed: exit %d\n%s", code, out)
	}
	out, _, code = run("policy", "explain", "--tool", "fx__toggle", "--roles", "admin", "-o", "table")
	if code != 7 || !strings.Contains(out, "decision: deny, by managed.default") {
		t.Errorf("explain of what only a claimed role would grant: exit %d\n%s", code, out)
	}
	if out, _, code = run("policy", "explain", "--tool", "fx__echo", "-o", "table"); code != 0 || !strings.Contains(out, "decision: allow") {
		t.Errorf("explain of an allowed tool: exit %d\n%s", code, out)
	}
}

// TestPolicyExplain asks `mcpgw policy explain` about calls without making
// them: the decision, the rule and the chain of rules behind it, as text
// and JSON, with exit code 7 for a denial; and `mcpgw call` of a tool the
// policy hides is refused with the same code.
func TestPolicyExplain(t *testing.T) {
	t.Parallel()
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	writePolicyConfig(t, cfg, []string{"fx"}, `identity: {user: ana@example.com, team: web}
policy:
  default: deny
  teams:
    web: {servers: {fx: {tools: {allow: [echo, "list_*"]}}}}
  roles:
    admin: {servers: {fx: {}}}
  rules:
    - name: acme_only
      server: fx
      tool: echo
      when: '!args.text.startsWith("acme/")'
      effect: deny
`)
	env := []string{"MCPGW_USER=", "MCPGW_TEAM=", "MCPGW_ROLES=", "MCPGW_PROFILE=", "MCPGW_MANAGED_POLICY=", "MCPGW_DB=" + filepath.Join(t.TempDir(), "r.db")}
	run := func(args ...string) (string, string, int) {
		t.Helper()
		return mcpgwCmd(t, env, "", append(args, "--config", cfg)...)
	}
	out, stderr, code := run("policy", "explain", "--tool", "fx__echo", "--args", `{"text":"acme/api"}`, "-o", "table")
	if code != 0 || !strings.Contains(out, "decision: allow, by teams.web.servers.fx.tools.allow") ||
		!strings.Contains(out, "caller:   user ana@example.com (config), team web (config)") {
		t.Errorf("explain allow: exit %d\n%s%s", code, out, stderr)
	}
	out, stderr, code = run("policy", "explain", "--tool", "fx__echo", "--args", `{"text":"other/api"}`, "-o", "table")
	if code != 7 || !strings.Contains(out, "decision: deny, by rules.acme_only") || !strings.Contains(out, "→") ||
		!strings.Contains(stderr, "tool fx__echo would be denied (rules.acme_only)") {
		t.Errorf("explain deny by a condition: exit %d\n%s%s", code, out, stderr)
	}
	out, _, code = run("policy", "explain", "--tool", "fx__add", "-o", "json")
	var e struct {
		Decision, Rule, Reason, Server, Name string
		Allow                                bool
		Chain                                []struct {
			Rule, Says string
			Decides    bool
		}
	}
	if err := json.Unmarshal([]byte(out), &e); err != nil || code != 7 {
		t.Fatalf("explain -o json: exit %d, %v\n%s", code, err, out)
	}
	if e.Decision != "deny" || e.Allow || e.Server != "fx" || e.Name != "add" || e.Rule != "teams.web.servers.fx.tools.allow" || len(e.Chain) == 0 {
		t.Errorf("explain -o json = %+v", e)
	}
	if out, _, code = run("policy", "explain", "--tool", "fx__add", "--team", "ops", "--roles", "admin", "-o", "table"); code != 0 || !strings.Contains(out, "decision: allow, by roles.admin.servers.fx") {
		t.Errorf("explain for another identity: exit %d\n%s", code, out)
	}
	if _, stderr, code = run("policy", "explain", "--tool", "nosuch"); code != 2 || !strings.Contains(stderr, `no tool "nosuch"`) {
		t.Errorf("explain of a name no server has: exit %d, %s", code, stderr)
	}
	// mcpgw call sees what an agent sees: the hidden tool is refused.
	out, stderr, code = run("call", "fx__add", "--arg", "a=1", "--arg", "b=2")
	if code != 7 || !strings.Contains(out, `team \"web\" may not call fx__add`) || !strings.Contains(stderr, "policy explain --tool fx__add") {
		t.Errorf("mcpgw call of a hidden tool: exit %d\n%s%s", code, out, stderr)
	}
	out, _, code = run("tools", "-o", "json")
	var view struct {
		Tools  []struct{ Tool struct{ Name string } }
		Hidden []struct{ Name, Rule string }
	}
	if err := json.Unmarshal([]byte(out), &view); err != nil || code != 0 {
		t.Fatalf("mcpgw tools: exit %d, %v\n%s", code, err, out)
	}
	for _, tl := range view.Tools {
		if tl.Tool.Name == "fx__add" {
			t.Error("mcpgw tools lists fx__add, which the policy hides")
		}
	}
	if !slices.ContainsFunc(view.Hidden, func(h struct{ Name, Rule string }) bool { return h.Name == "fx__add" && h.Rule != "" }) {
		t.Errorf("mcpgw tools does not say fx__add is hidden, and by which rule: %+v", view.Hidden)
	}
}
