package callpath

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
)

// Stage is one step of the call path. A stage implements one or more of
// [RequestStage], [ResultStage] and [CatalogStage]; which ones is how it
// says what it looks at.
type Stage interface {
	// Name names the stage in diagnostics.
	Name() string
}

// RequestStage checks a call before it is forwarded.
type RequestStage interface {
	Stage
	// CheckRequest returns nil to let the call go on, a verdict with a
	// Status to stop it, a verdict with Hold to hold it, or a note. It runs
	// on the gateway's hot path, possibly on a connection's reader: it must
	// not wait for anything (hold instead).
	CheckRequest(ctx context.Context, c *Call) *Verdict
}

// ResultStage inspects what came back for a call, and may rewrite it.
// Having one costs every tools/call a goroutine hand-off: the gateway can no
// longer answer the agent from the server's reader.
type ResultStage interface {
	Stage
	// CheckResult returns nil, a note (set r.Raw to rewrite the result), or
	// a verdict with a Status, which replaces the result with an error
	// saying Reason. It runs only when the server answered with a result,
	// not with a protocol error.
	CheckResult(ctx context.Context, c *Call, r *Result) *Verdict
}

// InlineResultStage is a [ResultStage] whose CheckResult only computes:
// it never waits for I/O or a person (a content scan, say). When every
// result stage is inline, the gateway runs them where it reads the
// server's answer and still answers the agent from there, without the
// goroutine hand-off a ResultStage otherwise costs.
type InlineResultStage interface {
	ResultStage
	// Inline reports whether CheckResult may run on a connection's reader.
	Inline() bool
}

// CatalogStage decides what each agent session may see of the merged
// catalog. The gateway asks once per session and catalog change, so the
// answer must depend only on the session and the entry (call
// Gateway.CatalogChanged when that changes), and a call to a hidden entry is
// refused with the verdict Hide gave, even if the agent guesses the name.
type CatalogStage interface {
	Stage
	// Hide returns nil to show e to s, or the verdict a call to it gets.
	Hide(s Session, e Entry) *Verdict
}

// Result is what a server (or, for elicitation and sampling, the agent)
// answered.
type Result struct {
	// Raw is the result object as JSON: a CallToolResult, GetPromptResult,
	// ReadResourceResult, ElicitResult or CreateMessageResult. A stage that
	// rewrites the result sets Raw to a result of the same kind.
	Raw json.RawMessage
	// IsError is a tool result's isError flag.
	IsError bool
}

// EntryKind is what a catalog [Entry] is.
type EntryKind uint8

// The kinds of catalog entry.
const (
	ToolEntry EntryKind = iota + 1
	PromptEntry
	ResourceEntry
	TemplateEntry
)

// Entry is one entry of the merged catalog, as a [CatalogStage] sees it.
type Entry struct {
	Kind EntryKind
	// Exposed is the name the agent sees (the URI, or URI template, for
	// resources).
	Exposed string
	Server  string
	// Name is the server's own name for it.
	Name string
	// Def is the definition as the agent is shown it, JSON encoded: what a
	// pin hashes.
	Def json.RawMessage
}

// Chain is the call path's stages, sorted by phase once.
type Chain struct {
	requests []RequestStage
	results  []ResultStage
	catalog  []CatalogStage
}

// NewChain sorts stages by the phases they implement, keeping their order
// within each phase. A stage that implements none is an error: it would
// never run.
func NewChain(stages []Stage) (*Chain, error) {
	ch := &Chain{}
	for _, st := range stages {
		ok := false
		if r, is := st.(RequestStage); is {
			ch.requests, ok = append(ch.requests, r), true
		}
		if r, is := st.(ResultStage); is {
			ch.results, ok = append(ch.results, r), true
		}
		if r, is := st.(CatalogStage); is {
			ch.catalog, ok = append(ch.catalog, r), true
		}
		if !ok {
			return nil, fmt.Errorf("stage %q implements no phase of the call path (RequestStage, ResultStage or CatalogStage)", st.Name())
		}
	}
	return ch, nil
}

// InspectsResults reports whether any stage looks at results.
func (ch *Chain) InspectsResults() bool { return ch != nil && len(ch.results) > 0 }

// ResultsInline reports whether every result stage is an
// [InlineResultStage] that says it may run inline (true when there are
// none).
func (ch *Chain) ResultsInline() bool {
	if ch == nil {
		return true
	}
	for _, st := range ch.results {
		if in, ok := st.(InlineResultStage); !ok || !in.Inline() {
			return false
		}
	}
	return true
}

// FiltersCatalog reports whether any stage hides catalog entries.
func (ch *Chain) FiltersCatalog() bool { return ch != nil && len(ch.catalog) > 0 }

// CheckRequest runs the request checks in order. It returns nil to go on,
// the first verdict that stops the call, or a verdict with Hold: holding it
// decides, and then runs the checks after the one that held.
func (ch *Chain) CheckRequest(ctx context.Context, c *Call) *Verdict {
	if ch == nil {
		return nil
	}
	return ch.checkFrom(ctx, c, 0)
}

func (ch *Chain) checkFrom(ctx context.Context, c *Call, from int) *Verdict {
	for i := from; i < len(ch.requests); i++ {
		v := ch.requests[i].CheckRequest(ctx, c)
		if v == nil {
			continue
		}
		if v.Hold != nil {
			hold, rest := v.Hold, i+1
			return &Verdict{Decision: v.Decision, Rule: v.Rule, Reason: v.Reason, Hold: func(ctx context.Context) *Verdict {
				d := hold(ctx)
				c.Note(d)
				if d.Stops() {
					return d
				}
				// Off the reader now: a later hold simply waits here.
				next := ch.checkFrom(ctx, c, rest)
				if next != nil && next.Hold != nil {
					next = next.Hold(ctx)
				}
				return next
			}}
		}
		c.Note(v)
		if v.Stops() {
			return v
		}
	}
	return nil
}

// CheckResult runs the result checks in order over r, and returns the
// first verdict that stops the call, or nil.
func (ch *Chain) CheckResult(ctx context.Context, c *Call, r *Result) *Verdict {
	if ch == nil {
		return nil
	}
	for _, st := range ch.results {
		v := st.CheckResult(ctx, c, r)
		c.Note(v)
		if v.Stops() {
			return v
		}
	}
	return nil
}

// Hide asks every catalog stage whether s may see e; the first verdict
// hides it.
func (ch *Chain) Hide(s Session, e Entry) *Verdict {
	if ch == nil {
		return nil
	}
	for _, st := range ch.catalog {
		if v := st.Hide(s, e); v != nil {
			return v
		}
	}
	return nil
}

// String lists the stages by phase, for diagnostics:
// "request: a, b; result: none; catalog: c".
func (ch *Chain) String() string {
	names := func(n int, name func(int) string) string {
		if n == 0 {
			return "none"
		}
		s := make([]string, n)
		for i := range s {
			s[i] = name(i)
		}
		return strings.Join(s, ", ")
	}
	if ch == nil {
		ch = &Chain{}
	}
	return "request: " + names(len(ch.requests), func(i int) string { return ch.requests[i].Name() }) +
		"; result: " + names(len(ch.results), func(i int) string { return ch.results[i].Name() }) +
		"; catalog: " + names(len(ch.catalog), func(i int) string { return ch.catalog[i].Name() })
}
