package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/mcpgw/mcpgw/cmd/internal/config"
	"github.com/mcpgw/mcpgw/keystore"
)

// doctorPolicy reports the policies in force: the managed policy file (at
// the OS path, or MCPGW_MANAGED_POLICY) and the configuration's own.
func doctorPolicy(_ context.Context, d *doctorRun) {
	path := managedPolicyPath()
	m, err := config.LoadManaged(path)
	switch {
	case err != nil:
		d.report.add(doctorCheck{Check: "managed policy", Status: checkFail, Detail: err.Error(), code: ExitConfig,
			Fix: "mcpgw refuses to serve without it: ask your administrator to fix " + path})
	case m == nil:
		d.report.add(doctorCheck{Check: "managed policy", Status: checkOff, Detail: "none installed at " + path})
	default:
		d.report.add(doctorCheck{Check: "managed policy", Status: checkOK, Detail: fmt.Sprintf("%s: %d parts loaded", path, len(m.Lines))})
	}
	if d.cfg == nil {
		return
	}
	if d.cfg.Access == nil {
		d.report.add(doctorCheck{Check: "config policy", Status: checkOff, Detail: "no policy: or profiles: in " + d.cfg.Path})
		return
	}
	d.report.add(doctorCheck{Check: "config policy", Status: checkOK, Detail: fmt.Sprintf("%s: %d parts loaded", d.cfg.Path, len(d.cfg.PolicyLines))})
}

// doctorKeychain checks that the OS keychain answers. It fails only when a
// server needs it; otherwise a broken keychain is a warning.
func doctorKeychain(ctx context.Context, d *doctorRun) {
	cfg := d.cfg
	if cfg == nil {
		cfg = &config.Config{}
	}
	needed := false
	for _, s := range cfg.Servers {
		if s.IsEnabled() && len(s.SecretRefs()) > 0 {
			needed = true
		}
	}
	names, err := d.opts.Factory.Keystore(cfg).List(ctx)
	c := doctorCheck{Check: "keychain", Status: checkOK, Detail: fmt.Sprintf("reachable: %d secrets stored", len(names))}
	if err != nil {
		c.Detail = err.Error()
		var ue *keystore.UnavailableError
		if !errors.As(err, &ue) {
			c.Detail = "the OS keychain: " + c.Detail // its own errors say so already
		}
		if needed {
			c.Status, c.code = checkFail, ExitSecret
		} else {
			c.Status, c.Fix = checkWarn, "no server uses a secret yet; mcpgw secret set will need the keychain"
		}
	}
	d.report.add(c)
}
