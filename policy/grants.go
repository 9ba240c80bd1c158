package policy

import (
	"strconv"
	"strings"
)

// Grant levels by rank: a higher rank is more specific.
const (
	rankEvery = iota + 1
	rankServer
	rankTool
)

var rankLevel = [...]Level{rankEvery: LevelEveryServer, rankServer: LevelServer, rankTool: LevelTool}

// Statement classes at one level, strongest first: an explicit deny beats
// an allow, which beats "not in this allow list" (so one role's grant of a
// tool is not undone by another grant's narrower list).
const (
	classDeny = iota
	classAllow
	classNotListed
)

// statement is the strongest thing grants said so far, with what the
// reason needs.
type statement struct {
	rank, class int
	step        int
	who         string
	rule        string
	pattern     string
	allowed     []string // the allow list, for "allows only"
	whole       bool     // a grant with no allow list: the whole server
	every       bool
}

func (s *statement) beats(o *statement) bool {
	return o.rank == 0 || s.rank > o.rank || s.rank == o.rank && s.class < o.class
}

// applicable returns the grant sets that apply to id: its team's, the
// "*" team's, and each role's, in that order.
func (e *Engine) applicable(id Identity) []*grantSet {
	var out []*grantSet
	if id.Team != "" && id.Team != "*" {
		if g := e.teams[id.Team]; g != nil {
			out = append(out, g)
		}
	}
	if g := e.teams["*"]; g != nil {
		out = append(out, g)
	}
	for i, r := range id.Roles {
		if g := e.roles[r]; g != nil && !containsBefore(id.Roles, i, r) {
			out = append(out, g)
		}
	}
	return out
}

func containsBefore(s []string, i int, v string) bool {
	for _, x := range s[:i] {
		if x == v {
			return true
		}
	}
	return false
}

// grantDecision decides by grants and the default alone. anyName asks
// whether some target of the kind could be allowed (a resource template's
// listing): patterns other than "*" then count as allowing, and deny only
// as "*".
func (e *Engine) grantDecision(id Identity, kind Kind, server, name, exposed string, anyName bool) Decision {
	var (
		steps []Step
		best  statement
	)
	consider := func(s statement, step Step) {
		s.step = len(steps)
		steps = append(steps, step)
		if s.beats(&best) {
			best = s
		}
	}
	for _, gs := range e.applicable(id) {
		who := gs.owner
		if who == "" {
			who = subject(id)
		}
		for _, sk := range [2]string{server, "*"} {
			sg := gs.servers[sk]
			if sg == nil || sk == "*" && server == "*" {
				continue
			}
			base := rankServer
			if sg.every {
				base = rankEvery
			}
			kr := &sg.kinds[kind]
			if len(kr.deny) > 0 {
				i, ok := kr.deny.best(name)
				if anyName {
					i, ok = kr.deny.whole()
				}
				if ok {
					rank := rankTool
					if kr.deny[i].whole {
						rank = base
					}
					p := kr.deny[i].src
					consider(statement{rank: rank, class: classDeny, who: who, rule: index(kr.denyID, i), pattern: p},
						Step{Rule: index(kr.denyID, i), Level: rankLevel[rank], Says: SaysDeny, Detail: matches(p, name, anyName)})
				} else {
					steps = append(steps, Step{Rule: kr.denyID, Level: LevelTool, Says: SaysNothing, Detail: "no pattern matches " + target(name, anyName)})
				}
			}
			if len(kr.allow) == 0 {
				what := "the whole server"
				if sg.every {
					what = "every server"
				}
				consider(statement{rank: base, class: classAllow, who: who, rule: sg.id, whole: true, every: sg.every},
					Step{Rule: sg.id, Level: rankLevel[base], Says: SaysAllow, Detail: "no " + kindNames[kind] + " allow list: " + what})
				continue
			}
			i, ok := kr.allow.best(name)
			if anyName {
				i, ok = 0, true
			}
			if ok {
				rank := rankTool
				if kr.allow[i].whole {
					rank = base
				}
				p := kr.allow[i].src
				consider(statement{rank: rank, class: classAllow, who: who, rule: index(kr.allowID, i), pattern: p},
					Step{Rule: index(kr.allowID, i), Level: rankLevel[rank], Says: SaysAllow, Detail: matches(p, name, anyName)})
				continue
			}
			consider(statement{rank: base, class: classNotListed, who: who, rule: kr.allowID, allowed: kr.allowSrc},
				Step{Rule: kr.allowID, Level: rankLevel[base], Says: SaysNotListed, Detail: "no pattern matches " + name + "; it allows only " + quoted(kr.allowSrc)})
		}
	}
	var d Decision
	if best.rank == 0 {
		d.Allow = e.def == Allow
		d.Rule = e.label + "default"
		detail := "no grant speaks of " + target(name, anyName)
		steps = append(steps, Step{Rule: d.Rule, Level: LevelDefault, Says: Says(e.def), Detail: detail, Decides: true})
		if d.Allow {
			d.Reason = subject(id) + " may " + verb(kind, exposed) + ": no grant speaks of it, and the " + policyName(e) + " default is allow"
		} else {
			d.Reason = subject(id) + " may not " + verb(kind, exposed) + ": no grant covers it, and the " + policyName(e) + " default is deny"
		}
		d.Chain = steps
		return d
	}
	steps[best.step].Decides = true
	d.Allow, d.Rule, d.Chain = best.class == classAllow, best.rule, steps
	switch {
	case best.class == classDeny:
		d.Reason = best.who + " may not " + verb(kind, exposed) + ": denied by " + trimIndex(best.rule) + " " + strconv.Quote(best.pattern)
	case best.class == classNotListed:
		d.Reason = best.who + " may not " + verb(kind, exposed) + ": " + best.rule + " allows only " + quoted(best.allowed)
	case best.whole && best.every:
		d.Reason = best.who + " may " + verb(kind, exposed) + ": allowed by " + best.rule + ", which grants every server"
	case best.whole:
		d.Reason = best.who + " may " + verb(kind, exposed) + ": allowed by " + best.rule + ", which grants the whole server"
	default:
		d.Reason = best.who + " may " + verb(kind, exposed) + ": allowed by " + trimIndex(best.rule) + " " + strconv.Quote(best.pattern)
	}
	return d
}

func policyName(e *Engine) string {
	if e.managed {
		return "managed policy's"
	}
	return "policy's"
}

// trimIndex drops a trailing [N]: reasons quote the pattern instead.
func trimIndex(id string) string {
	if i := strings.LastIndexByte(id, '['); i > 0 && strings.HasSuffix(id, "]") {
		return id[:i]
	}
	return id
}

func matches(pattern, name string, anyName bool) string {
	if anyName {
		return strconv.Quote(pattern) + " may match some of them"
	}
	return strconv.Quote(pattern) + " matches " + name
}

func target(name string, anyName bool) string {
	if anyName {
		return "them"
	}
	return name
}

// subject names the caller in a reason: by team when known, else by user.
func subject(id Identity) string {
	switch {
	case id.Team != "":
		return "team " + strconv.Quote(id.Team)
	case id.User != "":
		return "user " + strconv.Quote(id.User)
	}
	return "a caller with no user, team or roles"
}

// verb says what the caller tried: call a tool, get a prompt, read a
// resource.
func verb(kind Kind, exposed string) string {
	switch kind {
	case Prompt:
		return "get the prompt " + exposed
	case Resource:
		return "read " + exposed
	}
	return "call " + exposed
}
