//go:build linux

package testenv

import (
	"context"
	"errors"
	"fmt"
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

// TestLockedKeyring checks that LockedKeyring's keyring is another one than
// Keyring's, leaves this process's environment alone, and is locked: in a
// child process go-keyring and secret-tool fail at once rather than wait
// for an unlock prompt; meanwhile Keyring's keyring keeps working in this
// process.
func TestLockedKeyring(t *testing.T) {
	before, hadBefore := os.LookupEnv("DBUS_SESSION_BUS_ADDRESS")
	locked := LockedKeyring(t)
	if after, hadAfter := os.LookupEnv("DBUS_SESSION_BUS_ADDRESS"); after != before || hadAfter != hadBefore {
		t.Fatalf("LockedKeyring changed this process's DBUS_SESSION_BUS_ADDRESS from %q (set: %v) to %q (set: %v)", before, hadBefore, after, hadAfter)
	}
	if len(locked) != 1 || !strings.HasPrefix(locked[0], "DBUS_SESSION_BUS_ADDRESS=unix:") {
		t.Fatalf("LockedKeyring returned %q; want one DBUS_SESSION_BUS_ADDRESS=unix:... entry", locked)
	}
	unlocked := Keyring(t)
	if unlocked[0] == locked[0] {
		t.Fatalf("Keyring and LockedKeyring both returned %q", locked[0])
	}
	if again := LockedKeyring(t); strings.Join(again, "\n") != strings.Join(locked, "\n") {
		t.Fatalf("LockedKeyring returned %q, then %q", locked, again)
	}
	if want := "DBUS_SESSION_BUS_ADDRESS=" + os.Getenv("DBUS_SESSION_BUS_ADDRESS"); unlocked[0] != want {
		t.Fatalf("Keyring returned %q; this process has %q", unlocked[0], want)
	}
	unlockedRoundTrip(t, "TestLockedKeyring-before")

	// The login collection, seen over a connection of our own.
	addr := strings.TrimPrefix(locked[0], "DBUS_SESSION_BUS_ADDRESS=")
	conn, err := dbus.Connect(addr)
	if err != nil {
		t.Fatalf("connecting to the locked keyring's bus: %v", err)
	}
	defer conn.Close()
	v, err := conn.Object(secretsName, loginPath).GetProperty(collectionIface + ".Locked")
	if err != nil {
		t.Fatalf("reading the login collection's Locked property: %v", err)
	}
	if l, _ := v.Value().(bool); !l {
		t.Fatalf("the locked keyring's login collection has Locked = %v", v)
	}

	// Long enough for a loaded machine, far shorter than a hang.
	const quick = 5 * time.Second
	childEnv := append([]string{"PATH=" + os.Getenv("PATH")}, locked...)

	t.Run("go-keyring", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestGoKeyringChild$", "-test.count=1")
		cmd.Env = append(childEnv, goKeyringChildEnv+"=1", "GORACE=atexit_sleep_ms=0")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go-keyring child: %v\n%s", err, out)
		}
		n := 0
		for line := range strings.Lines(string(out)) {
			f := strings.SplitN(strings.TrimSpace(line), "\t", 4)
			if len(f) != 4 || f[0] != "go-keyring" {
				continue
			}
			n++
			op, took, msg := f[1], f[2], f[3]
			d, _ := time.ParseDuration(took)
			t.Logf("go-keyring %s against the locked keyring: %s after %v", op, msg, d)
			if !strings.Contains(msg, "failed to unlock correct collection") {
				t.Errorf("go-keyring %s: %s; want a failure to unlock", op, msg)
			}
			if d > quick {
				t.Errorf("go-keyring %s took %v; want a failure within %v", op, d, quick)
			}
		}
		if n != 3 {
			t.Fatalf("go-keyring child reported %d calls; want 3:\n%s", n, out)
		}
	})

	t.Run("secret-tool", func(t *testing.T) {
		secretTool, err := exec.LookPath("secret-tool")
		if err != nil {
			Missing(t, "secret-tool", "install the Debian package libsecret-tools")
		}
		run := func(stdin string, args ...string) (stdout, stderr string) {
			t.Helper()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, secretTool, args...)
			cmd.Env = childEnv
			cmd.Stdin = strings.NewReader(stdin)
			var eb strings.Builder
			cmd.Stderr = &eb
			start := time.Now()
			out, err := cmd.Output()
			took := time.Since(start)
			t.Logf("secret-tool %s: %v after %v, stdout %q, stderr %q", strings.Join(args, " "), err, took.Round(time.Millisecond), out, eb.String())
			if ctx.Err() != nil {
				t.Fatalf("secret-tool %s hung", strings.Join(args, " "))
			}
			if err == nil {
				t.Errorf("secret-tool %s succeeded against the locked keyring", strings.Join(args, " "))
			}
			if took > quick {
				t.Errorf("secret-tool %s took %v; want a failure within %v", strings.Join(args, " "), took, quick)
			}
			return string(out), eb.String()
		}
		const service = "mcpgw-testenv"
		if _, stderr := run("from-child", "store", "--label=TestLockedKeyring", "service", service, "username", "TestLockedKeyring"); !strings.Contains(stderr, "locked") {
			t.Errorf("secret-tool store: stderr %q; want it to say the collection is locked", stderr)
		}
		if stdout, _ := run("", "lookup", "service", service, "username", "TestLockedKeyring"); stdout != "" {
			t.Errorf("secret-tool lookup printed %q", stdout)
		}
	})

	unlockedRoundTrip(t, "TestLockedKeyring-after")
}

// unlockedRoundTrip checks Keyring's keyring with go-keyring in this process.
func unlockedRoundTrip(t *testing.T, user string) {
	t.Helper()
	const service = "mcpgw-testenv"
	if err := keyring.Set(service, user, "s3cret"); err != nil {
		t.Fatalf("Set on Keyring's keyring: %v", err)
	}
	if got, err := keyring.Get(service, user); err != nil || got != "s3cret" {
		t.Fatalf("Get on Keyring's keyring = %q, %v; want %q", got, err, "s3cret")
	}
	if err := keyring.Delete(service, user); err != nil {
		t.Fatalf("Delete on Keyring's keyring: %v", err)
	}
}

// goKeyringChildEnv makes TestGoKeyringChild run.
const goKeyringChildEnv = "MCPGW_TESTENV_GO_KEYRING_CHILD"

// TestGoKeyringChild is not a test of its own: TestLockedKeyring runs the
// test binary with it alone, goKeyringChildEnv=1 and the locked keyring's
// DBUS_SESSION_BUS_ADDRESS, to call go-keyring with its session bus on the
// locked keyring, which must not happen in the test process. It prints one
// line per call: "go-keyring", the call, how long it took and its error.
func TestGoKeyringChild(t *testing.T) {
	if os.Getenv(goKeyringChildEnv) != "1" {
		return
	}
	calls := []struct {
		name string
		f    func() error
	}{
		{"Set", func() error { return keyring.Set("mcpgw-testenv", "TestGoKeyringChild", "v") }},
		{"Get", func() error { _, err := keyring.Get("mcpgw-testenv", "TestGoKeyringChild"); return err }},
		{"Delete", func() error { return keyring.Delete("mcpgw-testenv", "TestGoKeyringChild") }},
	}
	for _, c := range calls {
		start := time.Now()
		err := c.f()
		took := time.Since(start)
		msg := "<nil>"
		if err != nil {
			msg = strings.ReplaceAll(err.Error(), "\n", " ")
		}
		fmt.Printf("go-keyring\t%s\t%v\t%s\n", c.name, took, msg)
	}
}

// TestLockedKeyringFirst runs TestLockedKeyring in a new test process, so
// that LockedKeyring starts before Keyring there (here TestKeyring has
// already started Keyring's).
func TestLockedKeyringFirst(t *testing.T) {
	LockedKeyring(t) // skip here, not in the child, when it cannot run
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestLockedKeyring$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), "GORACE=atexit_sleep_ms=0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("TestLockedKeyring alone: %v\n%s", err, out)
	}
	s := string(out)
	l := strings.Index(s, "testenv: private locked Secret Service on ")
	u := strings.Index(s, "testenv: private Secret Service on ")
	if l < 0 || u < 0 || l > u {
		t.Fatalf("TestLockedKeyring alone did not start the locked keyring, then the unlocked one:\n%s", out)
	}
	if !strings.Contains(s, "\n--- PASS: TestLockedKeyring ") {
		t.Fatalf("TestLockedKeyring alone did not pass:\n%s", out)
	}
}
