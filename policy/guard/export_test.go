package guard

import "github.com/zricethezav/gitleaks/v8/config"

// GitleaksConfig is r as gitleaks' own config, for benchmarks against its
// detector.
func GitleaksConfig(r *Rules) config.Config { return r.cfg }

// UnreadySecrets is a secrets detector whose rules arrive when ready is
// called.
func UnreadySecrets() (s *Secrets, ready func(*Rules)) {
	s = &Secrets{ready: make(chan struct{})}
	return s, func(r *Rules) {
		s.set = compileSet(r)
		close(s.ready)
	}
}
