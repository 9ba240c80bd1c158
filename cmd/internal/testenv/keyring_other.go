//go:build !linux

package testenv

import (
	"runtime"
	"testing"
)

// Keyring skips: the private Secret Service tests run against exists only
// on Linux, and tests never touch a developer's own keychain.
func Keyring(t testing.TB) []string {
	t.Helper()
	t.Skipf("skipping: testenv.Keyring runs a private gnome-keyring Secret Service, which only works on Linux (GOOS=%s); tests do not touch the OS keychain", runtime.GOOS)
	return nil
}

// LockedKeyring skips off Linux, like [Keyring].
func LockedKeyring(t testing.TB) []string {
	t.Helper()
	t.Skipf("skipping: testenv.LockedKeyring runs a private, locked gnome-keyring Secret Service, which only works on Linux (GOOS=%s); tests do not touch the OS keychain", runtime.GOOS)
	return nil
}

// SilentBus skips off Linux, like [Keyring].
func SilentBus(t testing.TB) string {
	t.Helper()
	t.Skipf("skipping: testenv.SilentBus is a D-Bus socket, used only on Linux (GOOS=%s)", runtime.GOOS)
	return ""
}
