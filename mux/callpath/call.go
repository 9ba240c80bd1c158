package callpath

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// Kind is what a [Call] asks for.
type Kind uint8

// The kinds of request the call path governs.
const (
	ToolCall     Kind = iota + 1 // tools/call, agent → server
	PromptGet                    // prompts/get, agent → server
	ResourceRead                 // resources/read, agent → server
	Elicitation                  // elicitation/create, server → agent
	Sampling                     // sampling/createMessage, server → agent
)

var methods = [...]string{ToolCall: "tools/call", PromptGet: "prompts/get", ResourceRead: "resources/read",
	Elicitation: "elicitation/create", Sampling: "sampling/createMessage"}

// Method is the kind's MCP method name.
func (k Kind) Method() string {
	if int(k) < len(methods) {
		return methods[k]
	}
	return ""
}

// FromServer reports whether requests of this kind come from a server and
// go to the agent (elicitation, sampling).
func (k Kind) FromServer() bool { return k == Elicitation || k == Sampling }

// Identity is who is calling, as far as mcpgw knows. It is recorded with
// every call and forwarded to servers.
type Identity struct {
	User  string   `json:"user,omitempty"`
	Team  string   `json:"team,omitempty"`
	Roles []string `json:"roles,omitempty"`
	// Verified says the identity is worth something to a server: it was
	// established by something the user at the agent cannot simply claim
	// (an HTTP front's bearer token, a managed policy), not by config or
	// environment. Only a verified identity is asserted to servers with a
	// signature. It is not forwarded itself.
	Verified bool `json:"-"`
}

// IsZero reports whether nothing is known of the caller.
func (id Identity) IsZero() bool { return id.User == "" && id.Team == "" && len(id.Roles) == 0 }

// Call is one governed request on its way through the call path.
type Call struct {
	Kind Kind
	// Exposed is what the agent named: the exposed tool or prompt name, or
	// the resource URI; empty for elicitation and sampling.
	Exposed string
	// Server is the downstream server the request goes to (elicitation and
	// sampling: comes from). Routing runs before any stage, so it is set.
	Server string
	// Name is the server's own name for the target: its tool or prompt
	// name, or the resource URI.
	Name string
	// Params is the request's payload as raw JSON, nil when there is none:
	// a tool's or prompt's arguments; the server's request params for
	// elicitation and sampling; nil for resources/read. A request stage
	// may replace a tool's or prompt's arguments (guardrails masking a
	// secret, `input: redact`): the server gets what Params holds once the
	// request stages are done.
	Params json.RawMessage
	// Destructive is a tool's annotations.destructiveHint as its server
	// declared it; nil when it did not say (unknown, not destructive).
	Destructive *bool
	// Def is the target's definition as the agent was shown it, JSON
	// encoded: for a tools/call, the tool as tools/list lists it (the bytes
	// a [CatalogStage] sees as [Entry].Def); nil for other kinds and for
	// a tool the catalog does not list. It lets a stage check arguments
	// against the tool's inputSchema without the catalog or the MCP SDK;
	// the bytes stay the same while the definition does, so a stage may
	// key a cache by them.
	Def json.RawMessage
	// Identity is the caller's: the session's, unless the gateway knows
	// better for this request.
	Identity Identity
	// Profile names the agent profile the session runs under ("" for
	// none); the record keeps it.
	Profile string
	// Session is the agent session the request belongs to; never nil.
	Session Session
	Started time.Time

	verdict Verdict
}

// Verdict returns what the stages decided about the call so far: the last
// decision, rule and reason given, and every finding.
func (c *Call) Verdict() Verdict { return c.verdict }

// Note keeps v in the call's record. Stages need not call it: the chain
// notes every verdict a stage returns.
func (c *Call) Note(v *Verdict) {
	if v == nil {
		return
	}
	if v.Status != "" {
		c.verdict.Status = v.Status
	}
	if v.Decision != "" {
		c.verdict.Decision, c.verdict.Rule, c.verdict.Reason = v.Decision, v.Rule, v.Reason
	}
	c.verdict.Findings = append(c.verdict.Findings, v.Findings...)
}

// Session is the agent session a request belongs to, as stages may use it.
type Session interface {
	// ID names the session in the record.
	ID() string
	// Client is the agent's name and version, from its initialize request
	// ("mcpgw call" for the CLI).
	Client() (name, version string)
	// ProtocolVersion is the MCP version the agent speaks.
	ProtocolVersion() string
	// Identity is who is using the agent.
	Identity() Identity
	// Elicit asks the person at the agent (MCP form elicitation) and waits
	// for the answer, or for ctx. It returns an error wrapping
	// [ErrCannotAsk] when this agent cannot be asked.
	Elicit(ctx context.Context, q Question) (Answer, error)
}

// Notifier is a [Session] that can tell the agent's person something about
// one of its calls while it waits: a log message, and a progress
// notification when the call asked for progress.
type Notifier interface {
	Notify(ctx context.Context, c *Call, message string)
}

// ErrCannotAsk is wrapped by [Session.Elicit] when the agent cannot be asked:
// it did not declare elicitation, or its protocol version has no requests
// from the server mid-call.
var ErrCannotAsk = errors.New("the agent cannot be asked")

// Question is what [Session.Elicit] asks.
type Question struct {
	Message string
	// Schema is the JSON Schema of the answer's content: an object of
	// primitive properties. Nil asks for no content (accept or decline).
	Schema json.RawMessage
}

// Answer is the person's answer to a [Question].
type Answer struct {
	Action  string         // accept, decline or cancel
	Content map[string]any // with accept, when the question had a schema
}
