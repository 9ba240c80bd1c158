package guard

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/viper"
	"github.com/zricethezav/gitleaks/v8/config"
)

// Rules are gitleaks rules and allowlists, compiled: the default set, or a
// user's file merged over it.
type Rules struct {
	cfg config.Config
}

// DefaultRules compiles gitleaks' default rule set (about 220 rules). It
// takes a while (every rule's regular expression is compiled), which is why
// [NewSecrets] runs it in the background. gitleaks' own constructor reads
// the set through the global viper; this reads it through a private one, so
// the caller's viper (the mcpgw command's) is never touched.
func DefaultRules() (*Rules, error) {
	cfg, err := translate(config.DefaultConfig, "gitleaks default rules")
	if err != nil {
		return nil, err
	}
	return &Rules{cfg: cfg}, nil
}

// UserRules reads extra rules and allowlists from the gitleaks TOML file at
// path ([[rules]], [[allowlists]]). The file stands alone: an [extend]
// table is refused, since gitleaks loads extensions through the global
// viper, and mcpgw merges the default rules in itself ([Rules.Merge]).
func UserRules(path string) (*Rules, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading secret rules: %w", err)
	}
	cfg, err := translate(string(b), path)
	if err != nil {
		return nil, err
	}
	return &Rules{cfg: cfg}, nil
}

// translate compiles a gitleaks TOML config from a private viper.
func translate(src, name string) (cfg config.Config, err error) {
	v := viper.New()
	v.SetConfigType("toml")
	if err := v.ReadConfig(strings.NewReader(src)); err != nil {
		return cfg, fmt.Errorf("%s: not a gitleaks TOML file: %w", name, err)
	}
	var vc config.ViperConfig
	if err := v.Unmarshal(&vc); err != nil {
		return cfg, fmt.Errorf("%s: %w", name, err)
	}
	if vc.Extend.Path != "" || vc.Extend.URL != "" || vc.Extend.UseDefault || len(vc.Extend.DisabledRules) > 0 {
		return cfg, fmt.Errorf("%s: [extend] is not supported: mcpgw always uses gitleaks' default rules and adds the rules and allowlists of this file to them; remove the [extend] table", name)
	}
	// gitleaks compiles regexes with MustCompile: a bad one panics.
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%s: %v; fix the rule's regex (Go RE2 syntax)", name, p)
		}
	}()
	cfg, err = vc.Translate()
	if err != nil {
		return cfg, fmt.Errorf("%s: %w", name, err)
	}
	for id, r := range cfg.Rules {
		if r.Regex == nil {
			// Path-only rules (file names) have nothing to match in a payload.
			delete(cfg.Rules, id)
		}
	}
	return cfg, nil
}

// Merge returns r with the rules and allowlists of extra added: a rule of
// extra with the id of one of r's replaces it; extra's global allowlists
// apply to every rule.
func (r *Rules) Merge(extra *Rules) *Rules {
	if extra == nil {
		return r
	}
	out := config.Config{Rules: map[string]config.Rule{}, Keywords: map[string]struct{}{}}
	for _, c := range []*config.Config{&r.cfg, &extra.cfg} {
		for id, rule := range c.Rules {
			out.Rules[id] = rule
		}
		for k := range c.Keywords {
			out.Keywords[k] = struct{}{}
		}
		out.Allowlists = append(out.Allowlists, c.Allowlists...)
	}
	return &Rules{cfg: out}
}

// Len is the number of rules.
func (r *Rules) Len() int { return len(r.cfg.Rules) }

// IDs lists the rule ids.
func (r *Rules) IDs() []string {
	ids := make([]string, 0, len(r.cfg.Rules))
	for id := range r.cfg.Rules {
		ids = append(ids, id)
	}
	return ids
}

// lowerASCII appends b with ASCII letters lowercased to dst.
func lowerASCII(dst, b []byte) []byte {
	dst = append(dst[:0], b...)
	for i, c := range dst {
		if 'A' <= c && c <= 'Z' {
			dst[i] = c + 'a' - 'A'
		}
	}
	return dst
}

// lowerString is s with ASCII letters lowercased; s itself when it has
// none.
func lowerString(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			return string(lowerASCII(nil, []byte(s)))
		}
	}
	return s
}
