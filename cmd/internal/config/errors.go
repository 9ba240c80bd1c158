package config

import (
	"fmt"
	"strings"
)

// Error is one problem in a configuration file, located by file, line and
// key, with a message that says what is wrong and how to fix it.
//
// Its text reads "FILE:LINE: KEY: MESSAGE"; the parts that are unknown
// (no file, line 0, no key) are left out.
type Error struct {
	// File is the configuration file, "" when the problem is not tied to one.
	File string
	// Line is the 1-based line of the offending key or value, 0 when unknown.
	Line int
	// Key is the dotted path of the offending key, e.g.
	// servers.everything.args; "" for the file as a whole.
	Key string
	// Msg says what is wrong and how to fix it; when empty, Err's text is used.
	Msg string
	// Err is the underlying cause, if any.
	Err error
}

// Error returns the problem as "FILE:LINE: KEY: MESSAGE".
func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d", e.Line)
		}
		b.WriteString(": ")
	}
	if e.Key != "" {
		b.WriteString(e.Key)
		b.WriteString(": ")
	}
	switch {
	case e.Msg != "":
		b.WriteString(e.Msg)
	case e.Err != nil:
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// keyJoin appends child to the dotted key path parent, quoting child when it
// holds characters that would make the path ambiguous.
func keyJoin(parent, child string) string {
	if child == "" || strings.ContainsFunc(child, func(r rune) bool {
		return !(r == '_' || r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
	}) {
		child = fmt.Sprintf("%q", child)
	}
	if parent == "" {
		return child
	}
	return parent + "." + child
}
