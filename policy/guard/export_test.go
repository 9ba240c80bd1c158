package guard

import (
	"regexp"

	"github.com/zricethezav/gitleaks/v8/config"
)

// GitleaksConfig is r as gitleaks' own config, its rules' expressions
// compiled, for benchmarks against its detector.
func GitleaksConfig(r *Rules) config.Config {
	c := r.cfg
	c.Rules = make(map[string]config.Rule, len(r.cfg.Rules))
	for id, rule := range r.cfg.Rules {
		rule.Regex = regexp.MustCompile(r.regex[id])
		c.Rules[id] = rule
	}
	return c
}

// UnreadySecrets is a secrets detector whose rules arrive when ready is
// called.
func UnreadySecrets() (s *Secrets, ready func(*Rules)) {
	s = &Secrets{ready: make(chan struct{})}
	return s, func(r *Rules) {
		s.set = compileSet(r)
		close(s.ready)
	}
}

// CompiledRules lists the rules of s whose expressions have been compiled.
func CompiledRules(s *Secrets) []string {
	var ids []string
	for i, l := range s.loaded().regex {
		if l.compiled() {
			ids = append(ids, s.loaded().rules[i].RuleID)
		}
	}
	return ids
}
