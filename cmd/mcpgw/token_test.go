package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgw/mcpgw/cmd/internal/testenv"
	"github.com/mcpgw/mcpgw/logs"
)

// bearer adds a bearer token to every request an HTTP client makes.
type bearer struct {
	token string
	base  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.base.RoundTrip(r)
}

// connectHTTP connects a go-sdk client to the mcpgw at url (its base URL)
// at version, presenting token when it is not empty.
func connectHTTP(ctx context.Context, url, token, version string) (*mcp.ClientSession, error) {
	hc := &http.Client{Transport: http.DefaultTransport}
	if token != "" {
		hc.Transport = bearer{token: token, base: http.DefaultTransport}
	}
	client := mcp.NewClient(&mcp.Implementation{Name: "token-agent", Version: "1"}, &mcp.ClientOptions{Capabilities: &mcp.ClientCapabilities{}})
	return client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: url + "mcp", HTTPClient: hc, MaxRetries: -1}, &mcp.ClientSessionOptions{ProtocolVersion: version})
}

// serveHTTPAt starts `mcpgw serve --http addr` with extra environment and
// returns the URL it says it serves at (a wildcard host replaced by
// 127.0.0.1) and what it printed up to then.
func serveHTTPAt(t *testing.T, ctx context.Context, cfgPath, addr string, env []string) string {
	t.Helper()
	gw := exec.CommandContext(ctx, testenv.Mcpgw(t), "serve", "--http", addr, "--config", cfgPath)
	gw.Env = append(os.Environ(), env...)
	stderr, err := gw.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := gw.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { gw.Process.Signal(os.Interrupt); gw.Wait() })
	url := readServingURL(t, stderr)
	for _, wildcard := range []string{"://0.0.0.0:", "://[::]:"} {
		url = strings.Replace(url, wildcard, "://127.0.0.1:", 1)
	}
	return url
}

// createToken runs `mcpgw token create` and returns the token and its id.
func createToken(t *testing.T, env []string, args ...string) (token, id string) {
	t.Helper()
	out, stderr, code := mcpgwCmd(t, env, "", append([]string{"token", "create", "-o", "json"}, args...)...)
	if code != 0 {
		t.Fatalf("token create: exit %d: %s", code, stderr)
	}
	var created struct {
		Token string `json:"token"`
		ID    string `json:"id"`
	}
	if err := json.Unmarshal([]byte(out), &created); err != nil || !strings.HasPrefix(created.Token, "mcpgw_") || created.ID == "" {
		t.Fatalf("token create printed %q (%v); want the token and its id", out, err)
	}
	if !strings.Contains(stderr, "shown this once") {
		t.Errorf("token create did not say the token is shown once: %s", stderr)
	}
	return created.Token, created.ID
}

// post sends one raw JSON-RPC initialize to the mcpgw at url with the given
// Authorization header ("" for none).
func post(t *testing.T, url, authz string) (*http.Response, string) {
	t.Helper()
	body := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`
	req, _ := http.NewRequest("POST", url+"mcp", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

// TestHTTPTokens drives `mcpgw serve --http` with tokens made by `mcpgw
// token create`: a valid token's identity (never the agent's own claim)
// reaches the server in _meta and the record on both protocol generations;
// a request without a token, or with a made-up one, gets 401 with a
// WWW-Authenticate challenge; a token revoked while the gateway runs is
// refused from its next request on, in the session it opened too; and
// `token list` never shows a token.
func TestHTTPTokens(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	db := filepath.Join(t.TempDir(), "record.db")
	env := []string{"MCPGW_DB=" + db, "MCPGW_USER=env-user@example.com", "MCPGW_TEAM=env-team"}
	token, id := createToken(t, env, "--user", "ana@example.com", "--team", "data", "--roles", "dev,admin", "--name", "ana-laptop", "--expires", "30d")
	other, _ := createToken(t, env, "--user", "bo@example.com", "--team", "web")

	for _, args := range [][]string{{"token", "list", "-o", "json"}, {"token", "list", "-o", "table"}} {
		out, stderr, code := mcpgwCmd(t, env, "", args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
		for _, secret := range []string{token, other} {
			if strings.Contains(out+stderr, strings.TrimPrefix(secret, "mcpgw_")) {
				t.Errorf("%v shows a token:\n%s", args, out)
			}
		}
		for _, want := range []string{id, "ana@example.com", "ana-laptop", "dev,admin", "active"} {
			if !strings.Contains(out, want) && !(args[3] == "json" && want == "dev,admin") {
				t.Errorf("%v does not show %q:\n%s", args, want, out)
			}
		}
	}

	url := serveHTTPAt(t, ctx, writeConfig(t, fixtureConfig(testenv.Fixture(t))), "127.0.0.1:0", env)

	// No token, a made-up one: 401, with a challenge and a message that
	// says what to do.
	for _, c := range []struct{ authz, challenge, says string }{
		{"", `Bearer realm="mcpgw"`, "mcpgw token create"},
		{"Bearer mcpgw_madeup", `error="invalid_token"`, "not one this gateway issued"},
		{"Basic YWxpY2U6c2VjcmV0", `error="invalid_token"`, "no bearer token"},
	} {
		resp, body := post(t, url, c.authz)
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(resp.Header.Get("WWW-Authenticate"), c.challenge) || !strings.Contains(body, c.says) {
			t.Errorf("Authorization %q: %d, WWW-Authenticate %q, body %q; want 401, %q, a body saying %q",
				c.authz, resp.StatusCode, resp.Header.Get("WWW-Authenticate"), body, c.challenge, c.says)
		}
	}
	if cs, err := connectHTTP(ctx, url, "", "2025-11-25"); err == nil {
		cs.Close()
		t.Error("the go-sdk client connected without a token")
	}

	for _, v := range agentVersions {
		cs, err := connectHTTP(ctx, url, token, v)
		if err != nil {
			t.Fatalf("%s: connecting with a valid token: %v", v, err)
		}
		for _, fast := range []bool{false, true} {
			// The fast path takes plain calls; progress keeps a call on
			// the SDK's path.
			meta := mcp.Meta{"io.mcpgw/identity": map[string]any{"user": "mallory@example.com", "team": "admins"}}
			if !fast {
				meta["progressToken"] = "p1"
			}
			res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "fx__meta", Meta: meta})
			if err != nil {
				t.Fatalf("%s: fx__meta: %v", v, err)
			}
			got := textOf(t, res)
			for _, want := range []string{`"user":"ana@example.com"`, `"team":"data"`, `"roles":["dev","admin"]`} {
				if !strings.Contains(got, want) {
					t.Errorf("%s (fast %v): the server saw _meta %s; want %s", v, fast, got, want)
				}
			}
			if strings.Contains(got, "mallory") || strings.Contains(got, "env-user") {
				t.Errorf("%s (fast %v): an identity other than the token's reached the server: %s", v, fast, got)
			}
		}
		cs.Close()
	}

	// The record names the token's caller.
	waitFor(t, ctx, "the calls in the record", func() bool { return len(recordOf(t, db)) >= 4 })
	for _, c := range recordOf(t, db) {
		if c.Tool != "fx__meta" {
			continue
		}
		if c.User != "ana@example.com" || c.Team != "data" || !slices.Equal(c.Roles, []string{"dev", "admin"}) {
			t.Errorf("record row %d: user %q team %q roles %v; want the token's identity", c.ID, c.User, c.Team, c.Roles)
		}
	}

	// A session is bound to the token that opened it.
	resp, _ := post(t, url, "Bearer "+token)
	sid := resp.Header.Get("Mcp-Session-Id")
	if sid == "" {
		t.Fatalf("initialize with a token: %d, no session id", resp.StatusCode)
	}
	req, _ := http.NewRequest("POST", url+"mcp", strings.NewReader(`{"jsonrpc":"2.0","id":2,"method":"tools/list"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Mcp-Session-Id", sid)
	req.Header.Set("Mcp-Protocol-Version", "2025-11-25")
	req.Header.Set("Authorization", "Bearer "+other)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("another token in ana's session: %v %v; want 403", resp.StatusCode, err)
	} else {
		resp.Body.Close()
	}

	// Revoked while running: the open session's next request is refused,
	// and so is a new one; the other token still works.
	cs, err := connectHTTP(ctx, url, token, "2025-11-25")
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	if _, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "fx__echo", Arguments: map[string]any{"text": "before"}}); err != nil {
		t.Fatalf("before revocation: %v", err)
	}
	if _, stderr, code := mcpgwCmd(t, env, "", "token", "revoke", id); code != 0 || !strings.Contains(stderr, "Revoked token "+id) {
		t.Fatalf("token revoke: exit %d: %s", code, stderr)
	}
	callCtx, callCancel := context.WithTimeout(ctx, 20*time.Second)
	_, err = cs.CallTool(callCtx, &mcp.CallToolParams{Name: "fx__echo", Arguments: map[string]any{"text": "after"}})
	callCancel()
	if err == nil {
		t.Error("the session of a revoked token made a call")
	}
	resp, body := post(t, url, "Bearer "+token)
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "revoked") || !strings.Contains(resp.Header.Get("WWW-Authenticate"), "revoked") {
		t.Errorf("a revoked token: %d %q (WWW-Authenticate %q); want 401 saying it was revoked", resp.StatusCode, body, resp.Header.Get("WWW-Authenticate"))
	}
	cs2, err := connectHTTP(ctx, url, other, "2025-11-25")
	if err != nil {
		t.Fatalf("the other token after a revocation: %v", err)
	}
	res, err := cs2.CallTool(ctx, &mcp.CallToolParams{Name: "fx__meta"})
	if err != nil || !strings.Contains(textOf(t, res), `"user":"bo@example.com"`) {
		t.Errorf("the other token: %v %v", err, res)
	}
	cs2.Close()

	out, _, _ := mcpgwCmd(t, env, "", "token", "list", "-o", "json")
	var rows []struct {
		ID, State string
	}
	json.Unmarshal([]byte(out), &rows)
	if i := slices.IndexFunc(rows, func(r struct{ ID, State string }) bool { return r.ID == id }); i < 0 || rows[i].State != logs.TokenRevoked {
		t.Errorf("token list after revoke: %s", out)
	}
}

// TestHTTPNonLoopbackBind: without a token, `serve --http` on a
// non-loopback address refuses to start and says how to make one; with
// one, it serves there, and every request needs it.
func TestHTTPNonLoopbackBind(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	db := filepath.Join(t.TempDir(), "record.db")
	env := []string{"MCPGW_DB=" + db}
	cfgPath := writeConfig(t, fixtureConfig(testenv.Fixture(t)))

	_, stderr, code := mcpgwCmd(t, env, "", "serve", "--http", "0.0.0.0:0", "--config", cfgPath)
	if code != 2 || !strings.Contains(stderr, "mcpgw token create") || !strings.Contains(stderr, "loopback") {
		t.Errorf("non-loopback without tokens: exit %d, %q; want 2 and how to create a token", code, stderr)
	}

	token, _ := createToken(t, env, "--user", "ana@example.com", "--team", "data")
	url := serveHTTPAt(t, ctx, cfgPath, "0.0.0.0:0", env)
	if resp, _ := post(t, url, ""); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("without a token: %d, want 401", resp.StatusCode)
	}
	cs, err := connectHTTP(ctx, url, token, "2025-11-25")
	if err != nil {
		t.Fatalf("with a token: %v", err)
	}
	defer cs.Close()
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "fx__echo", Arguments: map[string]any{"text": "from afar"}})
	if err != nil || textOf(t, res) != "from afar" {
		t.Errorf("echo: %v %v", err, res)
	}
}

// TestTokenCommandErrors: the token commands' mistakes are usage errors
// that say what to do.
func TestTokenCommandErrors(t *testing.T) {
	env := []string{"MCPGW_DB=" + filepath.Join(t.TempDir(), "record.db")}
	for _, c := range []struct {
		args []string
		code int
		says string
	}{
		{[]string{"token", "create", "--team", "data"}, 2, "--user is required"},
		{[]string{"token", "create", "--user", "a@example.com", "--expires", "soon"}, 2, "never"},
		{[]string{"token", "revoke"}, 2, "mcpgw token list"},
		{[]string{"token", "revoke", "mcpgw_abc"}, 2, "not a token's id"},
		{[]string{"token", "revoke", "tk_nope"}, 1, "no token"},
		{[]string{"serve", "--require-token"}, 2, "--http"},
	} {
		_, stderr, code := mcpgwCmd(t, env, "", c.args...)
		if code != c.code || !strings.Contains(stderr, c.says) {
			t.Errorf("mcpgw %s: exit %d, %q; want %d saying %q", strings.Join(c.args, " "), code, stderr, c.code, c.says)
		}
	}
	out, stderr, code := mcpgwCmd(t, env, "", "token", "list", "-o", "table")
	if code != 0 || out != "" || !strings.Contains(stderr, "No tokens") {
		t.Errorf("token list with none: exit %d, %q, %q", code, out, stderr)
	}
}
