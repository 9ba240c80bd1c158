package policy

import (
	"github.com/mcpgw/mcpgw/mux/callpath"
)

// Layers is the policies in force: a managed policy (nil when none) over
// the user's own (nil when none). A target is allowed only when every
// policy in force allows it, so the user's policy can narrow what the
// managed one allows but never widen it. With neither, everything is
// allowed.
type Layers struct {
	Managed *Engine
	User    *Engine
}

// Decide decides in under every policy in force; see [Combine].
func (l Layers) Decide(in Input) Decision {
	switch {
	case l.Managed == nil && l.User == nil:
		return noPolicy()
	case l.Managed == nil:
		return l.User.Decide(in)
	}
	m := in
	m.Profile = "" // profiles are the user's; the managed policy has none
	md := l.Managed.Decide(m)
	if l.User == nil {
		return md
	}
	return Combine(md, l.User.Decide(in))
}

// decide is Decide without the chain, and without asking the user's
// policy once the managed one denies.
func (l Layers) decide(in *Input) Decision {
	if l.Managed != nil {
		m := *in
		m.Profile = ""
		if md := l.Managed.decide(&m, false); !md.Allow || l.User == nil {
			return md
		}
	}
	if l.User != nil {
		return l.User.decide(in, false)
	}
	return noPolicy()
}

// Visible decides whether id may see entry under every policy in force.
func (l Layers) Visible(id Identity, profile string, entry callpath.Entry) Decision {
	switch {
	case l.Managed == nil && l.User == nil:
		return noPolicy()
	case l.Managed == nil:
		return l.User.Visible(id, profile, entry)
	}
	md := l.Managed.Visible(id, "", entry)
	if l.User == nil {
		return md
	}
	return Combine(md, l.User.Visible(id, profile, entry))
}

func noPolicy() Decision { return Decision{Allow: true, Reason: "no policy is in force"} }

// Combine is the effective decision of a managed policy's decision and the
// user's policy's decision for the same question: the intersection. The
// managed denial decides over anything the user's policy says; otherwise
// the user's decision does (allow only if both allow). The chain holds
// both policies' steps, managed first, with Decides set only on the step
// that decided.
func Combine(managed, user Decision) Decision {
	d := user
	if !managed.Allow {
		d = managed
	}
	d.Chain = make([]Step, 0, len(managed.Chain)+len(user.Chain))
	d.Chain = append(d.Chain, managed.Chain...)
	d.Chain = append(d.Chain, user.Chain...)
	// Clear the flag of the side that did not decide.
	lo, hi := 0, len(managed.Chain)
	if !managed.Allow {
		lo, hi = len(managed.Chain), len(d.Chain)
	}
	for i := lo; i < hi; i++ {
		d.Chain[i].Decides = false
	}
	return d
}
