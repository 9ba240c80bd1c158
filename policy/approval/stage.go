package approval

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mcpgw/mcpgw/mux/callpath"
)

// Stage holds calls that match the approval rules until a person decides.
// The zero value holds nothing; [Stage.Update] gives it rules.
type Stage struct {
	// Store keeps out-of-band approvals, and the record of every one; nil
	// allows only elicitation.
	Store Store
	// Redact masks secrets in the arguments a person is shown and the
	// store keeps; nil shows them as they are.
	Redact func([]byte) []byte
	// PollEvery is how often an out-of-band wait reads its approval: one
	// small query. Zero means 500ms.
	PollEvery time.Duration
	Logger    *slog.Logger
	// Now is the clock; nil is time.Now.
	Now func() time.Time

	cfg      atomic.Pointer[state]
	mu       sync.Mutex
	sessions map[string]Request // session-scope approvals by grantKey
}

type state struct {
	rules   *Rules
	channel Channel
	timeout time.Duration
}

var _ callpath.RequestStage = (*Stage)(nil)

// Name is "approval".
func (s *Stage) Name() string { return "approval" }

// Update applies cfg to calls from now on. On an error (a rule that does
// not compile) nothing changes.
func (s *Stage) Update(cfg Config) error {
	rules, err := Compile(cfg.Rules)
	if err != nil {
		return err
	}
	st := &state{rules: rules, channel: cfg.Channel, timeout: cfg.Timeout}
	if st.channel == "" {
		st.channel = Auto
	}
	if st.timeout <= 0 {
		st.timeout = DefaultTimeout
	}
	s.cfg.Store(st)
	return nil
}

// Rules are the rules in force.
func (s *Stage) Rules() *Rules {
	if st := s.cfg.Load(); st != nil {
		return st.rules
	}
	return nil
}

func (s *Stage) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Stage) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// CheckRequest holds a call that a rule matches, unless this session
// approved the tool already.
func (s *Stage) CheckRequest(ctx context.Context, c *callpath.Call) *callpath.Verdict {
	st := s.cfg.Load()
	if st == nil || st.rules.Len() == 0 {
		return nil
	}
	r := st.rules.Match(c)
	if r == nil {
		return nil
	}
	if g, ok := s.sessionGrant(c); ok {
		return &callpath.Verdict{Decision: "approve", Rule: r.ID,
			Reason: fmt.Sprintf("approved for this session by %s (approval %d)", g.DecidedBy, g.ID)}
	}
	rule := *r
	return &callpath.Verdict{Decision: "hold", Rule: r.ID, Reason: "waiting for approval",
		Hold: func(ctx context.Context) *callpath.Verdict { return s.hold(ctx, c, rule, st) }}
}

func grantKey(session, server, tool string) string { return session + "\x00" + server + "\x00" + tool }

func (s *Stage) sessionGrant(c *callpath.Call) (Request, bool) {
	id := c.Session.ID()
	if id == "" {
		return Request{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.sessions[grantKey(id, c.Server, c.Name)]
	return g, ok
}

// grant remembers a session-scope approval.
func (s *Stage) grant(c *callpath.Call, r Request) {
	id := c.Session.ID()
	if id == "" {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sessions == nil {
		s.sessions = map[string]Request{}
	}
	s.sessions[grantKey(id, c.Server, c.Name)] = r
}

// errTimedOut is the cause of a wait that ran out of time.
var errTimedOut = errors.New("approval timed out")

// hold asks for a decision about c, which rule r holds, and waits for it.
func (s *Stage) hold(ctx context.Context, c *callpath.Call, r Rule, st *state) *callpath.Verdict {
	args, hash := s.arguments(c)
	if s.Store != nil {
		g, err := s.Store.ApprovalGranted(ctx, c.Server, c.Name, hash, s.now())
		if err != nil {
			s.logger().Warn("approvals of exact arguments not read; asking", "err", err)
		}
		if g != nil {
			return &callpath.Verdict{Decision: "approve", Rule: r.ID,
				Reason: fmt.Sprintf("approved for these arguments until %s by %s (approval %d)", g.Expires.Format(time.RFC3339), g.DecidedBy, g.ID)}
		}
	}
	req := Request{Created: s.now(), PID: os.Getpid(), User: c.Identity.User, Session: c.Session.ID(),
		Server: c.Server, Tool: c.Name, Exposed: c.Exposed, Args: args, ArgsHash: hash, Rule: r.ID}
	wctx, cancel := context.WithTimeoutCause(ctx, st.timeout, errTimedOut)
	defer cancel()
	if st.channel != OutOfBand {
		req.Channel = Elicitation
		v, asked := s.elicit(ctx, wctx, c, req, st)
		if asked || st.channel == Elicitation {
			return v
		}
	}
	return s.outOfBand(ctx, wctx, c, req, st)
}

// arguments are c's arguments as a person is shown them (redacted), and
// the hash that identifies them exactly (before redaction; keys sorted).
func (s *Stage) arguments(c *callpath.Call) (shown, hash string) {
	raw := []byte("{}")
	if len(c.Params) > 0 {
		var v any
		if err := json.Unmarshal(c.Params, &v); err == nil {
			raw, _ = json.Marshal(v) // object keys sorted
		} else {
			raw = c.Params
		}
	}
	sum := sha256.Sum256([]byte(c.Server + "\x00" + c.Name + "\x00" + string(raw)))
	shown = string(raw)
	if s.Redact != nil {
		shown = string(s.Redact(raw))
	}
	return shown, hex.EncodeToString(sum[:])
}

// scopeSchema is the elicitation form: one choice of what the approval
// covers.
const scopeSchema = `{"type":"object","properties":{"scope":{"type":"string","title":"Approve for",` +
	`"enum":["once","session","args"],"enumNames":["This call only","This tool, for the rest of this session","These exact arguments, for 1h"],"default":"once"}}}`

// question is what the person is asked.
func question(c *callpath.Call, req Request) string {
	return fmt.Sprintf("mcpgw: approve this call? (rule %s)\n\nTool: %s\nServer: %s (its tool %s)\nArguments: %s\n\nAccept to let it run, decline to refuse it.",
		req.Rule, c.Exposed, c.Server, c.Name, req.Args)
}

// elicit asks through the agent. asked is false when the agent cannot be
// asked; the verdict then says why.
func (s *Stage) elicit(ctx, wctx context.Context, c *callpath.Call, req Request, st *state) (v *callpath.Verdict, asked bool) {
	ans, err := c.Session.Elicit(wctx, callpath.Question{Message: question(c, req), Schema: json.RawMessage(scopeSchema)})
	if errors.Is(err, callpath.ErrCannotAsk) {
		return callpath.Deny(req.Rule, fmt.Sprintf("%s needs a person's approval (%s), and approval.channel is elicitation, but %v; set approval.channel to auto or out-of-band", c.Exposed, req.Rule, err)), false
	}
	id := s.create(ctx, &req)
	if err != nil {
		return s.ended(ctx, wctx, c, req, id, st, err), true
	}
	d := Decision{State: Denied, By: agentPerson(c), Scope: Once}
	switch ans.Action {
	case "accept":
		d.State = Approved
		if sc, _ := ans.Content["scope"].(string); sc != "" {
			if d.Scope, err = ParseScope(sc); err != nil {
				d.Scope = Once
			}
		}
		if d.Scope == Args {
			d.Expires = s.now().Add(DefaultArgsTTL)
		}
	case "decline":
		d.Reason = "declined"
	default:
		d.Reason = "dismissed (" + cmpOr(ans.Action, "no answer") + ")"
	}
	return s.decided(ctx, c, s.decide(ctx, id, req, d)), true
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// agentPerson names who answers an elicitation: the person at the agent.
func agentPerson(c *callpath.Call) string {
	name, _ := c.Session.Client()
	who := "the person at " + cmpOr(name, "the agent")
	if c.Identity.User != "" {
		who = c.Identity.User + " at " + cmpOr(name, "the agent")
	}
	return who
}

// outOfBand stores the approval as pending, tells the agent how to decide
// it, and polls the store until it is decided or the wait ends.
func (s *Stage) outOfBand(ctx, wctx context.Context, c *callpath.Call, req Request, st *state) *callpath.Verdict {
	if s.Store == nil {
		return callpath.Deny(req.Rule, fmt.Sprintf("%s needs a person's approval (%s); the agent cannot be asked and there is no record to wait in (mcpgw approvals needs logs enabled)", c.Exposed, req.Rule))
	}
	req.Channel = OutOfBand
	id := s.create(ctx, &req)
	if id == 0 {
		return callpath.Deny(req.Rule, fmt.Sprintf("%s needs a person's approval (%s), and the approval could not be stored; see mcpgw's log", c.Exposed, req.Rule))
	}
	msg := fmt.Sprintf("mcpgw: %s on %s needs approval (approval %d, rule %s); waiting up to %s. Approve with: mcpgw approvals approve %d   Deny with: mcpgw approvals deny %d",
		c.Exposed, c.Server, id, req.Rule, st.timeout, id, id)
	if n, ok := c.Session.(callpath.Notifier); ok {
		n.Notify(ctx, c, msg)
	}
	s.logger().Warn(msg)
	every := s.PollEvery
	if every <= 0 {
		every = 500 * time.Millisecond
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-wctx.Done():
			return s.ended(ctx, wctx, c, req, id, st, wctx.Err())
		case <-t.C:
		}
		got, err := s.Store.Approval(wctx, id)
		if err != nil {
			if wctx.Err() == nil {
				s.logger().Debug("approval not read", "id", id, "err", err)
			}
			continue
		}
		if got.State != Pending {
			return s.decided(ctx, c, got)
		}
	}
}

// create stores req as pending and returns its id (0 when it could not
// be stored: the call is still asked about, and the failure logged).
func (s *Stage) create(ctx context.Context, req *Request) int64 {
	if s.Store == nil {
		return 0
	}
	id, err := s.Store.CreateApproval(context.WithoutCancel(ctx), *req)
	if err != nil {
		s.logger().Warn("approval not recorded", "err", err)
		return 0
	}
	req.ID, req.State = id, Pending
	return id
}

// decide records d for the approval id, and returns the approval as
// decided: as another process decided it, if one was first.
func (s *Stage) decide(ctx context.Context, id int64, req Request, d Decision) Request {
	if d.Scope == "" {
		d.Scope = Once
	}
	out := req
	out.ID, out.State, out.DecidedBy, out.Reason, out.Scope, out.Expires, out.Decided = id, d.State, d.By, d.Reason, d.Scope, d.Expires, s.now()
	if s.Store == nil || id == 0 {
		return out
	}
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	got, err := s.Store.DecideApproval(dctx, id, d)
	switch {
	case errors.Is(err, ErrDecided):
		return got
	case err != nil:
		s.logger().Warn("approval decision not recorded", "id", id, "err", err)
		return out
	}
	return got
}

// ended decides an approval whose wait ended without an answer: the
// timeout expired it, or the agent cancelled the call.
func (s *Stage) ended(ctx, wctx context.Context, c *callpath.Call, req Request, id int64, st *state, err error) *callpath.Verdict {
	d := Decision{State: Cancelled, By: "mcpgw", Reason: "the agent cancelled the call while it waited"}
	switch {
	case errors.Is(context.Cause(wctx), errTimedOut):
		d.State, d.Reason = Expired, fmt.Sprintf("no decision within %s", st.timeout)
	case ctx.Err() == nil:
		d.State, d.Reason = Denied, fmt.Sprintf("could not ask: %v", err)
	}
	return s.decided(ctx, c, s.decide(ctx, id, req, d))
}

// decided turns a decided approval into the call's verdict.
func (s *Stage) decided(ctx context.Context, c *callpath.Call, r Request) *callpath.Verdict {
	how := "elicitation"
	if r.Channel == OutOfBand {
		how = "mcpgw approvals"
	}
	ref := ""
	if r.ID != 0 {
		ref = fmt.Sprintf(", approval %d", r.ID)
	}
	switch r.State {
	case Approved:
		if r.Scope == Session {
			s.grant(c, r)
		}
		scope := "this call"
		switch r.Scope {
		case Session:
			scope = "this session"
		case Args:
			scope = "these arguments until " + r.Expires.Format(time.RFC3339)
		}
		return &callpath.Verdict{Decision: "approve", Rule: r.Rule,
			Reason: fmt.Sprintf("approved by %s through %s for %s%s", r.DecidedBy, how, scope, ref)}
	case Cancelled:
		return &callpath.Verdict{Status: callpath.Cancelled, Decision: "cancel", Rule: r.Rule,
			Reason: fmt.Sprintf("%s was cancelled while it waited for approval%s", c.Exposed, ref)}
	case Expired:
		return callpath.Deny(r.Rule, fmt.Sprintf("%s was not run: it needs a person's approval (%s) and none came within the timeout (%s%s); ask again, and approve it when asked",
			c.Exposed, r.Rule, strings.TrimPrefix(r.Reason, "no decision within "), ref))
	}
	verb, why := "denied", ""
	switch {
	case r.Reason == "declined" || strings.HasPrefix(r.Reason, "dismissed"):
		verb = r.Reason
	case r.Reason != "":
		why = ": " + r.Reason
	}
	by := ""
	if r.DecidedBy != "" {
		by = " by " + r.DecidedBy
	}
	return callpath.Deny(r.Rule, fmt.Sprintf("%s was not run: %s%s through %s (rule %s%s)%s", c.Exposed, verb, by, how, r.Rule, ref, why))
}
