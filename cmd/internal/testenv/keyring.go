//go:build linux

package testenv

import (
	"bufio"
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/zalando/go-keyring"
)

// Keyring gives this test process a private, unlocked Secret Service and
// returns the environment entries a child process (such as an mcpgw binary
// run by the test) needs to reach it: DBUS_SESSION_BUS_ADDRESS=... (nothing
// else is needed; HOME and XDG_* stay the child's own).
//
// The first call starts a dbus-daemon with its own bus (no service
// activation, so nothing else is ever started on it, no unlock prompt
// included) and a gnome-keyring-daemon on it whose login collection is
// unlocked, both with HOME and XDG_* in a temporary directory, so no real
// keyring is touched. It then sets DBUS_SESSION_BUS_ADDRESS in this
// process's environment, so go-keyring calls made by the test process itself
// use the same keyring, and checks it with a go-keyring Set/Get/Delete round
// trip. The keyring lives for the rest of the process and is shared by all
// its tests: use service or user names unique to each test.
//
// godbus (under go-keyring) connects to the session bus once per process and
// keeps that connection: call Keyring before anything in the process uses
// go-keyring. Keyring fails the test if the process is already connected to
// another session bus.
//
// Keyring is Linux-only; elsewhere it skips the test. When dbus-daemon or
// gnome-keyring-daemon is not installed it calls [Missing]. If the keyring
// failed to start, every call fails the same way.
func Keyring(t testing.TB) []string {
	t.Helper()
	return ring.env(t, keyringMode{setEnv: true})
}

// LockedKeyring returns the environment entries (DBUS_SESSION_BUS_ADDRESS=...)
// that point a child process at a second private Secret Service, separate
// from [Keyring]'s, whose login collection is locked: what a user sees on a
// headless machine where gnome-keyring-daemon runs but nothing unlocked the
// login keyring. Nothing can unlock it, since its bus starts no services
// and so no unlock prompt: every go-keyring call fails at once, with
// "failed to unlock correct collection
// '/org/freedesktop/secrets/collection/login'", and `secret-tool store`
// with "Cannot create an item in a locked collection".
//
// It is for child processes only: LockedKeyring changes neither this
// process's environment nor its godbus session bus connection, so it can be
// used with Keyring in the same process, in either order. Do not point
// go-keyring in the test process at it.
//
// The first call starts it (another dbus-daemon and gnome-keyring-daemon,
// in their own temporary directory) and checks, over a private connection,
// that the login collection is locked and that an unlock attempt, made the
// way go-keyring makes it, fails rather than waits for a prompt. It lives
// for the rest of the process and is shared by its tests. Like Keyring it
// skips off Linux, calls [Missing] when the daemons are not installed, and
// fails every call the same way if it failed to start.
func LockedKeyring(t testing.TB) []string {
	t.Helper()
	return lockedRing.env(t, keyringMode{locked: true})
}

// ring is the process's private Secret Service, lockedRing its private
// locked one.
var ring, lockedRing keyringState

// keyringMode says which Secret Service to start.
type keyringMode struct {
	// locked: lock the login collection once it is ready.
	locked bool
	// setEnv: set DBUS_SESSION_BUS_ADDRESS in this process's environment
	// and check the keyring with go-keyring in this process; otherwise
	// it is only checked over a private connection.
	setEnv bool
}

func (m keyringMode) String() string {
	if m.locked {
		return "private locked Secret Service"
	}
	return "private Secret Service"
}

type keyringState struct {
	once    sync.Once
	addr    string        // the private bus's address
	missing bool          // dbus-daemon or gnome-keyring-daemon not installed
	err     error         // why it could not be started
	took    time.Duration // how long starting it took
	dir     string        // its temporary directory

	exited   chan struct{} // closed when a daemon exits
	exitErr  error         // which one, and how (set before exited is closed)
	exitOnce sync.Once

	cleanup      io.WriteCloser // the watchdog's stdin; see startWatchdog
	watchdogPgid int            // the watchdog's process group, which the daemons join
}

// env starts r in the given mode on the first call and returns the
// environment entries that reach it.
func (r *keyringState) env(t testing.TB, mode keyringMode) []string {
	t.Helper()
	r.once.Do(func() {
		t0 := time.Now()
		r.addr, r.missing, r.err = startKeyring(r, mode)
		r.took = time.Since(t0)
		if r.err == nil {
			t.Logf("testenv: %s on %s ready in %v", mode, r.addr, r.took.Round(time.Millisecond))
		}
	})
	if r.missing {
		Missing(t, "a Secret Service (gnome-keyring-daemon and dbus-daemon)",
			"install the Debian packages gnome-keyring and dbus, e.g. apt-get install gnome-keyring dbus")
	}
	if r.err != nil {
		t.Fatalf("testenv: %s: %v", mode, r.err)
	}
	select {
	case <-r.exited:
		t.Fatalf("testenv: the %s has exited: %v\n%s", mode, r.exitErr, r.logs())
	default:
	}
	return []string{"DBUS_SESSION_BUS_ADDRESS=" + r.addr}
}

// keyringTimeout bounds each step of starting the keyring.
const keyringTimeout = 10 * time.Second

const (
	secretsName  = "org.freedesktop.secrets"
	secretsPath  = dbus.ObjectPath("/org/freedesktop/secrets")
	loginPath    = dbus.ObjectPath("/org/freedesktop/secrets/collection/login")
	keyringProbe = "mcpgw-testenv-probe"

	serviceIface    = "org.freedesktop.Secret.Service"
	collectionIface = "org.freedesktop.Secret.Collection"
	promptIface     = "org.freedesktop.Secret.Prompt"
)

// startKeyring starts r's dbus-daemon and gnome-keyring-daemon, in mode,
// and returns the bus's address once the Secret Service is ready.
func startKeyring(r *keyringState, mode keyringMode) (addr string, missing bool, err error) {
	var dbusDaemon, gnomeKeyring string
	if dbusDaemon, err = exec.LookPath("dbus-daemon"); err == nil {
		gnomeKeyring, err = exec.LookPath("gnome-keyring-daemon")
	}
	if err != nil {
		return "", true, err
	}
	dir, err := keyringDir()
	if err != nil {
		return "", false, err
	}
	r.dir = dir
	r.exited = make(chan struct{})
	if err := r.startWatchdog(dir); err != nil {
		os.RemoveAll(dir)
		return "", false, err
	}
	defer func() {
		if err != nil {
			// Stop the daemons and remove dir now (err already holds
			// their logs).
			r.cleanup.Close()
		}
	}()
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + filepath.Join(dir, "home"),
		"XDG_CONFIG_HOME=" + filepath.Join(dir, "home", ".config"),
		"XDG_CACHE_HOME=" + filepath.Join(dir, "home", ".cache"),
		"XDG_DATA_HOME=" + filepath.Join(dir, "home", ".local", "share"),
		"XDG_RUNTIME_DIR=" + filepath.Join(dir, "run"),
		"LC_ALL=C",
	}
	for _, d := range []string{"home", "run"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o700); err != nil {
			return "", false, err
		}
	}

	// The bus: a config of our own rather than --session, which would let
	// the bus start services on demand (a second gnome-keyring, or
	// gcr-prompter asking to unlock).
	socket := filepath.Join(dir, "bus")
	conf := filepath.Join(dir, "bus.conf")
	if err := os.WriteFile(conf, []byte(busConfig(socket)), 0o600); err != nil {
		return "", false, err
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return "", false, err
	}
	bus := exec.Command(dbusDaemon, "--config-file="+conf, "--nofork", "--nopidfile", "--print-address=3")
	bus.ExtraFiles = []*os.File{pw}
	if err := r.startDaemon(bus, "dbus-daemon", env, ""); err != nil {
		pr.Close()
		pw.Close()
		return "", false, err
	}
	pw.Close()
	addrc := make(chan string, 1)
	go func() {
		defer pr.Close()
		line, _ := bufio.NewReader(pr).ReadString('\n')
		addrc <- strings.TrimSpace(line)
	}()
	select {
	case addr = <-addrc:
	case <-r.exited:
	case <-time.After(keyringTimeout):
		return "", false, fmt.Errorf("dbus-daemon did not print its address within %v\n%s", keyringTimeout, r.logs())
	}
	if addr == "" {
		return "", false, fmt.Errorf("dbus-daemon did not start: %v\n%s", r.exitErr, r.logs())
	}

	// A private connection to watch for the Secret Service: dbus.SessionBus
	// must not be created before DBUS_SESSION_BUS_ADDRESS is set (and is
	// never to point at a locked keyring).
	conn, err := dbus.Connect(addr)
	if err != nil {
		return "", false, fmt.Errorf("connecting to the private bus %s: %v", addr, err)
	}
	defer conn.Close()
	owned := make(chan *dbus.Signal, 16)
	conn.Signal(owned)
	if err := conn.AddMatchSignal(
		dbus.WithMatchInterface("org.freedesktop.DBus"),
		dbus.WithMatchMember("NameOwnerChanged"),
		dbus.WithMatchArg(0, secretsName),
	); err != nil {
		return "", false, fmt.Errorf("watching for %s: %v", secretsName, err)
	}

	// --unlock reads the login keyring's password from stdin, creating the
	// keyring with it.
	gk := exec.Command(gnomeKeyring, "--foreground", "--unlock", "--components=secrets")
	if err := r.startDaemon(gk, "gnome-keyring-daemon", append(env, "DBUS_SESSION_BUS_ADDRESS="+addr), "mcpgw-testenv"); err != nil {
		return "", false, err
	}
	deadline := time.After(keyringTimeout)
	for {
		var has bool
		if err := conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, secretsName).Store(&has); err != nil {
			return "", false, fmt.Errorf("NameHasOwner(%s): %v", secretsName, err)
		}
		if has {
			break
		}
		select {
		case <-owned:
		case <-r.exited:
			return "", false, fmt.Errorf("gnome-keyring-daemon did not start: %v\n%s", r.exitErr, r.logs())
		case <-deadline:
			return "", false, fmt.Errorf("gnome-keyring-daemon did not own %s on the private bus within %v\n%s", secretsName, keyringTimeout, r.logs())
		}
	}
	conn.RemoveSignal(owned)
	if err := checkLoginCollection(conn, false); err != nil {
		return "", false, fmt.Errorf("%v\n%s", err, r.logs())
	}
	if mode.locked {
		// Locked after being unlocked, rather than never unlocked (a
		// gnome-keyring-daemon started without --unlock over an existing
		// login.keyring): the same to its clients, and one daemon start
		// instead of two.
		if err := lockLogin(conn); err != nil {
			return "", false, fmt.Errorf("%v\n%s", err, r.logs())
		}
		if err := checkUnlockFails(conn); err != nil {
			return "", false, fmt.Errorf("%v\n%s", err, r.logs())
		}
		if err := checkLoginCollection(conn, true); err != nil {
			return "", false, fmt.Errorf("after an unlock attempt: %v\n%s", err, r.logs())
		}
	}
	if !mode.setEnv {
		return addr, false, nil
	}

	prev, hadPrev := os.LookupEnv("DBUS_SESSION_BUS_ADDRESS")
	if err := os.Setenv("DBUS_SESSION_BUS_ADDRESS", addr); err != nil {
		return "", false, err
	}
	defer func() {
		if err == nil {
			return
		}
		if hadPrev {
			os.Setenv("DBUS_SESSION_BUS_ADDRESS", prev)
		} else {
			os.Unsetenv("DBUS_SESSION_BUS_ADDRESS")
		}
	}()
	if err := checkSessionBus(conn); err != nil {
		return "", false, err
	}
	if !mode.locked {
		if err := probeKeyring(); err != nil {
			return "", false, fmt.Errorf("go-keyring round trip on the private Secret Service: %v\n%s", err, r.logs())
		}
	}
	return addr, false, nil
}

// keyringDir makes the keyring's temporary directory, short enough for a
// unix socket path in it (108 bytes at most).
func keyringDir() (string, error) {
	dir, err := os.MkdirTemp("", "mcpgw-keyring-")
	if err != nil {
		return "", err
	}
	if len(dir) <= 80 {
		return dir, nil
	}
	os.Remove(dir)
	return os.MkdirTemp("/tmp", "mcpgw-keyring-")
}

// busConfig is a session bus listening on socket, with no service
// activation.
func busConfig(socket string) string {
	var listen bytes.Buffer
	xml.EscapeText(&listen, []byte("unix:path="+dbus.EscapeBusAddressValue(socket)))
	return `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>` + listen.String() + `</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`
}

// startWatchdog starts a shell that removes dir, and stops whatever is left
// in its process group (the daemons join it), once this process has exited:
// its stdin is a pipe whose only writer is this process, so it reads EOF
// when the process exits, however it exits.
func (r *keyringState) startWatchdog(dir string) error {
	sh := exec.Command("/bin/sh", "-c", `trap '' TERM INT HUP
cat >/dev/null
kill -TERM 0 2>/dev/null
sleep 0.2
rm -rf -- "$1" 2>/dev/null || { sleep 1; rm -rf -- "$1"; }`, "mcpgw-keyring-cleanup", dir)
	sh.Dir = "/"
	sh.SysProcAttr = procAttr(true, 0, false)
	w, err := sh.StdinPipe()
	if err != nil {
		return err
	}
	if err := sh.Start(); err != nil {
		return fmt.Errorf("starting the keyring's cleanup shell: %v", err)
	}
	// Never closed, never collected: closing it is what triggers cleanup.
	r.cleanup = w
	r.watchdogPgid = sh.Process.Pid
	return nil
}

// startDaemon starts cmd with env and the given stdin, logging to a file in
// r's directory, in r's watchdog's process group, killed when this process
// exits, and records its exit in r.exited.
func (r *keyringState) startDaemon(cmd *exec.Cmd, name string, env []string, stdin string) error {
	log, err := os.OpenFile(filepath.Join(r.dir, name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer log.Close()
	cmd.Env = env
	cmd.Dir = r.dir
	cmd.Stdout = log
	cmd.Stderr = log
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	cmd.SysProcAttr = procAttr(true, r.watchdogPgid, true)
	if err := startLocked(cmd); err != nil {
		return fmt.Errorf("starting %s: %v", name, err)
	}
	go func() {
		err := cmd.Wait()
		r.exitOnce.Do(func() {
			r.exitErr = fmt.Errorf("%s exited: %v", name, err)
			close(r.exited)
		})
	}()
	return nil
}

// procAttr returns a SysProcAttr for a daemon: in process group pgid (a
// new one when 0) and, if pdeathsig, killed when this process dies.
func procAttr(setpgid bool, pgid int, pdeathsig bool) *syscall.SysProcAttr {
	a := &syscall.SysProcAttr{Setpgid: setpgid, Pgid: pgid}
	if pdeathsig {
		a.Pdeathsig = syscall.SIGKILL
	}
	return a
}

// startLocked starts cmd from one OS thread that lives as long as the
// process. Pdeathsig fires when the thread that started the child exits,
// not the process, and the Go runtime ends a thread when a goroutine
// locked to it returns; this goroutine is locked to its thread and never
// returns, so Pdeathsig fires only when the process dies.
func startLocked(cmd *exec.Cmd) error {
	starterOnce.Do(func() {
		go func() {
			runtime.LockOSThread()
			for f := range starter {
				f()
			}
		}()
	})
	errc := make(chan error, 1)
	starter <- func() { errc <- cmd.Start() }
	return <-errc
}

var (
	starterOnce sync.Once
	starter     = make(chan func())
)

// checkLoginCollection checks that the login collection exists and is
// locked or unlocked, as wanted.
func checkLoginCollection(conn *dbus.Conn, wantLocked bool) error {
	ctx, cancel := context.WithTimeout(context.Background(), keyringTimeout)
	defer cancel()
	v, err := getProperty(ctx, conn.Object(secretsName, secretsPath), serviceIface, "Collections")
	if err != nil {
		return fmt.Errorf("listing the Secret Service's collections: %v", err)
	}
	paths, _ := v.Value().([]dbus.ObjectPath)
	found := false
	for _, p := range paths {
		found = found || p == loginPath
	}
	if !found {
		return fmt.Errorf("gnome-keyring-daemon has no login collection (collections: %v)", paths)
	}
	v, err = getProperty(ctx, conn.Object(secretsName, loginPath), collectionIface, "Locked")
	if err != nil {
		return fmt.Errorf("reading the login collection's Locked property: %v", err)
	}
	locked, ok := v.Value().(bool)
	switch {
	case !ok:
		return fmt.Errorf("the login collection's Locked property is %v, not a boolean", v)
	case locked && !wantLocked:
		return errors.New("gnome-keyring-daemon --unlock left the login collection locked")
	case !locked && wantLocked:
		return errors.New("the login collection is unlocked; want it locked")
	}
	return nil
}

// getProperty is BusObject.GetProperty with a context.
func getProperty(ctx context.Context, obj dbus.BusObject, iface, name string) (dbus.Variant, error) {
	var v dbus.Variant
	err := obj.CallWithContext(ctx, "org.freedesktop.DBus.Properties.Get", 0, iface, name).Store(&v)
	return v, err
}

// lockLogin locks the login collection. gnome-keyring-daemon locks without
// a prompt.
func lockLogin(conn *dbus.Conn) error {
	ctx, cancel := context.WithTimeout(context.Background(), keyringTimeout)
	defer cancel()
	var locked []dbus.ObjectPath
	var prompt dbus.ObjectPath
	if err := conn.Object(secretsName, secretsPath).CallWithContext(ctx, serviceIface+".Lock", 0, []dbus.ObjectPath{loginPath}).Store(&locked, &prompt); err != nil {
		return fmt.Errorf("locking the login collection: %v", err)
	}
	if len(locked) != 1 || locked[0] != loginPath || prompt != "/" {
		return fmt.Errorf("locking the login collection: Lock returned %v and prompt %s; want [%s] and no prompt", locked, prompt, loginPath)
	}
	return checkLoginCollection(conn, true)
}

// checkUnlockFails tries to unlock the login collection the way go-keyring
// does before each call (Unlock, then the prompt Unlock returns, waiting
// for its Completed signal) and checks that it fails at once: the bus
// starts no services, so gnome-keyring-daemon cannot show the prompt and
// dismisses it. go-keyring waits for Completed without a timeout: a prompt
// that stayed open would hang every go-keyring call.
func checkUnlockFails(conn *dbus.Conn) error {
	ctx, cancel := context.WithTimeout(context.Background(), keyringTimeout)
	defer cancel()
	var unlocked []dbus.ObjectPath
	var prompt dbus.ObjectPath
	if err := conn.Object(secretsName, secretsPath).CallWithContext(ctx, serviceIface+".Unlock", 0, []dbus.ObjectPath{loginPath}).Store(&unlocked, &prompt); err != nil {
		return fmt.Errorf("Unlock of the locked login collection: %v", err)
	}
	if len(unlocked) != 0 {
		return fmt.Errorf("Unlock of the locked login collection unlocked %v without a prompt", unlocked)
	}
	if prompt == "/" {
		return nil // refused outright: fails even faster
	}
	match := []dbus.MatchOption{dbus.WithMatchObjectPath(prompt), dbus.WithMatchInterface(promptIface), dbus.WithMatchMember("Completed")}
	if err := conn.AddMatchSignalContext(ctx, match...); err != nil {
		return fmt.Errorf("watching the unlock prompt %s: %v", prompt, err)
	}
	defer conn.RemoveMatchSignalContext(ctx, match...)
	completed := make(chan *dbus.Signal, 16)
	conn.Signal(completed)
	defer conn.RemoveSignal(completed)
	if err := conn.Object(secretsName, prompt).CallWithContext(ctx, promptIface+".Prompt", 0, "").Err; err != nil {
		return fmt.Errorf("showing the unlock prompt %s: %v", prompt, err)
	}
	for {
		select {
		case s := <-completed:
			if s.Path != prompt || s.Name != promptIface+".Completed" {
				continue
			}
			if len(s.Body) != 2 {
				return fmt.Errorf("the unlock prompt completed with %v; want (dismissed, result)", s.Body)
			}
			if dismissed, _ := s.Body[0].(bool); !dismissed {
				return fmt.Errorf("the unlock prompt completed without being dismissed: %v", s.Body)
			}
			return nil
		case <-ctx.Done():
			return fmt.Errorf("the unlock prompt %s did not complete within %v: go-keyring would hang on this keyring", prompt, keyringTimeout)
		}
	}
}

// checkSessionBus checks that godbus's shared session bus connection, which
// go-keyring uses, is on the private bus: it is made once per process, so
// a connection made before DBUS_SESSION_BUS_ADDRESS was set would still be
// on another bus.
func checkSessionBus(private *dbus.Conn) error {
	ctx, cancel := context.WithTimeout(context.Background(), keyringTimeout)
	defer cancel()
	var want, got string
	if err := private.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.GetId", 0).Store(&want); err != nil {
		return fmt.Errorf("GetId on the private bus: %v", err)
	}
	shared, err := dbus.SessionBus()
	if err != nil {
		return fmt.Errorf("dbus.SessionBus: %v", err)
	}
	if err := shared.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.GetId", 0).Store(&got); err != nil {
		return fmt.Errorf("GetId on dbus.SessionBus(): %v", err)
	}
	if got != want {
		return fmt.Errorf("this process was already connected to another session bus (id %s, not the private bus %s): something used go-keyring or dbus.SessionBus before testenv.Keyring; call testenv.Keyring first", got, want)
	}
	return nil
}

// probeKeyring does a go-keyring Set/Get/Delete round trip, with a timeout:
// go-keyring has none of its own.
func probeKeyring() error {
	errc := make(chan error, 1)
	go func() {
		errc <- func() error {
			if err := keyring.Set(keyringProbe, "probe", "ok"); err != nil {
				return fmt.Errorf("Set: %v", err)
			}
			if v, err := keyring.Get(keyringProbe, "probe"); err != nil || v != "ok" {
				return fmt.Errorf("Get = %q, %v; want %q", v, err, "ok")
			}
			if err := keyring.Delete(keyringProbe, "probe"); err != nil {
				return fmt.Errorf("Delete: %v", err)
			}
			if _, err := keyring.Get(keyringProbe, "probe"); !errors.Is(err, keyring.ErrNotFound) {
				return fmt.Errorf("Get after Delete: %v; want %v", err, keyring.ErrNotFound)
			}
			return nil
		}()
	}()
	select {
	case err := <-errc:
		return err
	case <-time.After(keyringTimeout):
		return fmt.Errorf("no answer within %v", keyringTimeout)
	}
}

// logs returns the daemons' logs, for error messages.
func (r *keyringState) logs() string {
	var b strings.Builder
	for _, name := range []string{"dbus-daemon", "gnome-keyring-daemon"} {
		log, err := os.ReadFile(filepath.Join(r.dir, name+".log"))
		if err != nil {
			continue
		}
		log = bytes.TrimSpace(log)
		if len(log) == 0 {
			log = []byte("(empty)")
		}
		if len(log) > 4000 {
			log = append([]byte("..."), log[len(log)-4000:]...)
		}
		fmt.Fprintf(&b, "--- %s log:\n%s\n", name, log)
	}
	return b.String()
}

// SilentBus returns the D-Bus address of a unix socket (in t.TempDir()) that
// accepts connections and reads whatever is sent but never answers: "a
// keyring that never answers", for checking that code under test times out.
// It is closed when the test ends.
//
// A godbus connection to it blocks in authentication until closed, and
// godbus holds its session-bus lock meanwhile: point child processes at it
// (DBUS_SESSION_BUS_ADDRESS), not go-keyring in the test process.
func SilentBus(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	if len(dir) > 90 { // too long for a unix socket path
		var err error
		if dir, err = os.MkdirTemp("/tmp", "silentbus-"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
	}
	path := filepath.Join(dir, "bus")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatalf("SilentBus: %v", err)
	}
	var (
		mu     sync.Mutex
		closed bool
		conns  = map[net.Conn]bool{}
		wg     sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			if closed {
				mu.Unlock()
				c.Close()
				return
			}
			conns[c] = true
			wg.Add(1)
			mu.Unlock()
			go func() {
				defer wg.Done()
				io.Copy(io.Discard, c)
				c.Close()
			}()
		}
	}()
	t.Cleanup(func() {
		mu.Lock()
		closed = true
		ln.Close()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return "unix:path=" + dbus.EscapeBusAddressValue(path)
}
