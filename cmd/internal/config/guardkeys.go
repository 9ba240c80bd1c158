package config

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
)

// The guardrails: section: what the content guard does with secrets and
// personal data in what goes to servers (input) and what comes back
// (output), and how much of a payload it scans.

// Guardrails configures the content guardrails.
type Guardrails struct {
	// Schema is "" or "warn" (the default), "block" or "off": what a
	// tools/call whose arguments do not match the tool's inputSchema gets.
	Schema  string
	Secrets GuardSecrets
	PII     GuardPII
	// MaxScanBytes is the scan budget per payload; 0 means the default
	// (4 MiB).
	MaxScanBytes int
}

// SchemaMode is Schema with the default applied.
func (g Guardrails) SchemaMode() string {
	if g.Schema == "" {
		return "warn"
	}
	return g.Schema
}

// GuardSecrets is guardrails.secrets.
type GuardSecrets struct {
	// Input is "" (block), block, warn or off; Output is "" (redact),
	// redact, block, warn or off.
	Input, Output string
	// Rules names a gitleaks TOML file of extra rules and allowlists,
	// relative to the configuration file's directory; "" for none.
	Rules string
}

// GuardPII is guardrails.pii.
type GuardPII struct {
	// Input is "" (off), block, warn or off; Output is "" (off), redact,
	// block, warn or off.
	Input, Output string
	// Types are the PII types looked for; empty means all.
	Types []string
}

// RulesPath is Rules resolved against the directory of the configuration
// file at cfgPath; "" when there is none.
func (s GuardSecrets) RulesPath(cfgPath string) string {
	if s.Rules == "" || filepath.IsAbs(s.Rules) || cfgPath == "" {
		return s.Rules
	}
	return filepath.Join(filepath.Dir(cfgPath), s.Rules)
}

// piiTypes are the names guardrails.pii.types takes (policy/guard's
// PIITypes; listed here so the configuration needs no detector code).
var piiTypes = []string{"email", "phone", "card", "iban", "ssn", "ip"}

const (
	inputHint  = "use block (refuse the call, saying what was found and where), redact (send the server the arguments with what was found replaced by [REDACTED:rule]), warn (let it through and record the finding) or off"
	outputHint = "use redact (replace what was found with [REDACTED:rule]), block (withhold the whole answer), warn (pass it and record the finding) or off"
)

// guardrailsTable is the guardrails: section.
var guardrailsTable = table[Guardrails]{
	what: "a mapping such as {schema: warn, secrets: {input: block, output: redact}, pii: {output: redact}, max_scan_bytes: 4MiB}",
	entries: []entry[Guardrails]{
		field("schema", enum("use warn (the default: the call goes on, the mismatch is noted in the record), block (the call is refused, saying which argument is wrong) or off (no check)", "warn", "block", "off"),
			func(g *Guardrails) *string { return &g.Schema }),
		field("secrets", nested(&guardSecretsTable), func(g *Guardrails) *GuardSecrets { return &g.Secrets }),
		field("pii", nested(&guardPIITable), func(g *Guardrails) *GuardPII { return &g.PII }),
		field("max_scan_bytes", size[int](), func(g *Guardrails) *int { return &g.MaxScanBytes }),
	},
}

// guardSecretsTable is guardrails.secrets.
var guardSecretsTable = table[GuardSecrets]{
	what: "a mapping such as {input: block, output: redact, rules: extra-rules.toml}",
	entries: []entry[GuardSecrets]{
		field("input", enum(inputHint, "block", "redact", "warn", "off"), func(s *GuardSecrets) *string { return &s.Input }),
		field("output", enum(outputHint, "redact", "block", "warn", "off"), func(s *GuardSecrets) *string { return &s.Output }),
		field("rules", text(checkRulesFile), func(s *GuardSecrets) *string { return &s.Rules }),
	},
}

// guardPIITable is guardrails.pii.
var guardPIITable = table[GuardPII]{
	what: "a mapping such as {input: off, output: redact, types: [email, card]}",
	entries: []entry[GuardPII]{
		field("input", enum(inputHint, "block", "redact", "warn", "off"), func(p *GuardPII) *string { return &p.Input }),
		field("output", enum(outputHint, "redact", "block", "warn", "off"), func(p *GuardPII) *string { return &p.Output }),
		field("types", textList("types: [email, phone, card, iban, ssn, ip]", checkPIIType), func(p *GuardPII) *[]string { return &p.Types }),
	},
}

func checkPIIType(s string) error {
	if slices.Contains(piiTypes, s) {
		return nil
	}
	return fmt.Errorf("unknown PII type %q; use any of %s", s, strings.Join(piiTypes, ", "))
}

func checkRulesFile(s string) error {
	if !strings.HasSuffix(s, ".toml") {
		return fmt.Errorf("%q is not a .toml file; name a gitleaks rules file, e.g. rules: extra-rules.toml (relative to this configuration file)", s)
	}
	return nil
}
