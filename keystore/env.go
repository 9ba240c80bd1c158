package keystore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
)

// EnvPrefix starts the environment variables [EnvFallback] reads.
const EnvPrefix = "MCPGW_SECRET_"

// EnvName returns the environment variable [EnvFallback] reads for name:
// MCPGW_SECRET_ and the name upper-cased, with '-' and '.' as '_'
// (github-token: MCPGW_SECRET_GITHUB_TOKEN).
func EnvName(name string) string {
	return EnvPrefix + strings.Map(func(r rune) rune {
		if r == '-' || r == '.' {
			return '_'
		}
		return r
	}, strings.ToUpper(name))
}

// EnvFallback is a [Store] that reads a secret from its environment
// variable ([EnvName]) when the keychain does not have it or cannot be
// reached. It is opt-in (secrets: {fallback: env} in the config): process
// environments are readable by other processes of the same user, which is
// what the keychain protects against. Writes go to the keychain only.
type EnvFallback struct {
	Store
	// Lookup reads the environment; nil means os.LookupEnv.
	Lookup func(string) (string, bool)
	// Used, when set, hears each name whose value came from the
	// environment, so the caller can warn about it.
	Used func(name string)
}

// Get implements [Getter].
func (f *EnvFallback) Get(ctx context.Context, name string) (string, error) {
	v, err := f.Store.Get(ctx, name)
	var ue *UnavailableError
	if err == nil || !errors.Is(err, ErrNotFound) && !errors.As(err, &ue) {
		return v, err
	}
	lookup := f.Lookup
	if lookup == nil {
		lookup = os.LookupEnv
	}
	if ev, ok := lookup(EnvName(name)); ok && ev != "" {
		if f.Used != nil {
			f.Used(name)
		}
		return ev, nil
	}
	if ue != nil {
		return "", fmt.Errorf("%w; %s is not set either", err, EnvName(name))
	}
	return "", fmt.Errorf("secret %q is not set; set it with: mcpgw secret set %s (or export %s): %w", name, name, EnvName(name), ErrNotFound)
}
