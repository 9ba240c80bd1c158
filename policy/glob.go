package policy

import (
	"path"
	"regexp"
	"strings"
)

// glob is one compiled pattern. Tool and prompt names use path.Match;
// resource URIs too, except that "**" matches across "/" (and "**/" also
// no segment at all), since file:///repo/** is what people write for a
// tree.
type glob struct {
	src   string
	whole bool           // "*" (or "**" for URIs): speaks of the whole server
	re    *regexp.Regexp // set for URI globs with "**"
}

// compileGlob checks pattern; uri selects the URI flavour.
func compileGlob(pattern string, uri bool) (glob, error) {
	g := glob{src: pattern, whole: pattern == "*" || uri && pattern == "**"}
	if pattern == "" {
		return g, errEmptyGlob
	}
	if uri && strings.Contains(pattern, "**") {
		re, err := uriGlobRegexp(pattern)
		if err != nil {
			return g, err
		}
		g.re = re
		return g, nil
	}
	if _, err := path.Match(pattern, ""); err != nil {
		return g, err
	}
	return g, nil
}

func (g glob) match(name string) bool {
	if g.whole {
		return true
	}
	if g.re != nil {
		return g.re.MatchString(name)
	}
	ok, _ := path.Match(g.src, name)
	return ok
}

// uriGlobRegexp translates a URI glob with "**" into a regexp: "**" any
// run of characters, "*" and "?" within one path segment, classes and
// escapes as in path.Match; "**/" also matches no segment at all.
func uriGlobRegexp(pattern string) (*regexp.Regexp, error) {
	// Each "**"-free piece must be a valid path.Match pattern on its own.
	for _, piece := range strings.Split(pattern, "**") {
		if _, err := path.Match(piece, ""); err != nil {
			return nil, err
		}
	}
	var b strings.Builder
	b.WriteString(`\A`)
	for i := 0; i < len(pattern); i++ {
		switch c := pattern[i]; c {
		case '*':
			switch {
			case strings.HasPrefix(pattern[i:], "**/"):
				b.WriteString(`(?:.*/)?`) // as in .gitignore: zero or more segments
				i += 2
			case strings.HasPrefix(pattern[i:], "**"):
				b.WriteString(`.*`)
				i++
			default:
				b.WriteString(`[^/]*`)
			}
		case '?':
			b.WriteString(`[^/]`)
		case '\\':
			if i+1 < len(pattern) {
				i++
				b.WriteString(regexp.QuoteMeta(pattern[i : i+1]))
			}
		case '[':
			end := strings.IndexByte(pattern[i+1:], ']')
			if end < 0 {
				return nil, path.ErrBadPattern
			}
			class := pattern[i+1 : i+1+end]
			if strings.HasPrefix(class, "^") {
				class = "^/" + class[1:]
			}
			b.WriteString("[" + class + "]")
			i += end + 1
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString(`\z`)
	return regexp.Compile(b.String())
}

// globs is a list of compiled patterns, with where they came from.
type globs []glob

func (gs globs) find(name string) (int, bool) {
	for i, g := range gs {
		if g.match(name) {
			return i, true
		}
	}
	return -1, false
}

// whole returns the first pattern that speaks of everything ("*").
func (gs globs) whole() (int, bool) {
	for i, g := range gs {
		if g.whole {
			return i, true
		}
	}
	return -1, false
}

// best returns the pattern that speaks most specifically of name: the
// first matching pattern other than "*", else the first matching "*".
func (gs globs) best(name string) (int, bool) {
	whole := -1
	for i, g := range gs {
		if !g.match(name) {
			continue
		}
		if !g.whole {
			return i, true
		}
		if whole < 0 {
			whole = i
		}
	}
	return whole, whole >= 0
}
