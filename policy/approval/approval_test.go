package approval

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcpgw/mcpgw/mux/callpath"
)

func yes() *bool { b := true; return &b }
func no() *bool  { b := false; return &b }

func toolCall(server, tool string, destructive *bool, args string) *callpath.Call {
	c := &callpath.Call{Kind: callpath.ToolCall, Server: server, Name: tool, Exposed: server + "__" + tool, Destructive: destructive, Session: &session{id: "s1"}}
	if args != "" {
		c.Params = json.RawMessage(args)
	}
	return c
}

func TestMatch(t *testing.T) {
	rules, err := Compile([]Rule{
		{Server: "github", Tool: "delete_*"},
		{Destructive: true},
		{Server: "postgres", Tool: "query", When: `args.sql.contains("DROP")`},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		c    *callpath.Call
		want string // the rule's id, "" for none
	}{
		{"glob on server and tool", toolCall("github", "delete_repo", nil, ""), "approval.rules[0]"},
		{"another tool of the server", toolCall("github", "create_issue", nil, ""), ""},
		{"the glob is the server's, not another's", toolCall("gitlab", "delete_repo", nil, ""), ""},
		{"destructiveHint true", toolCall("memory", "delete_entities", yes(), ""), "approval.rules[1]"},
		{"destructiveHint false", toolCall("memory", "create_entities", no(), ""), ""},
		{"destructiveHint absent is unknown, not destructive", toolCall("fx", "echo", nil, ""), ""},
		{"condition true", toolCall("postgres", "query", nil, `{"sql":"DROP TABLE users"}`), "approval.rules[2]"},
		{"condition false", toolCall("postgres", "query", nil, `{"sql":"SELECT 1"}`), ""},
		{"condition that cannot be judged holds", toolCall("postgres", "query", nil, `{"statement":"DROP TABLE x"}`), "approval.rules[2]"},
		{"arguments that are not an object", toolCall("postgres", "query", nil, `[1]`), "approval.rules[2]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ""
			if r := rules.Match(tc.c); r != nil {
				got = r.ID
			}
			if got != tc.want {
				t.Errorf("Match = %q; want %q", got, tc.want)
			}
		})
	}
	prompt := toolCall("github", "delete_repo", nil, "")
	prompt.Kind = callpath.PromptGet
	if r := rules.Match(prompt); r != nil {
		t.Errorf("a prompt is held by %s; only tool calls are", r.ID)
	}
	var none *Rules
	if none.Match(toolCall("github", "delete_repo", nil, "")) != nil {
		t.Error("no rules hold a call")
	}
}

func TestCompileErrors(t *testing.T) {
	for _, tc := range []struct {
		r    Rule
		want string
	}{
		{Rule{}, "matches every call: give it server:, tool:, destructive: true or when:"},
		{Rule{Tool: "delete_["}, `"delete_[" is not a glob`},
		{Rule{When: "args.sql.contains("}, "when \"args.sql.contains(\""},
		{Rule{When: "args.nope"}, ""}, // dynamic: judged per call
		{Rule{When: `"a"`}, "is a string, not true or false"},
		{Rule{When: "secret == 1"}, "conditions see args, server and tool"},
	} {
		_, err := Compile([]Rule{tc.r})
		if tc.want == "" {
			if err != nil {
				t.Errorf("Compile(%+v) = %v; want no error", tc.r, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "approval.rules[0]") {
			t.Errorf("Compile(%+v) = %v; want an error naming approval.rules[0] with %q", tc.r, err, tc.want)
		}
	}
}

// session is an agent session whose person answers with answer (or
// cannot be asked when cannot is set), counting the questions.
type session struct {
	id      string
	cannot  bool
	block   bool // wait for ctx instead of answering
	answer  callpath.Answer
	mu      sync.Mutex
	asked   []string
	notices []string
}

func (s *session) ID() string                  { return s.id }
func (s *session) Client() (string, string)    { return "agent", "1" }
func (s *session) ProtocolVersion() string     { return "2025-11-25" }
func (s *session) Identity() callpath.Identity { return callpath.Identity{} }
func (s *session) Notify(_ context.Context, _ *callpath.Call, msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.notices = append(s.notices, msg)
}

func (s *session) Elicit(ctx context.Context, q callpath.Question) (callpath.Answer, error) {
	if s.cannot {
		return callpath.Answer{}, fmt.Errorf("%w: no elicitation", callpath.ErrCannotAsk)
	}
	s.mu.Lock()
	s.asked = append(s.asked, q.Message)
	s.mu.Unlock()
	if s.block {
		<-ctx.Done()
		return callpath.Answer{}, ctx.Err()
	}
	return s.answer, nil
}

func (s *session) questions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.asked)
}

// memStore is a [Store] in memory.
type memStore struct {
	mu   sync.Mutex
	rows []Request
	made chan int64
}

func newMemStore() *memStore { return &memStore{made: make(chan int64, 16)} }

func (m *memStore) CreateApproval(_ context.Context, r Request) (int64, error) {
	m.mu.Lock()
	r.ID, r.State = int64(len(m.rows)+1), Pending
	m.rows = append(m.rows, r)
	m.mu.Unlock()
	m.made <- r.ID
	return r.ID, nil
}

func (m *memStore) Approval(_ context.Context, id int64) (Request, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if id < 1 || int(id) > len(m.rows) {
		return Request{}, ErrNotFound
	}
	return m.rows[id-1], nil
}

func (m *memStore) DecideApproval(ctx context.Context, id int64, d Decision) (Request, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := &m.rows[id-1]
	if r.State != Pending {
		return *r, ErrDecided
	}
	r.State, r.DecidedBy, r.Reason, r.Scope, r.Expires, r.Decided = d.State, d.By, d.Reason, d.Scope, d.Expires, time.Now()
	return *r, nil
}

func (m *memStore) ApprovalGranted(_ context.Context, server, tool, hash string, now time.Time) (*Request, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range m.rows {
		if r.State == Approved && r.Scope == Args && r.ArgsHash == hash && r.Server == server && r.Tool == tool && r.Expires.After(now) {
			return &r, nil
		}
	}
	return nil, nil
}

// run checks c through st, waiting out a hold.
func run(t *testing.T, ctx context.Context, st *Stage, c *callpath.Call) (v *callpath.Verdict, held bool) {
	t.Helper()
	v = st.CheckRequest(ctx, c)
	if v != nil && v.Hold != nil {
		return v.Hold(ctx), true
	}
	return v, false
}

func newStage(t *testing.T, cfg Config, store Store) *Stage {
	t.Helper()
	st := &Stage{PollEvery: 5 * time.Millisecond}
	if store != nil {
		st.Store = store
	}
	if len(cfg.Rules) == 0 {
		cfg.Rules = []Rule{{Server: "fx", Tool: "delete_*"}}
	}
	if err := st.Update(cfg); err != nil {
		t.Fatal(err)
	}
	return st
}

func TestElicitationScopes(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		scope string
		// whether a second call in the session, and one with the same
		// arguments in another session, are asked about again
		againSession, againArgs bool
	}{
		{"once", true, true},
		{"session", false, true},
		{"args", false, false},
	} {
		t.Run(tc.scope, func(t *testing.T) {
			store := newMemStore()
			st := newStage(t, Config{}, store)
			s := &session{id: "s1", answer: callpath.Answer{Action: "accept", Content: map[string]any{"scope": tc.scope}}}
			c := toolCall("fx", "delete_repo", nil, `{"name":"a","force":true}`)
			c.Session = s
			v, held := run(t, ctx, st, c)
			if !held || v.Stops() || v.Decision != "approve" || v.Rule != "approval.rules[0]" || !strings.Contains(v.Reason, "through elicitation") {
				t.Fatalf("first call: held %v, verdict %+v; want held and approved through elicitation", held, v)
			}
			if s.questions() != 1 || !strings.Contains(s.asked[0], `{"force":true,"name":"a"}`) || !strings.Contains(s.asked[0], "fx__delete_repo") {
				t.Errorf("questions: %q; want one naming the tool and its arguments", s.asked)
			}
			if r, _ := store.Approval(ctx, 1); r.State != Approved || r.Channel != Elicitation || r.Scope != Scope(tc.scope) || r.DecidedBy != "the person at agent" {
				t.Errorf("stored approval: %+v", r)
			}

			_, held = run(t, ctx, st, c)
			if got := s.questions() == 2; got != tc.againSession {
				t.Errorf("second call in the session asked: %v; want %v (held %v)", got, tc.againSession, held)
			}
			if !tc.againSession && tc.scope == "session" && held {
				t.Error("a session approval still holds the next call")
			}

			other := &session{id: "s2", answer: callpath.Answer{Action: "decline"}}
			c2 := toolCall("fx", "delete_repo", nil, `{"force":true,"name":"a"}`) // same arguments, keys in another order
			c2.Session = other
			v, _ = run(t, ctx, st, c2)
			if got := other.questions() == 1; got != tc.againArgs {
				t.Errorf("same arguments in another session asked: %v; want %v", got, tc.againArgs)
			}
			if tc.againArgs && (!v.Stops() || !strings.Contains(v.Reason, "declined by the person at agent through elicitation")) {
				t.Errorf("declined: %+v", v)
			}
			c3 := toolCall("fx", "delete_repo", nil, `{"name":"b"}`)
			c3.Session = other
			if v, _ := run(t, ctx, st, c3); !v.Stops() || other.questions() == 0 {
				t.Errorf("other arguments, declined: %+v", v)
			}
		})
	}
}

func TestNotHeld(t *testing.T) {
	st := newStage(t, Config{Rules: []Rule{{Destructive: true}}}, nil)
	for _, c := range []*callpath.Call{toolCall("fx", "echo", nil, ""), toolCall("memory", "create_entities", no(), "")} {
		if v := st.CheckRequest(context.Background(), c); v != nil {
			t.Errorf("%s: %+v; want not held", c.Exposed, v)
		}
	}
	if (&Stage{}).CheckRequest(context.Background(), toolCall("fx", "delete_x", yes(), "")) != nil {
		t.Error("a stage with no configuration holds")
	}
}

func TestOutOfBand(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		channel Channel
		cannot  bool
	}{
		{"auto, the agent cannot be asked", Auto, true},
		{"required, though the agent could be asked", OutOfBand, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := newMemStore()
			st := newStage(t, Config{Channel: tc.channel}, store)
			s := &session{id: "s1", cannot: tc.cannot, answer: callpath.Answer{Action: "accept"}}
			c := toolCall("fx", "delete_repo", nil, `{"name":"a"}`)
			c.Session = s
			go func() {
				id := <-store.made
				store.DecideApproval(ctx, id, Decision{State: Approved, By: "ana", Scope: Session})
			}()
			v, held := run(t, ctx, st, c)
			if !held || v.Stops() || !strings.Contains(v.Reason, "approved by ana through mcpgw approvals for this session, approval 1") {
				t.Fatalf("held %v, verdict %+v", held, v)
			}
			if s.questions() != 0 {
				t.Error("the agent was asked")
			}
			if len(s.notices) != 1 || !strings.Contains(s.notices[0], "mcpgw approvals approve 1") || !strings.Contains(s.notices[0], "mcpgw approvals deny 1") {
				t.Errorf("the agent was told %q; want the id and the commands", s.notices)
			}
			if v := st.CheckRequest(ctx, c); v == nil || v.Hold != nil || v.Decision != "approve" {
				t.Errorf("the session's next call: %+v; want approved without a hold", v)
			}

			go func() {
				id := <-store.made
				store.DecideApproval(ctx, id, Decision{State: Denied, By: "ana", Reason: "not today"})
			}()
			c2 := toolCall("fx", "delete_other", nil, "")
			c2.Session = s
			if v, _ := run(t, ctx, st, c2); !v.Stops() || !strings.Contains(v.Reason, "denied by ana through mcpgw approvals (rule approval.rules[0], approval 2): not today") {
				t.Errorf("denied: %+v", v)
			}
		})
	}
}

func TestNoWayToAsk(t *testing.T) {
	for _, tc := range []struct {
		channel Channel
		store   Store
		want    string
	}{
		{Elicitation, newMemStore(), "approval.channel is elicitation"},
		{Auto, nil, "no record to wait in"},
	} {
		st := newStage(t, Config{Channel: tc.channel}, tc.store)
		c := toolCall("fx", "delete_repo", nil, "")
		c.Session = &session{id: "s", cannot: true}
		if v, _ := run(t, context.Background(), st, c); !v.Stops() || !strings.Contains(v.Reason, tc.want) {
			t.Errorf("channel %s: %+v; want a denial saying %q", tc.channel, v, tc.want)
		}
	}
}

func TestTimeoutAndCancel(t *testing.T) {
	for _, tc := range []struct {
		name   string
		cannot bool // out of band
		cancel bool
		state  State
		want   string
	}{
		{"elicitation times out", false, false, Expired, "none came within the timeout (50ms, approval 1)"},
		{"out of band times out", true, false, Expired, "none came within the timeout (50ms, approval 1)"},
		{"elicitation cancelled", false, true, Cancelled, "cancelled while it waited"},
		{"out of band cancelled", true, true, Cancelled, "cancelled while it waited"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := newMemStore()
			st := newStage(t, Config{Timeout: 50 * time.Millisecond}, store)
			if tc.cancel {
				st.Update(Config{Timeout: time.Hour, Rules: []Rule{{Server: "fx", Tool: "delete_*"}}})
			}
			c := toolCall("fx", "delete_repo", nil, "")
			c.Session = &session{id: "s", cannot: tc.cannot, block: true}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tc.cancel && tc.cannot {
				go func() {
					<-store.made // the call waits in the store: cancel it
					cancel()
				}()
			} else if tc.cancel {
				cancel() // the agent is asked with the call's context
			}
			v, _ := run(t, ctx, st, c)
			if !v.Stops() || !strings.Contains(v.Reason, tc.want) {
				t.Errorf("verdict %+v; want a refusal saying %q", v, tc.want)
			}
			r, err := store.Approval(context.Background(), 1)
			if err != nil || r.State != tc.state || r.DecidedBy != "mcpgw" {
				t.Errorf("stored approval %+v, %v; want %s by mcpgw", r, err, tc.state)
			}
			if tc.cancel && v.Status != "cancelled" {
				t.Errorf("status %q; want cancelled", v.Status)
			}
		})
	}
}

func TestUpdateKeepsRulesOnError(t *testing.T) {
	st := newStage(t, Config{}, nil)
	if err := st.Update(Config{Rules: []Rule{{When: "("}}}); err == nil {
		t.Fatal("a bad rule applied")
	}
	if st.Rules().Len() != 1 || st.CheckRequest(context.Background(), toolCall("fx", "delete_x", nil, "")) == nil {
		t.Error("the rules in force were dropped")
	}
	if !errors.Is(ErrDecided, ErrDecided) {
		t.Fatal()
	}
}

// TestRedactedArguments: the person is shown, and the store keeps, the
// arguments with secrets masked; the exact-arguments hash is of the
// arguments as sent, so two calls whose secrets differ are not one.
func TestRedactedArguments(t *testing.T) {
	store := newMemStore()
	st := newStage(t, Config{}, store)
	st.Redact = func(b []byte) []byte { return []byte(strings.ReplaceAll(string(b), "hunter2", "[secret]")) }
	s := &session{id: "s", answer: callpath.Answer{Action: "accept", Content: map[string]any{"scope": "args"}}}
	c := toolCall("fx", "delete_repo", nil, `{"token":"hunter2"}`)
	c.Session = s
	if v, _ := run(t, context.Background(), st, c); v.Stops() {
		t.Fatalf("refused: %+v", v)
	}
	if len(s.asked) != 1 || strings.Contains(s.asked[0], "hunter2") || !strings.Contains(s.asked[0], `{"token":"[secret]"}`) {
		t.Errorf("asked %q; want the argument masked", s.asked)
	}
	r, _ := store.Approval(context.Background(), 1)
	if strings.Contains(r.Args, "hunter2") || r.Args != `{"token":"[secret]"}` {
		t.Errorf("stored arguments %q", r.Args)
	}
	other := toolCall("fx", "delete_repo", nil, `{"token":"hunter3"}`)
	other.Session = s
	run(t, context.Background(), st, other)
	if len(s.asked) != 2 {
		t.Errorf("a call with another secret was covered by the approval of the first (asked %d times)", len(s.asked))
	}
}
