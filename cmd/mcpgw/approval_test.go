package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgw/mcpgw/cmd/internal/testenv"
	"github.com/mcpgw/mcpgw/logs"
)

// Approval end to end: a real `mcpgw serve` whose approval: rules hold
// calls of the fixture's echo and of tools the memory server declares
// destructive; a go-sdk agent that answers elicitations (or cannot), and
// real `mcpgw approvals` processes deciding from "another terminal".

// approvalAgent is a go-sdk agent of `mcpgw serve`, answering elicitations
// with answer (nil: it declares no elicitation), and noting the log
// messages and progress it is sent.
type approvalAgent struct {
	cs     *mcp.ClientSession
	cmd    *exec.Cmd
	db     string
	env    []string
	stderr *logBuffer

	mu       sync.Mutex
	asked    []string
	notes    []string // log messages and progress messages
	answer   func(ctx context.Context, req *mcp.ElicitRequest) (*mcp.ElicitResult, error)
	noteSeen chan struct{}
}

func serveApproval(t *testing.T, cfgPath, version string, elicit bool, env ...string) *approvalAgent {
	t.Helper()
	return serveApprovalWith(t, cfgPath, version, elicit, nil, env...)
}

// serveApprovalWith is serveApproval with the client's options changed by
// opt.
func serveApprovalWith(t *testing.T, cfgPath, version string, elicit bool, opt func(*mcp.ClientOptions), env ...string) *approvalAgent {
	t.Helper()
	a := &approvalAgent{stderr: &logBuffer{t: t}, db: filepath.Join(t.TempDir(), "record.db"), noteSeen: make(chan struct{}, 64)}
	note := func(s string) {
		a.mu.Lock()
		a.notes = append(a.notes, s)
		a.mu.Unlock()
		select {
		case a.noteSeen <- struct{}{}:
		default:
		}
	}
	opts := &mcp.ClientOptions{
		LoggingMessageHandler: func(_ context.Context, req *mcp.LoggingMessageRequest) {
			note(fmt.Sprint(req.Params.Data))
		},
		ProgressNotificationHandler: func(_ context.Context, req *mcp.ProgressNotificationClientRequest) {
			note(req.Params.Message)
		},
	}
	if elicit {
		opts.ElicitationHandler = func(ctx context.Context, req *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
			a.mu.Lock()
			a.asked = append(a.asked, req.Params.Message)
			answer := a.answer
			a.mu.Unlock()
			return answer(ctx, req)
		}
	}
	if opt != nil {
		opt(opts)
	}
	c := mcp.NewClient(&mcp.Implementation{Name: "approval-agent", Version: "1"}, opts)
	a.cmd = exec.Command(testenv.Mcpgw(t), "serve", "--config", cfgPath)
	a.env = []string{"MCPGW_USER=", "MCPGW_TEAM=", "MCPGW_ROLES=", "MCPGW_PROFILE=", "MCPGW_MANAGED_POLICY=", "MCPGW_DB=" + a.db}
	a.env = append(a.env, env...)
	a.cmd.Env = append(os.Environ(), a.env...)
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

func (a *approvalAgent) setAnswer(f func(ctx context.Context, req *mcp.ElicitRequest) (*mcp.ElicitResult, error)) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.answer = f
}

func (a *approvalAgent) questions() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.asked...)
}

func (a *approvalAgent) notesSoFar() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.notes...)
}

func (a *approvalAgent) stop() {
	a.cs.Close()
	a.cmd.Wait()
}

// approvals runs `mcpgw approvals ARGS` on the agent's record, as a
// person at another terminal would, and fails the test unless it
// succeeds.
func (a *approvalAgent) approvals(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, code := mcpgwCmd(t, a.env, "", append([]string{"approvals"}, args...)...)
	if code != 0 {
		t.Fatalf("mcpgw approvals %s: exit %d: %s", strings.Join(args, " "), code, errOut)
	}
	return out
}

type approvalRow struct {
	ID        int64  `json:"id"`
	State     string `json:"state"`
	Tool      string `json:"tool"`
	Arguments string `json:"arguments"`
	Rule      string `json:"rule"`
	Channel   string `json:"channel"`
	DecidedBy string `json:"decided_by"`
	Scope     string `json:"scope"`
	Reason    string `json:"reason"`
}

func (a *approvalAgent) list(t *testing.T, all bool) []approvalRow {
	t.Helper()
	args := []string{"list", "-o", "json"}
	if all {
		args = append(args, "--all")
	}
	var rows []approvalRow
	if err := json.Unmarshal([]byte(a.approvals(t, args...)), &rows); err != nil {
		t.Fatal(err)
	}
	return rows
}

// waitPending waits until one approval is pending, and returns it.
func (a *approvalAgent) waitPending(t *testing.T, ctx context.Context) approvalRow {
	t.Helper()
	var row approvalRow
	waitFor(t, ctx, "a pending approval in mcpgw approvals list", func() bool {
		// Until a gateway has created the record, list fails: wait on.
		out, _, code := mcpgwCmd(t, a.env, "", "approvals", "list", "-o", "json")
		var rows []approvalRow
		if code != 0 || json.Unmarshal([]byte(out), &rows) != nil || len(rows) != 1 {
			return false
		}
		row = rows[0]
		return true
	})
	return row
}

func approvalConfig(t *testing.T, timeout string) string {
	t.Helper()
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	writeApprovalConfig(t, cfg, timeout, `[{server: fx, tool: "ech?"}, {destructive: true}]`)
	return cfg
}

// writeApprovalConfig writes a configuration of the fixture (fx) and the
// memory server, with approval rules.
func writeApprovalConfig(t *testing.T, cfg, timeout, rules string) {
	t.Helper()
	memory := testenv.NpmBin(t, "mcp-server-memory")
	writeAtomic(t, cfg, fixtureServers(testenv.Fixture(t), "fx")+fmt.Sprintf(`  memory:
    command: %q
    env: {MEMORY_FILE_PATH: %q}
approval:
  timeout: %s
  rules: %s
`, memory, filepath.Join(filepath.Dir(cfg), "memory.jsonl"), timeout, rules))
}

func accept(scope string) func(context.Context, *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
	return func(context.Context, *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
		var content map[string]any
		if scope != "" {
			content = map[string]any{"scope": scope}
		}
		return &mcp.ElicitResult{Action: "accept", Content: content}, nil
	}
}

// TestApprovalElicitation holds calls for the agent's person: accepted
// (the call runs), declined and timed out (error results saying so, the
// server never called), a session-wide approval (the next call is not
// asked about), a tool the memory server declares destructive (held) and
// tools that match no rule or leave destructiveHint out (not held). The
// record keeps every decision: the calls' rows and the approvals.
func TestApprovalElicitation(t *testing.T) {
	t.Parallel()
	cfg := approvalConfig(t, "3s")
	a := serveApproval(t, cfg, "2025-11-25", true)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	callTool := func(name string, args map[string]any) *mcp.CallToolResult {
		t.Helper()
		res, err := a.cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return res
	}

	a.setAnswer(accept(""))
	if res := callTool("fx__echo", map[string]any{"text": "approved once"}); res.IsError || textOf(t, res) != "approved once" {
		t.Fatalf("accepted call: %q (isError %v)", textOf(t, res), res.IsError)
	}
	q := a.questions()
	if len(q) != 1 {
		t.Fatalf("asked %d times; want once", len(q))
	}
	wantAll(t, "the question", q[0], "fx__echo", "Server: fx", `{"text":"approved once"}`, "approval.rules[0]")

	a.setAnswer(func(context.Context, *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
		return &mcp.ElicitResult{Action: "decline"}, nil
	})
	res := callTool("fx__echo", map[string]any{"text": "declined"})
	if !res.IsError {
		t.Fatalf("declined call ran: %q", textOf(t, res))
	}
	wantAll(t, "the declined call's result", textOf(t, res), "fx__echo was not run", "declined", "elicitation")

	a.setAnswer(func(ctx context.Context, _ *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
		<-ctx.Done() // the person never answers
		return nil, ctx.Err()
	})
	start := time.Now()
	res = callTool("fx__echo", map[string]any{"text": "timed out"})
	if !res.IsError {
		t.Fatalf("timed-out call ran: %q", textOf(t, res))
	}
	wantAll(t, "the timed-out call's result", textOf(t, res), "fx__echo was not run", "none came within the timeout (3s")
	if d := time.Since(start); d < 3*time.Second {
		t.Errorf("the timeout denied after %s; want 3s", d)
	}

	a.setAnswer(accept("session"))
	callTool("fx__echo", map[string]any{"text": "first of the session"})
	asked := len(a.questions())
	if res := callTool("fx__echo", map[string]any{"text": "second of the session"}); res.IsError || len(a.questions()) != asked {
		t.Errorf("after a session approval: %q, asked %d more times; want it run without asking", textOf(t, res), len(a.questions())-asked)
	}

	// Not held: a tool no rule names, with no destructiveHint; a tool the
	// server declares not destructive.
	a.setAnswer(func(context.Context, *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
		t.Error("asked about a call no rule holds")
		return &mcp.ElicitResult{Action: "decline"}, nil
	})
	if res := callTool("fx__cancelled_count", nil); res.IsError {
		t.Errorf("fx__cancelled_count: %q", textOf(t, res))
	}
	if res := callTool("memory__create_entities", map[string]any{"entities": []any{map[string]any{"name": "x", "entityType": "t", "observations": []any{}}}}); res.IsError {
		t.Errorf("memory__create_entities (destructiveHint: false): %q", textOf(t, res))
	}
	// Held: destructiveHint true.
	a.setAnswer(accept(""))
	asked = len(a.questions())
	if res := callTool("memory__delete_entities", map[string]any{"entityNames": []any{"x"}}); res.IsError || len(a.questions()) != asked+1 {
		t.Errorf("memory__delete_entities (destructiveHint: true): %q, asked %d times; want it held and asked once", textOf(t, res), len(a.questions())-asked)
	}
	wantAll(t, "the question", a.questions()[asked], "memory__delete_entities", "approval.rules[1]")

	rows := a.list(t, true)
	states := map[string]int{}
	for _, r := range rows {
		states[r.State]++
		if r.Channel != "elicitation" {
			t.Errorf("approval %d: channel %q; want elicitation", r.ID, r.Channel)
		}
	}
	if states["approved"] != 3 || states["denied"] != 1 || states["expired"] != 1 || len(rows) != 5 {
		t.Errorf("approvals: %+v; want 3 approved, 1 denied, 1 expired", rows)
	}
	// An edited approval: applies to the running gateway.
	writeApprovalConfig(t, cfg, "3s", `[{server: fx, tool: "nothing"}]`)
	a.setAnswer(func(context.Context, *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
		return &mcp.ElicitResult{Action: "decline"}, nil
	})
	waitFor(t, ctx, "the edited approval rules to apply", func() bool {
		res, err := a.cs.CallTool(ctx, &mcp.CallToolParams{Name: "fx__echo", Arguments: map[string]any{"text": "after the edit"}})
		return err == nil && !res.IsError
	})
	writeApprovalConfig(t, cfg, "3s", `[{server: fx, tool: "ech?"}, {destructive: true}]`)

	a.stop()

	byText := map[string]logs.Call{}
	for _, c := range recordOf(t, a.db) {
		if c.Tool == "fx__echo" {
			var args struct{ Text string }
			json.Unmarshal([]byte(c.Args), &args)
			byText[args.Text] = c
		}
		if c.Tool == "memory__delete_entities" && (c.Decision != "approve" || c.Rule != "approval.rules[1]") {
			t.Errorf("delete_entities row: decision %q rule %q", c.Decision, c.Rule)
		}
	}
	for text, want := range map[string]struct{ status, decision, reason string }{
		"approved once":         {"ok", "approve", "through elicitation for this call"},
		"declined":              {"denied", "deny", "declined"},
		"timed out":             {"denied", "deny", "none came within the timeout"},
		"first of the session":  {"ok", "approve", "for this session"},
		"second of the session": {"ok", "approve", " at approval-agent (approval 4)"},
	} {
		c, ok := byText[text]
		if !ok {
			t.Errorf("no row for the call %q", text)
			continue
		}
		if string(c.Status) != want.status || c.Decision != want.decision || c.Rule != "approval.rules[0]" || !strings.Contains(c.Reason+c.Error, want.reason) {
			t.Errorf("row of %q: status %q decision %q rule %q reason %q error %q; want %s, %s, approval.rules[0], %q",
				text, c.Status, c.Decision, c.Rule, c.Reason, c.Error, want.status, want.decision, want.reason)
		}
	}

	// policy explain says which calls would wait, with the destructiveHint
	// the catalog cache has of each tool.
	yes, no := true, false
	explainApproval(t, a.env, cfg, "fx__echo", "approval.rules[0]", nil)
	explainApproval(t, a.env, cfg, "fx__cancelled_count", "", nil)
	explainApproval(t, a.env, cfg, "memory__delete_entities", "approval.rules[1]", &yes)
	explainApproval(t, a.env, cfg, "memory__create_entities", "", &no)
}

// explainApproval asks `mcpgw policy explain` whether a call of tool would
// wait for approval, and checks the answer.
func explainApproval(t *testing.T, env []string, cfg, tool, rule string, destructive *bool) {
	t.Helper()
	out, errOut, code := mcpgwCmd(t, env, "", "--config", cfg, "policy", "explain", "--tool", tool, "-o", "json")
	if code != 0 {
		t.Fatalf("policy explain --tool %s: exit %d: %s", tool, code, errOut)
	}
	var e struct {
		Approval struct {
			Required    bool   `json:"required"`
			Rule        string `json:"rule"`
			Channel     string `json:"channel"`
			Timeout     string `json:"timeout"`
			Destructive *bool  `json:"destructive"`
		} `json:"approval"`
	}
	if err := json.Unmarshal([]byte(out), &e); err != nil {
		t.Fatal(err)
	}
	a := e.Approval
	if a.Required != (rule != "") || a.Rule != rule || a.Channel != "auto" || a.Timeout != "3s" ||
		(a.Destructive == nil) != (destructive == nil) || a.Destructive != nil && *a.Destructive != *destructive {
		t.Errorf("policy explain --tool %s: approval %+v; want rule %q, destructive %v", tool, a, rule, destructive)
	}
}

// TestApprovalInputRequired asks a 2026-07-28 agent, which takes no
// requests mid-call, through an input_required result on the held call:
// the go-sdk client answers it with its elicitation handler and retries,
// and the call goes on (or is refused) as the answer says, with the
// arguments it was held with.
func TestApprovalInputRequired(t *testing.T) {
	t.Parallel()
	cfg := approvalConfig(t, "30s")
	a := serveApproval(t, cfg, "2026-07-28", true)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	callTool := func(text string) *mcp.CallToolResult {
		t.Helper()
		res, err := a.cs.CallTool(ctx, &mcp.CallToolParams{Name: "fx__echo", Arguments: map[string]any{"text": text}})
		if err != nil {
			t.Fatalf("fx__echo %q: %v", text, err)
		}
		return res
	}
	a.setAnswer(accept(""))
	if res := callTool("approved"); res.IsError || textOf(t, res) != "approved" {
		t.Fatalf("accepted call: %q (isError %v)", textOf(t, res), res.IsError)
	}
	if q := a.questions(); len(q) != 1 || !strings.Contains(q[0], `{"text":"approved"}`) {
		t.Fatalf("questions %q; want one about the call", q)
	}
	a.setAnswer(func(context.Context, *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
		return &mcp.ElicitResult{Action: "decline"}, nil
	})
	if res := callTool("declined"); !res.IsError || !strings.Contains(textOf(t, res), "declined") {
		t.Errorf("declined call: %q (isError %v)", textOf(t, res), res.IsError)
	}
	a.setAnswer(accept("session"))
	callTool("session")
	asked := len(a.questions())
	if res := callTool("free"); res.IsError || len(a.questions()) != asked {
		t.Errorf("after a session approval: %q, asked %d more", textOf(t, res), len(a.questions())-asked)
	}
	// An agent that retries by hand with other arguments: the server gets
	// the ones the person was asked about.
	manual := serveApprovalWith(t, cfg, "2026-07-28", true, func(o *mcp.ClientOptions) {
		o.MultiRoundTrip = &mcp.MultiRoundTripOptions{Disabled: true}
	})
	res, err := manual.cs.CallTool(ctx, &mcp.CallToolParams{Name: "fx__echo", Arguments: map[string]any{"text": "as asked"}})
	if err != nil || !res.NeedsInput() || len(res.InputRequests) != 1 || res.RequestState == "" {
		t.Fatalf("first round: %+v, %v; want one input request", res, err)
	}
	responses := mcp.InputResponseMap{}
	for id, req := range res.InputRequests {
		p, ok := req.(*mcp.ElicitParams)
		if !ok || !strings.Contains(p.Message, `{"text":"as asked"}`) {
			t.Fatalf("input request %T %+v; want the approval form", req, req)
		}
		responses[id] = &mcp.ElicitResult{Action: "accept"}
	}
	res, err = manual.cs.CallTool(ctx, &mcp.CallToolParams{Name: "fx__echo", Arguments: map[string]any{"text": "swapped after the question"},
		RequestState: res.RequestState, InputResponses: responses})
	if err != nil || res.IsError || res.NeedsInput() || textOf(t, res) != "as asked" {
		t.Errorf("retry with other arguments: %+v, %v; want the call as asked about", res, err)
	}
	manual.stop()

	rows := a.list(t, true)
	if len(rows) != 3 || rows[0].Scope != "session" || rows[1].State != "denied" || rows[2].State != "approved" || rows[2].Channel != "elicitation" {
		t.Errorf("approvals: %+v", rows)
	}
	a.stop()
	var approved int
	for _, c := range recordOf(t, a.db) {
		if c.Tool == "fx__echo" && c.Status == "ok" && c.Decision == "approve" && strings.Contains(c.Result, `"text":"approved"`) {
			approved++
		}
	}
	if approved != 1 {
		t.Errorf("%d ok rows of the approved call with the decision; want 1", approved)
	}
}

// TestApprovalOutOfBand holds calls of an agent that cannot be asked
// (it declares no elicitation; a 2026-07-28 agent takes no requests
// mid-call): the agent is told the approval's id and the commands, and
// `mcpgw approvals approve|deny` in another process decides while the call
// waits. A managed policy can require this channel even of an agent that
// could be asked.
func TestApprovalOutOfBand(t *testing.T) {
	for _, tc := range []struct {
		name, version string
		elicit        bool
		managed       bool
	}{
		{"no elicitation", "2025-11-25", false, false},
		{"2026-07-28 without elicitation", "2026-07-28", false, false},
		{"managed policy requires it", "2025-11-25", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var env []string
			if tc.managed {
				managed := filepath.Join(t.TempDir(), "policy.yaml")
				writeAtomic(t, managed, "default: allow\napproval: {channel: out-of-band}\n")
				env = append(env, "MCPGW_MANAGED_POLICY="+managed)
			}
			a := serveApproval(t, approvalConfig(t, "60s"), tc.version, tc.elicit, env...)
			a.setAnswer(func(context.Context, *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
				t.Error("the agent was asked")
				return &mcp.ElicitResult{Action: "accept"}, nil
			})
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			if tc.version == "2025-11-25" {
				if err := a.cs.SetLoggingLevel(ctx, &mcp.SetLoggingLevelParams{Level: "info"}); err != nil {
					t.Fatal(err)
				}
			}
			held := func(text string) (<-chan *mcp.CallToolResult, approvalRow) {
				t.Helper()
				done := make(chan *mcp.CallToolResult, 1)
				go func() {
					res, err := a.cs.CallTool(ctx, &mcp.CallToolParams{Name: "fx__echo", Arguments: map[string]any{"text": text},
						Meta: mcp.Meta{"progressToken": text}})
					if err != nil {
						t.Error(err)
						res = &mcp.CallToolResult{IsError: true}
					}
					done <- res
				}()
				row := a.waitPending(t, ctx)
				select {
				case res := <-done:
					t.Fatalf("the call ended before a decision: %q", textOf(t, res))
				default:
				}
				if row.Tool != "fx__echo" || row.Channel != "out-of-band" || row.Rule != "approval.rules[0]" || row.Arguments != fmt.Sprintf(`{"text":%q}`, text) {
					t.Errorf("pending approval: %+v", row)
				}
				return done, row
			}

			done, row := held("approve me")
			want := fmt.Sprintf("mcpgw approvals approve %d", row.ID)
			waitFor(t, ctx, "the agent to be told "+want, func() bool {
				return strings.Contains(strings.Join(a.notesSoFar(), "\n"), want)
			})
			if !strings.Contains(a.stderr.String(), want) {
				t.Errorf("mcpgw's stderr does not say %q", want)
			}
			if tc.version == "2025-11-25" && len(a.notesSoFar()) < 2 {
				t.Errorf("told %q; want a log message and a progress notification", a.notesSoFar())
			}
			// A held call blocks no other.
			if res := call(t, ctx, &agent{cs: a.cs}, "fx__cancelled_count", nil); res.IsError {
				t.Errorf("a call while another waits: %q", textOf(t, res))
			}
			a.approvals(t, "approve", fmt.Sprint(row.ID))
			if res := <-done; res.IsError || textOf(t, res) != "approve me" {
				t.Errorf("approved call: %q (isError %v)", textOf(t, res), res.IsError)
			}

			done, row = held("deny me")
			a.approvals(t, "deny", fmt.Sprint(row.ID), "--reason", "not on a Friday")
			res := <-done
			if !res.IsError {
				t.Fatalf("denied call ran: %q", textOf(t, res))
			}
			wantAll(t, "the denied call's result", textOf(t, res), "fx__echo was not run", "denied by", "mcpgw approvals", "not on a Friday")

			// A decision made already is not made again.
			if _, errOut, code := mcpgwCmd(t, a.env, "", "approvals", "approve", fmt.Sprint(row.ID)); code != 1 || !strings.Contains(errOut, "was denied already") {
				t.Errorf("approving a denied approval: exit %d, %q; want 1, saying it was denied already", code, errOut)
			}
			if _, errOut, code := mcpgwCmd(t, a.env, "", "approvals", "deny", "999"); code != 2 || !strings.Contains(errOut, "no approval 999") {
				t.Errorf("denying an unknown approval: exit %d, %q; want 2", code, errOut)
			}

			// The agent cancels a waiting call: the wait ends, and the
			// approval is marked cancelled.
			cctx, ccancel := context.WithCancel(ctx)
			cancelled := make(chan error, 1)
			go func() {
				_, err := a.cs.CallTool(cctx, &mcp.CallToolParams{Name: "fx__echo", Arguments: map[string]any{"text": "cancel me"}})
				cancelled <- err
			}()
			row = a.waitPending(t, ctx)
			ccancel()
			if err := <-cancelled; err == nil {
				t.Error("a cancelled call returned no error")
			}
			waitFor(t, ctx, "the cancelled call's approval to be marked cancelled", func() bool {
				for _, r := range a.list(t, true) {
					if r.ID == row.ID {
						return r.State == "cancelled"
					}
				}
				return false
			})

			// For the session: the next call runs without waiting.
			done, row = held("session")
			a.approvals(t, "approve", fmt.Sprint(row.ID), "--for", "session")
			<-done
			if res := call(t, ctx, &agent{cs: a.cs}, "fx__echo", map[string]any{"text": "free"}); res.IsError {
				t.Errorf("after a session approval: %q", textOf(t, res))
			}
			if rows := a.list(t, false); len(rows) != 0 {
				t.Errorf("pending after a session approval: %+v", rows)
			}
			rows := a.list(t, true)
			if len(rows) != 4 || rows[0].Scope != "session" || rows[1].State != "cancelled" || rows[2].State != "denied" || rows[2].Reason != "not on a Friday" || rows[3].State != "approved" || rows[3].DecidedBy == "" {
				t.Errorf("approvals: %+v", rows)
			}
			a.stop()
			// mcpgw logs shows the decisions.
			out, errOut, code := mcpgwCmd(t, a.env, "", "logs", "--tool", "fx__echo", "-o", "json")
			if code != 0 {
				t.Fatalf("mcpgw logs: exit %d: %s", code, errOut)
			}
			wantAll(t, "mcpgw logs", out, `"decision": "approve"`, `"rule": "approval.rules[0]"`, "through mcpgw approvals", "not on a Friday")
			var approved int
			for _, c := range recordOf(t, a.db) {
				if c.Tool == "fx__echo" && c.Decision == "approve" && strings.Contains(c.Reason, "mcpgw approvals") {
					approved++
				}
			}
			if approved != 2 {
				t.Errorf("%d rows approved through mcpgw approvals; want 2", approved)
			}
		})
	}
}

// TestApprovalCall holds `mcpgw call` of a tool that needs approval: it
// has no agent to ask, so the call waits out of band; denied from another
// process, it exits 4 with the refusal as its result.
func TestApprovalCall(t *testing.T) {
	t.Parallel()
	cfg := approvalConfig(t, "60s")
	env := []string{"MCPGW_DB=" + filepath.Join(t.TempDir(), "record.db"), "MCPGW_MANAGED_POLICY=", "MCPGW_USER="}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, testenv.Mcpgw(t), "--config", cfg, "call", "fx__echo", "--arg", "text=from a terminal")
	cmd.Env = append(os.Environ(), env...)
	var out strings.Builder
	stderr := &logBuffer{t: t}
	cmd.Stdout, cmd.Stderr = &out, stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	a := &approvalAgent{env: env}
	row := a.waitPending(t, ctx)
	if row.Tool != "fx__echo" || row.Channel != "out-of-band" {
		t.Errorf("pending: %+v", row)
	}
	a.approvals(t, "deny", fmt.Sprint(row.ID), "--reason", "use the other one")
	err := cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != 4 {
		t.Fatalf("mcpgw call: %v (exit %d); want exit 4", err, code)
	}
	wantAll(t, "mcpgw call's result", out.String(), `"isError": true`, "denied by", "use the other one")
	wantAll(t, "mcpgw call's stderr", stderr.String(), fmt.Sprintf("mcpgw approvals approve %d", row.ID))
}

// TestApprovalOverHTTPSession holds an HTTP agent's calls at 2025-11-25,
// which the session fast path takes: the question goes to the agent on the
// call's own stream under mcpgw's request id, its answer (accept, decline)
// comes back in a POST of its own, and a question nobody answers is given
// up on at the timeout, the agent told so (its handler's context ends).
func TestApprovalOverHTTPSession(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	url := serveHTTP(t, ctx, approvalConfig(t, "3s"))
	var mu sync.Mutex
	answer := accept("")
	gaveUp := make(chan struct{}, 1)
	client := mcp.NewClient(&mcp.Implementation{Name: "http-approval-agent", Version: "1"}, &mcp.ClientOptions{
		ElicitationHandler: func(ctx context.Context, req *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
			mu.Lock()
			f := answer
			mu.Unlock()
			return f(ctx, req)
		},
	})
	wire := &wireLog{}
	cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: url + "mcp", HTTPClient: &http.Client{Transport: wire}}, &mcp.ClientSessionOptions{ProtocolVersion: "2025-11-25"})
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	callTool := func(args map[string]any) *mcp.CallToolResult {
		t.Helper()
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "fx__echo", Arguments: args})
		if err != nil {
			t.Fatalf("fx__echo: %v", err)
		}
		return res
	}
	// Not held: the gateway settles, and the fast path takes calls from here.
	if _, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "fx__cancelled_count"}); err != nil {
		t.Fatal(err)
	}

	if res := callTool(map[string]any{"text": "approved"}); res.IsError || textOf(t, res) != "approved" {
		t.Fatalf("accepted call: %q (isError %v)", textOf(t, res), res.IsError)
	}
	if got := wire.read(); !strings.Contains(got, `{"jsonrpc":"2.0","id":"mcpgw-ask-`) || !strings.Contains(got, `"method":"elicitation/create"`) {
		t.Errorf("the question did not go on the call's own stream under mcpgw's id; the agent read:\n%s", got)
	}
	mu.Lock()
	answer = func(context.Context, *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
		return &mcp.ElicitResult{Action: "decline"}, nil
	}
	mu.Unlock()
	if res := callTool(map[string]any{"text": "declined"}); !res.IsError {
		t.Fatalf("declined call ran: %q", textOf(t, res))
	} else {
		wantAll(t, "the declined call's result", textOf(t, res), "fx__echo was not run", "declined")
	}
	mu.Lock()
	answer = func(ctx context.Context, _ *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
		<-ctx.Done() // the person never answers; mcpgw gives up
		gaveUp <- struct{}{}
		return nil, ctx.Err()
	}
	mu.Unlock()
	if res := callTool(map[string]any{"text": "timed out"}); !res.IsError {
		t.Fatalf("timed-out call ran: %q", textOf(t, res))
	} else {
		wantAll(t, "the timed-out call's result", textOf(t, res), "fx__echo was not run", "none came within the timeout (3s")
	}
	select {
	case <-gaveUp:
	case <-ctx.Done():
		t.Fatal("the agent was not told mcpgw gave up on its question (notifications/cancelled)")
	}
}
