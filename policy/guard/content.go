package guard

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/mcpgw/mcpgw/mux/callpath"
)

// Config is what the guardrails: section says: an action per detector and
// phase. In is what goes to servers (tool and prompt arguments; the
// agent's answers to elicitation and sampling); Out is what comes back to
// the agent (tool results, resources, prompt messages; servers'
// elicitation and sampling requests).
type Config struct {
	SecretsIn, SecretsOut Action
	PIIIn, PIIOut         Action
	// PIITypes are the PII types looked for; empty means all.
	PIITypes []string
	// MaxScanBytes is the size budget per payload; 0 means
	// [DefaultMaxScanBytes].
	MaxScanBytes int
}

// DefaultConfig is the guardrails with nothing configured: secrets blocked
// in what goes to servers and redacted from what comes back; PII not looked
// for (redacting every address in a git log would make tools useless).
func DefaultConfig() Config {
	return Config{SecretsIn: Block, SecretsOut: Redact, PIIIn: Off, PIIOut: Off}
}

// Options configures a [Guard]. Nil means defaults.
type Options struct {
	// Config is the starting configuration; the zero value means
	// [DefaultConfig].
	Config *Config
	// Secrets is the secrets detector; nil means [NewSecrets](nil), which
	// compiles gitleaks' default rules in the background.
	Secrets *Secrets
	// MaxScanTime is the time budget per payload; 0 means
	// [DefaultMaxScanTime].
	MaxScanTime time.Duration
	// ReadyWait is how long a call waits for the secret rules to be
	// compiled before it is refused (arguments) or its result withheld
	// (results): scanning never fails open. 0 means 10s.
	ReadyWait time.Duration
}

// Guard is the call path's content guardrail: its request phase (guard-in)
// scans what goes to a server, its result phase (guard-out) what comes
// back, each with the detectors and actions of its [Config]. It is safe for
// concurrent use; [Guard.Update] applies a new configuration to calls that
// start after it.
type Guard struct {
	state     atomic.Pointer[guardState]
	readyWait time.Duration
	maxTime   time.Duration
}

// guardState is one configuration, immutable.
type guardState struct {
	cfg     Config
	secrets *Secrets
	pii     *PII
	scanner Scanner
	// in and out are the two directions' phases, and recorded the
	// detectors of either: made once per configuration, as every call
	// (and every text the record keeps) needs them.
	in, out  phase
	recorded []Detector
}

// New returns a guard.
func New(o *Options) *Guard {
	if o == nil {
		o = &Options{}
	}
	g := &Guard{readyWait: o.ReadyWait, maxTime: o.MaxScanTime}
	if g.readyWait <= 0 {
		g.readyWait = 10 * time.Second
	}
	cfg := DefaultConfig()
	if o.Config != nil {
		cfg = *o.Config
	}
	s := o.Secrets
	if s == nil {
		s = NewSecrets(nil)
	}
	g.set(cfg, s)
	return g
}

func (g *Guard) set(cfg Config, s *Secrets) {
	st := &guardState{cfg: cfg, secrets: s, pii: NewPII(cfg.PIITypes), scanner: Scanner{MaxBytes: cfg.MaxScanBytes, MaxTime: g.maxTime}}
	st.in, st.out = st.makePhase(true), st.makePhase(false)
	st.recorded = slices.Clone(st.in.dets)
	for _, d := range st.out.dets {
		if !containsDet(st.recorded, d) {
			st.recorded = append(st.recorded, d)
		}
	}
	g.state.Store(st)
}

// Update applies cfg to calls that start from now on; s, when not nil,
// replaces the secrets detector (new rules).
func (g *Guard) Update(cfg Config, s *Secrets) {
	if s == nil {
		s = g.state.Load().secrets
	}
	g.set(cfg, s)
}

// Config returns the configuration in force.
func (g *Guard) Config() Config { return g.state.Load().cfg }

// Secrets returns the secrets detector in use.
func (g *Guard) Secrets() *Secrets { return g.state.Load().secrets }

// Name implements [callpath.Stage].
func (*Guard) Name() string { return "guardrails" }

// Inline reports that the result phase never waits for anything but the
// secret rules at startup: the gateway may run it where it answers.
func (*Guard) Inline() bool { return true }

// phase is one direction's detectors and actions.
type phase struct {
	dets    []Detector
	actions map[string]Action // by detector name
}

func (a phase) action(f Finding) Action {
	if f.Rule == BudgetRule {
		return Redact
	}
	return a.actions[f.Detector]
}

// phase is the phase of what goes to servers (in) or comes from them.
func (st *guardState) phase(in bool) phase {
	if in {
		return st.in
	}
	return st.out
}

// makePhase builds a phase; in is true for what goes to servers.
func (st *guardState) makePhase(in bool) phase {
	sec, pii := st.cfg.SecretsOut, st.cfg.PIIOut
	if in {
		sec, pii = st.cfg.SecretsIn, st.cfg.PIIIn
	}
	p := phase{actions: map[string]Action{"secrets": sec, "pii": pii}}
	if sec != Off && sec != "" {
		p.dets = append(p.dets, st.secrets)
	}
	if pii != Off && pii != "" && len(st.pii.kinds) > 0 {
		p.dets = append(p.dets, st.pii)
	}
	return p
}

// needsSecrets reports whether p runs the secrets detector.
func (p phase) needsSecrets() bool {
	return slices.ContainsFunc(p.dets, func(d Detector) bool { return d.Name() == "secrets" })
}

// CheckRequest implements [callpath.RequestStage]: guard-in on tool and
// prompt arguments; guard-out on a server's elicitation and sampling
// requests on their way to the agent.
func (g *Guard) CheckRequest(ctx context.Context, c *callpath.Call) *callpath.Verdict {
	if len(c.Params) == 0 || c.Kind == callpath.ResourceRead {
		return nil
	}
	st := g.state.Load()
	in := !c.Kind.FromServer()
	p := st.phase(in)
	if len(p.dets) == 0 {
		return nil
	}
	root := "$.arguments"
	if !in {
		root = "$.params"
	}
	if p.needsSecrets() && st.secrets.loaded() == nil {
		// The rules are still compiling (they take a moment at startup):
		// hold the call, off the reader, rather than let it through
		// unscanned.
		return &callpath.Verdict{Hold: func(ctx context.Context) *callpath.Verdict {
			if err := g.waitReady(ctx, st.secrets); err != nil {
				return callpath.Block("guard-secrets-unready", fmt.Sprintf("%s %s: %v; try again", describe(c), "was not sent", err))
			}
			return g.request(ctx, c, st, p, root)
		}}
	}
	return g.request(ctx, c, st, p, root)
}

func (g *Guard) request(ctx context.Context, c *callpath.Call, st *guardState, p phase, root string) *callpath.Verdict {
	rewrite := rewritable(c)
	var redact func(Finding) bool
	if rewrite {
		redact = func(f Finding) bool { return p.action(f) == Redact }
	}
	sc := st.scanner.Scan(ctx, c.Params, root, p.dets, redact)
	if len(sc.Findings) == 0 {
		return nil
	}
	v := decide(c, sc, p, false)
	if !v.Stops() && sc.Out != nil {
		c.Params = sc.Out // the server gets the arguments with the values masked
	}
	return v
}

// rewritable reports whether c's request may reach its server changed:
// tool and prompt arguments may (input: redact); a server's own
// elicitation or sampling request goes to the agent as it was sent, or not
// at all.
func rewritable(c *callpath.Call) bool {
	return c.Kind == callpath.ToolCall || c.Kind == callpath.PromptGet
}

// CheckResult implements [callpath.ResultStage]: guard-out on what a
// server answered; guard-in on the agent's answers to a server's
// elicitation and sampling requests.
func (g *Guard) CheckResult(ctx context.Context, c *callpath.Call, r *callpath.Result) *callpath.Verdict {
	if len(r.Raw) == 0 {
		return nil
	}
	st := g.state.Load()
	in := c.Kind.FromServer()
	p := st.phase(in)
	if len(p.dets) == 0 {
		return nil
	}
	if p.needsSecrets() && st.secrets.loaded() == nil {
		if err := g.waitReady(ctx, st.secrets); err != nil {
			return callpath.Block("guard-secrets-unready", fmt.Sprintf("the answer to %s was withheld: %v; try again", describe(c), err))
		}
	}
	sc := st.scanner.Scan(ctx, r.Raw, "$.result", p.dets, func(f Finding) bool { return p.action(f) == Redact })
	if len(sc.Findings) == 0 {
		return nil
	}
	v := decide(c, sc, p, true)
	if !v.Stops() && sc.Out != nil {
		r.Raw = sc.Out
	}
	return v
}

// waitReady waits for the secret rules, at most g.readyWait, starting
// their compile if nothing has.
func (g *Guard) waitReady(ctx context.Context, s *Secrets) error {
	s.Start()
	t := time.NewTimer(g.readyWait)
	defer t.Stop()
	select {
	case <-s.Ready():
		if err := s.Err(); err != nil {
			return fmt.Errorf("secret scanning is unavailable (%v)", err)
		}
		return nil
	case <-t.C:
		return fmt.Errorf("secret scanning was not ready after %s", g.readyWait)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// decide turns a scan's findings into a verdict: block when an action
// says so, else a note of the redactions and warnings. result is true for
// a result, false for a request. Results, and tool and prompt arguments,
// can be rewritten; where a payload cannot, redact (and the budget's)
// block, as do findings no one string holds (Unplaced), which cannot be
// redacted in part.
func decide(c *callpath.Call, sc Scan, p phase, result bool) *callpath.Verdict {
	rewrite := result || rewritable(c)
	var blocked, noted []callpath.Finding
	decision := "warn"
	for _, f := range sc.Findings {
		cf := callpath.Finding{Rule: f.Rule, Path: f.Path, Start: f.Start, End: f.End}
		switch a := p.action(f); {
		case a == Block, a == Redact && (!rewrite || sc.Unplaced),
			f.Rule == BudgetRule && !result: // arguments fail closed

			blocked = append(blocked, cf)
		case a == Redact:
			decision = "redact"
			noted = append(noted, cf)
		default:
			noted = append(noted, cf)
		}
	}
	if len(blocked) > 0 {
		return callpath.Block(blocked[0].Rule, blockReason(c, blocked, result), append(blocked, noted...)...)
	}
	return &callpath.Verdict{Decision: decision, Rule: noted[0].Rule, Findings: noted}
}

// blockReason says what was found and where, never the value.
func blockReason(c *callpath.Call, fs []callpath.Finding, result bool) string {
	var what []string
	budget := false
	for _, f := range fs {
		if f.Rule == BudgetRule {
			budget = true
			continue
		}
		w := f.Rule + " at " + f.Path
		if !slices.Contains(what, w) {
			what = append(what, w)
		}
	}
	var b strings.Builder
	b.WriteString(describe(c))
	if result {
		b.WriteString(": its result was withheld")
	} else {
		b.WriteString(" blocked")
	}
	if len(what) > 0 {
		fmt.Fprintf(&b, ": it holds what looks like a secret or personal data (%s)", strings.Join(what, ", "))
	}
	if budget {
		b.WriteString(": it is larger than guardrails.max_scan_bytes (or took too long to scan), so it could not be checked")
	}
	switch {
	case result && c.Kind.FromServer():
		b.WriteString(". mcpgw does not pass it on to the server")
	case result:
		b.WriteString(". mcpgw does not pass it to the agent")
	default:
		b.WriteString(". Leave the value out of the call (a server that needs a credential gets it from its own configuration), or change guardrails: in the mcpgw configuration")
	}
	return b.String()
}

// describe names the call for a reason.
func describe(c *callpath.Call) string {
	switch c.Kind {
	case callpath.ToolCall:
		return fmt.Sprintf("call to %q", c.Exposed)
	case callpath.PromptGet:
		return fmt.Sprintf("prompt %q", c.Exposed)
	case callpath.ResourceRead:
		return fmt.Sprintf("resource %q", c.Exposed)
	}
	return fmt.Sprintf("%s from server %q", c.Kind.Method(), c.Server)
}
