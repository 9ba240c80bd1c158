package policy

import (
	"strconv"
)

// Decide decides whether in's identity may use in's target: the profile's
// narrowing, then the rules, then the grants, then the default (see the
// package documentation). Decisions without conditions are cached by
// identity and target, so repeated calls cost a map lookup.
func (e *Engine) Decide(in Input) Decision { return e.decide(&in, true) }

// decide is Decide; without explain it builds no chain for conditions,
// which the call path does not need.
func (e *Engine) decide(in *Input, explain bool) Decision {
	k := keyOf(in)
	b := e.cache.get(k)
	if b == nil {
		b = e.base(in)
		e.cache.put(k, b)
	}
	if b.profileDenied || len(b.rules) == 0 {
		if explain {
			return b.decision.clone()
		}
		d := b.decision
		d.Chain = nil
		return d
	}
	rr := e.applyRules(in, b.rules, explain)
	d := b.decision
	if rr.decided {
		d = rr.d
	}
	if explain {
		d.Chain = make([]Step, 0, len(b.profileSteps)+len(rr.steps)+len(b.grantSteps))
		d.Chain = append(append(d.Chain, b.profileSteps...), rr.steps...)
		if !rr.decided {
			d.Chain = append(d.Chain, b.grantSteps...)
		}
	} else {
		d.Chain = nil
	}
	return d
}

func (e *Engine) base(in *Input) *base {
	b := &base{}
	var p *profile
	if in.Profile != "" {
		if p = e.profile(in.Profile); p == nil {
			b.profileDenied = true
			b.decision = Decision{Rule: "profiles", Reason: "profile " + strconv.Quote(in.Profile) + " is not defined, so " +
				in.exposed() + " is not available; choose one of the policy's profiles", Chain: []Step{{Rule: "profiles", Level: LevelProfile, Says: SaysDeny, Detail: "no such profile", Decides: true}}}
			return b
		}
		var d *Decision
		b.profileSteps, d = p.narrow(in.Kind, in.Server, in.exposed())
		if d != nil {
			b.profileDenied, b.decision = true, *d
			return b
		}
	}
	b.rules = e.matching(in.Kind, in.Server, in.Name)
	b.decision = e.grantDecision(in.Identity, in.Kind, in.Server, in.Name, in.exposed(), false)
	b.grantSteps = b.decision.Chain
	b.decision.Chain = append(append(make([]Step, 0, len(b.profileSteps)+len(b.grantSteps)), b.profileSteps...), b.grantSteps...)
	return b
}

// narrow applies the profile: the steps it took, and its denial if it
// takes the target away.
func (p *profile) narrow(kind Kind, server, exposed string) ([]Step, *Decision) {
	var steps []Step
	deny := func(rule, why string) ([]Step, *Decision) {
		steps = append(steps, Step{Rule: rule, Level: LevelProfile, Says: SaysDeny, Detail: why, Decides: true})
		return steps, &Decision{Rule: rule, Chain: steps,
			Reason: "profile " + strconv.Quote(p.name) + " does not expose " + exposed + ": " + why}
	}
	if len(p.servers) > 0 {
		i, ok := p.servers.find(server)
		if !ok {
			return deny(p.id+".servers", "it exposes only the servers "+quoted(p.serversSrc))
		}
		steps = append(steps, Step{Rule: index(p.id+".servers", i), Level: LevelProfile, Says: SaysPass, Detail: matches(p.serversSrc[i], server, false)})
	}
	if kind != Tool {
		return steps, nil
	}
	t := &p.tools
	if i, ok := t.deny.best(exposed); ok {
		return deny(index(t.denyID, i), "denied by "+t.denyID+" "+strconv.Quote(t.deny[i].src))
	}
	if len(t.allow) > 0 {
		i, ok := t.allow.best(exposed)
		if !ok {
			return deny(t.allowID, t.allowID+" allows only "+quoted(t.allowSrc))
		}
		steps = append(steps, Step{Rule: index(t.allowID, i), Level: LevelProfile, Says: SaysPass, Detail: matches(t.allow[i].src, exposed, false)})
	}
	return steps, nil
}
