package policy

import (
	"encoding/json"
	"slices"
	"strconv"
)

// Kind is what a call targets.
type Kind uint8

// The kinds of target a policy governs.
const (
	Tool Kind = iota
	Prompt
	Resource
	kinds = iota
)

var kindNames = [kinds]string{"tool", "prompt", "resource"}

// String names the kind as rules and conditions do: tool, prompt or
// resource.
func (k Kind) String() string {
	if k < kinds {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Input is one question to the policy: may this identity use this target.
type Input struct {
	Identity Identity
	// Profile is the agent's profile ("" for none); its narrowing applies.
	Profile string
	Kind    Kind
	// Server is the server the target belongs to.
	Server string
	// Name is the server's own name for the target: tool or prompt name,
	// or the resource URI.
	Name string
	// Exposed is the name the agent used (server__tool); reasons quote it,
	// and profiles' tool rules match it. Empty means Name.
	Exposed string
	// Args is the call's arguments as raw JSON, decoded only when a rule's
	// condition reads them.
	Args json.RawMessage
}

func (in *Input) exposed() string {
	if in.Exposed != "" {
		return in.Exposed
	}
	return in.Name
}

// Decision is what a policy decided, and why.
type Decision struct {
	Allow bool `json:"allow"`
	// Rule is the stable id of what decided, such as
	// teams.finance.servers.postgres.tools.deny[0], rules.no_salaries,
	// profiles.cursor.servers or default.
	Rule string `json:"rule"`
	// Reason says why in words the model can act on, e.g.
	// team "web" may not call github__create_issue: denied by teams.web.servers.github.tools.deny "create_*".
	Reason string `json:"reason"`
	// Chain is the explanation: every rule considered, in the order the
	// engine considered them, with what each said; the one that decided
	// has Decides set.
	Chain []Step `json:"chain,omitempty"`
}

// Step is one rule considered for a decision.
type Step struct {
	Rule   string `json:"rule"` // its id: a list (…tools.allow), one pattern (…tools.deny[0]), a grant, a rule
	Level  Level  `json:"level"`
	Says   Says   `json:"says"`
	Detail string `json:"detail"` // what matched, or what the condition gave
	// Decides marks the step that made the decision.
	Decides bool `json:"decides,omitempty"`
}

// Level is how specific a step is; more specific levels win.
type Level string

// The levels, most specific first. The profile only narrows; rules are
// conditions; then grants by what they name: a tool (or prompt, or URI)
// pattern, a server, every server ("*", the level of a team's grant as a
// whole); and the default.
const (
	LevelProfile     Level = "profile"
	LevelRule        Level = "rule"
	LevelTool        Level = "tool"
	LevelServer      Level = "server"
	LevelEveryServer Level = "every server"
	LevelDefault     Level = "default"
)

// Says is what a step said.
type Says string

// What a step can say.
const (
	SaysAllow Says = "allow"
	SaysDeny  Says = "deny"
	// SaysNotListed: the target is outside an allow list. It denies unless
	// an allow at the same level (another team's or role's grant) lets it.
	SaysNotListed Says = "not listed"
	// SaysError: a condition could not be evaluated; it denies.
	SaysError Says = "error"
	// SaysNothing: no pattern matched, or the condition did not hold.
	SaysNothing Says = "nothing"
	// SaysPass: a profile step that lets the target through.
	SaysPass Says = "pass"
)

// clone returns d with a chain of its own, so a cached decision is never
// shared with a caller that might change it.
func (d Decision) clone() Decision {
	d.Chain = slices.Clone(d.Chain)
	return d
}
