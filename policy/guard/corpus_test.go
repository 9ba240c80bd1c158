package guard_test

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/mcpgw/mcpgw/policy/guard"
)

// sample is one line of a corpus file: a value in a real format, and the
// rule expected to find it.
type sample struct {
	Rule  string `json:"rule"`
	Value string `json:"value"`
}

func readCorpus(t testing.TB, name string) []sample {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "testdata", "guard", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []sample
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var s sample
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out = append(out, s)
	}
	return out
}

var (
	rulesOnce sync.Once
	rules     *guard.Rules
	rulesErr  error
)

// defaultSecrets is a secrets detector over gitleaks' default rules,
// compiled once for the package's tests.
func defaultSecrets(t testing.TB) *guard.Secrets {
	t.Helper()
	rulesOnce.Do(func() { rules, rulesErr = guard.DefaultRules() })
	if rulesErr != nil {
		t.Fatal(rulesErr)
	}
	return guard.NewSecretsFrom(rules)
}

// scanText scans text as the value of an argument named key.
func scanText(dets []guard.Detector, key, text string) []guard.Finding {
	b, _ := json.Marshal(map[string]string{key: text})
	sc := (&guard.Scanner{}).Scan(context.Background(), b, "$.arguments", dets, nil)
	return sc.Findings
}

func TestSecretsCorpus(t *testing.T) {
	samples := readCorpus(t, "secrets.jsonl")
	if len(samples) < 50 {
		t.Fatalf("the secrets corpus has %d samples; want at least 50", len(samples))
	}
	dets := []guard.Detector{defaultSecrets(t)}
	found := 0
	for _, s := range samples {
		fs := scanText(dets, "text", s.Value)
		ok := false
		for _, f := range fs {
			if f.Rule == s.Rule {
				ok = true
			}
		}
		if ok {
			found++
		} else {
			t.Logf("missed: %s (found %v)", s.Rule, fs)
		}
	}
	rate := float64(found) / float64(len(samples))
	t.Logf("secrets detected: %d of %d (%.1f%%)", found, len(samples), 100*rate)
	if rate < 0.95 {
		t.Errorf("detection %.1f%% < 95%%", 100*rate)
	}
}

func TestPIICorpus(t *testing.T) {
	samples := readCorpus(t, "pii.jsonl")
	if len(samples) < 20 {
		t.Fatalf("the PII corpus has %d samples; want at least 20", len(samples))
	}
	dets := []guard.Detector{guard.NewPII(nil)}
	found := 0
	for _, s := range samples {
		ok := false
		for _, f := range scanText(dets, "text", s.Value) {
			ok = ok || f.Rule == s.Rule
		}
		if ok {
			found++
		} else {
			t.Logf("missed: %s %q", s.Rule, s.Value)
		}
	}
	rate := float64(found) / float64(len(samples))
	t.Logf("PII detected: %d of %d (%.1f%%)", found, len(samples), 100*rate)
	if rate < 0.95 {
		t.Errorf("detection %.1f%% < 95%%", 100*rate)
	}
}

// TestCleanCorpus: source code, prose and JSON with no secrets in them
// give at most one false positive in all.
func TestCleanCorpus(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "guard", "clean")
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) < 4 {
		t.Fatalf("the clean corpus has %d files; want source code, prose and JSON", len(ents))
	}
	dets := []guard.Detector{defaultSecrets(t)}
	fps := 0
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		var fs []guard.Finding
		if strings.HasSuffix(e.Name(), ".json") {
			fs = (&guard.Scanner{}).Scan(context.Background(), b, "$.result", dets, nil).Findings
		} else {
			fs = scanText(dets, "text", string(b))
		}
		for _, f := range fs {
			t.Logf("%s: false positive %s at %s", e.Name(), f.Rule, f.Path)
		}
		fps += len(fs)
	}
	if fps > 1 {
		t.Errorf("%d false positives on the clean corpus; want at most 1", fps)
	}
}
