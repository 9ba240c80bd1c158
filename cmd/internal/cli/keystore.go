package cli

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/mcpgw/mcpgw/cmd/internal/config"
	"github.com/mcpgw/mcpgw/keystore"
	"github.com/mcpgw/mcpgw/policy/guard"
)

// gatewaySecrets is the keystore a gateway resolves ${secret:NAME} through.
// It warns on stderr, at each start and for each value read, when the
// configuration opted in to MCPGW_SECRET_* variables, and serve swaps it
// when a reload changes the secrets: section.
type gatewaySecrets struct {
	f      *Factory
	logger *slog.Logger
	cur    atomic.Pointer[gatewayStore]
	short  sync.Map // name → true: warned that its value is too short to redact
}

type gatewayStore struct {
	conf  config.Secrets
	store keystore.Store
}

func newGatewaySecrets(f *Factory, cfg *config.Config, logger *slog.Logger) *gatewaySecrets {
	s := &gatewaySecrets{f: f, logger: logger}
	s.apply(cfg)
	return s
}

// apply switches to cfg's secrets: settings if they changed.
func (s *gatewaySecrets) apply(cfg *config.Config) {
	if cur := s.cur.Load(); cur != nil && cur.conf == cfg.Secrets {
		return
	}
	store := s.f.Keystore(cfg)
	if ef, ok := store.(*keystore.EnvFallback); ok {
		ef.Used = func(name string) {
			s.logger.Warn("secret read from an environment variable, not the OS keychain", "secret", name, "variable", keystore.EnvName(name))
		}
		s.logger.Warn("secrets.fallback is env: secrets the OS keychain lacks are read from MCPGW_SECRET_* environment variables, which other processes of this user can read; store them with mcpgw secret set NAME instead")
	}
	s.cur.Store(&gatewayStore{conf: cfg.Secrets, store: store})
}

// Get implements [keystore.Getter]. A value too short for the redactor is
// used, with a warning (once per secret and process): it shows in clear
// wherever a server sends it back.
func (s *gatewaySecrets) Get(ctx context.Context, name string) (string, error) {
	v, err := s.cur.Load().store.Get(ctx, name)
	if err == nil && len(v) < guard.MinSecretLen {
		if _, warned := s.short.LoadOrStore(name, true); !warned {
			s.logger.Warn(shortSecretWarning(name, len(v)))
		}
	}
	return v, err
}

// shortSecretWarning says that a secret of n bytes is not redacted.
//
// Why a warning and not redaction: a value of a few bytes (a PIN, "1234")
// also occurs in ordinary text, so masking it everywhere would garble
// results, and the stored-secrets guard would block calls whose arguments
// merely contain it; masking it only where it stands whole (a JSON string,
// an env value) would still leave it in clear in any sentence, while
// looking protected. Telling the user is the honest protection: they can
// use a longer value, or know this one is not hidden.
func shortSecretWarning(name string, n int) string {
	return fmt.Sprintf("secret %q is %d bytes, shorter than the %d bytes mcpgw redacts: servers' output, results and the record may show it in clear; use a longer value if the service allows one (mcpgw secret set %s)", name, n, guard.MinSecretLen, name)
}
