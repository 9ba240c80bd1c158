package cli

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/mcpgw/mcpgw/cmd/internal/config"
	"github.com/mcpgw/mcpgw/policy/guard"
)

// gatewayGuard is the content guardrails of a gateway (secrets and PII in
// what goes to servers and comes back), with what it needs to apply an
// edited guardrails: while running.
type gatewayGuard struct {
	*guard.Guard
	logger *slog.Logger
	rules  []byte // the rules file's content in force; nil for none
}

// newGuard is the guardrails stage for cfg's guardrails:. gitleaks' rules
// are read in the background once started (gatewayGuard.Secrets().Start:
// serve starts them when its servers are up, call at once, and the first
// call that needs them does); a rules file of the user's is read now, so a
// broken one stops mcpgw with a message saying what to fix.
func newGuard(cfg *config.Config, logger *slog.Logger) (*gatewayGuard, error) {
	gg := &gatewayGuard{logger: logger}
	s, src, err := secretsFor(cfg)
	if err != nil {
		return nil, withCode(ExitConfig, err)
	}
	gg.rules = src
	gg.Guard = guard.New(&guard.Options{Config: guardConfig(cfg.Guardrails), Secrets: s})
	gg.watchReady(s)
	return gg, nil
}

// secretsFor is the secrets detector for cfg's rules file, and the file's
// content.
func secretsFor(cfg *config.Config) (*guard.Secrets, []byte, error) {
	path := cfg.Guardrails.Secrets.RulesPath(cfg.Path)
	if path == "" {
		return guard.NewSecretsOnDemand(nil), nil, nil
	}
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("guardrails.secrets.rules: %w; create the file or remove the key", err)
	}
	extra, err := guard.UserRules(path)
	if err != nil {
		return nil, nil, fmt.Errorf("guardrails.secrets.rules: %w", err)
	}
	return guard.NewSecretsOnDemand(extra), src, nil
}

// watchReady logs when the secret rules are ready, or why they are not.
func (gg *gatewayGuard) watchReady(s *guard.Secrets) {
	go func() {
		<-s.Ready()
		if err := s.Err(); err != nil {
			gg.logger.Error("secret scanning unavailable: calls whose arguments need scanning are refused", "err", err)
			return
		}
		gg.logger.Info("secret rules ready")
	}()
}

// update applies an edited guardrails: to calls from now on. A rules file
// is read again only when its content changed; a broken one keeps the
// rules in force, and says so.
func (gg *gatewayGuard) update(cfg *config.Config) {
	var s *guard.Secrets
	path := cfg.Guardrails.Secrets.RulesPath(cfg.Path)
	var src []byte
	if path != "" {
		var err error
		if src, err = os.ReadFile(path); err != nil {
			gg.logger.Error("guardrails.secrets.rules not applied; keeping the secret rules in force", "err", err)
			src = gg.rules
		}
	}
	if !bytes.Equal(src, gg.rules) {
		ns, nsrc, err := secretsFor(cfg)
		if err != nil {
			gg.logger.Error("guardrails.secrets.rules not applied; keeping the secret rules in force", "err", err)
		} else {
			s, gg.rules = ns, nsrc
			s.Start() // a running gateway: read them now
			gg.watchReady(s)
		}
	}
	gg.Update(*guardConfig(cfg.Guardrails), s)
}

// guardConfig is the guard's configuration for guardrails:, defaults
// applied.
func guardConfig(g config.Guardrails) *guard.Config {
	c := guard.DefaultConfig()
	c.SecretsIn, _ = guard.ParseAction(g.Secrets.Input, c.SecretsIn)
	c.SecretsOut, _ = guard.ParseAction(g.Secrets.Output, c.SecretsOut)
	c.PIIIn, _ = guard.ParseAction(g.PII.Input, c.PIIIn)
	c.PIIOut, _ = guard.ParseAction(g.PII.Output, c.PIIOut)
	c.PIITypes = g.PII.Types
	c.MaxScanBytes = g.MaxScanBytes
	return &c
}

// rulesAfter bounds how long the secret rules wait for startup to end: a
// gateway no agent has connected to yet (its servers start with the
// first) reads them after this.
const rulesAfter = 2 * time.Second

// startRulesAfterStartup starts reading the secret rules once the
// gateway's servers are up (settled), or after rulesAfter, whichever comes
// first: on two cores, building them during startup (then all compiled
// at once) made the first list answer from the cache 1.5x slower. A call that needs them before then
// starts them itself (and waits).
func startRulesAfterStartup(ctx context.Context, settled <-chan struct{}, s *guard.Secrets) {
	t := time.NewTimer(rulesAfter)
	defer t.Stop()
	select {
	case <-settled:
	case <-t.C:
	case <-ctx.Done():
		return
	}
	s.Start()
}
