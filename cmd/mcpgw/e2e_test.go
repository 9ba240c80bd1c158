package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
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

// agentVersions are the protocol generations an agent may speak.
var agentVersions = []string{"2025-11-25", "2026-07-28"}

// agent is a go-sdk client driving a real `mcpgw serve` process, recording
// what the gateway relays to it.
type agent struct {
	client *mcp.Client
	cs     *mcp.ClientSession
	cmd    *exec.Cmd // the mcpgw serve process
	// stderr is the process's stderr, where a test keeps it.
	stderr fmt.Stringer

	mu       sync.Mutex
	progress []string
	logs     []*mcp.LoggingMessageParams
	updated  chan string
	changed  chan struct{}
}

func (a *agent) progressNotes() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.progress)
}

// startAgent launches mcpgw serve on cfg and connects to it at version.
func startAgent(t *testing.T, cfg, version string) *agent {
	t.Helper()
	return startAgentEnv(t, cfg, version)
}

// startAgentEnv is startAgent with extra KEY=VALUE environment for mcpgw.
func startAgentEnv(t *testing.T, cfg, version string, env ...string) *agent {
	t.Helper()
	cmd := exec.Command(testenv.Mcpgw(t), "serve", "--config", writeConfig(t, cfg))
	cmd.Env = append(os.Environ(), ownRecord(t, env)...)
	cmd.Stderr = &testWriter{t: t}
	return connectAgent(t, cmd, version)
}

// connectAgent starts cmd, an `mcpgw serve`, and connects to it at version
// as an agent that answers elicitation and sampling and has one root.
func connectAgent(t *testing.T, cmd *exec.Cmd, version string) *agent {
	t.Helper()
	a := &agent{updated: make(chan string, 8), changed: make(chan struct{}, 8)}
	client := mcp.NewClient(&mcp.Implementation{Name: "e2e-agent", Version: "1"}, &mcp.ClientOptions{
		ElicitationHandler: func(ctx context.Context, req *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
			return &mcp.ElicitResult{Action: "accept", Content: map[string]any{"name": "agent-answer"}}, nil
		},
		CreateMessageHandler: func(ctx context.Context, req *mcp.CreateMessageRequest) (*mcp.CreateMessageResult, error) {
			return &mcp.CreateMessageResult{Role: "assistant", Model: "e2e-model", Content: &mcp.TextContent{Text: "sampled-by-agent"}}, nil
		},
		ProgressNotificationHandler: func(ctx context.Context, req *mcp.ProgressNotificationClientRequest) {
			a.mu.Lock()
			a.progress = append(a.progress, fmt.Sprintf("%v:%v/%v", req.Params.ProgressToken, req.Params.Progress, req.Params.Total))
			a.mu.Unlock()
		},
		LoggingMessageHandler: func(ctx context.Context, req *mcp.LoggingMessageRequest) {
			a.mu.Lock()
			a.logs = append(a.logs, req.Params)
			a.mu.Unlock()
		},
		ResourceUpdatedHandler: func(ctx context.Context, req *mcp.ResourceUpdatedNotificationRequest) {
			a.updated <- req.Params.URI
		},
		ToolListChangedHandler: func(context.Context, *mcp.ToolListChangedRequest) {
			select {
			case a.changed <- struct{}{}:
			default:
			}
		},
	})
	client.AddRoots(&mcp.Root{URI: "file:///e2e-root", Name: "e2e"})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cs, err := client.Connect(ctx, &mcp.CommandTransport{Command: cmd}, &mcp.ClientSessionOptions{ProtocolVersion: version})
	if err != nil {
		t.Fatalf("connecting to mcpgw serve at %s: %v", version, err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			// Its goroutines, in the test's log (it is gone already if
			// the test failed because it died).
			cmd.Process.Signal(dumpSignal)
		}
		cs.Close()
	})
	a.client, a.cs, a.cmd = client, cs, cmd
	return a
}

// ownRecord gives an mcpgw a record (and catalog cache) of its test's own,
// unless env names one: a catalog cached by another test must not stand in
// for this one's servers.
func ownRecord(t testing.TB, env []string) []string {
	for _, e := range env {
		if strings.HasPrefix(e, "MCPGW_DB=") {
			return env
		}
	}
	return append(slices.Clip(env), "MCPGW_DB="+filepath.Join(t.TempDir(), "record.db"))
}

// writeConfig writes a configuration file into a temporary directory.
func writeConfig(t testing.TB, cfg string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// fixtureConfig is a configuration with the fixture as server "fx".
func fixtureConfig(fixture string) string {
	return fmt.Sprintf("servers:\n  fx:\n    command: %q\n", fixture)
}

// serveHTTP starts `mcpgw serve --http` on a free loopback port and returns
// its base URL; it is stopped when the test ends.
func serveHTTP(t *testing.T, ctx context.Context, cfgPath string) string {
	t.Helper()
	gw := exec.CommandContext(ctx, testenv.Mcpgw(t), "serve", "--http", "127.0.0.1:0", "--config", cfgPath)
	stderr, err := gw.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := gw.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { gw.Process.Signal(os.Interrupt); gw.Wait() })
	return readServingURL(t, stderr)
}

// testWriter sends a child's stderr to the test log.
type testWriter struct {
	t  *testing.T
	mu sync.Mutex
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.t.Logf("mcpgw: %s", strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func textOf(t *testing.T, res *mcp.CallToolResult) string {
	t.Helper()
	var parts []string
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			parts = append(parts, tc.Text)
		}
	}
	return strings.Join(parts, "\n")
}

func call(t *testing.T, ctx context.Context, a *agent, name string, args map[string]any) *mcp.CallToolResult {
	t.Helper()
	res, err := a.cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("tools/call %s: %v", name, err)
	}
	return res
}

// TestServeFixtureEveryVersion drives a built mcpgw in front of the Go
// fixture server, with the agent at each protocol version and the server at
// each version, checking every relay the gateway owes the agent.
func TestServeFixtureEveryVersion(t *testing.T) {
	fixture := testenv.Fixture(t)
	for _, agentV := range agentVersions {
		for _, serverV := range agentVersions {
			t.Run("agent="+agentV+"/server="+serverV, func(t *testing.T) {
				t.Parallel()
				cfg := fmt.Sprintf("servers:\n  fx:\n    command: %q\n    protocol_version: %q\n", fixture, serverV)
				a := startAgent(t, cfg, agentV)
				ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
				defer cancel()
				checkFixture(t, ctx, a, agentV)
			})
		}
	}
}

func checkFixture(t *testing.T, ctx context.Context, a *agent, agentV string) {
	tools, err := a.cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatalf("tools/list: %v", err)
	}
	var names []string
	for _, tl := range tools.Tools {
		names = append(names, tl.Name)
	}
	for _, want := range []string{"fx__echo", "fx__add", "fx__progress", "fx__elicit", "fx__sample"} {
		if !slices.Contains(names, want) {
			t.Fatalf("tools/list lacks %s; got %v", want, names)
		}
	}
	for _, n := range names {
		if len(n) > 60 {
			t.Errorf("exposed name %q is longer than 60", n)
		}
	}

	if got := textOf(t, call(t, ctx, a, "fx__echo", map[string]any{"text": "hi there"})); got != "hi there" {
		t.Errorf("echo = %q", got)
	}
	add := call(t, ctx, a, "fx__add", map[string]any{"a": 2, "b": 3})
	if sc, _ := json.Marshal(add.StructuredContent); !strings.Contains(string(sc), `"sum":5`) {
		t.Errorf("add structuredContent = %s, want sum 5", sc)
	}
	if res := call(t, ctx, a, "fx__fail", nil); !res.IsError || !strings.Contains(textOf(t, res), "fixture failure") {
		t.Errorf("fail: isError=%v text=%q", res.IsError, textOf(t, res))
	}
	img := call(t, ctx, a, "fx__image", nil)
	var kinds []string
	for _, c := range img.Content {
		kinds = append(kinds, fmt.Sprintf("%T", c))
	}
	for _, k := range []string{"*mcp.ImageContent", "*mcp.AudioContent", "*mcp.EmbeddedResource", "*mcp.ResourceLink"} {
		if !slices.Contains(kinds, k) {
			t.Errorf("image content lacks %s: %v", k, kinds)
		}
	}

	// Progress: the agent's own token comes back on each notification.
	res, err := a.cs.CallTool(ctx, &mcp.CallToolParams{Name: "fx__progress", Arguments: map[string]any{"steps": 3}, Meta: mcp.Meta{"progressToken": "tok-7"}})
	if err != nil || textOf(t, res) != "done" {
		t.Fatalf("progress: %v %v", res, err)
	}
	// Notifications and the result travel separately to the client: wait
	// for all three, then check their order and tokens.
	want := []string{"tok-7:1/3", "tok-7:2/3", "tok-7:3/3"}
	waitFor(t, ctx, "three progress notifications", func() bool { return len(a.progressNotes()) >= 3 })
	if got := a.progressNotes(); !slices.Equal(got, want) {
		t.Errorf("progress relayed = %v, want %v", got, want)
	}

	// Cancellation reaches the server.
	before := textOf(t, call(t, ctx, a, "fx__cancelled_count", nil))
	wctx, wcancel := context.WithCancel(ctx)
	errc := make(chan error, 1)
	go func() {
		_, err := a.cs.CallTool(wctx, &mcp.CallToolParams{Name: "fx__wait", Meta: mcp.Meta{"progressToken": "wait-1"}})
		errc <- err
	}()
	waitFor(t, ctx, "wait to start", func() bool {
		return slices.ContainsFunc(a.progressNotes(), func(s string) bool { return strings.HasPrefix(s, "wait-1:") })
	})
	wcancel()
	if err := <-errc; err == nil {
		t.Error("cancelled call returned no error")
	}
	waitFor(t, ctx, "the server to see the cancellation", func() bool {
		return textOf(t, call(t, ctx, a, "fx__cancelled_count", nil)) != before
	})

	// Elicitation and sampling reach the agent and come back.
	if got := textOf(t, call(t, ctx, a, "fx__elicit", map[string]any{"message": "who?"})); !strings.Contains(got, "action=accept") || !strings.Contains(got, "agent-answer") {
		t.Errorf("elicit = %q", got)
	}
	if got := textOf(t, call(t, ctx, a, "fx__sample", map[string]any{"prompt": "hi"})); !strings.Contains(got, "sampled-by-agent") {
		t.Errorf("sample = %q", got)
	}

	// Resources: read a listed one and a linked (template) one.
	rr, err := a.cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "fixture://static/hello"})
	if err != nil || rr.Contents[0].Text != "hello" {
		t.Errorf("read hello: %v %v", rr, err)
	}
	rr, err = a.cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "fixture://items/1"})
	if err != nil || rr.Contents[0].Text != "item 1" {
		t.Errorf("read item: %v %v", rr, err)
	}
	if _, err := a.cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "nowhere://x"}); err == nil {
		t.Error("reading a URI no server listed succeeded")
	}

	// Prompts and completion route to the owner under the exposed name.
	pr, err := a.cs.GetPrompt(ctx, &mcp.GetPromptParams{Name: "fx__greet", Arguments: map[string]string{"name": "Ada"}})
	if err != nil || pr.Messages[0].Content.(*mcp.TextContent).Text != "Hello, Ada!" {
		t.Errorf("prompt: %v %v", pr, err)
	}
	comp, err := a.cs.Complete(ctx, &mcp.CompleteParams{Ref: &mcp.CompleteReference{Type: "ref/prompt", Name: "fx__greet"}, Argument: mcp.CompleteParamsArgument{Name: "name", Value: "a"}})
	if err != nil || !slices.Contains(comp.Completion.Values, "alice") {
		t.Errorf("complete: %v %v", comp, err)
	}

	// Subscriptions: an update from the server reaches the subscriber.
	if err := a.cs.Subscribe(ctx, &mcp.SubscribeParams{URI: "fixture://static/hello"}); err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	// A 2026-07-28 client subscribes with a background subscriptions/listen
	// that Subscribe does not wait for, so touch until the update arrives.
	for updated := false; !updated; {
		call(t, ctx, a, "fx__touch", map[string]any{"uri": "fixture://static/hello"})
		select {
		case uri := <-a.updated:
			if uri != "fixture://static/hello" {
				t.Errorf("updated %q", uri)
			}
			updated = true
		case <-time.After(200 * time.Millisecond):
		case <-ctx.Done():
			t.Fatal("no resources/updated relayed")
		}
	}
	// list_changed: a server's tool list change reaches the agent.
	call(t, ctx, a, "fx__toggle", nil)
	select {
	case <-a.changed:
	case <-ctx.Done():
		t.Fatal("no tools/list_changed relayed")
	}
	waitFor(t, ctx, "fx__extra to be listed", func() bool {
		tl, err := a.cs.ListTools(ctx, nil)
		return err == nil && slices.ContainsFunc(tl.Tools, func(x *mcp.Tool) bool { return x.Name == "fx__extra" })
	})

	// Roots: the agent's roots reach the server.
	if got := textOf(t, call(t, ctx, a, "fx__roots", nil)); !strings.Contains(got, "file:///e2e-root") {
		t.Errorf("roots = %q", got)
	}
	if agentV >= "2026-07-28" {
		// No logging/setLevel: the level travels with each request, and
		// the server's messages come back within the call.
		_, err := a.cs.CallTool(ctx, &mcp.CallToolParams{Name: "fx__log", Arguments: map[string]any{"level": "info", "message": "hello new log"},
			Meta: mcp.Meta{"io.modelcontextprotocol/logLevel": "debug"}})
		if err != nil {
			t.Fatalf("log: %v", err)
		}
		waitFor(t, ctx, "a relayed log message", func() bool {
			a.mu.Lock()
			defer a.mu.Unlock()
			return slices.ContainsFunc(a.logs, func(l *mcp.LoggingMessageParams) bool {
				return l.Logger == "fx/fixture" && fmt.Sprint(l.Data) == "hello new log"
			})
		})
		return
	}
	// Logging: setLevel fans out; messages come back named after the server.
	if err := a.cs.SetLoggingLevel(ctx, &mcp.SetLoggingLevelParams{Level: "debug"}); err != nil {
		t.Fatalf("setLevel: %v", err)
	}
	call(t, ctx, a, "fx__log", map[string]any{"level": "info", "message": "hello log"})
	waitFor(t, ctx, "a relayed log message", func() bool {
		a.mu.Lock()
		defer a.mu.Unlock()
		return slices.ContainsFunc(a.logs, func(l *mcp.LoggingMessageParams) bool {
			return l.Logger == "fx/fixture" && fmt.Sprint(l.Data) == "hello log"
		})
	})
}

// waitFor polls cond until it holds or ctx ends.
func waitFor(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// TestServerInstructions passes the servers' instructions on, each under a
// heading with the server's name, in config order: from the servers' start
// on a first run, from the catalog cache after.
func TestServerInstructions(t *testing.T) {
	fx := testenv.Fixture(t)
	db := filepath.Join(t.TempDir(), "record.db")
	cfg := fmt.Sprintf("servers:\n  second:\n    command: %q\n  first:\n    command: %q\n", fx, fx)
	want := "## second\n\nTest fixture for mcpgw.\n\n## first\n\nTest fixture for mcpgw."
	for _, version := range agentVersions {
		for _, run := range []string{"first run", "from the cache"} {
			a := startAgentEnv(t, cfg, version, "MCPGW_DB="+db)
			if got := a.cs.InitializeResult().Instructions; got != want {
				t.Errorf("%s, %s: instructions %q; want %q", version, run, got, want)
			}
			a.cs.Close()
			a.cmd.Wait()
		}
	}
}

// wantAll fails the test unless s holds every one of subs.
func wantAll(t *testing.T, what, s string, subs ...string) {
	t.Helper()
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			t.Errorf("%s = %q; want it to contain %q", what, s, sub)
		}
	}
}

// failureText returns what the agent sees of a call that must fail: the
// text of a tool error result, or the message of a protocol error.
func failureText(t *testing.T, res *mcp.CallToolResult, err error) string {
	t.Helper()
	if err != nil {
		return err.Error()
	}
	if !res.IsError {
		t.Fatalf("the call succeeded (%.200q); want it to fail", textOf(t, res))
	}
	return textOf(t, res)
}
