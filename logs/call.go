package logs

import "time"

// Status is how a call ended.
type Status string

// Call statuses.
const (
	StatusOK          Status = "ok"          // answered, not an error
	StatusToolError   Status = "tool_error"  // the tool ran and returned isError
	StatusDenied      Status = "denied"      // policy refused it
	StatusBlocked     Status = "blocked"     // a guard refused it (secret in arguments, rate limit, ...)
	StatusTimeout     Status = "timeout"     // no answer within the call timeout
	StatusCancelled   Status = "cancelled"   // the agent cancelled it
	StatusUnavailable Status = "unavailable" // the server was not running or could not be reached
	StatusError       Status = "error"       // a protocol or gateway error
)

// Statuses lists every [Status], in the order reports show them.
var Statuses = []Status{StatusOK, StatusToolError, StatusDenied, StatusBlocked, StatusTimeout, StatusCancelled, StatusUnavailable, StatusError}

// Finding is one thing a guard found in a payload: the rule and where, never
// the matched value.
type Finding struct {
	Rule string `json:"rule"`
	Path string `json:"path"` // JSON path, e.g. $.arguments.token or $.result.content[0].text
}

// Call is one recorded request: a tool call, or another request worth
// auditing (resources/read, prompts/get, elicitation and sampling relays).
type Call struct {
	ID   int64     `json:"id"`
	Time time.Time `json:"time"` // when the request arrived
	PID  int       `json:"pid"`  // the mcpgw process that served it

	Session      string   `json:"session,omitempty"`
	Agent        string   `json:"agent,omitempty"` // client name from initialize
	AgentVersion string   `json:"agent_version,omitempty"`
	User         string   `json:"user,omitempty"`
	Team         string   `json:"team,omitempty"`
	Roles        []string `json:"roles,omitempty"`
	Profile      string   `json:"profile,omitempty"` // the agent profile the session ran under

	Method       string `json:"method"`                  // tools/call, resources/read, ...
	Server       string `json:"server,omitempty"`        // downstream server
	Tool         string `json:"tool,omitempty"`          // exposed name (or URI, prompt name)
	ToolOriginal string `json:"tool_original,omitempty"` // the server's own name

	// Args and Result are the stored payloads: redacted and capped per the
	// payload policy, or empty. The sizes are the original payloads'; the
	// hashes (sha256, hex) are of the payloads with known secrets masked,
	// so the file cannot be used to test guesses of a secret.
	Args       string `json:"args,omitempty"`
	ArgsSize   int64  `json:"args_size"`
	ArgsHash   string `json:"args_hash,omitempty"`
	Result     string `json:"result,omitempty"`
	ResultSize int64  `json:"result_size"`
	ResultHash string `json:"result_hash,omitempty"`

	Status   Status        `json:"status"`
	Error    string        `json:"error,omitempty"`
	Latency  time.Duration `json:"latency_us"` // JSON: microseconds (see MarshalJSON)
	BytesIn  int64         `json:"bytes_in"`   // request bytes from the agent
	BytesOut int64         `json:"bytes_out"`  // response bytes to the agent

	Decision string    `json:"decision,omitempty"` // policy/guard decision: allow, deny, block, redact, warn
	Rule     string    `json:"rule,omitempty"`     // the rule or detector that decided
	Reason   string    `json:"reason,omitempty"`
	Findings []Finding `json:"findings,omitempty"`
}
