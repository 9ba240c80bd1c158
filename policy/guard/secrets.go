package guard

import (
	"context"
	"math"
	"slices"
	"unsafe"

	ahocorasick "github.com/BobuSumisu/aho-corasick"
	"github.com/zricethezav/gitleaks/v8/config"
)

// Secrets is the secrets detector: gitleaks' rules, run the way gitleaks
// runs them (a rule's regular expression only where one of its keywords
// occurs; its entropy floor; its allowlists), over each string of a
// payload. Its rules are compiled in the background by [NewSecrets]; until
// then [Secrets.Ready] is open-ended and Inspect finds nothing, so a caller
// that must not fail open waits for it (see [Guard]).
type Secrets struct {
	ready chan struct{}
	set   *secretSet // set before ready is closed
	err   error
}

// secretSet is compiled rules with their keyword index.
type secretSet struct {
	rules []config.Rule
	// byKeyword lists, per keyword (the trie's pattern index), the rules
	// it triggers.
	byKeyword  [][]int
	trie       *ahocorasick.Trie
	allowlists []*config.Allowlist
	// always is the byKeyword entry of rules without keywords, which run
	// on every string; -1 when there are none.
	always int
}

// NewSecrets returns a secrets detector whose rules, gitleaks' defaults
// merged with extra (nil for none), are compiled in a goroutine of their
// own.
func NewSecrets(extra *Rules) *Secrets {
	s := &Secrets{ready: make(chan struct{})}
	go func() {
		r, err := DefaultRules()
		if err == nil {
			s.set = compileSet(r.Merge(extra))
		}
		s.err = err
		close(s.ready)
	}()
	return s
}

// NewSecretsFrom returns a secrets detector over rules, ready at once.
func NewSecretsFrom(rules *Rules) *Secrets {
	s := &Secrets{ready: make(chan struct{}), set: compileSet(rules)}
	close(s.ready)
	return s
}

func compileSet(r *Rules) *secretSet {
	set := &secretSet{allowlists: r.cfg.Allowlists}
	index := map[string]int{}
	var words []string
	for _, id := range sortedKeys(r.cfg.Rules) {
		rule := r.cfg.Rules[id]
		if rule.Regex == nil || rule.SkipReport {
			continue
		}
		n := len(set.rules)
		set.rules = append(set.rules, rule)
		kws := rule.Keywords
		if len(kws) == 0 {
			kws = []string{""} // always run: the empty keyword, checked apart
		}
		for _, k := range kws {
			i, ok := index[k]
			if !ok {
				i = len(words)
				index[k] = i
				words = append(words, k)
				set.byKeyword = append(set.byKeyword, nil)
			}
			set.byKeyword[i] = append(set.byKeyword[i], n)
		}
	}
	b := ahocorasick.NewTrieBuilder()
	for _, w := range words {
		if w != "" {
			b.AddString(w)
		}
	}
	// The trie numbers patterns in the order added, skipping the empty
	// keyword: keep byKeyword in that order too.
	if i, ok := index[""]; ok {
		always := set.byKeyword[i]
		set.byKeyword = append(set.byKeyword[:i], set.byKeyword[i+1:]...)
		set.byKeyword = append(set.byKeyword, always) // last: never a trie pattern
		set.always = len(set.byKeyword) - 1
	} else {
		set.always = -1
	}
	set.trie = b.Build()
	return set
}

// Name implements [Detector].
func (*Secrets) Name() string { return "secrets" }

// Ready is closed once the rules are compiled.
func (s *Secrets) Ready() <-chan struct{} { return s.ready }

// Err is why the rules could not be compiled, once Ready is closed.
func (s *Secrets) Err() error {
	select {
	case <-s.ready:
		return s.err
	default:
		return nil
	}
}

// loaded returns the rules, or nil before they are ready.
func (s *Secrets) loaded() *secretSet {
	select {
	case <-s.ready:
		return s.set
	default:
		return nil
	}
}

// Maybe implements [Prefilter]: whether any rule's keyword occurs in lower.
func (s *Secrets) Maybe(lower []byte) bool {
	set := s.loaded()
	if set == nil {
		return true
	}
	if set.always >= 0 {
		return true
	}
	found := false
	set.trie.Walk(lower, func(_, _, _ int64) bool {
		found = true
		return false
	})
	return found
}

// Inspect implements [Detector].
func (s *Secrets) Inspect(ctx context.Context, p Payload) []Finding {
	set := s.loaded()
	if set == nil {
		return nil
	}
	var run []bool // by rule index, allocated on the first keyword seen
	mark := func(k int) {
		if run == nil {
			run = make([]bool, len(set.rules))
		}
		for _, r := range set.byKeyword[k] {
			run[r] = true
		}
	}
	set.trie.Walk(unsafe.Slice(unsafe.StringData(p.Lower), len(p.Lower)), func(_, _, pattern int64) bool {
		mark(int(pattern))
		return true
	})
	if set.always >= 0 {
		mark(set.always)
	}
	if run == nil {
		return nil
	}
	var out []Finding
	for i, ok := range run {
		if !ok {
			continue
		}
		if ctx.Err() != nil {
			break
		}
		out = set.match(&set.rules[i], p, out)
	}
	return out
}

// match appends the findings of rule r in p.
func (set *secretSet) match(r *config.Rule, p Payload, out []Finding) []Finding {
	for _, m := range r.Regex.FindAllStringSubmatchIndex(p.Text, -1) {
		start, end := m[0], m[1]
		// The secret is the rule's secret group, else the first non-empty
		// group, else the whole match (as gitleaks picks it).
		if g := r.SecretGroup; g > 0 && 2*g+1 < len(m) && m[2*g] >= 0 {
			start, end = m[2*g], m[2*g+1]
		} else if g == 0 {
			for j := 2; j+1 < len(m); j += 2 {
				if m[j] >= 0 && m[j+1] > m[j] {
					start, end = m[j], m[j+1]
					break
				}
			}
		}
		secret, match := p.Text[start:end], p.Text[m[0]:m[1]]
		if r.Entropy != 0 && shannon(secret) <= r.Entropy {
			continue
		}
		if allowed(set.allowlists, secret, match, p.Text) || allowed(r.Allowlists, secret, match, p.Text) {
			continue
		}
		out = append(out, Finding{Rule: r.RuleID, Detector: "secrets", Path: p.Path, Start: start, End: end})
	}
	return out
}

// allowed applies gitleaks' allowlist semantics to one finding (commits
// and paths do not apply to payloads: with the AND condition, a list that
// needs them never matches).
func allowed(lists []*config.Allowlist, secret, match, line string) bool {
	for _, a := range lists {
		target := secret
		switch a.RegexTarget {
		case "match":
			target = match
		case "line":
			target = line
		}
		re := len(a.Regexes) > 0 && a.RegexAllowed(target)
		stop := false
		if len(a.StopWords) > 0 {
			stop, _ = a.ContainsStopWord(secret)
		}
		if a.MatchCondition == config.AllowlistMatchAnd {
			if len(a.Commits) > 0 || len(a.Paths) > 0 || len(a.Regexes) == 0 && len(a.StopWords) == 0 {
				continue
			}
			if (len(a.Regexes) == 0 || re) && (len(a.StopWords) == 0 || stop) {
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

// shannon is the Shannon entropy of s, in bits per byte, as gitleaks
// computes it.
func shannon(s string) float64 {
	if s == "" {
		return 0
	}
	var counts [256]int
	for i := 0; i < len(s); i++ {
		counts[s[i]]++
	}
	var e float64
	n := float64(len(s))
	for _, c := range counts {
		if c > 0 {
			p := float64(c) / n
			e -= p * math.Log2(p)
		}
	}
	return e
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
