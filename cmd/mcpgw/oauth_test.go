package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"

	"github.com/mcpgw/mcpgw/cmd/internal/testenv"
)

// testAS is an OAuth authorization server and an MCP server it protects,
// in one httptest server: discovery metadata, dynamic registration, an
// authorization endpoint that approves at once, and a token endpoint that
// rotates refresh tokens (a refresh token used twice is refused, as real
// ones do). The MCP server's tool whoami answers with the token it was
// called with, so tests can see which one arrived, and that it is
// redacted.
type testAS struct {
	srv *httptest.Server

	mu         sync.Mutex
	expiresIn  int             // seconds, for tokens issued from now on
	access     map[string]bool // valid access tokens
	refresh    map[string]bool // valid refresh tokens
	issued     []string        // every token issued, for leak checks
	used       []string        // access tokens the MCP server accepted
	refreshes  int             // refresh_token grants answered
	registered int             // dynamic client registrations
	codes      map[string]bool
	// scopes is the scope each code and token was granted: the one asked
	// for at /authorize, "tools" when none was.
	scopes map[string]string
}

func newTestAS(t *testing.T) *testAS {
	a := &testAS{expiresIn: 3600, access: map[string]bool{}, refresh: map[string]bool{}, codes: map[string]bool{}, scopes: map[string]string{}}
	mux := http.NewServeMux()
	a.srv = httptest.NewServer(mux)
	t.Cleanup(a.srv.Close)
	base := a.srv.URL
	mux.HandleFunc("/.well-known/oauth-authorization-server", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"issuer": base, "authorization_endpoint": base + "/authorize",
			"token_endpoint": base + "/token", "registration_endpoint": base + "/register",
			"response_types_supported": []string{"code"}, "code_challenge_methods_supported": []string{"S256"},
			"grant_types_supported": []string{"authorization_code", "refresh_token"}, "token_endpoint_auth_methods_supported": []string{"none"}})
	})
	mux.Handle("/.well-known/oauth-protected-resource/mcp", auth.ProtectedResourceMetadataHandler(&oauthex.ProtectedResourceMetadata{
		Resource: base + "/mcp", AuthorizationServers: []string{base}, ScopesSupported: []string{"tools"}}))
	mux.HandleFunc("/register", func(w http.ResponseWriter, r *http.Request) {
		var m map[string]any
		json.NewDecoder(r.Body).Decode(&m)
		a.mu.Lock()
		a.registered++
		a.mu.Unlock()
		m["client_id"] = "client-" + rand.Text()[:8]
		m["token_endpoint_auth_method"] = "none"
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(m)
	})
	mux.HandleFunc("/authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("code_challenge_method") != "S256" || q.Get("resource") != base+"/mcp" {
			http.Error(w, "want PKCE S256 and resource="+base+"/mcp", http.StatusBadRequest)
			return
		}
		code := rand.Text()
		a.mu.Lock()
		a.codes[code] = true
		a.scopes[code] = cmp.Or(q.Get("scope"), "tools")
		a.mu.Unlock()
		u, _ := url.Parse(q.Get("redirect_uri"))
		u.RawQuery = url.Values{"code": {code}, "state": {q.Get("state")}}.Encode()
		http.Redirect(w, r, u.String(), http.StatusFound)
	})
	mux.HandleFunc("/token", a.token)
	verify := func(ctx context.Context, tok string, r *http.Request) (*auth.TokenInfo, error) {
		a.mu.Lock()
		defer a.mu.Unlock()
		if !a.access[tok] {
			return nil, auth.ErrInvalidToken
		}
		a.used = append(a.used, tok)
		return &auth.TokenInfo{Expiration: time.Now().Add(time.Hour), UserID: "alice", Extra: map[string]any{"token": tok}}, nil
	}
	server := mcp.NewServer(&mcp.Implementation{Name: "protected", Version: "1"}, nil)
	server.AddTool(&mcp.Tool{Name: "whoami", InputSchema: map[string]any{"type": "object"}},
		func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			tok, _ := req.Extra.TokenInfo.Extra["token"].(string)
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "alice, with token " + tok}}}, nil
		})
	server.AddTool(&mcp.Tool{Name: "admin", InputSchema: map[string]any{"type": "object"}},
		func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "admin done"}}}, nil
		})
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server }, nil)
	mux.Handle("/mcp", auth.RequireBearerToken(verify, &auth.RequireBearerTokenOptions{ResourceMetadataURL: base + "/.well-known/oauth-protected-resource/mcp"})(a.needsAdmin(h)))
	return a
}

// needsAdmin refuses a call of the tool admin with a token not granted
// the scope admin: 403 insufficient_scope, naming the scopes it needs.
func (a *testAS) needsAdmin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		var msg struct {
			Method string `json:"method"`
			Params struct {
				Name string `json:"name"`
			} `json:"params"`
		}
		json.Unmarshal(body, &msg)
		tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		a.mu.Lock()
		granted := strings.Fields(a.scopes[tok])
		a.mu.Unlock()
		if msg.Method == "tools/call" && msg.Params.Name == "admin" && !slices.Contains(granted, "admin") {
			w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer error="insufficient_scope", scope="admin", resource_metadata="%s/.well-known/oauth-protected-resource/mcp"`, a.srv.URL))
			http.Error(w, "insufficient scope", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (a *testAS) token(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	a.mu.Lock()
	defer a.mu.Unlock()
	refuse := func(code string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"error":%q}`, code)
	}
	if r.Form.Get("resource") != a.srv.URL+"/mcp" {
		refuse("invalid_target")
		return
	}
	var scope string
	switch r.Form.Get("grant_type") {
	case "authorization_code":
		if !a.codes[r.Form.Get("code")] || r.Form.Get("code_verifier") == "" {
			refuse("invalid_grant")
			return
		}
		delete(a.codes, r.Form.Get("code"))
		scope = a.scopes[r.Form.Get("code")]
	case "refresh_token":
		if !a.refresh[r.Form.Get("refresh_token")] {
			refuse("invalid_grant")
			return
		}
		delete(a.refresh, r.Form.Get("refresh_token")) // rotated: one use
		a.refreshes++
		scope = a.scopes[r.Form.Get("refresh_token")]
	default:
		refuse("unsupported_grant_type")
		return
	}
	at, rt := "at-"+rand.Text(), "rt-"+rand.Text()
	a.access[at], a.refresh[rt] = true, true
	a.scopes[at], a.scopes[rt] = scope, scope
	a.issued = append(a.issued, at, rt)
	id, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "u1", "email": "alice@example.com"}).SignedString([]byte("test-key"))
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"access_token": at, "token_type": "Bearer", "expires_in": a.expiresIn,
		"refresh_token": rt, "scope": scope, "id_token": id})
}

// invalidate makes the MCP server refuse every access token issued so far;
// with refresh, the refresh tokens too (a revoked login).
func (a *testAS) invalidate(refresh bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	clear(a.access)
	if refresh {
		clear(a.refresh)
	}
}

func (a *testAS) counts() (refreshes, used int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.refreshes, len(a.used)
}

func (a *testAS) tokens() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.issued)
}

// oauthEnv is the environment of an mcpgw using the test keyring, a
// record at db and a browser that follows redirects.
func oauthEnv(t *testing.T, db string) []string {
	env := append(os.Environ(), testenv.Keyring(t)...)
	return append(env, "MCPGW_DB="+db, "BROWSER="+testenv.Build(t, "./testdata/oauthclient")+" --follow")
}

func runMcpgw(t *testing.T, env []string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	cmd := exec.Command(testenv.Mcpgw(t), args...)
	cmd.Env = env
	var o, e testenv.SyncBuffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.String(), e.String(), err
}

// TestOAuthServe logs in with `mcpgw auth login` against a local
// authorization server, then drives real `mcpgw serve` processes: a token
// about to expire is refreshed before it is used, a refused one is
// refreshed once and the call goes on, two serves share one refresh, and a
// revoked login puts the server in needs_login, with calls saying which
// command fixes it. No token is ever in the record, stderr, the config
// file, or what the agent sees.
func TestOAuthServe(t *testing.T) {
	as := newTestAS(t)
	as.expiresIn = 30 // within the minute before expiry: refreshed before any use
	dir := t.TempDir()
	db := filepath.Join(dir, "record.db")
	env := oauthEnv(t, db)
	cfgPath := writeConfig(t, fmt.Sprintf("servers:\n  oa-serve:\n    url: %s/mcp\n", as.srv.URL))
	env = append(env, "MCPGW_CONFIG="+cfgPath)
	var stderrs []*testenv.SyncBuffer
	keep := func(s string) { b := &testenv.SyncBuffer{}; b.Write([]byte(s)); stderrs = append(stderrs, b) }

	_, errOut, err := runMcpgw(t, env, "auth", "login", "oa-serve")
	keep(errOut)
	if err != nil {
		t.Fatalf("mcpgw auth login: %v\n%s", err, errOut)
	}
	out, errOut, err := runMcpgw(t, env, "auth", "status", "-o", "json")
	keep(out + errOut)
	var st []map[string]any
	if err != nil || json.Unmarshal([]byte(out), &st) != nil || len(st) != 1 {
		t.Fatalf("mcpgw auth status -o json = %q, %v", out, err)
	}
	if st[0]["loggedIn"] != true || st[0]["subject"] != "alice@example.com" || st[0]["refreshable"] != true {
		t.Errorf("auth status = %v; want logged in as alice@example.com, refreshable", st[0])
	}
	out, errOut, _ = runMcpgw(t, env, "doctor")
	keep(out + errOut)
	if !strings.Contains(out, "logged in as alice@example.com") {
		t.Errorf("mcpgw doctor after a login does not show it:\n%s%s", out, errOut)
	}
	// Every token issued so far expires within the minute before expiry.
	loginTokens := as.tokens()
	as.mu.Lock()
	usedBefore := len(as.used)
	as.mu.Unlock()

	serve := func() (*agent, *testenv.SyncBuffer) {
		cmd := exec.Command(testenv.Mcpgw(t), "serve")
		cmd.Env = env
		b := &testenv.SyncBuffer{}
		cmd.Stderr = b
		stderrs = append(stderrs, b)
		a := connectAgent(t, cmd, "2025-11-25")
		a.stderr = b
		return a, b
	}
	call := func(a *agent) (string, bool) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		res, err := a.cs.CallTool(ctx, &mcp.CallToolParams{Name: "oa-serve__whoami"})
		if err != nil {
			t.Fatalf("call: %v\nserves' stderr:\n%s", err, a.stderr)
		}
		return textOfResult(res), res.IsError
	}

	// Refresh before expiry: the login's token expires within the
	// minute, so serve refreshes it before its first request.
	a1, _ := serve()
	text, isErr := call(a1)
	if isErr || !strings.HasPrefix(text, "alice, with token ") {
		t.Fatalf("whoami = %q (error %v)", text, isErr)
	}
	if text != "alice, with token [redacted:oauth-oa-serve]" {
		t.Errorf("whoami = %q; want the token the server echoed redacted", text)
	}
	as.mu.Lock()
	usedLogin := slices.ContainsFunc(as.used[usedBefore:], func(u string) bool { return slices.Contains(loginTokens, u) })
	servedWith := len(as.used) - usedBefore
	as.mu.Unlock()
	if servedWith == 0 || usedLogin {
		t.Errorf("serve made %d requests, using a token about to expire: %v; want every one refreshed before use", servedWith, usedLogin)
	}

	// A refused token: one refresh, and the call goes on.
	as.mu.Lock()
	as.expiresIn = 3600
	as.mu.Unlock()
	call(a1) // takes a token with an hour to live
	before, _ := as.counts()
	as.invalidate(false)
	if text, isErr := call(a1); isErr {
		t.Fatalf("after the server refused the token: whoami = %q; want a refresh and the call through", text)
	}
	if r, _ := as.counts(); r != before+1 {
		t.Errorf("refreshes after a 401: %d, want %d", r, before+1)
	}

	// Two serves, one refresh: the refresh token rotates, so a second
	// refresh with the same one would be refused and log the user out.
	a2, _ := serve()
	call(a2)
	before, _ = as.counts()
	as.invalidate(false)
	var wg sync.WaitGroup
	results := make([]string, 2)
	for i, a := range []*agent{a1, a2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := a.cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "oa-serve__whoami"})
			if err != nil {
				results[i] = err.Error()
			} else if res.IsError {
				results[i] = "error: " + textOfResult(res)
			}
		}()
	}
	wg.Wait()
	if results[0] != "" || results[1] != "" {
		t.Errorf("two serves after a refused token: %q; want both calls through", results)
	}
	if r, _ := as.counts(); r != before+1 {
		t.Errorf("two serves made %d refreshes, want 1", r-before)
	}

	// Revoked: the refresh is refused; the call says what to run, and the
	// server is in needs_login with no tools listed.
	as.invalidate(true)
	text, isErr = call(a1)
	if !isErr || !strings.Contains(text, "mcpgw auth login oa-serve") {
		t.Errorf("after revocation: whoami = %q (error %v); want an error naming mcpgw auth login oa-serve", text, isErr)
	}
	// The running serve takes its tools out and tells the agent.
	deadline := time.After(30 * time.Second)
	for listed := true; listed; {
		select {
		case <-a1.changed:
		case <-deadline:
			t.Fatalf("the running serve still lists oa-serve's tools after the login was revoked")
		}
		res, err := a1.cs.ListTools(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		listed = slices.ContainsFunc(res.Tools, func(tl *mcp.Tool) bool { return strings.HasPrefix(tl.Name, "oa-serve__") })
	}
	out, errOut, _ = runMcpgw(t, env, "tools", "-o", "json")
	keep(out + errOut)
	var view struct {
		Tools []struct {
			Server string `json:"server"`
		} `json:"tools"`
		Servers []struct {
			Name  string `json:"name"`
			State string `json:"state"`
			Error string `json:"error"`
		} `json:"servers"`
	}
	if err := json.Unmarshal([]byte(out), &view); err != nil {
		t.Fatalf("mcpgw tools -o json: %v\n%s%s", err, out, errOut)
	}
	if len(view.Servers) != 1 || view.Servers[0].State != "needs_login" || !strings.Contains(view.Servers[0].Error, "mcpgw auth login oa-serve") || len(view.Tools) != 0 {
		t.Errorf("mcpgw tools after revocation: servers %+v, %d tools; want oa-serve needs_login with the command, no tools", view.Servers, len(view.Tools))
	}
	out, errOut, _ = runMcpgw(t, env, "doctor")
	keep(out + errOut)
	if !strings.Contains(out+errOut, "mcpgw auth login oa-serve") {
		t.Errorf("mcpgw doctor with a serve whose server needs a login does not say so:\n%s%s", out, errOut)
	}
	out, _, _ = runMcpgw(t, env, "auth", "status", "-o", "json")
	keep(out)
	if !strings.Contains(out, `"loggedIn": false`) || !strings.Contains(out, "revoked") {
		t.Errorf("auth status after revocation = %s; want not logged in, revoked", out)
	}

	// Logging in again (--no-browser: the URL is printed, and opened
	// here) reuses the client registered the first time, and the running
	// serve picks the login up without a restart.
	relogin := exec.Command(testenv.Mcpgw(t), "auth", "login", "oa-serve", "--no-browser")
	relogin.Env = env
	pr, pw, _ := os.Pipe()
	relogin.Stderr = pw
	if err := relogin.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	var printed testenv.SyncBuffer
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			printed.Write([]byte(sc.Text() + "\n"))
			if u, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), as.srv.URL+"/authorize?"); ok {
				if resp, err := http.Get(as.srv.URL + "/authorize?" + u); err == nil {
					resp.Body.Close()
				}
			}
		}
	}()
	if err := relogin.Wait(); err != nil {
		t.Fatalf("mcpgw auth login --no-browser: %v\n%s", err, printed.String())
	}
	keep(printed.String())
	as.mu.Lock()
	registered := as.registered
	as.mu.Unlock()
	if registered != 1 {
		t.Errorf("two logins registered %d clients, want 1 (the first registration reused)", registered)
	}
	deadline = time.After(60 * time.Second)
	for listed := false; !listed; {
		select {
		case <-a1.changed:
		case <-deadline:
			t.Fatalf("the running serve did not list oa-serve's tools again after a new login")
		}
		res, err := a1.cs.ListTools(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		listed = slices.ContainsFunc(res.Tools, func(tl *mcp.Tool) bool { return tl.Name == "oa-serve__whoami" })
	}

	// A server given its credential in headers: gets that, never a login.
	hdrCfg := writeConfig(t, fmt.Sprintf("servers:\n  oa-header:\n    url: %s/mcp\n    headers: {Authorization: Bearer not-a-token}\n", as.srv.URL))
	out, errOut, _ = runMcpgw(t, append(env, "MCPGW_CONFIG="+hdrCfg), "tools", "-o", "json")
	keep(out + errOut)
	view.Servers = nil
	if err := json.Unmarshal([]byte(out), &view); err != nil || len(view.Servers) != 1 ||
		view.Servers[0].State != "failed" || strings.Contains(view.Servers[0].Error, "auth login") {
		t.Errorf("a server with an Authorization header that the server refuses: %+v (%v); want failed, and no login suggested", view.Servers, err)
	}

	// server add says when a server wants a login.
	_, errOut, err = runMcpgw(t, append(env, "MCPGW_CONFIG="+filepath.Join(dir, "other.yaml")), "server", "add", "other", "--url", as.srv.URL+"/mcp")
	if err != nil || !strings.Contains(errOut, "run: mcpgw auth login other") {
		t.Errorf("mcpgw server add --url of a protected server: %v\n%s\nwant it to name mcpgw auth login other", err, errOut)
	}

	// No token anywhere: the record, every stderr, the config file.
	a1.stop()
	a2.stop()
	files := []string{db, db + "-wal", cfgPath}
	for _, tok := range as.tokens() {
		for _, f := range files {
			if b, err := os.ReadFile(f); err == nil && strings.Contains(string(b), tok) {
				t.Errorf("%s holds a token", f)
			}
		}
		for i, b := range stderrs {
			if strings.Contains(b.String(), tok) {
				t.Errorf("stderr/output %d shows a token:\n%s", i, b.String())
			}
		}
	}
}

// TestAuthWithoutKeychain: with no keychain to read, auth status and
// logout say so and exit 6, rather than report no login or a logout that
// did not happen.
func TestAuthWithoutKeychain(t *testing.T) {
	env := []string{"DBUS_SESSION_BUS_ADDRESS=unix:path=" + filepath.Join(t.TempDir(), "no-bus"), "XDG_RUNTIME_DIR=" + t.TempDir(),
		"MCPGW_CONFIG=" + writeConfig(t, "servers:\n  gh:\n    url: https://mcp.example.invalid/mcp\n")}
	for _, k := range []string{"PATH", "HOME", "XDG_STATE_HOME"} {
		env = append(env, k+"="+os.Getenv(k))
	}
	for _, args := range [][]string{{"auth", "status", "-o", "json"}, {"auth", "logout", "gh"}} {
		cmd := exec.Command(testenv.Mcpgw(t), args...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 6 || !strings.Contains(string(out), "keychain is not available") {
			t.Errorf("mcpgw %s without a keychain: %v\n%s\nwant exit 6 saying the keychain is not available", strings.Join(args, " "), err, out)
		}
		if strings.Contains(string(out), "Logged out") {
			t.Errorf("mcpgw %s claims a logout it could not do:\n%s", strings.Join(args, " "), out)
		}
	}
}
