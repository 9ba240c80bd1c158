package guard

import (
	"regexp"
	"regexp/syntax"
	"sync"
	"sync/atomic"
)

// lazyRegexp is a regular expression compiled the first time it runs. A
// gitleaks rule runs only when a payload holds one of its keywords and
// passes its conditions (see precheck.go), so most of the 220 never do in
// a given gateway; compiled, they would hold memory for its whole life.
type lazyRegexp struct {
	src  string // checked already (syntax.Parse): compiling cannot fail
	once sync.Once
	re   atomic.Pointer[regexp.Regexp] // set once compiled
}

func newLazyRegexp(src string) *lazyRegexp { return &lazyRegexp{src: src} }

// get returns the compiled expression.
func (l *lazyRegexp) get() *regexp.Regexp {
	if re := l.re.Load(); re != nil {
		return re
	}
	l.once.Do(func() { l.re.Store(regexp.MustCompile(l.src)) })
	return l.re.Load()
}

// compiled reports whether the expression has run.
func (l *lazyRegexp) compiled() bool { return l.re.Load() != nil }

// String is the expression's source.
func (l *lazyRegexp) String() string { return l.src }

// parses reports whether src is an expression regexp.Compile accepts.
func parses(src string) bool {
	_, err := syntax.Parse(src, syntax.Perl)
	return err == nil
}
