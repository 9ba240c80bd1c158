package guard

import (
	"context"
	"fmt"
	"math"
	"regexp/syntax"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
	"unsafe"

	"github.com/coregx/ahocorasick"
	"github.com/zricethezav/gitleaks/v8/config"
)

// Secrets is the secrets detector: gitleaks' rules, run the way gitleaks
// runs them (a rule's regular expression only where one of its keywords
// occurs; its entropy floor; its allowlists), over each string of a
// payload. Its rules are read in the background by [NewSecrets]; until
// then [Secrets.Ready] is open and Inspect finds nothing, so a caller
// that must not fail open waits for it (see [Guard]).
type Secrets struct {
	ready chan struct{}
	set   *secretSet // set before ready is closed
	err   error
	// load reads the rules and closes ready; nil when they were given
	// ready (NewSecretsFrom). begin runs it once.
	load  func()
	begin sync.Once
}

// secretSet is compiled rules with their keyword index.
type secretSet struct {
	rules []config.Rule // Regex nil: see regex
	// regex is each rule's expression, compiled when first run.
	regex []*lazyRegexp
	// byKeyword lists, per keyword (the trie's pattern index), the rules
	// it triggers.
	byKeyword  [][]kwRule
	trie       *ahocorasick.Automaton
	allowlists []*allowlist
	// ruleAllow is each rule's own allowlists (rules[i].Allowlists,
	// converted; those are dropped).
	ruleAllow [][]*allowlist
	// always is the byKeyword entry of rules without keywords, which run
	// on every string; -1 when there are none.
	always int
	// width is each rule's widest match in bytes, -1 when unbounded (a
	// private key): a match holds its keyword, so it lies within width
	// bytes of it; an unbounded rule runs over the whole string.
	width []int
	// multiline marks the rules whose matches span lines without bound
	// (private keys): they run from their keyword to the string's end.
	multiline []bool
}

// kwRule is a rule a keyword triggers.
type kwRule struct {
	rule int
	// assign: the keyword is the name of a context rule, so an assignment
	// must follow it closely (see assignsAfter).
	assign bool
	// exact is the keyword as the rule's match must begin, case and all,
	// when it begins with it ("SK" for a keyword "sk"); "" when the rule
	// leaves the case open or the keyword elsewhere.
	exact string
	// lead and value are necessary conditions on the text at the keyword
	// (see precheck.go); nil for none.
	lead  leadCheck
	value *valueCheck
}

// semiGeneric begins the regular expression of each of gitleaks' context
// rules: up to 50 name bytes, the keyword, up to 20 more name bytes and 3
// quotes or spaces, then an assignment operator.
const semiGeneric = `(?i)[\w.-]{0,50}?(?:`

// namesKeyword reports whether the context rule re has keyword among
// the names before its assignment operator.
func namesKeyword(re, keyword string) bool {
	if !strings.HasPrefix(re, semiGeneric) {
		return false
	}
	names := re[len(semiGeneric):]
	// The names group ends at its own closing parenthesis; it may hold
	// groups of its own ((?-i:[Aa]pi|API)).
	depth := 0
	for i := 0; i < len(names); i++ {
		switch names[i] {
		case '\\':
			i++
		case '(':
			depth++
		case ')':
			if depth == 0 {
				names = names[:i]
				return strings.Contains(strings.ToLower(names), keyword)
			}
			depth--
		}
	}
	return false
}

// assignWithin is how far after a context rule's keyword its operator may
// be: 20 name bytes and 3 quotes after the regex's word, which may be up
// to 16 bytes longer than the keyword found.
const assignWithin = 40

// assignsAfter reports whether one of the context rules' assignment
// operators (= > : | , ?) follows end in s closely.
func assignsAfter(s string, end int) bool { return assignAt(s, end) >= 0 }

// assignAt is where the assignment operator that follows end in s closely
// begins, or -1.
func assignAt(s string, end int) int {
	i := end
	for ; i < len(s) && i < end+assignWithin && isNameByte(s[i]); i++ {
	}
	for q := 0; i < len(s) && q < 3 && (s[i] == '"' || s[i] == '\'' || s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'); q++ {
		i++
	}
	if i >= len(s) {
		return -1
	}
	switch s[i] {
	case '=', '>', ':', ',':
		return i
	case '|':
		if i+1 < len(s) && s[i+1] == '|' {
			return i
		}
	case '?':
		if i+1 < len(s) && s[i+1] == '=' {
			return i
		}
	}
	return -1
}

// isNameByte is [ \t\w.-], what may come between a context rule's
// keyword and its operator.
func isNameByte(c byte) bool {
	return c == ' ' || c == '\t' || c == '_' || c == '.' || c == '-' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// unboundedWindow is how far past its keyword a rule with an unbounded
// match is first run; a match that reaches the window's end is run again
// to the string's end.
const unboundedWindow = 256

// assignLead is how far before its keyword a context rule's match may
// start: 50 name bytes, and the regex's word beyond the keyword.
const assignLead = 128

// NewSecrets returns a secrets detector whose rules, gitleaks' defaults
// merged with extra (nil for none), are read in a goroutine of their
// own, starting now.
func NewSecrets(extra *Rules) *Secrets {
	s := NewSecretsOnDemand(extra)
	s.Start()
	return s
}

// NewSecretsOnDemand is [NewSecrets] whose reading starts with
// [Secrets.Start], or when a [Guard] first needs the rules: a gateway
// starts it once its servers are up, so reading them (about 70 ms: the
// TOML decoded, each expression parsed) does not compete with startup.
// Expressions themselves are compiled when first run.
func NewSecretsOnDemand(extra *Rules) *Secrets {
	s := &Secrets{ready: make(chan struct{})}
	s.load = func() {
		r, err := DefaultRules()
		if err == nil {
			s.set = compileSet(r.Merge(extra))
		}
		s.err = err
		close(s.ready)
	}
	return s
}

// Start starts reading the rules, unless that has started already.
func (s *Secrets) Start() {
	if s.load != nil {
		s.begin.Do(func() { go s.load() })
	}
}

// NewSecretsFrom returns a secrets detector over rules, ready at once.
func NewSecretsFrom(rules *Rules) *Secrets {
	s := &Secrets{ready: make(chan struct{}), set: compileSet(rules)}
	close(s.ready)
	return s
}

func compileSet(r *Rules) *secretSet {
	set := &secretSet{allowlists: newAllowlists(r.cfg.Allowlists)}
	index := map[string]int{}
	var words []string
	for _, id := range sortedKeys(r.cfg.Rules) {
		rule, src := r.cfg.Rules[id], r.regex[id]
		if src == "" || rule.SkipReport {
			continue
		}
		n := len(set.rules)
		rule.Regex = nil // translate's stand-in
		set.regex = append(set.regex, newLazyRegexp(src))
		set.ruleAllow = append(set.ruleAllow, newAllowlists(rule.Allowlists))
		rule.Allowlists = nil // gitleaks' copies, with their stopword index
		set.rules = append(set.rules, rule)
		w := -1
		parsed, err := syntax.Parse(src, syntax.Perl)
		if err == nil {
			w = maxWidth(parsed.Simplify())
		}
		set.width = append(set.width, w)
		set.multiline = append(set.multiline, w < 0 && strings.Contains(src, `[\s\S`))
		lit := leadingLiteral(src)
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
			kr := kwRule{rule: n, assign: k != "" && namesKeyword(src, k)}
			if len(lit) >= len(k) && strings.EqualFold(lit[:len(k)], k) && lit[:len(k)] != k {
				kr.exact = lit[:len(k)]
			}
			if parsed != nil && k != "" {
				if kr.assign {
					kr.value = newValueCheck(parsed, rule.SecretGroup)
				} else {
					kr.lead = newLeadCheck(parsed, k)
				}
			}
			set.byKeyword[i] = append(set.byKeyword[i], kr)
		}
	}
	var patterns []string
	for _, w := range words {
		if w != "" {
			patterns = append(patterns, w)
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
	if len(patterns) > 0 {
		// Build fails only for no patterns or an empty one, both left out.
		t, err := ahocorasick.NewBuilder().AddStrings(patterns).Build()
		if err != nil {
			panic(fmt.Sprintf("guard: keyword index of %d keywords: %v", len(patterns), err))
		}
		set.trie = t
	}
	return set
}

// Name implements [Detector].
func (*Secrets) Name() string { return "secrets" }

// Ready is closed once the rules are read.
func (s *Secrets) Ready() <-chan struct{} { return s.ready }

// Err is why the rules could not be read, once Ready is closed.
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

// A rule's regular expression runs only near its keywords, not over the
// whole string: every gitleaks rule's match holds one of its keywords, so
// it lies within the rule's widest match of an occurrence (windows that
// overlap are merged). Rules whose matches are unbounded (private keys)
// run from their keyword to the string's end; other unbounded ones (JWTs)
// over unboundedWindow bytes, extended when a match reaches its end.

// Inspect implements [Detector].
func (s *Secrets) Inspect(ctx context.Context, p Payload) []Finding {
	set := s.loaded()
	if set == nil {
		return nil
	}
	// Windows per rule, from the keywords found.
	var wins map[int][][2]int
	add := func(kr kwRule, start, end int, whole bool) {
		r := kr.rule
		if wins == nil {
			wins = map[int][][2]int{}
		}
		if !whole && kr.assign {
			op := assignAt(p.Text, end)
			if op < 0 || kr.value != nil && !kr.value.holds(p.Text, op) {
				return
			}
		}
		if !whole && kr.lead != nil && !kr.lead.holds(p.Text, start) {
			return // no match can begin here
		}
		if !whole && kr.exact != "" && p.Text[start:end] != kr.exact {
			return // the keyword, but not in the case the rule needs
		}
		w := set.width[r]
		if w < 0 {
			w = unboundedWindow
		}
		// A byte more each side, so \b sees its neighbour.
		lead := w
		if kr.assign {
			lead = min(w, assignLead)
		}
		start, end = max(0, end-lead-1), min(len(p.Text), start+w+1)
		if set.multiline[r] {
			end = len(p.Text)
		}
		if whole {
			start, end = 0, len(p.Text)
		}
		ws := wins[r]
		if n := len(ws); n > 0 && start <= ws[n-1][1] {
			ws[n-1][1] = max(ws[n-1][1], end)
		} else {
			ws = append(ws, [2]int{start, end})
		}
		wins[r] = ws
	}
	for _, m := range set.keywordsIn(p.Lower) {
		for _, kr := range set.byKeyword[m.PatternID] {
			add(kr, m.Start, m.End, false)
		}
	}
	if set.always >= 0 {
		for _, kr := range set.byKeyword[set.always] {
			add(kr, 0, len(p.Text), true)
		}
	}
	if wins == nil {
		return nil
	}
	var out []Finding
	for _, r := range sortedInts(wins) {
		if p.late() {
			break
		}
		for _, w := range wins[r] {
			out = set.match(r, p, w[0], w[1], out)
		}
	}
	return out
}

// keywordsIn is every occurrence of every keyword in lower, overlapping
// ones too ("sk" in "sk_live_").
func (set *secretSet) keywordsIn(lower string) []ahocorasick.Match {
	if set.trie == nil {
		return nil
	}
	return set.trie.FindAllOverlapping(unsafe.Slice(unsafe.StringData(lower), len(lower)))
}

func sortedInts[V any](m map[int]V) []int {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// match appends the findings of rule ri in p.Text[from:to]. For a rule
// whose matches are unbounded, a match that reaches to is found again over
// the rest of the string, whole.
func (set *secretSet) match(ri int, p Payload, from, to int, out []Finding) []Finding {
	r, re, unbounded := &set.rules[ri], set.regex[ri].get(), set.width[ri] < 0
	for _, m := range re.FindAllStringSubmatchIndex(p.Text[from:to], -1) {
		for i := range m {
			if m[i] >= 0 {
				m[i] += from
			}
		}
		if unbounded && m[1] == to && to < len(p.Text) {
			if mm := re.FindStringSubmatchIndex(p.Text[m[0]:]); mm != nil {
				for i := range mm {
					if mm[i] >= 0 {
						mm[i] += m[0]
					}
				}
				m = mm
			}
		}
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
		if allowed(set.allowlists, secret, match, p.Text) || allowed(set.ruleAllow[ri], secret, match, p.Text) {
			continue
		}
		out = append(out, Finding{Rule: r.RuleID, Detector: "secrets", Path: p.Path, Start: start, End: end})
	}
	return out
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

// maxWidth is the most bytes a match of re can span, or -1 when that is
// unbounded (a * or + outside a bounded context).
func maxWidth(re *syntax.Regexp) int {
	switch re.Op {
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText,
		syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return 0
	case syntax.OpLiteral:
		n := 0
		for _, r := range re.Rune {
			n += runeWidth(r, re.Flags&syntax.FoldCase != 0)
		}
		return n
	case syntax.OpCharClass:
		w := 1
		for i := 1; i < len(re.Rune); i += 2 {
			w = max(w, runeWidth(re.Rune[i], false))
		}
		return w
	case syntax.OpAnyCharNotNL, syntax.OpAnyChar:
		return utf8.UTFMax
	case syntax.OpCapture:
		return maxWidth(re.Sub[0])
	case syntax.OpStar, syntax.OpPlus:
		return -1
	case syntax.OpQuest:
		return maxWidth(re.Sub[0])
	case syntax.OpRepeat:
		w := maxWidth(re.Sub[0])
		if w < 0 || re.Max < 0 {
			return -1
		}
		return w * re.Max
	case syntax.OpConcat:
		n := 0
		for _, s := range re.Sub {
			w := maxWidth(s)
			if w < 0 {
				return -1
			}
			n += w
		}
		return n
	case syntax.OpAlternate:
		n := 0
		for _, s := range re.Sub {
			w := maxWidth(s)
			if w < 0 {
				return -1
			}
			n = max(n, w)
		}
		return n
	}
	return -1
}

// runeWidth is r's UTF-8 length, or its widest case fold's.
func runeWidth(r rune, fold bool) int {
	w := utf8.RuneLen(r)
	if fold {
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			w = max(w, utf8.RuneLen(f))
		}
	}
	return max(w, 1)
}

// leadingLiteral is the case-sensitive text every match of the regular
// expression re begins with (past \b and groups), or "".
func leadingLiteral(re string) string {
	r, err := syntax.Parse(re, syntax.Perl)
	if err != nil {
		return ""
	}
	r = r.Simplify()
	for {
		switch r.Op {
		case syntax.OpCapture:
			r = r.Sub[0]
			continue
		case syntax.OpConcat:
			i := 0
			for i < len(r.Sub) && (r.Sub[i].Op == syntax.OpWordBoundary || r.Sub[i].Op == syntax.OpBeginText || r.Sub[i].Op == syntax.OpBeginLine) {
				i++
			}
			if i == len(r.Sub) {
				return ""
			}
			r = r.Sub[i]
			continue
		case syntax.OpLiteral:
			if r.Flags&syntax.FoldCase != 0 {
				return ""
			}
			return string(r.Rune)
		}
		return ""
	}
}
