package main

// What real servers send reaches the agent as if it spoke to them
// directly: each test here runs a case where mcpgw once differed from the
// direct conversation.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/mcpgw/mcpgw/cmd/internal/testenv"
	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// everythingConfig is a configuration with the npm server-everything as
// server "everything".
func everythingConfig(t *testing.T) string {
	return fmt.Sprintf("servers:\n  everything:\n    command: %q\n    args: [\"stdio\"]\n", testenv.NpmBin(t, "mcp-server-everything"))
}

// TestLogsBeforeSetLevel relays the log messages a server sends before the
// agent has set a level: a server the agent spoke to directly would send
// them, and server-everything does. (At 2026-07-28 there is no session
// level: a request asks for log messages in its own _meta, or gets none.)
func TestLogsBeforeSetLevel(t *testing.T) {
	cfg := everythingConfig(t)
	for _, v := range []string{"2025-11-25"} {
		t.Run(v, func(t *testing.T) {
			a := startAgent(t, cfg, v)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			call(t, ctx, a, "everything__toggle-simulated-logging", nil)
			waitFor(t, ctx, "a log message from server-everything", func() bool {
				a.mu.Lock()
				defer a.mu.Unlock()
				for _, l := range a.logs {
					if strings.HasPrefix(l.Logger, "everything") {
						return true
					}
				}
				return false
			})
		})
	}
}

// TestRootsRelayed gives servers the agent's roots and tells them of a
// change once per change the agent reports, over stdio and HTTP: a
// roots/list_changed that changes nothing tells servers nothing, and the
// HTTP agent's roots reach a server even when its stream was not connected
// when it initialized.
func TestRootsRelayed(t *testing.T) {
	cfg := writeConfig(t, fixtureConfig(testenv.Fixture(t)))
	for _, front := range []string{"stdio", "http"} {
		t.Run(front, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			var a *agent
			if front == "stdio" {
				cmd := exec.Command(testenv.Mcpgw(t), "serve", "--config", cfg)
				cmd.Env = append(os.Environ(), ownRecord(t, nil)...)
				cmd.Stderr = &testWriter{t: t}
				a = connectAgent(t, cmd, "2025-11-25")
			} else {
				url := serveHTTP(t, ctx, cfg)
				client := mcp.NewClient(&mcp.Implementation{Name: "http-agent", Version: "1"}, nil)
				client.AddRoots(&mcp.Root{URI: "file:///e2e-root", Name: "e2e"})
				cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: url + "mcp"}, &mcp.ClientSessionOptions{ProtocolVersion: "2025-11-25"})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { cs.Close() })
				a = &agent{client: client, cs: cs}
			}
			roots := func() string { return textOf(t, call(t, ctx, a, "fx__roots", nil)) }
			changes := func() int {
				n, err := strconv.Atoi(textOf(t, call(t, ctx, a, "fx__roots_changed_count", nil)))
				if err != nil {
					t.Fatal(err)
				}
				return n
			}
			if got := roots(); got != "file:///e2e-root" {
				t.Fatalf("the server sees roots %q; want the agent's", got)
			}
			before := changes()
			// The same root again (the agent says its roots changed; they
			// did not), then a new one.
			a.client.AddRoots(&mcp.Root{URI: "file:///e2e-root", Name: "e2e"})
			a.client.AddRoots(&mcp.Root{URI: "file:///second", Name: "second"})
			waitFor(t, ctx, "the new root", func() bool { return roots() == "file:///e2e-root\nfile:///second" })
			if got := changes() - before; got != 1 {
				t.Errorf("the server was told of %d changes; the roots changed once", got)
			}
		})
	}
}

// tapTransport records every message a client reads.
type tapTransport struct {
	mcp.Transport
	mu     sync.Mutex
	read   []jsonrpc.Message
	waitID jsonrpc.ID // the id of the client's fx__wait call
}

func (t *tapTransport) Connect(ctx context.Context) (mcp.Connection, error) {
	c, err := t.Transport.Connect(ctx)
	return tapConn{c, t}, err
}

func (t *tapTransport) responsesTo(id jsonrpc.ID) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, m := range t.read {
		if r, ok := m.(*jsonrpc.Response); ok && r.ID == id {
			n++
		}
	}
	return n
}

type tapConn struct {
	mcp.Connection
	t *tapTransport
}

func (c tapConn) Read(ctx context.Context) (jsonrpc.Message, error) {
	m, err := c.Connection.Read(ctx)
	if err == nil {
		c.t.mu.Lock()
		c.t.read = append(c.t.read, m)
		c.t.mu.Unlock()
	}
	return m, err
}

func (c tapConn) Write(ctx context.Context, m jsonrpc.Message) error {
	if r, ok := m.(*jsonrpc.Request); ok && r.Method == "tools/call" && strings.Contains(string(r.Params), `"fx__wait"`) {
		c.t.mu.Lock()
		c.t.waitID = r.ID
		c.t.mu.Unlock()
	}
	return c.Connection.Write(ctx, m)
}

// TestCancelledCallGetsNoAnswer cancels a call in flight: the server's
// handler is cancelled, and the agent gets no response for the request it
// cancelled (the spec says none is sent), over stdio at both protocol
// generations (the fast path and the SDK path) and over HTTP.
func TestCancelledCallGetsNoAnswer(t *testing.T) {
	t.Parallel()
	cfg := writeConfig(t, fixtureConfig(testenv.Fixture(t)))
	for _, tc := range []struct{ front, version string }{{"stdio", "2025-11-25"}, {"stdio", "2026-07-28"}, {"http", "2025-11-25"}} {
		t.Run(tc.front+"-"+tc.version, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			base := frontTransport(t, ctx, tc.front, cfg)
			tap := &tapTransport{Transport: base}
			cs, err := mcp.NewClient(&mcp.Implementation{Name: "cancel-agent", Version: "1"}, nil).Connect(ctx, tap, &mcp.ClientSessionOptions{ProtocolVersion: tc.version})
			if err != nil {
				t.Fatal(err)
			}
			defer cs.Close()
			a := &agent{cs: cs}
			counts := func() (waiting, cancelled float64) {
				res := call(t, ctx, a, "fx__cancelled_count", nil)
				m, _ := res.StructuredContent.(map[string]any)
				w, _ := m["waiting"].(float64)
				c, _ := m["cancelled"].(float64)
				return w, c
			}
			cctx, ccancel := context.WithCancel(ctx)
			done := make(chan error, 1)
			go func() {
				_, err := cs.CallTool(cctx, &mcp.CallToolParams{Name: "fx__wait"})
				done <- err
			}()
			waitFor(t, ctx, "the call to reach the server", func() bool { w, _ := counts(); return w == 1 })
			ccancel()
			<-done
			waitFor(t, ctx, "the server's handler to be cancelled", func() bool { _, c := counts(); return c == 1 })
			// Anything mcpgw answered for the cancelled request would have
			// been written before this round trip's answer.
			if err := cs.Ping(ctx, nil); err != nil {
				t.Fatal(err)
			}
			tap.mu.Lock()
			id := tap.waitID
			tap.mu.Unlock()
			if n := tap.responsesTo(id); n != 0 {
				t.Errorf("the agent got %d responses to the request it cancelled; want none", n)
			}
		})
	}
}

// TestCancelReasonForwarded cancels a call with a reason of the agent's
// own: the server hears that reason, not mcpgw's. (The raw stdio fast path
// carries it; it takes calls once the gateway has settled, so the test
// tries a few calls.)
func TestCancelReasonForwarded(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	raw := startRawStdio(t, ctx, writeConfig(t, fixtureConfig(testenv.Fixture(t))))
	in, request := raw.in, raw.request
	id := &raw.id
	request("initialize", `{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}`)
	fmt.Fprintln(in, `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	count := `{"name":"fx__cancelled_count"}`
	for try := 1; ; try++ {
		*id++
		wait := *id
		fmt.Fprintf(in, `{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"fx__wait"}}`+"\n", wait)
		for !strings.Contains(request("tools/call", count), `"waiting":1`) {
		}
		fmt.Fprintf(in, `{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":%d,"reason":"the person pressed stop"}}`+"\n", wait)
		for !strings.Contains(request("tools/call", count), `"waiting":0`) {
		}
		reason := request("tools/call", `{"name":"fx__cancel_reason"}`)
		if strings.Contains(reason, "the person pressed stop") {
			return
		}
		if try == 5 {
			t.Fatalf("the server heard %s; want the agent's reason", reason)
		}
	}
}

// TestCancelReasonOnSDKPath is TestCancelReasonForwarded where calls take
// the go-sdk's path (stdio across protocol generations, where the go-sdk's
// client calls the server), and over HTTP (the session fast path, or the
// SDK's across generations): the server hears the agent's reason, not
// "context canceled".
func TestCancelReasonOnSDKPath(t *testing.T) {
	t.Parallel()
	fixture := testenv.Fixture(t)
	const reason = "the person pressed stop"
	for _, tc := range []struct{ front, version, serverVersion string }{
		{"stdio", "2026-07-28", "2025-11-25"}, // parked for input requests (inputreq.go)
		{"stdio", "2025-11-25", "2026-07-28"},
		{"http", "2025-11-25", ""}, // the session fast path, once settled (httpsession.go)
		{"http", "2025-11-25", "2026-07-28"},
	} {
		t.Run(tc.front+"-"+tc.version+"-to-"+tc.serverVersion, func(t *testing.T) {
			cfg := fixtureConfig(fixture)
			if tc.serverVersion != "" {
				cfg += fmt.Sprintf("    protocol_version: %q\n", tc.serverVersion)
			}
			cfg = writeConfig(t, cfg)
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			base := frontTransport(t, ctx, tc.front, cfg)
			cs, err := mcp.NewClient(&mcp.Implementation{Name: "cancel-agent", Version: "1"}, nil).Connect(ctx, reasonTransport{base, reason}, &mcp.ClientSessionOptions{ProtocolVersion: tc.version})
			if err != nil {
				t.Fatal(err)
			}
			defer cs.Close()
			a := &agent{cs: cs}
			waiting := func() float64 {
				m, _ := call(t, ctx, a, "fx__cancelled_count", nil).StructuredContent.(map[string]any)
				w, _ := m["waiting"].(float64)
				return w
			}
			cctx, ccancel := context.WithCancel(ctx)
			done := make(chan error, 1)
			go func() {
				_, err := cs.CallTool(cctx, &mcp.CallToolParams{Name: "fx__wait"})
				done <- err
			}()
			waitFor(t, ctx, "the call to reach the server", func() bool { return waiting() == 1 })
			ccancel()
			<-done
			waitFor(t, ctx, "the server's handler to be cancelled", func() bool { return waiting() == 0 })
			var heard string
			waitFor(t, ctx, "the server to hear a reason", func() bool {
				heard = textOf(t, call(t, ctx, a, "fx__cancel_reason", nil))
				return heard != ""
			})
			if heard != reason {
				t.Errorf("the server heard %q; want the agent's reason %q", heard, reason)
			}
		})
	}
}

// reasonTransport gives the go-sdk client's notifications/cancelled (whose
// reason is always its context's error) a reason of the agent's own.
type reasonTransport struct {
	mcp.Transport
	reason string
}

func (t reasonTransport) Connect(ctx context.Context) (mcp.Connection, error) {
	c, err := t.Transport.Connect(ctx)
	return reasonConn{c, t.reason}, err
}

type reasonConn struct {
	mcp.Connection
	reason string
}

func (c reasonConn) Write(ctx context.Context, m jsonrpc.Message) error {
	if r, ok := m.(*jsonrpc.Request); ok && r.Method == "notifications/cancelled" {
		var p map[string]any
		if err := json.Unmarshal(r.Params, &p); err == nil {
			p["reason"] = c.reason
			r2 := *r
			r2.Params, _ = json.Marshal(p)
			m = &r2
		}
	}
	return c.Connection.Write(ctx, m)
}

// TestProgressOverHTTP relays a server's progress to an HTTP agent at both
// protocol generations: at 2026-07-28 a stateless request's own stream is
// the only way back to the agent.
func TestProgressOverHTTP(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	url := serveHTTP(t, ctx, writeConfig(t, fixtureConfig(testenv.Fixture(t))))
	for _, v := range agentVersions {
		t.Run(v, func(t *testing.T) {
			var mu sync.Mutex
			var got []string
			client := mcp.NewClient(&mcp.Implementation{Name: "http-agent", Version: "1"}, &mcp.ClientOptions{
				ProgressNotificationHandler: func(_ context.Context, req *mcp.ProgressNotificationClientRequest) {
					mu.Lock()
					got = append(got, fmt.Sprintf("%v:%v", req.Params.ProgressToken, req.Params.Message))
					mu.Unlock()
				},
			})
			cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: url + "mcp"}, &mcp.ClientSessionOptions{ProtocolVersion: v})
			if err != nil {
				t.Fatal(err)
			}
			defer cs.Close()
			res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "fx__progress", Arguments: map[string]any{"steps": 3}, Meta: mcp.Meta{"progressToken": "tok-" + v}})
			if err != nil || res.IsError {
				t.Fatalf("call: %+v, %v", res, err)
			}
			want := []string{"tok-" + v + ":step 1/3", "tok-" + v + ":step 2/3", "tok-" + v + ":step 3/3"}
			waitFor(t, ctx, "three progress notifications", func() bool {
				mu.Lock()
				defer mu.Unlock()
				return len(got) >= 3
			})
			mu.Lock()
			defer mu.Unlock()
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("progress (-want +got):\n%s", diff)
			}
		})
	}
}

// TestServerBytesPassThrough reads a resource and gets a prompt from
// server-everything directly and through mcpgw, and wants the same bytes:
// nothing added for the agent's protocol version (ttlMs, cacheScope),
// nothing dropped, nothing re-ordered. (server-everything speaks 2025-11-25:
// to an agent at 2026-07-28 mcpgw is a 2026-07-28 server, and says so.)
func TestServerBytesPassThrough(t *testing.T) {
	everything := testenv.NpmBin(t, "mcp-server-everything")
	cfg := writeConfig(t, everythingConfig(t))
	for _, v := range []string{"2025-11-25"} {
		t.Run(v, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			connect := func(cmd *exec.Cmd) (*mcp.ClientSession, *tapTransport) {
				cmd.Stderr = &testWriter{t: t}
				tap := &tapTransport{Transport: &mcp.CommandTransport{Command: cmd}}
				cs, err := mcp.NewClient(&mcp.Implementation{Name: "bytes-agent", Version: "1"}, nil).Connect(ctx, tap, &mcp.ClientSessionOptions{ProtocolVersion: v})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { cs.Close() })
				return cs, tap
			}
			gwCmd := exec.Command(testenv.Mcpgw(t), "serve", "--config", cfg)
			gwCmd.Env = append(os.Environ(), ownRecord(t, nil)...)
			direct, directTap := connect(exec.Command(everything, "stdio"))
			gw, gwTap := connect(gwCmd)
			// lastResult is the raw result of the last response read.
			lastResult := func(tap *tapTransport) string {
				tap.mu.Lock()
				defer tap.mu.Unlock()
				for i := len(tap.read) - 1; i >= 0; i-- {
					if r, ok := tap.read[i].(*jsonrpc.Response); ok {
						return string(r.Result)
					}
				}
				return ""
			}
			resources, err := direct.ListResources(ctx, nil)
			if err != nil || len(resources.Resources) == 0 {
				t.Fatalf("server-everything lists no resources: %v", err)
			}
			uri := resources.Resources[0].URI
			if _, err := direct.ReadResource(ctx, &mcp.ReadResourceParams{URI: uri}); err != nil {
				t.Fatal(err)
			}
			want := lastResult(directTap)
			if _, err := gw.ReadResource(ctx, &mcp.ReadResourceParams{URI: uri}); err != nil {
				t.Fatal(err)
			}
			if got := lastResult(gwTap); got != want {
				t.Errorf("resources/read %s:\n directly %s\n via mcpgw %s", uri, want, got)
			}
			if _, err := direct.GetPrompt(ctx, &mcp.GetPromptParams{Name: "simple-prompt"}); err != nil {
				t.Fatal(err)
			}
			want = lastResult(directTap)
			if _, err := gw.GetPrompt(ctx, &mcp.GetPromptParams{Name: "everything__simple-prompt"}); err != nil {
				t.Fatal(err)
			}
			if got := lastResult(gwTap); got != want {
				t.Errorf("prompts/get simple-prompt:\n directly %s\n via mcpgw %s", want, got)
			}
		})
	}
}

// TestOwnResultsAt2026 calls, as a 2026-07-28 agent over stdio, a tool no
// server lists and one the config's filter removed: mcpgw answers both
// itself, and a 2026-07-28 result must say resultType "complete" (the
// TypeScript client rejects one without it) as a server's does.
func TestOwnResultsAt2026(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cfg := fmt.Sprintf("servers:\n  fx:\n    command: %q\n    tools: {deny: [add]}\n", testenv.Fixture(t))
	raw := startRawStdio(t, ctx, writeConfig(t, cfg))
	meta := `"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"raw","version":"1"}}`
	request := func(method, params string) string {
		t.Helper()
		return raw.request(method, "{"+params+meta+"}")
	}
	request("server/discover", "")
	for _, name := range []string{"fx__no_such_tool", "fx__add", "fx__echo"} {
		res := request("tools/call", fmt.Sprintf(`"name":%q,"arguments":{"text":"x","a":1,"b":2},`, name))
		if !strings.Contains(res, `"resultType":"complete"`) {
			t.Errorf("%s: %s; want resultType complete", name, res)
		}
		if name != "fx__echo" && !strings.Contains(res, `"isError":true`) {
			t.Errorf("%s: %s; want an error result", name, res)
		}
	}
}

// rawStdio is `mcpgw serve` over stdio driven with hand-written JSON-RPC,
// for what a client library would not send as is.
type rawStdio struct {
	in io.Writer
	id int // the last request id used
	// request sends a request and returns its result.
	request func(method, params string) string
}

func startRawStdio(t *testing.T, ctx context.Context, cfgPath string) *rawStdio {
	t.Helper()
	cmd := exec.CommandContext(ctx, testenv.Mcpgw(t), "serve", "--config", cfgPath)
	cmd.Env = append(os.Environ(), ownRecord(t, nil)...)
	cmd.Stderr = &testWriter{t: t}
	in, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close(); cmd.Wait() })
	lines := bufio.NewScanner(out)
	lines.Buffer(nil, 16<<20)
	r := &rawStdio{in: in}
	r.request = func(method, params string) string {
		t.Helper()
		r.id++
		fmt.Fprintf(in, `{"jsonrpc":"2.0","id":%d,"method":%q,"params":%s}`+"\n", r.id, method, params)
		for lines.Scan() {
			var m struct {
				ID     int             `json:"id"`
				Result json.RawMessage `json:"result"`
			}
			if json.Unmarshal(lines.Bytes(), &m) == nil && m.ID == r.id {
				return string(m.Result)
			}
		}
		t.Fatalf("no answer to %s", method)
		return ""
	}
	return r
}

// TestElicitationAsSent relays a stdio server's form elicitation as the
// server sent it (no "mode" added, the schema's keys in the server's
// order), over stdio and HTTP at both protocol generations (at 2026-07-28
// inside input_required), and, to a stdio agent of an older generation,
// the agent's answer back as the agent sent it (keys unsorted).
func TestElicitationAsSent(t *testing.T) {
	t.Parallel()
	fixture := testenv.Fixture(t)
	const answer = `{"action":"accept","content":{"zeta":"z","alpha":"a"}}`
	for _, tc := range []struct {
		front, version, serverVersion string
		answerAsSent                  bool
	}{
		{"stdio", "2025-11-25", "", true},
		{"http", "2025-11-25", "", true},
		{"stdio", "2026-07-28", "2025-11-25", true},
		{"http", "2026-07-28", "2025-11-25", true},
	} {
		t.Run(tc.front+"-"+tc.version, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			cfg := fmt.Sprintf("servers:\n  fx:\n    command: %q\n    args: [\"-mode\", \"raw-elicit\"]\n", fixture)
			if tc.serverVersion != "" {
				cfg += fmt.Sprintf("    protocol_version: %q\n", tc.serverVersion)
			}
			cfg = writeConfig(t, cfg)
			base := frontTransport(t, ctx, tc.front, cfg)
			tap := &elicitTap{Transport: base, answer: answer}
			client := mcp.NewClient(&mcp.Implementation{Name: "elicit-agent", Version: "1"}, &mcp.ClientOptions{
				ElicitationHandler: func(ctx context.Context, req *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
					return &mcp.ElicitResult{Action: "accept", Content: map[string]any{"zeta": "z", "alpha": "a"}}, nil
				},
			})
			cs, err := client.Connect(ctx, tap, &mcp.ClientSessionOptions{ProtocolVersion: tc.version})
			if err != nil {
				t.Fatal(err)
			}
			defer cs.Close()
			got := textOf(t, call(t, ctx, &agent{cs: cs}, "fx__elicit", map[string]any{"message": "ignored in mode raw-elicit"}))
			sent, heard, ok := strings.Cut(strings.TrimPrefix(got, "sent="), " answer=")
			if !ok {
				t.Fatalf("the fixture said %q; want sent=... answer=...", got)
			}
			tap.mu.Lock()
			asked := tap.asked
			tap.mu.Unlock()
			if len(asked) != 1 {
				t.Fatalf("the agent was asked %d elicitations; want 1", len(asked))
			}
			if string(asked[0]) != sent {
				t.Errorf("the agent got the elicitation as\n%s\nthe server sent\n%s", asked[0], sent)
			}
			if tc.answerAsSent {
				if heard != answer {
					t.Errorf("the server got the answer as\n%s\nthe agent sent\n%s", heard, answer)
				}
				return
			}
			var want, was any
			if json.Unmarshal([]byte(answer), &want) != nil || json.Unmarshal([]byte(heard), &was) != nil || !cmp.Equal(want, was) {
				t.Errorf("the server got the answer %s; want the agent's %s", heard, answer)
			}
		})
	}
}

// elicitTap keeps the elicitations a client is asked, as their bytes
// arrived (a request's params, or an input request's inside a result), and
// answers them with answer, as these bytes (a response, or each of a
// retry's inputResponses).
type elicitTap struct {
	mcp.Transport
	answer string
	mu     sync.Mutex
	asked  []json.RawMessage
	ids    []jsonrpc.ID // of elicitation requests
}

func (t *elicitTap) Connect(ctx context.Context) (mcp.Connection, error) {
	c, err := t.Transport.Connect(ctx)
	return elicitTapConn{c, t}, err
}

type elicitTapConn struct {
	mcp.Connection
	t *elicitTap
}

func (c elicitTapConn) Read(ctx context.Context) (jsonrpc.Message, error) {
	m, err := c.Connection.Read(ctx)
	c.t.mu.Lock()
	defer c.t.mu.Unlock()
	switch m := m.(type) {
	case *jsonrpc.Request:
		if m.Method == "elicitation/create" {
			c.t.asked = append(c.t.asked, append(json.RawMessage(nil), m.Params...))
			c.t.ids = append(c.t.ids, m.ID)
		}
	case *jsonrpc.Response:
		var r struct {
			InputRequests map[string]struct {
				Method string          `json:"method"`
				Params json.RawMessage `json:"params"`
			} `json:"inputRequests"`
		}
		if json.Unmarshal(m.Result, &r) == nil {
			for _, ir := range r.InputRequests {
				if ir.Method == "elicitation/create" {
					c.t.asked = append(c.t.asked, ir.Params)
				}
			}
		}
	}
	return m, err
}

func (c elicitTapConn) Write(ctx context.Context, m jsonrpc.Message) error {
	if r, ok := m.(*jsonrpc.Request); ok && r.Method == "tools/call" {
		// A 2026-07-28 client answers in its retry: each answer becomes
		// answer, as these bytes.
		var p map[string]json.RawMessage
		var answers map[string]json.RawMessage
		if json.Unmarshal(r.Params, &p) == nil && json.Unmarshal(p["inputResponses"], &answers) == nil && len(answers) > 0 {
			for id := range answers {
				answers[id] = json.RawMessage(c.t.answer)
			}
			p["inputResponses"], _ = json.Marshal(answers)
			r2 := *r
			r2.Params, _ = json.Marshal(p)
			m = &r2
		}
	}
	if r, ok := m.(*jsonrpc.Response); ok {
		c.t.mu.Lock()
		answers := slices.Contains(c.t.ids, r.ID)
		c.t.mu.Unlock()
		if answers && r.Error == nil {
			r2 := *r
			r2.Result = json.RawMessage(c.t.answer)
			m = &r2
		}
	}
	return c.Connection.Write(ctx, m)
}

// TestElicitationAnswerGuarded: an agent's answer relayed as its bytes
// still passes guard-in: one holding a secret is withheld from the server.
func TestElicitationAnswerGuarded(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	secret := guardCorpus(t, "secrets.jsonl")[0]
	value, _ := json.Marshal(secret.Value)
	cfg := writeConfig(t, fmt.Sprintf("servers:\n  fx:\n    command: %q\n    args: [\"-mode\", \"raw-elicit\"]\n", testenv.Fixture(t)))
	cmd := exec.Command(testenv.Mcpgw(t), "serve", "--config", cfg)
	cmd.Env = append(os.Environ(), ownRecord(t, nil)...)
	cmd.Stderr = &testWriter{t: t}
	tap := &elicitTap{Transport: &mcp.CommandTransport{Command: cmd}, answer: `{"action":"accept","content":{"zeta":` + string(value) + `,"alpha":"a"}}`}
	client := mcp.NewClient(&mcp.Implementation{Name: "elicit-agent", Version: "1"}, &mcp.ClientOptions{
		ElicitationHandler: func(ctx context.Context, req *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
			return &mcp.ElicitResult{Action: "accept", Content: map[string]any{"zeta": "z"}}, nil
		},
	})
	cs, err := client.Connect(ctx, tap, &mcp.ClientSessionOptions{ProtocolVersion: "2025-11-25"})
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	res := call(t, ctx, &agent{cs: cs}, "fx__elicit", map[string]any{"message": "ignored"})
	got := textOf(t, res)
	if !res.IsError || !strings.Contains(got, "withheld") || strings.Contains(got, needle(secret)) {
		t.Errorf("the server's elicit ended with %q (isError %v); want the answer withheld, without the secret", got, res.IsError)
	}
}

// frontTransport is a transport to a real `mcpgw serve` with config cfg,
// over its stdio front ("stdio") or its HTTP one.
func frontTransport(t *testing.T, ctx context.Context, front, cfg string) mcp.Transport {
	t.Helper()
	if front != "stdio" {
		return &mcp.StreamableClientTransport{Endpoint: serveHTTP(t, ctx, cfg) + "mcp"}
	}
	cmd := exec.Command(testenv.Mcpgw(t), "serve", "--config", cfg)
	cmd.Env = append(os.Environ(), ownRecord(t, nil)...)
	cmd.Stderr = &testWriter{t: t}
	return &mcp.CommandTransport{Command: cmd}
}
