package guard

import (
	"fmt"
	"os"
	"regexp/syntax"
	"strings"

	"github.com/spf13/viper"
	"github.com/zricethezav/gitleaks/v8/config"
)

// Rules are gitleaks rules and allowlists, compiled: the default set, or a
// user's file merged over it.
type Rules struct {
	cfg config.Config
	// regex is each rule's regular expression, by rule id. gitleaks'
	// rules carry none (Regex is nil): a rule's expression is compiled
	// the first time a payload holds one of its keywords (see
	// [lazyRegexp]), so a gateway holds only the ones its traffic needs
	// (all of them compiled: about 3 MB live and as much again in
	// fragmentation, for the life of the process).
	regex map[string]string
}

// DefaultRules reads gitleaks' default rule set (about 220 rules). It
// takes a while (the set is decoded, and every rule's regular expression
// is parsed to check it), which is why [NewSecrets] runs it in the
// background. gitleaks' own constructor reads
// the set through the global viper; this reads it through a private one, so
// the caller's viper (the mcpgw command's) is never touched.
func DefaultRules() (*Rules, error) {
	return translate(config.DefaultConfig, "gitleaks default rules")
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
	return translate(string(b), path)
}

// translate reads a gitleaks TOML config through a private viper. Each
// rule's regular expression is checked here and kept as text, for
// [compileSet] to compile when it is first needed: gitleaks' Translate
// sees none (it would compile all of them).
func translate(src, name string) (r *Rules, err error) {
	v := viper.New()
	v.SetConfigType("toml")
	if err := v.ReadConfig(strings.NewReader(src)); err != nil {
		return nil, fmt.Errorf("%s: not a gitleaks TOML file: %w", name, err)
	}
	var vc config.ViperConfig
	if err := v.Unmarshal(&vc); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if vc.Extend.Path != "" || vc.Extend.URL != "" || vc.Extend.UseDefault || len(vc.Extend.DisabledRules) > 0 {
		return nil, fmt.Errorf("%s: [extend] is not supported: mcpgw always uses gitleaks' default rules and adds the rules and allowlists of this file to them; remove the [extend] table", name)
	}
	regex := map[string]string{}
	for i := range vc.Rules {
		vr := &vc.Rules[i]
		if vr.Regex == "" {
			delete(regex, vr.ID) // a later rule of the same id replaces it
			continue
		}
		// What regexp.Compile would refuse, syntax.Parse does.
		re, err := syntax.Parse(vr.Regex, syntax.Perl)
		if err != nil {
			return nil, fmt.Errorf("%s: rule %q: %w; fix the rule's regex (Go RE2 syntax)", name, vr.ID, err)
		}
		// gitleaks checks the rule against a stand-in with as many groups
		// (its secret group must be one of them), cheap to compile.
		regex[vr.ID], vr.Regex = vr.Regex, placeholder(re.MaxCap())
	}
	// gitleaks compiles the remaining regexes (allowlists, paths) with
	// MustCompile: a bad one panics.
	defer func() {
		if p := recover(); p != nil {
			r, err = nil, fmt.Errorf("%s: %v; fix the rule's regex (Go RE2 syntax)", name, p)
		}
	}()
	cfg, err := vc.Translate()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	for id := range cfg.Rules {
		if _, ok := regex[id]; !ok {
			// Path-only rules (file names) have nothing to match in a payload.
			delete(cfg.Rules, id)
		}
	}
	return &Rules{cfg: cfg, regex: regex}, nil
}

// placeholder is an expression with n capture groups that compiles in
// no time.
func placeholder(n int) string {
	if n == 0 {
		return "(?:)"
	}
	return strings.Repeat("()", n)
}

// Merge returns r with the rules and allowlists of extra added: a rule of
// extra with the id of one of r's replaces it; extra's global allowlists
// apply to every rule.
func (r *Rules) Merge(extra *Rules) *Rules {
	if extra == nil {
		return r
	}
	out := config.Config{Rules: map[string]config.Rule{}, Keywords: map[string]struct{}{}}
	regex := map[string]string{}
	for _, from := range []*Rules{r, extra} {
		c := &from.cfg
		for id, rule := range c.Rules {
			out.Rules[id], regex[id] = rule, from.regex[id]
		}
		for k := range c.Keywords {
			out.Keywords[k] = struct{}{}
		}
		out.Allowlists = append(out.Allowlists, c.Allowlists...)
	}
	return &Rules{cfg: out, regex: regex}
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
