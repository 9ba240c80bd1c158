package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mcpgw/mcpgw/cmd/internal/testenv"
)

// TestCommandFromLoginShellPath starts mcpgw the way a desktop launcher
// does, with a bare PATH: a server command found only in the login shell's
// PATH (where nvm or Homebrew put npx) still starts, and one found nowhere
// fails with what was tried, while the other server works.
func TestCommandFromLoginShellPath(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("login shells are a unix thing")
	}
	fx := testenv.Fixture(t)
	bin := t.TempDir()
	if err := os.Symlink(fx, filepath.Join(bin, "mcpgw-login-fixture")); err != nil {
		t.Fatal(err)
	}
	shell := filepath.Join(t.TempDir(), "loginsh")
	script := fmt.Sprintf("#!/bin/sh\necho 'welcome from the profile'\nPATH=%s:/usr/bin:/bin; export PATH\nexec /bin/sh -c \"$2\"\n", bin)
	if err := os.WriteFile(shell, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	cfgPath := writeConfig(t, "servers:\n  fx:\n    command: mcpgw-login-fixture\n  gone:\n    command: mcpgw-not-installed-anywhere\n")
	a := startServeEnv(t, cfgPath, "2025-11-25", "PATH=/usr/bin:/bin", "SHELL="+shell)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	waitFor(t, ctx, "fx's tools", func() bool { return slices.Contains(a.toolNames(t, ctx), "fx__echo") })
	waitFor(t, ctx, "gone to fail with what was tried", func() bool {
		logs := a.stderr.String()
		return strings.Contains(logs, `command \"mcpgw-not-installed-anywhere\" not found`) && strings.Contains(logs, "your login shell's, "+shell)
	})
}
