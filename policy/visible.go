package policy

import (
	"github.com/mcpgw/mcpgw/mux/callpath"
)

// Visible decides whether id, through the agent's profile, may see a
// catalog entry at all; Allow means listed. A listing has no arguments, so:
//
//   - the profile's narrowing and the grants decide as for a call;
//   - a rule whose condition does not read args is evaluated as it would be
//     for a call (it speaks of identity, server and tool alone);
//   - a rule that reads args might go either way: an allow rule makes the
//     entry visible (the tool may be allowed for some arguments, and its
//     calls are decided one by one), a deny rule hides nothing;
//   - a resource template is visible when some URI of it could be read:
//     the grants' patterns other than "*" count as allowing some.
//
// A hidden entry's Decision is what a call to it gets.
func (e *Engine) Visible(id Identity, profile string, entry callpath.Entry) Decision {
	in := Input{Identity: id, Profile: profile, Server: entry.Server, Name: entry.Name, Exposed: entry.Exposed}
	anyName := false
	switch entry.Kind {
	case callpath.PromptEntry:
		in.Kind = Prompt
	case callpath.ResourceEntry:
		in.Kind = Resource
	case callpath.TemplateEntry:
		in.Kind, anyName = Resource, true
	}
	var steps []Step
	if profile != "" {
		p := e.profile(profile)
		if p == nil {
			return e.decide(&in, true) // the unknown profile's denial
		}
		var d *Decision
		if steps, d = p.narrow(in.Kind, in.Server, in.exposed()); d != nil {
			return *d
		}
	}
	grants := e.grantDecision(id, in.Kind, in.Server, in.Name, in.exposed(), anyName)
	v := vars{server: in.Server, tool: in.Name, kind: in.Kind.String(), identity: caller{User: id.User, Team: id.Team, Roles: id.Roles}}
	var deny, allow, maybe *rule
	var denyErr error
	at := map[*rule]int{}
	for _, r := range e.rules {
		if r.kind != in.Kind || !r.server.match(in.Server) {
			continue
		}
		// A template's URIs are unknown: a rule naming some of them can only
		// be a "maybe".
		certain := !anyName || r.tool.whole
		if !anyName && !r.tool.match(in.Name) {
			continue
		}
		out, err := holds, error(nil)
		if r.when != nil {
			out, err = r.when.evalWithoutArgs(&v)
		}
		if !certain && out != fails {
			out = unknown
		}
		says := SaysNothing
		switch {
		case out == broken || out == holds && r.effect == Deny:
			says = SaysDeny
			if out == broken {
				says = SaysError
			}
			if deny == nil {
				deny, denyErr = r, err
			}
		case out == holds:
			says = SaysAllow
			if allow == nil {
				allow = r
			}
		case out == unknown && r.effect == Allow:
			if maybe == nil {
				maybe = r
			}
		}
		at[r] = len(steps)
		steps = append(steps, Step{Rule: r.id, Level: LevelRule, Says: says, Detail: r.detail(out, err)})
	}
	who := subject(id)
	d := grants
	switch {
	case deny != nil:
		d = Decision{Rule: deny.id, Reason: who + " may not " + verb(in.Kind, in.exposed()) + ": " + deny.denial(denyErr)}
		steps[at[deny]].Decides = true
	case allow != nil:
		d = Decision{Allow: true, Rule: allow.id, Reason: who + " may " + verb(in.Kind, in.exposed()) + ": allowed by " + allow.id + allow.cond()}
		steps[at[allow]].Decides = true
	case maybe != nil && !grants.Allow:
		d = Decision{Allow: true, Rule: maybe.id, Reason: who + " may see " + in.exposed() + ": " + maybe.id +
			" allows calls to it, depending on their arguments" + maybe.cond()}
		steps[at[maybe]].Decides = true
	default:
		steps = append(steps, grants.Chain...)
	}
	d.Chain = steps
	return d
}
