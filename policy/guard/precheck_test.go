package guard

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp/syntax"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestPrecheckKeepsFindings scans many texts with the keyword conditions
// and without them (nor the assignment after a context rule's keyword):
// they may only save work, never lose a finding.
func TestPrecheckKeepsFindings(t *testing.T) {
	r, err := DefaultRules()
	if err != nil {
		t.Fatal(err)
	}
	with := compileSet(r)
	without := compileSet(r)
	checks := 0
	for _, krs := range without.byKeyword {
		for i := range krs {
			if krs[i].lead != nil || krs[i].value != nil {
				checks++
			}
			// Nor the assignment a context rule's keyword needs: its
			// window, wider, is searched whatever follows the keyword.
			krs[i].lead, krs[i].value, krs[i].assign = nil, nil, false
		}
	}
	if checks < 100 {
		t.Fatalf("%d keyword conditions derived from gitleaks' rules; want most of its rules to have one", checks)
	}

	texts := corpusTexts(t)
	sWith, sWithout := &Secrets{ready: make(chan struct{}), set: with}, &Secrets{ready: make(chan struct{}), set: without}
	close(sWith.ready)
	close(sWithout.ready)
	found := 0
	for _, text := range texts {
		p := Payload{Path: "$", Text: text, Lower: lowerString(text)}
		want := sWithout.Inspect(context.Background(), p)
		got := sWith.Inspect(context.Background(), p)
		found += len(want)
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("findings in %q differ with the conditions (-without +with):\n%s", text, d)
		}
	}
	if found < 1000 {
		t.Errorf("%d findings over %d texts; the texts do not exercise the rules", found, len(texts))
	}
}

// corpusTexts is the corpus's secrets in the contexts payloads hold them
// (assignments with each operator, JSON members, bare), each also cut
// short at every length down to 40 bytes less, and the clean corpus's
// lines.
func corpusTexts(t *testing.T) []string {
	t.Helper()
	var texts []string
	f, err := os.Open(filepath.Join("..", "..", "testdata", "guard", "secrets.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var s struct{ Value string }
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			t.Fatal(err)
		}
		for n := len(s.Value); n >= 0 && n > len(s.Value)-40; n-- {
			v := s.Value[:n]
			texts = append(texts, v, "api_key = "+v+"\n", `{"token": "`+v+`"}`, "export SECRET_TOKEN="+v+" ;", "auth:::="+v, "key => '"+v+"'", "credentials\t ||"+v)
		}
	}
	ents, err := os.ReadDir(filepath.Join("..", "..", "testdata", "guard", "clean"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "guard", "clean", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		texts = append(texts, strings.Split(string(b), "\n")...)
	}

	return texts
}

// TestLeadCheck holds a few rules' derived conditions to what their
// expressions say.
func TestLeadCheck(t *testing.T) {
	type at struct {
		text string
		kw   int // where the keyword is
		want bool
	}
	for _, tc := range []struct {
		re, keyword string
		texts       []at
	}{
		{`\b(ey[a-zA-Z0-9]{17,}\.ey[a-zA-Z0-9\/\\_-]{17,})`, "ey", []at{
			{"eyJhbGciOiJIUzI1NiIsInR5", 0, true}, {"eyes are blue", 0, false}, {"ey", 0, false}, {"eyJhbGciOiJIUzI1N", 0, false}}},
		{`\b((?:hvs\.[\w-]{90,120}|s\.(?i:[a-z0-9]{24})))`, "s.", []at{
			{"s.ABCDEFGHIJKLMNOPQRSTUVWX", 0, true}, {"hvs." + strings.Repeat("a", 90), 2, true},
			{"s. The end", 0, false}, {"hvs.short", 2, false}}},
		{`(?i)\b(sk_live_[a-z0-9]{24})`, "sk_live_", []at{
			{"SK_LIVE_" + strings.Repeat("x", 24), 0, true}, {"sk_live_\u212a" + strings.Repeat("x", 23), 0, true}, {"sk_live_short", 0, false}}},
	} {
		re, err := syntax.Parse(tc.re, syntax.Perl)
		if err != nil {
			t.Fatal(err)
		}
		c := newLeadCheck(re, tc.keyword)
		if c == nil {
			t.Errorf("%s: no condition for %q", tc.re, tc.keyword)
			continue
		}
		for _, x := range tc.texts {
			if got := c.holds(x.text, x.kw); got != x.want {
				t.Errorf("%s at %q: holds = %v, want %v", tc.re, x.text, got, x.want)
			}
		}
	}
	// A keyword that may sit anywhere in a match gives no condition.
	re, _ := syntax.Parse(`(?i)[\w.-]{0,50}?(?:key|token)=`, syntax.Perl)
	if c := newLeadCheck(re, "key"); c != nil {
		t.Errorf("condition %v for a keyword at no fixed place", c)
	}
}

// TestKeywordsIn finds every keyword occurrence the index reports, and
// only those, against a plain search for each keyword over the corpus:
// overlapping ones ("sk" within "sk_live_", "key" within "apikey") too.
func TestKeywordsIn(t *testing.T) {
	r, err := DefaultRules()
	if err != nil {
		t.Fatal(err)
	}
	set := compileSet(r)
	type occ struct{ start, end int }
	text := strings.Join(corpusTexts(t), "\n") + " sk_live_ apikey passwords"
	lower := lowerString(text)
	got := map[string][]occ{}
	for _, m := range set.keywordsIn(lower) {
		kw := lower[m.Start:m.End]
		got[kw] = append(got[kw], occ{m.Start, m.End})
	}
	want := map[string][]occ{}
	seen := map[string]bool{}
	for _, kr := range set.rules {
		for _, k := range kr.Keywords {
			k = strings.ToLower(k)
			if seen[k] || k == "" {
				continue
			}
			seen[k] = true
			for i := 0; ; {
				j := strings.Index(lower[i:], k)
				if j < 0 {
					break
				}
				want[k] = append(want[k], occ{i + j, i + j + len(k)})
				i += j + 1
			}
		}
	}
	for k := range want {
		slices.SortFunc(want[k], func(a, b occ) int { return a.start - b.start })
	}
	for k := range got {
		slices.SortFunc(got[k], func(a, b occ) int { return a.start - b.start })
	}
	if d := cmp.Diff(want, got, cmp.AllowUnexported(occ{})); d != "" {
		t.Errorf("keyword occurrences (-plain search +index):\n%s", d)
	}
	if len(want["sk"]) == 0 || len(want["key"]) == 0 {
		t.Errorf("no overlapping keywords in the text")
	}
}

// TestStopwords: gitleaks' generic rule drops a value holding one of its
// stopwords (in any case), as gitleaks does, and finds the same value
// without it; the stopwords are in mcpgw's own index, not gitleaks'.
func TestStopwords(t *testing.T) {
	r, err := DefaultRules()
	if err != nil {
		t.Fatal(err)
	}
	s := &Secrets{ready: make(chan struct{}), set: compileSet(r)}
	close(s.ready)
	find := func(text string) []Finding {
		return s.Inspect(context.Background(), Payload{Path: "$", Text: text, Lower: lowerString(text)})
	}
	const value = "Zk3Qw9Lm2Xv7Rb4Tn8"
	if fs := find("deploy_credential = " + value + "\n"); len(fs) != 1 || fs[0].Rule != "generic-api-key" {
		t.Fatalf("findings %+v; want the generic rule's one", fs)
	}
	for _, stop := range []string{"about", "ABOUT", "_ec2_"} {
		if fs := find("deploy_credential = " + value + stop + "\n"); len(fs) != 0 {
			t.Errorf("a value holding the stopword %q: findings %+v; want none", stop, fs)
		}
	}
	for _, rule := range s.set.rules {
		if rule.Allowlists != nil {
			t.Errorf("rule %s keeps gitleaks' allowlists (and their stopword index)", rule.RuleID)
		}
	}
}
