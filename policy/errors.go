package policy

import (
	"errors"
	"fmt"
	"strings"
)

// Error is one problem [Compile] found in a policy: where, as a path of
// keys such as teams.web.servers.github.tools.allow[1] or rules[2].when,
// and what is wrong. Config decoding can map Path to a file and line.
type Error struct {
	Path string
	// Line and Column locate the problem inside a CEL expression
	// (1-based); zero for problems outside one.
	Line, Column int
	Msg          string
}

// Error reads PATH[:LINE:COLUMN]: MESSAGE.
func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d:%d: %s", e.Path, e.Line, e.Column, e.Msg)
	}
	return e.Path + ": " + e.Msg
}

// Errors is every problem Compile found, in policy order, so one run
// shows them all.
type Errors []*Error

// Error puts each problem on a line of its own.
func (es Errors) Error() string {
	s := make([]string, len(es))
	for i, e := range es {
		s[i] = e.Error()
	}
	return "policy: " + strings.Join(s, "\npolicy: ")
}

var errEmptyGlob = errors.New("an empty pattern matches nothing")
