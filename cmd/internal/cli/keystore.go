package cli

import (
	"context"
	"log/slog"
	"sync/atomic"

	"github.com/mcpgw/mcpgw/cmd/internal/config"
	"github.com/mcpgw/mcpgw/keystore"
)

// gatewaySecrets is the keystore a gateway resolves ${secret:NAME} through.
// It warns on stderr, at each start and for each value read, when the
// configuration opted in to MCPGW_SECRET_* variables, and serve swaps it
// when a reload changes the secrets: section.
type gatewaySecrets struct {
	f      *Factory
	logger *slog.Logger
	cur    atomic.Pointer[gatewayStore]
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

// Get implements [keystore.Getter].
func (s *gatewaySecrets) Get(ctx context.Context, name string) (string, error) {
	return s.cur.Load().store.Get(ctx, name)
}
