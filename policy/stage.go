package policy

import (
	"context"

	"github.com/mcpgw/mcpgw/mux/callpath"
)

// Stage is the call path's policy stage: it hides from each session what
// its identity and agent profile may not use (catalog phase), and denies
// calls, prompt gets and resource reads the policies do not allow (request
// phase), with the rule and a reason the model can read. Elicitation and
// sampling pass: they come from servers.
type Stage struct {
	Policies Layers
	// Profile names the session's agent profile ("" for none); see
	// [ProfileResolver]. Nil selects none.
	Profile func(callpath.Session) string
}

var (
	_ callpath.RequestStage = (*Stage)(nil)
	_ callpath.CatalogStage = (*Stage)(nil)
)

// Name implements [callpath.Stage].
func (*Stage) Name() string { return "policy" }

// CheckRequest implements [callpath.RequestStage]. A denial stops the
// call; an allowed call gets a note naming the rule that allowed it, for
// the record.
func (s *Stage) CheckRequest(_ context.Context, c *callpath.Call) *callpath.Verdict {
	in := Input{Identity: c.Identity, Server: c.Server, Name: c.Name, Exposed: c.Exposed}
	switch c.Kind {
	case callpath.ToolCall:
		in.Kind, in.Args = Tool, c.Params
	case callpath.PromptGet:
		in.Kind, in.Args = Prompt, c.Params
	case callpath.ResourceRead:
		in.Kind = Resource
	default:
		return nil
	}
	if s.Profile != nil && c.Session != nil {
		in.Profile = s.Profile(c.Session)
	}
	d := s.Policies.decide(&in)
	if !d.Allow {
		return callpath.Deny(d.Rule, d.Reason)
	}
	return &callpath.Verdict{Decision: "allow", Rule: d.Rule, Reason: d.Reason}
}

// Hide implements [callpath.CatalogStage].
func (s *Stage) Hide(sess callpath.Session, e callpath.Entry) *callpath.Verdict {
	profile := ""
	if s.Profile != nil {
		profile = s.Profile(sess)
	}
	d := s.Policies.Visible(sess.Identity(), profile, e)
	if d.Allow {
		return nil
	}
	return callpath.Deny(d.Rule, d.Reason)
}
