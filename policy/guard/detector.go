package guard

import (
	"context"
	"time"
)

// Detector finds sensitive content in text: [Secrets] (the gitleaks rule
// set) and [PII]. The scanner (see [Scanner]) walks a JSON payload and hands
// each detector every string in it, so a detector knows nothing of JSON.
type Detector interface {
	// Name names the detector in configuration and the record: "secrets",
	// "pii".
	Name() string
	// Inspect returns what it finds in p. It must not keep p.
	Inspect(ctx context.Context, p Payload) []Finding
}

// Payload is one string of a payload, as detectors see it.
type Payload struct {
	// Path is the JSON path of the string, e.g. $.arguments.query.
	Path string
	// Text is the string; Lower is Text with ASCII letters lowercased.
	Text, Lower string
	// Deadline is when the scan's time budget runs out (zero: none). A
	// detector with several passes stops starting new ones after it; it is
	// a time, not a context deadline, because a timer per scan cost as
	// much as scanning a small payload.
	Deadline time.Time
}

// late reports whether p's deadline has passed.
func (p *Payload) late() bool {
	return !p.Deadline.IsZero() && time.Now().After(p.Deadline)
}

// Finding is something a detector found: the rule, where, and the span of
// bytes it covers in the string at Path. It never holds the value.
type Finding struct {
	Rule string `json:"rule"`
	// Detector names the detector that found it (secrets, pii).
	Detector string `json:"detector,omitempty"`
	Path     string `json:"path"`
	// Start and End are byte offsets in the string at Path.
	Start int `json:"start"`
	End   int `json:"end"`
}

// Action is what a guard does with what a detector finds.
type Action string

// The actions, per detector and phase.
const (
	Off    Action = "off"    // do not look
	Warn   Action = "warn"   // let it pass; record the finding
	Redact Action = "redact" // replace what was found with [REDACTED:rule]
	Block  Action = "block"  // refuse the call, saying what and where
)

// ParseAction returns the action s names; "" is def.
func ParseAction(s string, def Action) (Action, bool) {
	switch a := Action(s); a {
	case "":
		return def, true
	case Off, Warn, Redact, Block:
		return a, true
	}
	return "", false
}

// marker is what replaces a redacted span.
func marker(rule string) string { return "[REDACTED:" + rule + "]" }
