package keystore_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/mcpgw/mcpgw/keystore"
	"github.com/mcpgw/mcpgw/keystore/keystoretest"
)

func TestEnvName(t *testing.T) {
	for in, want := range map[string]string{
		"github-token": "MCPGW_SECRET_GITHUB_TOKEN",
		"db.pass":      "MCPGW_SECRET_DB_PASS",
		"X_1":          "MCPGW_SECRET_X_1",
	} {
		if got := keystore.EnvName(in); got != want {
			t.Errorf("EnvName(%q) = %q; want %q", in, got, want)
		}
	}
}

func TestEnvFallback(t *testing.T) {
	ctx := context.Background()
	env := map[string]string{"MCPGW_SECRET_FROM_ENV": "env-value-123", "MCPGW_SECRET_BOTH": "env-loses"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	var used []string
	mem := keystoretest.New(map[string]string{"both": "keychain-wins"})
	f := &keystore.EnvFallback{Store: mem, Lookup: lookup, Used: func(n string) { used = append(used, n) }}

	if v, err := f.Get(ctx, "both"); err != nil || v != "keychain-wins" {
		t.Errorf("Get(both) = %q, %v; the keychain comes first", v, err)
	}
	if v, err := f.Get(ctx, "from-env"); err != nil || v != "env-value-123" {
		t.Errorf("Get(from-env) = %q, %v", v, err)
	}
	if len(used) != 1 || used[0] != "from-env" {
		t.Errorf("Used heard %v; want [from-env]", used)
	}
	_, err := f.Get(ctx, "nowhere")
	if !errors.Is(err, keystore.ErrNotFound) || !strings.Contains(err.Error(), "MCPGW_SECRET_NOWHERE") {
		t.Errorf("Get(nowhere) = %v; want ErrNotFound naming the variable", err)
	}

	// A keychain that cannot be reached falls back too, and says so when
	// the variable is missing.
	mem.Err = &keystore.UnavailableError{Err: errors.New("no bus")}
	if v, err := f.Get(ctx, "from-env"); err != nil || v != "env-value-123" {
		t.Errorf("Get with the keychain down = %q, %v", v, err)
	}
	if _, err := f.Get(ctx, "nowhere"); err == nil || !strings.Contains(err.Error(), "no bus") || !strings.Contains(err.Error(), "MCPGW_SECRET_NOWHERE is not set either") {
		t.Errorf("Get(nowhere) with the keychain down = %v", err)
	}
	// Other failures are not papered over.
	mem.Err = context.DeadlineExceeded
	if _, err := f.Get(ctx, "from-env"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Get with a deadline error = %v", err)
	}
}
