package policy

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"

	fastjson "github.com/segmentio/encoding/json"
)

// rule is a compiled [Rule].
type rule struct {
	index        int
	id           string
	kind         Kind
	server, tool glob
	when         *condition // nil: always holds
	effect       Effect
	message      string
}

func (r *rule) applies(kind Kind, server, name string) bool {
	return r.kind == kind && r.server.match(server) && r.tool.match(name)
}

// matching returns the rules whose globs match the target, in order.
func (e *Engine) matching(kind Kind, server, name string) []*rule {
	var out []*rule
	for _, r := range e.rules {
		if r.applies(kind, server, name) {
			out = append(out, r)
		}
	}
	return out
}

// ruleResult is what the rules said of one call.
type ruleResult struct {
	decided bool
	d       Decision
	steps   []Step
}

// applyRules evaluates rs for in. Deny beats allow, and a condition that
// cannot be evaluated denies; the first such rule decides. With explain
// every rule is evaluated and stepped; without, the first deny ends it.
func (e *Engine) applyRules(in *Input, rs []*rule, explain bool) ruleResult {
	v := vars{server: in.Server, tool: in.Name, kind: in.Kind.String(),
		identity: caller{User: in.Identity.User, Team: in.Identity.Team, Roles: in.Identity.Roles}}
	var (
		res               ruleResult
		decoded           bool
		argsErr           error
		deny, allow       *rule
		denyErr           error
		denyStep, allowAt = -1, -1
	)
	for _, r := range rs {
		out, err := holds, error(nil)
		if r.when != nil {
			if r.when.usesArgs && !decoded {
				v.args, argsErr = decodeArgs(in.Args)
				decoded = true
			}
			if r.when.usesArgs && argsErr != nil {
				out, err = broken, argsErr
			} else {
				out, err = r.when.eval(&v)
			}
		}
		says := SaysNothing
		switch {
		case out == broken:
			says = SaysError
			if deny == nil {
				deny, denyErr, denyStep = r, err, len(res.steps)
			}
		case out == holds && r.effect == Deny:
			says = SaysDeny
			if deny == nil {
				deny, denyErr, denyStep = r, nil, len(res.steps)
			}
		case out == holds:
			says = SaysAllow
			if allow == nil {
				allow, allowAt = r, len(res.steps)
			}
		}
		if explain {
			res.steps = append(res.steps, Step{Rule: r.id, Level: LevelRule, Says: says, Detail: r.detail(out, err)})
		} else if deny != nil {
			break
		}
	}
	who := subject(in.Identity)
	switch {
	case deny != nil:
		res.decided = true
		res.d = Decision{Rule: deny.id, Reason: who + " may not " + verb(in.Kind, in.exposed()) + ": " + deny.denial(denyErr)}
		if explain {
			res.steps[denyStep].Decides = true
		}
	case allow != nil:
		res.decided = true
		res.d = Decision{Allow: true, Rule: allow.id, Reason: who + " may " + verb(in.Kind, in.exposed()) + ": allowed by " + allow.id + allow.cond()}
		if explain {
			res.steps[allowAt].Decides = true
		}
	}
	return res
}

// decodeArgs decodes a call's arguments for conditions; none is {}.
func decodeArgs(raw json.RawMessage) (map[string]any, error) {
	args := map[string]any{}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return args, nil
	}
	// segmentio's decoder gives encoding/json's results faster, and
	// decoding is much of what a condition costs.
	if err := fastjson.Unmarshal(raw, &args); err != nil {
		// Not the decoder's message: it quotes the input, which may be
		// large or secret, and reasons are recorded and shown to the model.
		what := "not valid JSON"
		if json.Valid(raw) {
			what = "JSON, but not an object"
			switch raw[0] {
			case '[':
				what = "a JSON array, not an object"
			case '"':
				what = "a JSON string, not an object"
			}
		}
		return nil, errNotObject("the arguments are " + what)
	}
	return args, nil
}

type errNotObject string

func (e errNotObject) Error() string { return string(e) }

func (r *rule) cond() string {
	if r.when == nil {
		return ""
	}
	return " (when " + r.when.src + ")"
}

// detail says what the rule's condition gave, for the chain.
func (r *rule) detail(out outcome, err error) string {
	if r.when == nil {
		return "no condition: " + string(r.effect)
	}
	switch out {
	case holds:
		return r.when.src + ": true, so " + string(r.effect)
	case fails:
		return r.when.src + ": false"
	case unknown:
		return r.when.src + ": depends on the arguments"
	}
	return r.when.src + ": cannot be evaluated: " + err.Error()
}

// denial is the end of a reason when r denies: the rule's message, or
// the rule and its condition, or why its condition failed.
func (r *rule) denial(err error) string {
	if err != nil {
		s := r.id + " could not be evaluated (" + err.Error() + "), and a condition that cannot be evaluated denies"
		if _, ok := err.(errNotObject); !ok && strings.HasPrefix(err.Error(), "no such key: ") {
			k := strings.TrimPrefix(err.Error(), "no such key: ")
			// The model can act on this; the policy's author reads the
			// chain, where the condition is shown.
			s += "; if the tool takes " + strconv.Quote(k) + ", pass it"
		}
		return s
	}
	if r.message != "" {
		return r.message + " (denied by " + r.id + ")"
	}
	return "denied by " + r.id + r.cond()
}
