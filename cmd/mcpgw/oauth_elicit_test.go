package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgw/mcpgw/cmd/internal/testenv"
)

// urlAgent is an agent that declares URL-mode elicitation and, when it
// accepts, follows the URL headlessly (the authorization server approves
// at once and redirects to mcpgw's loopback listener), as a person's
// browser would. Before following it, it sends mcpgw's listener a
// redirect with a forged state, which must be refused.
type urlAgent struct {
	cs      *mcp.ClientSession
	changed chan struct{}

	mu        sync.Mutex
	decline   bool
	asked     []*mcp.ElicitParams
	completed []string
	forged    []int // the listener's status for each forged redirect
	followErr error
}

func connectURLAgent(t *testing.T, env []string, version string) *urlAgent {
	t.Helper()
	a := &urlAgent{changed: make(chan struct{}, 8)}
	client := mcp.NewClient(&mcp.Implementation{Name: "url-agent", Version: "1"}, &mcp.ClientOptions{
		Capabilities: &mcp.ClientCapabilities{Elicitation: &mcp.ElicitationCapabilities{URL: &mcp.URLElicitationCapabilities{}}},
		ElicitationHandler: func(ctx context.Context, req *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
			a.mu.Lock()
			a.asked = append(a.asked, req.Params)
			decline := a.decline
			a.mu.Unlock()
			if decline || req.Params.Mode != "url" {
				return &mcp.ElicitResult{Action: "decline"}, nil
			}
			a.follow(req.Params.URL)
			return &mcp.ElicitResult{Action: "accept"}, nil
		},
		ElicitationCompleteHandler: func(ctx context.Context, req *mcp.ElicitationCompleteNotificationRequest) {
			a.mu.Lock()
			a.completed = append(a.completed, req.Params.ElicitationID)
			a.mu.Unlock()
		},
		ToolListChangedHandler: func(context.Context, *mcp.ToolListChangedRequest) {
			select {
			case a.changed <- struct{}{}:
			default:
			}
		},
	})
	cmd := exec.Command(testenv.Mcpgw(t), "serve")
	cmd.Env = env
	stderr := &testenv.SyncBuffer{}
	cmd.Stderr = stderr
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cs, err := client.Connect(ctx, &mcp.CommandTransport{Command: cmd}, &mcp.ClientSessionOptions{ProtocolVersion: version})
	if err != nil {
		t.Fatalf("connecting to mcpgw serve: %v", err)
	}
	t.Cleanup(func() {
		cs.Close()
		if t.Failed() {
			t.Logf("serve's stderr:\n%s", stderr)
		}
	})
	a.cs = cs
	return a
}

// follow opens u as a browser would, after a forged redirect to the same
// listener.
func (a *urlAgent) follow(u string) {
	var err error
	defer func() {
		a.mu.Lock()
		a.followErr = err
		a.mu.Unlock()
	}()
	pu, err := url.Parse(u)
	if err != nil {
		return
	}
	redirect := pu.Query().Get("redirect_uri")
	forged, err := http.Get(redirect + "?" + url.Values{"code": {"forged"}, "state": {"forged-state"}}.Encode())
	if err != nil {
		return
	}
	forged.Body.Close()
	a.mu.Lock()
	a.forged = append(a.forged, forged.StatusCode)
	a.mu.Unlock()
	resp, err := http.Get(u)
	if err != nil {
		return
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("following the authorization URL ended with %s", resp.Status)
	}
}

func (a *urlAgent) call(t *testing.T, name string) (string, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := a.cs.CallTool(ctx, &mcp.CallToolParams{Name: name})
	if err != nil {
		t.Fatalf("call %s: %v", name, err)
	}
	return textOfResult(res), res.IsError
}

// declines calls tool of server once, declining the login page: the call
// fails saying why and naming the command.
func (a *urlAgent) declines(t *testing.T, server, tool string) {
	t.Helper()
	a.mu.Lock()
	a.decline = true
	a.mu.Unlock()
	defer func() {
		a.mu.Lock()
		a.decline = false
		a.mu.Unlock()
	}()
	text, isErr := a.call(t, server+"__"+tool)
	if !isErr || !strings.Contains(text, "did not open the authorization page") || !strings.Contains(text, "mcpgw auth login "+server) {
		t.Errorf("declined login: %s = %q (error %v); want why and mcpgw auth login %s", tool, text, isErr, server)
	}
}

func (a *urlAgent) lists(t *testing.T, name string) bool {
	t.Helper()
	res, err := a.cs.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatalf("tools/list: %v", err)
	}
	return slices.ContainsFunc(res.Tools, func(tl *mcp.Tool) bool { return tl.Name == name })
}

// TestOAuthElicitLogin drives real `mcpgw serve` processes whose remote
// server allows logins through the agent (oauth: {elicit_login: true}),
// against a local authorization server: an agent without URL-mode
// elicitation is told which command to run; one that declines the page
// too; one that accepts is asked to open the authorization URL, mcpgw
// takes the redirect (refusing a forged state), stores the login, sends
// notifications/elicitation/complete, lists the server's tools again and
// the call goes on. A call refused for want of scope (403
// insufficient_scope) says which login command gives it, or, for an agent
// that takes URLs, asks it for the union of scopes and retries once.
func TestOAuthElicitLogin(t *testing.T) {
	as := newTestAS(t)
	dir := t.TempDir()
	env := oauthEnv(t, filepath.Join(dir, "record.db"))
	cfgPath := writeConfig(t, fmt.Sprintf("servers:\n  oa-el:\n    url: %s/mcp\n    oauth: {elicit_login: true}\n", as.srv.URL))
	env = append(env, "MCPGW_CONFIG="+cfgPath)

	// An agent that cannot open URLs: the command to run, no login.
	plain := connectAgent(t, func() *exec.Cmd { c := exec.Command(testenv.Mcpgw(t), "serve"); c.Env = env; return c }(), "2025-11-25")
	res, err := plain.cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "oa-el__whoami"})
	if err != nil || !res.IsError || !strings.Contains(textOfResult(res), "mcpgw auth login oa-el") {
		t.Fatalf("agent without URL elicitation: whoami = %v, %v; want an error naming mcpgw auth login oa-el", res, err)
	}

	// Nor can one speaking 2026-07-28 (TestOAuthElicitLoginInput has one
	// that can).
	plain26 := connectAgent(t, func() *exec.Cmd { c := exec.Command(testenv.Mcpgw(t), "serve"); c.Env = env; return c }(), "2026-07-28")
	res, err = plain26.cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "oa-el__whoami"})
	if err != nil || !res.IsError || !strings.Contains(textOfResult(res), "mcpgw auth login oa-el") {
		t.Fatalf("2026-07-28 agent without URL elicitation: whoami = %v, %v; want an error naming mcpgw auth login oa-el", res, err)
	}

	// (No tools/list before the first call: it would offer the login,
	// which TestOAuthElicitLoginAtList tests.)
	a := connectURLAgent(t, env, "2025-11-25")

	// Declined: nothing is stored, the call says what else to do.
	a.declines(t, "oa-el", "whoami")
	for len(a.changed) > 0 {
		<-a.changed
	}

	// Accepted: logged in, the call goes on.
	text, isErr := a.call(t, "oa-el__whoami")
	if isErr || text != "alice, with token [redacted:oauth-oa-el]" {
		t.Fatalf("whoami after a login through the agent = %q (error %v); want the call through, its token redacted", text, isErr)
	}
	a.mu.Lock()
	asked, completed, forged, followErr := slices.Clone(a.asked), slices.Clone(a.completed), slices.Clone(a.forged), a.followErr
	a.mu.Unlock()
	if followErr != nil {
		t.Fatalf("following the login URL: %v", followErr)
	}
	if len(asked) != 2 {
		for _, q := range asked {
			t.Logf("asked: %s %s %s", q.Mode, q.URL, q.ElicitationID)
		}
		t.Fatalf("elicitations = %d, want 2 (declined, accepted)", len(asked))
	}
	login := asked[1]
	if login.Mode != "url" || !strings.HasPrefix(login.URL, as.srv.URL+"/authorize?") || login.ElicitationID == "" {
		t.Errorf("login elicitation = mode %q url %q id %q; want mode url, the authorization URL, an id", login.Mode, login.URL, login.ElicitationID)
	}
	if !slices.Contains(completed, login.ElicitationID) {
		t.Errorf("notifications/elicitation/complete for %v; want one for %q", completed, login.ElicitationID)
	}
	if !slices.Equal(forged, []int{http.StatusBadRequest}) {
		t.Errorf("a redirect with a forged state got %v; want 400", forged)
	}
	select {
	case <-a.changed:
	case <-time.After(30 * time.Second):
		t.Errorf("no tools/list_changed after the login")
	}
	if !a.lists(t, "oa-el__whoami") {
		t.Errorf("after the login the server's tools are not listed")
	}

	// More scope, for an agent that cannot open URLs: the command.
	plain2 := connectAgent(t, func() *exec.Cmd { c := exec.Command(testenv.Mcpgw(t), "serve"); c.Env = env; return c }(), "2025-11-25")
	res, err = plain2.cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "oa-el__admin"})
	want := `run: mcpgw auth login oa-el --scope "tools admin"`
	if err != nil || !res.IsError || !strings.Contains(textOfResult(res), want) {
		t.Errorf("insufficient scope, agent without URL elicitation: admin = %v, %v; want an error saying %s", textOfResult(res), err, want)
	}
	// The refusal ends that call only: the server's session goes on.
	if res, err = plain2.cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "oa-el__whoami"}); err != nil || res.IsError {
		t.Errorf("whoami after a call refused for want of scope = %v, %v; want it through", res, err)
	}

	// More scope, for an agent that can: one more page, the union of
	// scopes, the call retried.
	text, isErr = a.call(t, "oa-el__admin")
	if isErr || text != "admin done" {
		t.Fatalf("admin after a step-up through the agent = %q (error %v); want it done", text, isErr)
	}
	a.mu.Lock()
	asked, completed = slices.Clone(a.asked), slices.Clone(a.completed)
	a.mu.Unlock()
	if len(asked) != 3 {
		t.Fatalf("elicitations = %d, want 3 (the step-up)", len(asked))
	}
	su, _ := url.Parse(asked[2].URL)
	if got := strings.Fields(su.Query().Get("scope")); !slices.Contains(got, "tools") || !slices.Contains(got, "admin") {
		t.Errorf("step-up asked for scope %q; want tools and admin", got)
	}
	if !slices.Contains(completed, asked[2].ElicitationID) {
		t.Errorf("no notifications/elicitation/complete for the step-up")
	}

	// A revoked login: the call that finds out says so; the server is in
	// needs_login; then two calls at once make one login through the
	// agent, and both go through.
	as.invalidate(true)
	if text, isErr := a.call(t, "oa-el__whoami"); !isErr || !strings.Contains(text, "mcpgw auth login oa-el") {
		t.Errorf("after revocation: whoami = %q (error %v); want an error naming mcpgw auth login oa-el", text, isErr)
	}
	deadline := time.After(30 * time.Second)
	for a.lists(t, "oa-el__whoami") {
		select {
		case <-a.changed:
		case <-deadline:
			t.Fatalf("the serve still lists oa-el's tools after the login was revoked")
		}
	}
	a.mu.Lock()
	before := len(a.asked)
	a.mu.Unlock()
	var wg sync.WaitGroup
	results := make([]string, 2)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := a.cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "oa-el__whoami"})
			switch {
			case err != nil:
				results[i] = err.Error()
			case res.IsError:
				results[i] = "error: " + textOfResult(res)
			}
		}()
	}
	wg.Wait()
	if results[0] != "" || results[1] != "" {
		t.Errorf("two calls to a server in needs_login: %q; want both through after one login", results)
	}
	a.mu.Lock()
	if n := len(a.asked) - before; n != 1 {
		t.Errorf("two calls to a server in needs_login made %d elicitations, want 1", n)
	}
	a.mu.Unlock()

	// The command the error named works.
	if _, errOut, err := runMcpgw(t, env, "auth", "login", "oa-el", "--scope", "tools admin"); err != nil {
		t.Fatalf("mcpgw auth login --scope: %v\n%s", err, errOut)
	}
	out, _, err := runMcpgw(t, env, "auth", "status", "-o", "json")
	var st []map[string]any
	if err != nil || json.Unmarshal([]byte(out), &st) != nil || len(st) != 1 {
		t.Fatalf("mcpgw auth status -o json = %q, %v", out, err)
	}
	if sc := fmt.Sprint(st[0]["scopes"]); !strings.Contains(sc, "admin") {
		t.Errorf("after auth login --scope \"tools admin\": scopes %s; want admin among them", sc)
	}
}

// elicitLoginSetup starts a local authorization server and returns it with
// the environment of a serve whose one server, server, is behind it and
// allows logins through the agent.
func elicitLoginSetup(t *testing.T, server string) (*testAS, []string) {
	t.Helper()
	as := newTestAS(t)
	env := oauthEnv(t, filepath.Join(t.TempDir(), "record.db"))
	cfgPath := writeConfig(t, fmt.Sprintf("servers:\n  %s:\n    url: %s/mcp\n    oauth: {elicit_login: true}\n", server, as.srv.URL))
	return as, append(env, "MCPGW_CONFIG="+cfgPath)
}

// TestOAuthElicitLoginInput: an agent speaking 2026-07-28 that declares
// URL-mode elicitation, calling a tool of a server in needs_login that
// allows logins through the agent, gets the authorization page as
// input_required (it cannot be sent requests); declined, the retry says
// what else to do; accepted, mcpgw takes the redirect (refusing a forged
// state), stores the login, and the retried call goes on.
func TestOAuthElicitLoginInput(t *testing.T) {
	as, env := elicitLoginSetup(t, "oa-in")
	a := connectURLAgent(t, env, "2026-07-28")

	a.declines(t, "oa-in", "whoami")
	text, isErr := a.call(t, "oa-in__whoami")
	if isErr || text != "alice, with token [redacted:oauth-oa-in]" {
		t.Fatalf("whoami after a login through input_required = %q (error %v); want the call through, its token redacted", text, isErr)
	}
	a.mu.Lock()
	asked, forged, followErr := slices.Clone(a.asked), slices.Clone(a.forged), a.followErr
	a.mu.Unlock()
	if followErr != nil {
		t.Fatalf("following the login URL: %v", followErr)
	}
	if len(asked) != 2 {
		t.Fatalf("elicitations = %d, want 2 (declined, accepted)", len(asked))
	}
	for i, q := range asked {
		if q.Mode != "url" || !strings.HasPrefix(q.URL, as.srv.URL+"/authorize?") || q.ElicitationID == "" {
			t.Errorf("elicitation %d = mode %q url %q id %q; want mode url, the authorization URL, an id", i, q.Mode, q.URL, q.ElicitationID)
		}
	}
	if !slices.Equal(forged, []int{http.StatusBadRequest}) {
		t.Errorf("a redirect with a forged state got %v; want 400", forged)
	}
	if !a.lists(t, "oa-in__whoami") {
		t.Errorf("after the login the server's tools are not listed")
	}
	// The login is stored: a new process uses it without asking.
	b := connectURLAgent(t, env, "2026-07-28")
	if text, isErr := b.call(t, "oa-in__whoami"); isErr || text != "alice, with token [redacted:oauth-oa-in]" {
		t.Errorf("a second serve after the login: whoami = %q (error %v); want it through", text, isErr)
	}
	b.mu.Lock()
	if len(b.asked) != 0 {
		t.Errorf("a second serve asked %d logins; want none", len(b.asked))
	}
	b.mu.Unlock()
}

// TestOAuthElicitLoginAtList: the first tools/list of an agent that takes
// URLs, with a server in needs_login that allows logins through the agent,
// answers without the server's tools and asks the agent to open the login
// page; once it came back, list_changed brings the tools.
func TestOAuthElicitLoginAtList(t *testing.T) {
	as, env := elicitLoginSetup(t, "oa-list")
	a := connectURLAgent(t, env, "2025-11-25")
	if a.lists(t, "oa-list__whoami") {
		t.Fatalf("a server with no login lists its tools")
	}
	deadline := time.After(60 * time.Second)
	for !a.lists(t, "oa-list__whoami") {
		select {
		case <-a.changed:
		case <-deadline:
			t.Fatalf("no tools of oa-list after the tools/list that offered its login")
		}
	}
	a.mu.Lock()
	asked, completed, followErr := slices.Clone(a.asked), slices.Clone(a.completed), a.followErr
	a.mu.Unlock()
	if followErr != nil {
		t.Fatalf("following the login URL: %v", followErr)
	}
	if len(asked) != 1 || asked[0].Mode != "url" || !strings.HasPrefix(asked[0].URL, as.srv.URL+"/authorize?") {
		t.Fatalf("elicitations after the first tools/list = %v; want one, mode url, the authorization URL", asked)
	}
	if !slices.Contains(completed, asked[0].ElicitationID) {
		t.Errorf("notifications/elicitation/complete for %v; want one for %q", completed, asked[0].ElicitationID)
	}
	if text, isErr := a.call(t, "oa-list__whoami"); isErr || text != "alice, with token [redacted:oauth-oa-list]" {
		t.Errorf("whoami after the login = %q (error %v)", text, isErr)
	}
}
