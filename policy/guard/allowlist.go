package guard

import (
	"regexp"
	"strings"
	"sync"

	"github.com/coregx/ahocorasick"
	"github.com/zricethezav/gitleaks/v8/config"
)

// allowlist is a gitleaks allowlist as the scanner applies it to a
// finding. Its stopwords are in an automaton of ours: gitleaks' own index
// of them, for the generic rule's 1,446, holds about 9 MB, most of what
// the rules keep live, in every gateway for its whole life.
type allowlist struct {
	and     bool   // every check must match (AllowlistMatchAnd)
	target  string // what the regexes look at: "" (the secret), match, line
	regexes []*regexp.Regexp
	stops   *stopwords // nil when there are no stopwords
	// elsewhere: the list also checks commits or paths, which a payload
	// has none of.
	elsewhere bool
}

// newAllowlists converts gitleaks' allowlists.
func newAllowlists(lists []*config.Allowlist) []*allowlist {
	var out []*allowlist
	for _, a := range lists {
		l := &allowlist{and: a.MatchCondition == config.AllowlistMatchAnd, target: a.RegexTarget, regexes: a.Regexes,
			elsewhere: len(a.Commits) > 0 || len(a.Paths) > 0}
		var words []string
		for _, w := range a.StopWords {
			if w != "" {
				words = append(words, strings.ToLower(w))
			}
		}
		if len(words) > 0 {
			l.stops = &stopwords{words: words}
		}
		out = append(out, l)
	}
	return out
}

// allowed applies gitleaks' allowlist semantics to one finding (commits
// and paths do not apply to payloads: with the AND condition, a list that
// needs them never matches).
func allowed(lists []*allowlist, secret, match, line string) bool {
	for _, a := range lists {
		target := secret
		switch a.target {
		case "match":
			target = match
		case "line":
			target = line
		}
		re := false
		for _, r := range a.regexes {
			if r.MatchString(target) {
				re = true
				break
			}
		}
		stop := a.stops != nil && secret != "" && a.stops.in(strings.ToLower(secret))
		if a.and {
			if a.elsewhere || len(a.regexes) == 0 && a.stops == nil {
				continue
			}
			if (len(a.regexes) == 0 || re) && (a.stops == nil || stop) {
				return true
			}
			continue
		}
		if re || stop {
			return true
		}
	}
	return false
}

// stopwords are an allowlist's stop words, in an automaton built the first
// time a finding is checked against them: the generic rule's 1,446 take
// about 1 MB, which a gateway whose traffic never holds a generic
// assignment need not keep.
type stopwords struct {
	words []string // lowercased, none empty
	once  sync.Once
	dfa   *ahocorasick.Automaton
}

// in reports whether s (lowercased) holds one of the words.
func (w *stopwords) in(s string) bool {
	w.once.Do(func() {
		w.dfa, _ = ahocorasick.NewBuilder().AddStrings(w.words).Build() // fails only without words
	})
	return w.dfa.IsMatch([]byte(s))
}
