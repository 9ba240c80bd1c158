package policy

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/google/cel-go/cel"
	celast "github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/ext"
	"github.com/google/cel-go/interpreter"
)

// caller is identity as conditions see it. A typed object, not a map, so
// a misspelt field (identity.tem) fails when the policy loads, not when a
// call comes.
type caller struct {
	User  string   `cel:"user"`
	Team  string   `cel:"team"`
	Roles []string `cel:"roles"`
}

// costLimit bounds one condition's evaluation, so a comprehension over a
// huge argument cannot stall the call path (it stops within tens of
// milliseconds); past it the condition fails, and so denies. A linear
// pass over a list of ten thousand items stays well under it. Only conditions with comprehensions (all, exists, map,
// filter) are tracked: the rest cost at most their length times the
// arguments' size, and tracking would add a third to every evaluation.
const costLimit = 100_000

func newEnv() (*cel.Env, error) {
	return cel.NewEnv(
		ext.NativeTypes(reflect.TypeOf(caller{}), ext.ParseStructTags(true)),
		cel.Variable("args", cel.MapType(cel.StringType, cel.DynType)),
		cel.Variable("identity", cel.ObjectType("policy.caller")),
		cel.Variable("server", cel.StringType),
		cel.Variable("tool", cel.StringType),
		cel.Variable("kind", cel.StringType),
		// Arguments arrive as JSON, where every number is a double:
		// args.limit > 100 should compare as people read it.
		cel.CrossTypeNumericComparisons(true),
		ext.Strings(),
		ext.Sets(),
		ext.Lists(),
	)
}

// condition is a compiled When.
type condition struct {
	src      string
	prog     cel.Program // for calls
	partial  cel.Program // for listings, where args are unknown
	usesArgs bool
}

// compileCondition compiles src, returning the problems found with their
// place in the expression.
func compileCondition(env *cel.Env, path, name, src string) (*condition, []*Error) {
	in := "in " + strconv.Quote(src)
	if name != "" {
		in = "in the condition of rule " + strconv.Quote(name) + ", " + strconv.Quote(src)
	}
	ast, iss := env.Compile(src)
	if iss.Err() != nil {
		var errs []*Error
		for _, e := range iss.Errors() {
			msg := strings.Replace(e.Message, " (in container '')", "", 1)
			switch {
			case strings.HasPrefix(msg, "undeclared reference"):
				msg += " (conditions see args, identity, server, tool and kind)"
			case strings.HasPrefix(msg, "undefined field") && strings.Contains(src, "identity."):
				msg += " (identity has user, team and roles)"
			}
			errs = append(errs, &Error{Path: path, Line: e.Location.Line(), Column: e.Location.Column() + 1,
				Msg: msg + ", " + in})
		}
		return nil, errs
	}
	if t := ast.OutputType(); t != cel.BoolType && t != cel.DynType {
		return nil, []*Error{{Path: path, Msg: fmt.Sprintf("the condition is a %s, not true or false (compare it, e.g. server == \"github\"), %s", t, in)}}
	}
	c := &condition{src: src}
	for _, r := range ast.NativeRep().ReferenceMap() {
		if r.Name == "args" {
			c.usesArgs = true
		}
	}
	var limit []cel.ProgramOption
	celast.PreOrderVisit(ast.NativeRep().Expr(), celast.NewExprVisitor(func(e celast.Expr) {
		if e.Kind() == celast.ComprehensionKind && limit == nil {
			limit = []cel.ProgramOption{cel.CostLimit(costLimit)}
		}
	}))
	var err error
	if c.prog, err = env.Program(ast, append(limit, cel.EvalOptions(cel.OptOptimize))...); err != nil {
		return nil, []*Error{{Path: path, Msg: fmt.Sprintf("%q: %v", src, err)}}
	}
	if c.partial, err = env.Program(ast, append(limit, cel.EvalOptions(cel.OptPartialEval))...); err != nil {
		return nil, []*Error{{Path: path, Msg: fmt.Sprintf("%q: %v", src, err)}}
	}
	return c, nil
}

// vars is the activation of one decision: what conditions see. Arguments
// are decoded once per decision, and only when a condition reads them.
type vars struct {
	args     map[string]any
	identity caller
	server   string
	tool     string
	kind     string
}

func (v *vars) ResolveName(name string) (any, bool) {
	switch name {
	case "args":
		return v.args, true
	case "identity":
		return v.identity, true
	case "server":
		return v.server, true
	case "tool":
		return v.tool, true
	case "kind":
		return v.kind, true
	}
	return nil, false
}

func (v *vars) Parent() interpreter.Activation { return nil }

// outcome is what a condition said.
type outcome uint8

const (
	holds outcome = iota + 1
	fails
	unknown // listings only: it depends on the arguments
	broken  // it could not be evaluated
)

func (c *condition) eval(v *vars) (outcome, error) {
	out, _, err := c.prog.Eval(v)
	return verdictOf(out, err)
}

// evalWithoutArgs evaluates c as a listing can: with the arguments unknown.
func (c *condition) evalWithoutArgs(v *vars) (outcome, error) {
	act, err := cel.PartialVars(v, cel.AttributePattern("args"))
	if err != nil {
		return broken, err
	}
	out, _, err := c.partial.Eval(act)
	if types.IsUnknown(out) {
		return unknown, nil
	}
	return verdictOf(out, err)
}

func verdictOf(out ref.Val, err error) (outcome, error) {
	if err != nil {
		return broken, err
	}
	switch out {
	case types.True:
		return holds, nil
	case types.False:
		return fails, nil
	}
	return broken, fmt.Errorf("it gave %v (%s), not true or false", out, out.Type())
}
