package guard

import "github.com/zricethezav/gitleaks/v8/config"

// GitleaksConfig is r as gitleaks' own config, for benchmarks against its
// detector.
func GitleaksConfig(r *Rules) config.Config { return r.cfg }
