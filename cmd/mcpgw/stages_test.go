package main

import (
	"bytes"
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

	"github.com/google/go-cmp/cmp"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgw/mcpgw/cmd/internal/testenv"
	"github.com/mcpgw/mcpgw/mux/callpath"
)

// The call path's contract, tested from outside mux: stages defined here,
// in the command's test package, run inside a real `mcpgw serve` (this test
// binary, re-executed as mcpgw with them; see TestMain), in front of the
// fixture server, driven by a go-sdk agent over stdio.

// Environment of a test binary re-executed as mcpgw with test stages.
const (
	stagesEnv    = "MCPGW_TEST_STAGES"     // comma-separated: deny, redact, observe, noop (none: no stage of the tests')
	stagesLogEnv = "MCPGW_TEST_STAGES_LOG" // where observe writes what it saw
)

// testStages are the stages named in $MCPGW_TEST_STAGES.
func testStages() []callpath.Stage {
	var stages []callpath.Stage
	for _, name := range strings.Split(os.Getenv(stagesEnv), ",") {
		switch name {
		case "deny":
			stages = append(stages, denyStage{})
		case "redact":
			stages = append(stages, redactStage{})
		case "observe":
			stages = append(stages, &observeStage{path: os.Getenv(stagesLogEnv)})
		case "noop":
			stages = append(stages, noopStage{})
		case "approve":
			stages = append(stages, approveStage{})
		}
	}
	return stages
}

// denyStage refuses what a policy would: the fixture's add tool, the greet
// prompt for mallory, the pixel resource, and elicitations that say
// "forbidden"; and it hides the toggle tool from every session.
type denyStage struct{}

func (denyStage) Name() string { return "test-deny" }

func (denyStage) CheckRequest(_ context.Context, c *callpath.Call) *callpath.Verdict {
	switch {
	case c.Kind == callpath.ToolCall && c.Server == "fx" && c.Name == "add",
		c.Kind == callpath.PromptGet && c.Name == "greet" && strings.Contains(string(c.Params), "mallory"),
		c.Kind == callpath.ResourceRead && c.Name == "fixture://static/pixel.png",
		c.Kind == callpath.Elicitation && strings.Contains(string(c.Params), "forbidden"):
		return callpath.Deny("test.deny", fmt.Sprintf("%s of %s is off limits in this test", c.Kind.Method(), c.Name))
	}
	return nil
}

func (denyStage) Hide(_ callpath.Session, e callpath.Entry) *callpath.Verdict {
	if e.Kind == callpath.ToolEntry && e.Name == "toggle" {
		return callpath.Deny("test.hide", "toggle is hidden from this agent")
	}
	return nil
}

// redactStage masks the word "classified" in everything that comes back:
// tool results, prompts, resource contents, and the agent's answers to a
// server's elicitation.
type redactStage struct{}

func (redactStage) Name() string { return "test-redact" }

func (redactStage) CheckResult(_ context.Context, c *callpath.Call, r *callpath.Result) *callpath.Verdict {
	if !bytes.Contains(r.Raw, []byte("classified")) {
		return nil
	}
	r.Raw = bytes.ReplaceAll(r.Raw, []byte("classified"), []byte("[redacted:test]"))
	return &callpath.Verdict{Decision: "redact", Rule: "test.redact", Reason: "classified text",
		Findings: []callpath.Finding{{Rule: "test.redact", Path: "$.result"}}}
}

// approveStage holds a tool call whose arguments ask for approval until
// the person at the agent answers (through the session's elicitation): an
// accept lets it go on, anything else refuses it, as does an agent that
// cannot be asked.
type approveStage struct{}

func (approveStage) Name() string { return "test-approve" }

func (approveStage) CheckRequest(_ context.Context, c *callpath.Call) *callpath.Verdict {
	if c.Kind != callpath.ToolCall || !strings.Contains(string(c.Params), "approval") {
		return nil
	}
	return &callpath.Verdict{Hold: func(ctx context.Context) *callpath.Verdict {
		a, err := c.Session.Elicit(ctx, callpath.Question{Message: "Allow " + c.Exposed + "?"})
		switch {
		case err != nil:
			return callpath.Deny("test.approve", "needs approval, and "+err.Error())
		case a.Action != "accept":
			return callpath.Deny("test.approve", "the person said "+a.Action)
		}
		return &callpath.Verdict{Decision: "approve", Rule: "test.approve", Reason: "approved at the agent"}
	}}
}

// noopStage reads requests and lets them go on: what a request stage
// costs a call, for BenchmarkGateway.
type noopStage struct{}

func (noopStage) Name() string { return "test-noop" }
func (noopStage) CheckRequest(context.Context, *callpath.Call) *callpath.Verdict {
	return nil
}

// observeStage only reads requests: it writes one line per call it sees.
type observeStage struct {
	path string
	mu   sync.Mutex
}

func (*observeStage) Name() string { return "test-observe" }

// observed is what observeStage writes of one call.
type observed struct {
	Method, Exposed, Server, Name, Params, User, Agent string
}

func (s *observeStage) CheckRequest(_ context.Context, c *callpath.Call) *callpath.Verdict {
	agent, _ := c.Session.Client()
	b, _ := json.Marshal(observed{c.Kind.Method(), c.Exposed, c.Server, c.Name, string(c.Params), c.Identity.User, agent})
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := os.OpenFile(s.path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err == nil {
		f.Write(append(b, '\n'))
		f.Close()
	}
	return nil
}

// startStaged starts this test binary as `mcpgw serve` with the named test
// stages on the fixture, and connects an agent at version. It returns the
// agent, where observe writes, the record, and mcpgw's stderr.
func startStaged(t *testing.T, stages, version string) (a *agent, seen, db string, stderr *syncBuf) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	seen, db = filepath.Join(dir, "seen.jsonl"), filepath.Join(dir, "record.db")
	cmd := exec.Command(self, "serve", "-v", "--config", writeConfig(t, fixtureConfig(testenv.Fixture(t))))
	cmd.Env = append(os.Environ(), stagesEnv+"="+stages, stagesLogEnv+"="+seen, "MCPGW_DB="+db, "MCPGW_USER=ana@example.com")
	stderr = &syncBuf{}
	cmd.Stderr = stderr
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("mcpgw stderr:\n%s", stderr.String())
		}
	})
	return connectAgent(t, cmd, version), seen, db, stderr
}

// syncBuf is a bytes.Buffer safe for a process's stderr and the test.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// stop ends the agent's session and waits for mcpgw to exit, which flushes
// its record.
func (a *agent) stop() {
	a.cs.Close()
	a.cmd.Wait()
}

func readObserved(t *testing.T, path string) []observed {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []observed
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var o observed
		if err := json.Unmarshal([]byte(l), &o); err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		out = append(out, o)
	}
	return out
}

// TestStageReadsRequests runs a stage that only reads requests: it sees
// every governed request, routed (server and the server's own name set)
// before it runs, on the fast path and the SDK path alike, and the gateway
// keeps answering from the server's reader.
func TestStageReadsRequests(t *testing.T) {
	for _, version := range agentVersions {
		t.Run(version, func(t *testing.T) {
			a, seen, _, stderr := startStaged(t, "observe", version)
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			if got := textOf(t, call(t, ctx, a, "fx__echo", map[string]any{"text": "hi"})); got != "hi" {
				t.Errorf("echo = %q", got)
			}
			if _, err := a.cs.GetPrompt(ctx, &mcp.GetPromptParams{Name: "fx__greet", Arguments: map[string]string{"name": "ana"}}); err != nil {
				t.Fatal(err)
			}
			if _, err := a.cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "fixture://static/hello"}); err != nil {
				t.Fatal(err)
			}
			want := []observed{
				{"tools/call", "fx__echo", "fx", "echo", `{"text":"hi"}`, "ana@example.com", "e2e-agent"},
				{"prompts/get", "fx__greet", "fx", "greet", `{"name":"ana"}`, "ana@example.com", "e2e-agent"},
				{"resources/read", "fixture://static/hello", "fx", "fixture://static/hello", "", "ana@example.com", "e2e-agent"},
			}
			if version == "2025-11-25" {
				// A server's elicitation and sampling pass the stages too (at
				// 2026-07-28 the server asks inside its tool result).
				if got := textOf(t, call(t, ctx, a, "fx__elicit", map[string]any{"message": "your name?"})); !strings.Contains(got, "agent-answer") {
					t.Errorf("elicit = %q", got)
				}
				if got := textOf(t, call(t, ctx, a, "fx__sample", map[string]any{"prompt": "hello model"})); got != "sampled-by-agent" {
					t.Errorf("sample = %q", got)
				}
				want = append(want,
					observed{"tools/call", "fx__elicit", "fx", "elicit", `{"message":"your name?"}`, "ana@example.com", "e2e-agent"},
					observed{Method: "elicitation/create", Server: "fx", User: "ana@example.com", Agent: "e2e-agent"},
					observed{"tools/call", "fx__sample", "fx", "sample", `{"prompt":"hello model"}`, "ana@example.com", "e2e-agent"},
					observed{Method: "sampling/createMessage", Server: "fx", User: "ana@example.com", Agent: "e2e-agent"},
				)
			}
			a.stop()
			got := readObserved(t, seen)
			for i := range got {
				if got[i].Method == "elicitation/create" || got[i].Method == "sampling/createMessage" {
					if !strings.Contains(got[i].Params, `"message`) {
						t.Errorf("%s params = %s; want the server's request", got[i].Method, got[i].Params)
					}
					got[i].Params = ""
				}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("what the stage saw (-want +got):\n%s", diff)
			}
			if !strings.Contains(stderr.String(), "request: policy, guard-secrets, guardrails, guard-schema, limits, approval, test-observe; result: guardrails; catalog: policy, pinning; inline answers on (result stages run inline)") {
				t.Errorf("the call path mcpgw reports is not the one configured, with inline answers on:\n%s", stderr.String())
			}
		})
	}
}

// TestStageHoldsForApproval holds a call while the stage asks the person at
// the agent, through the session it was given: the agent approves and the
// call goes on (moved off the agent's reader on the fast path); a
// 2026-07-28 agent, which takes no requests mid-call, is asked through an
// input_required result on the call, and its retry goes on.
func TestStageHoldsForApproval(t *testing.T) {
	for _, version := range agentVersions {
		t.Run(version, func(t *testing.T) {
			a, _, db, _ := startStaged(t, "approve", version)
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			res := call(t, ctx, a, "fx__echo", map[string]any{"text": "needs approval"})
			// The call before and after the held one are not held.
			if got := textOf(t, call(t, ctx, a, "fx__echo", map[string]any{"text": "plain"})); got != "plain" {
				t.Errorf("a call that needs no approval: %q", got)
			}
			want := struct{ status, decision string }{"ok", "approve"}
			if res.IsError || textOf(t, res) != "needs approval" {
				t.Errorf("approved call: %+v", res)
			}
			a.stop()
			for _, c := range recordOf(t, db) {
				if c.Rule == "test.approve" {
					if string(c.Status) != want.status || c.Decision != want.decision {
						t.Errorf("record: status %s decision %s; want %s %s", c.Status, c.Decision, want.status, want.decision)
					}
					return
				}
			}
			t.Error("the held call's record has no test.approve rule")
		})
	}
}

// TestStagesDenyAndRedact runs a stage that refuses and hides, and one
// that rewrites results, on every kind of request they govern; what they
// decided is in the record.
func TestStagesDenyAndRedact(t *testing.T) {
	for _, version := range agentVersions {
		t.Run(version, func(t *testing.T) {
			a, _, db, stderr := startStaged(t, "deny,redact", version)
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()

			// Denied tool: an error result the model can read.
			res := call(t, ctx, a, "fx__add", map[string]any{"a": 1, "b": 2})
			if !res.IsError || !strings.Contains(textOf(t, res), "tools/call of add is off limits") {
				t.Errorf("denied tool: %+v", res)
			}
			// Hidden tool: not listed, and refused when called by name.
			var names []string
			for tool, err := range a.cs.Tools(ctx, nil) {
				if err != nil {
					t.Fatal(err)
				}
				names = append(names, tool.Name)
			}
			if slices.Contains(names, "fx__toggle") || !slices.Contains(names, "fx__echo") {
				t.Errorf("tools listed: %v; want fx__echo without fx__toggle", names)
			}
			if res := call(t, ctx, a, "fx__toggle", nil); !res.IsError || !strings.Contains(textOf(t, res), "toggle is hidden") {
				t.Errorf("hidden tool called by name: %+v", res)
			}
			// Redacted tool result.
			if got := textOf(t, call(t, ctx, a, "fx__echo", map[string]any{"text": "the classified plan"})); got != "the [redacted:test] plan" {
				t.Errorf("echo = %q; want it redacted", got)
			}
			// Prompts and resources: denied with a protocol error (their
			// results have no error flag), redacted like tool results.
			if _, err := a.cs.GetPrompt(ctx, &mcp.GetPromptParams{Name: "fx__greet", Arguments: map[string]string{"name": "mallory"}}); err == nil || !strings.Contains(err.Error(), "prompts/get of greet is off limits") {
				t.Errorf("denied prompt: %v", err)
			}
			p, err := a.cs.GetPrompt(ctx, &mcp.GetPromptParams{Name: "fx__greet", Arguments: map[string]string{"name": "classified"}})
			if err != nil || fmt.Sprint(p.Messages[0].Content.(*mcp.TextContent).Text) != "Hello, [redacted:test]!" {
				t.Errorf("prompt = %+v, %v; want it redacted", p, err)
			}
			if _, err := a.cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "fixture://static/pixel.png"}); err == nil || !strings.Contains(err.Error(), "off limits") {
				t.Errorf("denied resource: %v", err)
			}
			r, err := a.cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "fixture://items/classified"})
			if err != nil || r.Contents[0].Text != "item [redacted:test]" {
				t.Errorf("resource = %+v, %v; want it redacted", r, err)
			}
			if version == "2025-11-25" {
				// A server's elicitation, refused: the server hears why.
				if res := call(t, ctx, a, "fx__elicit", map[string]any{"message": "a forbidden question"}); !strings.Contains(textOf(t, res), "off limits") {
					t.Errorf("denied elicitation: %+v", res)
				}
			}
			if !strings.Contains(stderr.String(), "request: policy, guard-secrets, guardrails, guard-schema, limits, approval, test-deny; result: guardrails, test-redact; catalog: policy, pinning, test-deny; inline answers off (a stage inspects results)") {
				t.Errorf("the call path mcpgw reports:\n%s", stderr.String())
			}
			a.stop()

			type row struct{ Method, Tool, Status, Decision, Rule string }
			var got []row
			for _, c := range recordOf(t, db) {
				if c.Decision != "" {
					got = append(got, row{c.Method, c.Tool, string(c.Status), c.Decision, c.Rule})
				}
			}
			want := []row{
				{"tools/call", "fx__add", "denied", "deny", "test.deny"},
				{"tools/call", "fx__toggle", "denied", "deny", "test.hide"},
				{"tools/call", "fx__echo", "ok", "redact", "test.redact"},
				{"prompts/get", "fx__greet", "denied", "deny", "test.deny"},
				{"prompts/get", "fx__greet", "ok", "redact", "test.redact"},
				{"resources/read", "fixture://static/pixel.png", "denied", "deny", "test.deny"},
				{"resources/read", "fixture://items/classified", "ok", "redact", "test.redact"},
			}
			if version == "2025-11-25" {
				want = append(want, row{"elicitation/create", "", "denied", "deny", "test.deny"})
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("the record's decisions (-want +got):\n%s", diff)
			}
			for _, c := range recordOf(t, db) {
				if strings.Contains(c.Result, "classified") {
					t.Errorf("the record keeps what the stage redacted: %s", c.Result)
				}
			}
		})
	}
}
