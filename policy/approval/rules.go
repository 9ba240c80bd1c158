package approval

import (
	"encoding/json"
	"fmt"
	"path"
	"time"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/ext"

	"github.com/mcpgw/mcpgw/mux/callpath"
)

// Channel is how a person is asked.
type Channel string

// The channels.
const (
	// Auto asks through the agent's elicitation when the agent can be
	// asked, else out of band.
	Auto        Channel = "auto"
	Elicitation Channel = "elicitation"
	OutOfBand   Channel = "out-of-band"
)

// DefaultTimeout is how long a held call waits for a decision when the
// configuration does not say.
const DefaultTimeout = 2 * time.Minute

// Config is the approval: section.
type Config struct {
	// Channel is "" (auto), auto, elicitation or out-of-band.
	Channel Channel
	// Timeout is how long a call waits; 0 means [DefaultTimeout].
	Timeout time.Duration
	// Rules hold the calls they match; the first that matches names the
	// hold.
	Rules []Rule
}

// Rule is one approval rule. Every key given must match: a rule with
// server and tool matches that server's tools by glob, destructive the
// tools whose server declared destructiveHint: true, when the calls whose
// arguments make the CEL condition true.
type Rule struct {
	// ID names the rule in the record: approval.rules[i].
	ID          string
	Server      string // glob; "" is any server
	Tool        string // glob over the server's own tool name; "" is any tool
	Destructive bool
	When        string // CEL over args, server and tool
}

// rule is a compiled [Rule].
type rule struct {
	Rule
	when cel.Program
}

// newEnv is the CEL environment of conditions: args (the call's arguments),
// server and tool, with the string extensions (args.sql.lowerAscii() ...).
func newEnv() (*cel.Env, error) {
	return cel.NewEnv(
		cel.Variable("args", cel.MapType(cel.StringType, cel.DynType)),
		cel.Variable("server", cel.StringType),
		cel.Variable("tool", cel.StringType),
		cel.CrossTypeNumericComparisons(true),
		ext.Strings(),
	)
}

// Rules are compiled approval rules.
type Rules struct{ list []rule }

// Compile checks and compiles rules. Errors name the rule and say what to
// write instead.
func Compile(rules []Rule) (*Rules, error) {
	list, err := compile(rules)
	if err != nil {
		return nil, err
	}
	return &Rules{list: list}, nil
}

func compile(rules []Rule) ([]rule, error) {
	var env *cel.Env
	out := make([]rule, 0, len(rules))
	for i, r := range rules {
		if r.ID == "" {
			r.ID = fmt.Sprintf("approval.rules[%d]", i)
		}
		if r.Server == "" && r.Tool == "" && !r.Destructive && r.When == "" {
			return nil, fmt.Errorf("%s matches every call: give it server:, tool:, destructive: true or when:", r.ID)
		}
		for _, g := range []string{r.Server, r.Tool} {
			if _, err := path.Match(g, ""); err != nil {
				return nil, fmt.Errorf("%s: %q is not a glob (%w); use * and ? such as \"delete_*\"", r.ID, g, err)
			}
		}
		c := rule{Rule: r}
		if r.When != "" {
			if env == nil {
				var err error
				if env, err = newEnv(); err != nil {
					return nil, err
				}
			}
			ast, iss := env.Compile(r.When)
			if iss.Err() != nil {
				return nil, fmt.Errorf("%s: when %q: %w (conditions see args, server and tool)", r.ID, r.When, iss.Err())
			}
			if t := ast.OutputType(); t != cel.BoolType && t != cel.DynType {
				return nil, fmt.Errorf("%s: when %q is a %s, not true or false; compare it, e.g. args.sql.contains(\"DROP\")", r.ID, r.When, t)
			}
			prog, err := env.Program(ast, cel.CostLimit(100_000))
			if err != nil {
				return nil, fmt.Errorf("%s: when %q: %w", r.ID, r.When, err)
			}
			c.when = prog
		}
		out = append(out, c)
	}
	return out, nil
}

func globMatch(g, name string) bool {
	if g == "" || g == "*" {
		return true
	}
	ok, _ := path.Match(g, name)
	return ok
}

// match reports whether r holds a call of tool on server; args are the
// call's arguments, decoded on first need into *decoded.
func (r *rule) match(server, tool string, destructive *bool, args json.RawMessage, decoded *map[string]any) bool {
	if !globMatch(r.Server, server) || !globMatch(r.Tool, tool) {
		return false
	}
	if r.Destructive && (destructive == nil || !*destructive) {
		return false
	}
	if r.when == nil {
		return true
	}
	if *decoded == nil {
		m := map[string]any{}
		if len(args) > 0 {
			// Arguments that are not an object match as no arguments.
			_ = json.Unmarshal(args, &m)
		}
		*decoded = m
	}
	out, _, err := r.when.Eval(map[string]any{"args": *decoded, "server": server, "tool": tool})
	if err != nil {
		// A condition that cannot be judged (a missing argument, say)
		// holds the call: asking costs a person a click, not asking may
		// cost more.
		return true
	}
	b, ok := out.Value().(bool)
	return !ok || b
}

// Match returns the first rule that holds c, or nil. Only tool calls are
// held.
func (rs *Rules) Match(c *callpath.Call) *Rule {
	if rs == nil || c.Kind != callpath.ToolCall {
		return nil
	}
	var args map[string]any
	for i := range rs.list {
		if rs.list[i].match(c.Server, c.Name, c.Destructive, c.Params, &args) {
			return &rs.list[i].Rule
		}
	}
	return nil
}

// Len is the number of rules.
func (rs *Rules) Len() int {
	if rs == nil {
		return 0
	}
	return len(rs.list)
}
