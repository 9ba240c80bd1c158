package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/mcpgw/mcpgw/cmd/internal/testenv"
)

// doctorLine is one check of `mcpgw doctor -o json`, with the fields the
// start checks add.
type doctorLine struct {
	Check, Status, Detail, Fix string
	ElapsedMs                  *int64
	Stderr                     []string
}

// TestDoctorStartsServers runs `mcpgw doctor` over one good server and one
// of each kind of failure, all real processes: a command that is not
// installed, a secret the (real) keychain does not hold, a server that
// exits at start with a word on stderr, and one that never answers
// initialize. Each failure names its cause and its fix; the good one is
// reported ready with its timing; the policy files and the keychain are
// checked; and the exit code is the first failure's.
func TestDoctorStartsServers(t *testing.T) {
	t.Parallel()
	kenv := testenv.Keyring(t)
	fx := testenv.Fixture(t)
	_, menv := managedPolicy(t, "default: allow\n")
	// GORACE: a -race fixture otherwise sleeps a second at every exit.
	cfg := writeConfig(t, fmt.Sprintf(`servers:
  good:
    command: %[1]q
    env: {GORACE: atexit_sleep_ms=0}
  missing:
    command: mcpgw-doctor-no-such-command
  secret:
    command: %[1]q
    env: {GORACE: atexit_sleep_ms=0, TOKEN: "${secret:doctor-e2e-not-set}"}
  crash:
    command: %[1]q
    args: [-mode, exit]
    env: {GORACE: atexit_sleep_ms=0}
  hang:
    command: %[1]q
    args: [-mode, hang-init]
    env: {GORACE: atexit_sleep_ms=0}
    timeouts: {connect: 2s}
policy:
  default: allow
`, fx))
	env := append(append(kenv, menv...), "MCPGW_DB="+filepath.Join(t.TempDir(), "record.db"))

	out, errOut, code := mcpgwCmd(t, env, "", "doctor", "--config", cfg, "-o", "json")
	// The JSON's shape, as scripts read it: two arrays, and each check
	// with a name, a known status and a detail.
	var shape map[string]json.RawMessage
	if err := json.Unmarshal([]byte(out), &shape); err != nil {
		t.Fatalf("doctor -o json: %v\n%s\n%s", err, out, errOut)
	}
	if keys := slices.Sorted(func(yield func(string) bool) {
		for k := range shape {
			if !yield(k) {
				return
			}
		}
	}); !slices.Equal(keys, []string{"checks", "gateways"}) {
		t.Errorf("top-level keys %v, want checks and gateways", keys)
	}
	var raw []map[string]any
	if err := json.Unmarshal(shape["checks"], &raw); err != nil {
		t.Fatal(err)
	}
	for _, c := range raw {
		for _, k := range []string{"check", "status", "detail"} {
			if s, ok := c[k].(string); !ok || s == "" {
				t.Errorf("check %v: %q is not a non-empty string", c, k)
			}
		}
		if !slices.Contains([]string{"ok", "off", "warn", "fail"}, c["status"].(string)) {
			t.Errorf("check %v: unknown status", c)
		}
	}
	var lines []doctorLine
	if err := json.Unmarshal(shape["checks"], &lines); err != nil {
		t.Fatal(err)
	}
	checks := map[string]doctorLine{}
	for _, c := range lines {
		checks[c.Check] = c
	}
	get := func(name, status string) doctorLine {
		t.Helper()
		c, ok := checks[name]
		if !ok {
			t.Fatalf("no %q check in %+v", name, lines)
		}
		if c.Status != status {
			t.Errorf("%s: status %s, want %s (%s)", name, c.Status, status, c.Detail)
		}
		return c
	}
	has := func(c doctorLine, field, got, want string) {
		t.Helper()
		if !strings.Contains(got, want) {
			t.Errorf("%s: %s %q does not say %q", c.Check, field, got, want)
		}
	}

	good := get("start good", "ok")
	if !regexp.MustCompile(`^ready in [0-9.]+m?s: [1-9]\d* tools, \d+ prompts, \d+ resources \(protocol `).MatchString(good.Detail) {
		t.Errorf("start good: %q", good.Detail)
	}
	if good.ElapsedMs == nil {
		t.Errorf("start good has no elapsedMs")
	}

	missing := get("server missing", "fail")
	has(missing, "detail", missing.Detail, `command "mcpgw-doctor-no-such-command" not found: looked in mcpgw's PATH (`)
	has(missing, "fix", missing.Fix, "write its full path in command:")

	secret := get("secret doctor-e2e-not-set", "fail")
	has(secret, "detail", secret.Detail, "is not set")
	if secret.Fix != "mcpgw secret set doctor-e2e-not-set" {
		t.Errorf("secret: fix %q", secret.Fix)
	}

	crash := get("start crash", "fail")
	has(crash, "detail", crash.Detail, "before answering initialize")
	if !slices.ContainsFunc(crash.Stderr, func(l string) bool { return strings.Contains(l, "exiting at start on purpose") }) {
		t.Errorf("start crash: stderr %q lacks the server's last words", crash.Stderr)
	}
	has(crash, "fix", crash.Fix, "exits at start")

	hang := get("start hang", "fail")
	has(hang, "detail", hang.Detail, "no answer to initialize within 2s")
	has(hang, "fix", hang.Fix, "timeouts.connect")
	if hang.ElapsedMs == nil || *hang.ElapsedMs < 2000 {
		t.Errorf("start hang: elapsedMs %v, want at least the 2s it was given", hang.ElapsedMs)
	}

	// Servers whose command or secret failed are not reported twice.
	for _, name := range []string{"start missing", "start secret"} {
		if _, ok := checks[name]; ok {
			t.Errorf("%s reported, though its cause was reported before starting", name)
		}
	}
	has(get("keychain", "ok"), "detail", checks["keychain"].Detail, "reachable")
	has(get("managed policy", "ok"), "detail", checks["managed policy"].Detail, "parts loaded")
	get("config policy", "ok")
	get("record", "ok")
	if code != 5 {
		t.Errorf("exit code %d, want 5 (the first failure is a server)", code)
	}
	if !strings.Contains(errOut, "4 of ") {
		t.Errorf("stderr %q does not count 4 failures", errOut)
	}

	// The table says the same, with each fix.
	out, _, code = mcpgwCmd(t, env, "", "doctor", "--config", cfg, "-o", "table")
	for _, want := range []string{"start crash (fail): failed after", "fix: it exits at start", "fix: mcpgw secret set doctor-e2e-not-set", "start good", "ready in"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if code != 5 {
		t.Errorf("table: exit code %d", code)
	}
}

// TestDoctorNoStartAndBrokenManagedPolicy: --no-start starts nothing, and
// a managed policy that does not load fails with the configuration's code.
func TestDoctorNoStartAndBrokenManagedPolicy(t *testing.T) {
	t.Parallel()
	fx := testenv.Fixture(t)
	_, menv := managedPolicy(t, "default: maybe\n")
	cfg := writeConfig(t, fmt.Sprintf("servers:\n  good:\n    command: %q\n", fx))
	env := append(menv, "MCPGW_DB="+filepath.Join(t.TempDir(), "record.db"))
	out, errOut, code := mcpgwCmd(t, env, "", "doctor", "-o", "json", "--config", cfg, "--no-start")
	var r struct{ Checks []doctorLine }
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("doctor -o json: %v\n%s\n%s", err, out, errOut)
	}
	var managed string
	for _, c := range r.Checks {
		if strings.HasPrefix(c.Check, "start ") {
			t.Errorf("--no-start reported %s", c.Check)
		}
		if c.Check == "managed policy" && c.Status == "fail" {
			managed = c.Detail
		}
	}
	if !strings.Contains(managed, "maybe") {
		t.Errorf("no failing managed policy check naming the bad value: %+v", r.Checks)
	}
	if code != 3 {
		t.Errorf("exit code %d, want 3", code)
	}
}
