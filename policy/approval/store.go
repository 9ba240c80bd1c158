package approval

import (
	"context"
	"errors"
	"time"
)

// State is where an approval stands.
type State string

// The states of an approval.
const (
	Pending   State = "pending"
	Approved  State = "approved"
	Denied    State = "denied"
	Expired   State = "expired"   // no decision within the timeout
	Cancelled State = "cancelled" // the agent cancelled the call while it waited
)

// Scope is what an approval covers.
type Scope string

// The scopes of an approval.
const (
	Once    Scope = "once"    // this call
	Session Scope = "session" // calls of the tool for the rest of the agent's session
	Args    Scope = "args"    // calls of the tool with these exact arguments, for a period
)

// ParseScope reads once, session or args ("" is once).
func ParseScope(s string) (Scope, error) {
	switch Scope(s) {
	case "", Once:
		return Once, nil
	case Session, Args:
		return Scope(s), nil
	}
	return "", errors.New("scope " + s + ": use once, session or args")
}

// DefaultArgsTTL is how long an approval of exact arguments lasts when the
// decision does not say.
const DefaultArgsTTL = time.Hour

// Request is one approval: a held call, and what was decided about it.
type Request struct {
	ID      int64
	Created time.Time
	PID     int    // the mcpgw process whose call waits
	User    string // the caller
	Session string
	Server  string
	Tool    string // the server's own name
	Exposed string // the name the agent called
	Args    string // the arguments as JSON, redacted of known secrets
	// ArgsHash identifies the exact arguments, for a decision of scope
	// [Args].
	ArgsHash string
	Rule     string
	// Channel is how the person is asked: elicitation or out-of-band.
	Channel Channel
	State   State
	Decided time.Time
	// DecidedBy is who decided: the OS user at a terminal, the agent's
	// person through elicitation, or mcpgw itself (timeout, cancel).
	DecidedBy string
	Reason    string
	Scope     Scope
	// Expires ends a decision of scope [Args].
	Expires time.Time
}

// Decision is what a person (or the timeout) decided about a [Request].
type Decision struct {
	State   State
	By      string
	Reason  string
	Scope   Scope
	Expires time.Time
}

// ErrDecided is returned by [Store.DecideApproval] for a request that is no
// longer pending.
var ErrDecided = errors.New("already decided")

// ErrNotFound is returned for an approval id that does not exist.
var ErrNotFound = errors.New("no such approval")

// Store keeps approvals where every mcpgw process of the user sees them
// (the record database), so a terminal can decide a call another process
// holds.
type Store interface {
	// Create stores r as pending and returns its id.
	CreateApproval(ctx context.Context, r Request) (int64, error)
	// Get returns the approval id.
	Approval(ctx context.Context, id int64) (Request, error)
	// Decide records d for a pending approval and returns it decided; an
	// approval decided already gets an error wrapping [ErrDecided], with
	// the approval as it stands.
	DecideApproval(ctx context.Context, id int64, d Decision) (Request, error)
	// Granted returns an approval in force for these exact arguments
	// (scope args, approved, not expired at now), or nil.
	ApprovalGranted(ctx context.Context, server, tool, argsHash string, now time.Time) (*Request, error)
}
