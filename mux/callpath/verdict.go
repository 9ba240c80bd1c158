package callpath

import (
	"context"
)

// Status is how a verdict ends a call; the record files the call under it.
type Status string

// The statuses a stage may stop a call with.
const (
	Denied  Status = "denied"  // refused by policy
	Blocked Status = "blocked" // refused by a guardrail
	// Cancelled: the agent cancelled the call while a stage held it.
	Cancelled Status = "cancelled"
)

// Finding is one thing a guard found in a payload: the rule and where,
// never the matched value.
type Finding struct {
	Rule string `json:"rule"`
	Path string `json:"path"` // JSON path, e.g. $.arguments.token or $.result.content[0].text
	// Start and End locate what was found in the string at Path, in
	// bytes; both 0 when the finding covers no particular span.
	Start int `json:"start,omitempty"`
	End   int `json:"end,omitempty"`
}

// Verdict is a stage's judgement of a call. The record keeps it; a verdict
// with a Status stops the call.
type Verdict struct {
	// Status stops the call when set: [Denied] for policy, [Blocked] for
	// guardrails. The agent gets Reason (as an
	// error result for tools/call, a protocol error otherwise). Empty lets
	// the call go on: the verdict is a note (allow, warn, redact).
	Status Status
	// Decision names what was decided, for the record: allow, deny, block,
	// warn, redact, approve ...
	Decision string
	// Rule names the rule or detector that decided.
	Rule string
	// Reason says why, in words the model and the person reading the
	// record understand.
	Reason string
	// Findings are what a guard found: rules and JSON paths, never values.
	Findings []Finding
	// Hold, set by a request check instead of a status, holds the call (for
	// a person's approval, say) until it returns the verdict that decides:
	// nil or a note lets the call go on. It runs where it may wait, never on
	// a connection's reader, and ctx ends with the call.
	Hold func(ctx context.Context) *Verdict
}

// Stops reports whether v stops the call.
func (v *Verdict) Stops() bool { return v != nil && v.Status != "" }

// Deny is a policy's refusal.
func Deny(rule, reason string) *Verdict {
	return &Verdict{Status: Denied, Decision: "deny", Rule: rule, Reason: reason}
}

// Block is a guardrail's refusal, with what it found.
func Block(rule, reason string, findings ...Finding) *Verdict {
	return &Verdict{Status: Blocked, Decision: "block", Rule: rule, Reason: reason, Findings: findings}
}
