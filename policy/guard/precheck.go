package guard

import (
	"regexp/syntax"
	"slices"
	"unicode"
	"unicode/utf8"
)

// Most keyword occurrences in clean text are not secrets: "key" in prose,
// "ey" in "they", "s." ending a sentence, `token = getToken()`. Running a
// rule's regular expression over the window around each one is most of a
// scan's cost, so each occurrence is first held to a necessary condition
// derived from the rule's own expression: the characters that must follow
// the keyword (a JWT's "ey" is followed by 17 letters or digits), or, for
// a context rule, the characters that must follow its assignment operator
// (generic-api-key's value has at least 10). An occurrence that fails it
// cannot be part of a match, and its window is not searched. The condition
// is derived, never written per rule, so a user's rules get it too, and
// where a rule's shape is not understood there is none.

// charStep is a run of exactly min characters, each in one set.
type charStep struct {
	ascii [2]uint64 // the set's ASCII characters, one bit each
	wide  []rune    // its other characters, as [lo, hi] pairs
	min   int
}

func (s *charStep) has(r rune) bool {
	if r < utf8.RuneSelf {
		return s.ascii[r>>6]&(1<<(r&63)) != 0
	}
	for i := 0; i+1 < len(s.wide); i += 2 {
		if s.wide[i] <= r && r <= s.wide[i+1] {
			return true
		}
	}
	return false
}

// stepOf is the set of characters the single-character expression re
// matches, or false when re matches more (or other) than one character.
func stepOf(re *syntax.Regexp) (charStep, bool) {
	for re.Op == syntax.OpCapture {
		re = re.Sub[0]
	}
	var ranges []rune
	switch re.Op {
	case syntax.OpLiteral:
		if len(re.Rune) != 1 {
			return charStep{}, false
		}
		r := re.Rune[0]
		ranges = append(ranges, r, r)
		if re.Flags&syntax.FoldCase != 0 {
			for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
				ranges = append(ranges, f, f)
			}
		}
	case syntax.OpCharClass:
		ranges = re.Rune
	case syntax.OpAnyCharNotNL:
		ranges = []rune{0, '\n' - 1, '\n' + 1, unicode.MaxRune}
	case syntax.OpAnyChar:
		ranges = []rune{0, unicode.MaxRune}
	default:
		return charStep{}, false
	}
	var s charStep
	for i := 0; i+1 < len(ranges); i += 2 {
		lo, hi := ranges[i], ranges[i+1]
		for r := lo; r <= hi && r < utf8.RuneSelf; r++ {
			s.ascii[r>>6] |= 1 << (r & 63)
		}
		if hi >= utf8.RuneSelf {
			s.wide = append(s.wide, max(lo, utf8.RuneSelf), hi)
		}
	}
	return s, true
}

// charPath is what the first characters of a match (of one alternative)
// must be: steps in order. open reports that it covers all the
// alternative, so what follows it in a concatenation may be appended.
type charPath struct {
	steps []charStep
	open  bool
}

// maxPaths bounds the alternatives a condition keeps; past it, none.
const maxPaths = 32

// pathsOf returns the paths of re's alternatives, or nil when re's
// matches can begin with anything.
func pathsOf(re *syntax.Regexp) []charPath {
	switch re.Op {
	case syntax.OpCapture:
		return pathsOf(re.Sub[0])
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText,
		syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return []charPath{{open: true}} // zero width: no character
	case syntax.OpLiteral:
		p := charPath{open: true}
		for _, r := range re.Rune {
			s, _ := stepOf(&syntax.Regexp{Op: syntax.OpLiteral, Rune: []rune{r}, Flags: re.Flags})
			s.min = 1
			p.steps = append(p.steps, s)
		}
		return []charPath{p}
	case syntax.OpRepeat, syntax.OpPlus:
		s, ok := stepOf(re.Sub[0])
		if !ok {
			return nil
		}
		s.min = 1
		open := false
		if re.Op == syntax.OpRepeat {
			s.min, open = re.Min, re.Min == re.Max
		}
		if s.min == 0 {
			return nil
		}
		return []charPath{{steps: []charStep{s}, open: open}}
	case syntax.OpAlternate:
		var out []charPath
		for _, sub := range re.Sub {
			ps := pathsOf(sub)
			if ps == nil || len(out)+len(ps) > maxPaths {
				return nil
			}
			out = append(out, ps...)
		}
		return out
	case syntax.OpConcat:
		out := []charPath{{open: true}}
		for _, sub := range re.Sub {
			var next []charPath
			more := false
			var subs []charPath
			for _, p := range out {
				if !p.open {
					next = append(next, p)
					continue
				}
				if !more {
					subs, more = pathsOf(sub), true
				}
				if subs == nil {
					next = append(next, charPath{steps: p.steps}) // ends here
					continue
				}
				for _, q := range subs {
					next = append(next, charPath{steps: append(append([]charStep(nil), p.steps...), q.steps...), open: q.open})
				}
			}
			if len(next) > maxPaths {
				return nil
			}
			out = next
			if !more {
				break // no path open
			}
		}
		return out
	}
	if s, ok := stepOf(re); ok {
		s.min = 1
		return []charPath{{steps: []charStep{s}, open: true}}
	}
	return nil
}

// holds reports whether text from at satisfies p.
func (p *charPath) holds(text string, at int) bool {
	if at < 0 {
		return false
	}
	for i := range p.steps {
		s := &p.steps[i]
		for range s.min {
			if at >= len(text) {
				return false
			}
			r, n := rune(text[at]), 1
			if r >= utf8.RuneSelf {
				r, n = utf8.DecodeRuneInString(text[at:])
			}
			if !s.has(r) {
				return false
			}
			at += n
		}
	}
	return true
}

// placed is a path where a keyword sits at a fixed place: a match by it
// begins off bytes before the keyword.
type placed struct {
	path charPath
	off  int
}

// leadCheck is a necessary condition on the text at a keyword of a rule
// whose matches begin with known characters; nil when there is none.
type leadCheck []placed

// newLeadCheck is the condition for keyword (lowercase ASCII) in re: every
// alternative of re must place the keyword among its first characters,
// where each is a single character the keyword's matches (in either case),
// else the keyword could sit anywhere in a match and there is no condition.
func newLeadCheck(re *syntax.Regexp, keyword string) leadCheck {
	paths := pathsOf(re)
	if len(paths) == 0 || keyword == "" {
		return nil
	}
	var out leadCheck
	for _, p := range paths {
		found := false
		for j := 0; j+len(keyword) <= len(p.steps); j++ {
			fits := true
			for i := 0; i < len(keyword) && fits; i++ {
				s := &p.steps[j+i]
				c := rune(keyword[i])
				fits = s.min == 1 && (s.has(c) || s.has(unicode.ToUpper(c)))
			}
			if fits {
				// The offset in bytes: the steps before the keyword are
				// single characters, but not all one byte wide.
				if off, ok := asciiWidth(p.steps[:j]); ok {
					out = append(out, placed{p, off})
					found = true
				}
			}
		}
		if !found {
			return nil
		}
	}
	return out
}

// asciiWidth is the width in bytes of steps that each match one ASCII
// character, or false.
func asciiWidth(steps []charStep) (int, bool) {
	n := 0
	for i := range steps {
		if steps[i].min != 1 || len(steps[i].wide) > 0 {
			return 0, false
		}
		n++
	}
	return n, true
}

// holds reports whether a match could begin at the keyword at start.
func (c leadCheck) holds(text string, start int) bool {
	for i := range c {
		if c[i].path.holds(text, start-c[i].off) {
			return true
		}
	}
	return false
}

// valueCheck is a necessary condition on what follows a context rule's
// assignment operator: up to skipMax characters of skip, then the secret;
// and then tail, the rule's expression from there on, anchored, which
// rejects `token = getToken()` (a value, but not one that ends where a
// secret must).
type valueCheck struct {
	skip    charStep
	skipMax int
	secret  []charPath
	tail    *lazyRegexp // nil when the rest cannot be run apart
}

// newValueCheck is the condition for the context rule re whose secret is
// capture group group (0: the first): in re's top concatenation, the
// group and the bounded run of characters before it. Nil when re is not
// shaped so.
func newValueCheck(re *syntax.Regexp, group int) *valueCheck {
	if group <= 0 {
		group = 1
	}
	if re.Op != syntax.OpConcat {
		return nil
	}
	for i, sub := range re.Sub {
		if sub.Op != syntax.OpCapture || sub.Cap != group {
			continue
		}
		if i == 0 {
			return nil
		}
		prev := re.Sub[i-1]
		if prev.Op != syntax.OpRepeat || prev.Min != 0 || prev.Max < 0 {
			return nil
		}
		skip, ok := stepOf(prev.Sub[0])
		paths := pathsOf(sub)
		if !ok || len(paths) == 0 {
			return nil
		}
		v := &valueCheck{skip: skip, skipMax: prev.Max, secret: paths}
		rest := re.Sub[i-1:]
		if !slices.ContainsFunc(rest, looksBack) {
			tail := &syntax.Regexp{Op: syntax.OpConcat, Sub: append([]*syntax.Regexp{{Op: syntax.OpBeginText}}, rest...)}
			if src := tail.String(); parses(src) {
				v.tail = newLazyRegexp(src)
			}
		}
		return v
	}
	return nil
}

// looksBack reports whether re has an assertion about the text before
// where it is run (\b, ^), which a run from the operator on cannot see.
func looksBack(re *syntax.Regexp) bool {
	switch re.Op {
	case syntax.OpWordBoundary, syntax.OpNoWordBoundary, syntax.OpBeginLine, syntax.OpBeginText:
		return true
	}
	return slices.ContainsFunc(re.Sub, looksBack)
}

// maxOperator is the longest assignment operator of a context rule (:::=).
const maxOperator = 4

// holds reports whether a secret could follow the operator at op.
func (v *valueCheck) holds(text string, op int) bool {
	for end := op + 1; end <= op+maxOperator && end <= len(text); end++ {
		at := end
		for k := 0; ; k++ {
			for i := range v.secret {
				if v.secret[i].holds(text, at) {
					return v.tail == nil || v.tail.get().MatchString(text[end:])
				}
			}
			if k == v.skipMax || at >= len(text) {
				break
			}
			r, n := utf8.DecodeRuneInString(text[at:])
			if !v.skip.has(r) {
				break
			}
			at += n
		}
	}
	return false
}
