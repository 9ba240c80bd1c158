//go:build linux

package testenv

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/zalando/go-keyring"
)

func TestKeyring(t *testing.T) {
	Keyring(t)
	const service, user = "mcpgw-testenv", "TestKeyring"
	if _, err := keyring.Get(service, user); !errors.Is(err, keyring.ErrNotFound) {
		t.Fatalf("Get before Set: %v; want %v", err, keyring.ErrNotFound)
	}
	if err := keyring.Set(service, user, "s3cret"); err != nil {
		t.Fatalf("Set: %v", err)
	}
	if got, err := keyring.Get(service, user); err != nil || got != "s3cret" {
		t.Fatalf("Get = %q, %v; want %q", got, err, "s3cret")
	}
	if err := keyring.Set(service, user, "changed"); err != nil {
		t.Fatalf("Set again: %v", err)
	}
	if got, err := keyring.Get(service, user); err != nil || got != "changed" {
		t.Fatalf("Get after second Set = %q, %v; want %q", got, err, "changed")
	}
	if err := keyring.Delete(service, user); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := keyring.Get(service, user); !errors.Is(err, keyring.ErrNotFound) {
		t.Fatalf("Get after Delete: %v; want %v", err, keyring.ErrNotFound)
	}
	if err := keyring.Delete(service, user); !errors.Is(err, keyring.ErrNotFound) {
		t.Fatalf("Delete again: %v; want %v", err, keyring.ErrNotFound)
	}
}

// TestKeyringChild checks that a child process given only PATH and the
// returned environment sees the keyring the test process sees, both ways.
func TestKeyringChild(t *testing.T) {
	env := Keyring(t)
	secretTool, err := exec.LookPath("secret-tool")
	if err != nil {
		Missing(t, "secret-tool", "install the Debian package libsecret-tools")
	}
	env = append([]string{"PATH=" + os.Getenv("PATH")}, env...)
	run := func(stdin string, args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, secretTool, args...)
		cmd.Env = env
		cmd.Stdin = strings.NewReader(stdin)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("secret-tool %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
		}
		return string(out)
	}
	const service = "mcpgw-testenv"

	// In-process Set, child lookup.
	if err := keyring.Set(service, "TestKeyringChild-1", "from-go"); err != nil {
		t.Fatalf("Set: %v", err)
	}
	t.Cleanup(func() { keyring.Delete(service, "TestKeyringChild-1") })
	if got := run("", "lookup", "service", service, "username", "TestKeyringChild-1"); got != "from-go" {
		t.Errorf("secret-tool lookup = %q; want %q", got, "from-go")
	}

	// Child store, in-process Get.
	run("from-child", "store", "--label=TestKeyringChild", "service", service, "username", "TestKeyringChild-2")
	t.Cleanup(func() { keyring.Delete(service, "TestKeyringChild-2") })
	if got, err := keyring.Get(service, "TestKeyringChild-2"); err != nil || got != "from-child" {
		t.Errorf("Get of what secret-tool stored = %q, %v; want %q", got, err, "from-child")
	}
}

func TestKeyringTwice(t *testing.T) {
	a := Keyring(t)
	b := Keyring(t)
	if len(a) == 0 || strings.Join(a, "\n") != strings.Join(b, "\n") {
		t.Fatalf("Keyring returned %q, then %q", a, b)
	}
	if want := "DBUS_SESSION_BUS_ADDRESS=" + os.Getenv("DBUS_SESSION_BUS_ADDRESS"); a[0] != want {
		t.Errorf("Keyring returned %q; this process has %q", a[0], want)
	}
}

func TestSilentBus(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("D-Bus over unix sockets: not on Windows")
	}
	addr := SilentBus(t)
	if !strings.HasPrefix(addr, "unix:path=") {
		t.Fatalf("SilentBus() = %q; want a unix:path= address", addr)
	}
	const wait = 300 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	start := time.Now()
	// Connect authenticates and says Hello; the bus never answers, so only
	// the context (which closes the connection) ends it.
	conn, err := dbus.Connect(addr, dbus.WithContext(ctx))
	if err == nil {
		conn.Close()
		t.Fatal("dbus.Connect to SilentBus succeeded")
	}
	if ctx.Err() == nil || time.Since(start) < wait {
		t.Fatalf("dbus.Connect to SilentBus failed after %v, before its context ended: %v", time.Since(start), err)
	}
	t.Logf("dbus.Connect gave up after %v: %v", time.Since(start).Round(time.Millisecond), err)
}
