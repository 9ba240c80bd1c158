package config

import (
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestGuardrailsKeys(t *testing.T) {
	src := `guardrails:
  secrets: {input: block, output: redact, rules: extra-rules.toml}
  pii: {input: off, output: redact, types: [email, phone, card, iban, ssn, ip]}
  max_scan_bytes: 4MiB
`
	path := filepath.Join(t.TempDir(), "config.yaml")
	c, err := Parse(path, []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := Guardrails{
		Secrets:      GuardSecrets{Input: "block", Output: "redact", Rules: "extra-rules.toml"},
		PII:          GuardPII{Input: "off", Output: "redact", Types: []string{"email", "phone", "card", "iban", "ssn", "ip"}},
		MaxScanBytes: 4 << 20,
	}
	if diff := cmp.Diff(want, c.Guardrails); diff != "" {
		t.Errorf("guardrails (-want +got):\n%s", diff)
	}
	if got, want := c.Guardrails.Secrets.RulesPath(path), filepath.Join(filepath.Dir(path), "extra-rules.toml"); got != want {
		t.Errorf("RulesPath = %q; want %q (next to the configuration file)", got, want)
	}
}

func TestGuardrailsSchema(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"servers: {}\n", "warn"},
		{"guardrails: {schema: warn}\n", "warn"},
		{"guardrails: {schema: block}\n", "block"},
		{"guardrails:\n  schema: off\n", "off"},
	} {
		c, err := Parse("c.yaml", []byte(tc.yaml))
		if err != nil {
			t.Fatalf("%q: %v", tc.yaml, err)
		}
		if got := c.Guardrails.SchemaMode(); got != tc.want {
			t.Errorf("%q: schema mode %q; want %q", tc.yaml, got, tc.want)
		}
	}
}
