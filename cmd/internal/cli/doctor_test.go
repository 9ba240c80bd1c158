package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mcpgw/mcpgw/logs"
)

// TestDoctor runs doctor over a configuration with a good, a missing, a
// disabled and a lazy server, and a record holding a live gateway (this
// process) with a failed server and a gateway that died.
func TestDoctor(t *testing.T) {
	dir := t.TempDir()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "config.yaml")
	os.WriteFile(cfg, []byte(`servers:
  good:
    command: `+self+`
  missing:
    command: mcpgw-no-such-command-anywhere
  off:
    command: mcpgw-no-such-command-anywhere
    enabled: false
  later:
    command: `+self+`
    start: lazy
`), 0o600)
	dbPath := filepath.Join(dir, "record.db")
	db, err := logs.Open(context.Background(), dbPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	me := logs.Gateway{PID: os.Getpid(), Agent: "claude-ai 0.1.0", Config: cfg}
	me.Started = 0 // unknown: alive while the pid exists
	if err := db.SaveServerStatus(context.Background(), me, []logs.ServerStatus{
		{Server: "good", State: "ready", ServerPID: 1},
		{Server: "mem", State: "failed", Restarts: 4, LastError: "process exited with status 1", Stderr: []string{"Error: ENOENT /data/memory.json"}},
	}); err != nil {
		t.Fatal(err)
	}
	gone := logs.Gateway{PID: 1 << 22, Started: 1} // above any pid_max: never alive
	if err := db.SaveServerStatus(context.Background(), gone, []logs.ServerStatus{{Server: "good", State: "ready"}}); err != nil {
		t.Fatal(err)
	}
	db.Close()

	// --no-start: the servers here are this test binary.
	code, out, errOut := runCLI(t, "doctor", "--no-start", "--config", cfg, "--db", dbPath, "-o", "json")
	var r doctorReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("doctor -o json: %v\n%s\n%s", err, out, errOut)
	}
	type line struct{ Check, Status string }
	var got []line
	details := map[string]string{}
	for _, c := range r.Checks {
		details[c.Check] = c.Detail
		if c.Check == "keychain" || c.Check == "managed policy" {
			continue // this machine's: the e2e tests set them up
		}
		got = append(got, line{c.Check, c.Status})
	}
	want := []line{
		{"config", "ok"},
		{"config policy", "off"},
		{"server good", "ok"},
		{"server missing", "fail"},
		{"server off", "off"},
		{"server later", "ok"},
		{"record", "ok"},
		{"gateway " + itoa(os.Getpid()), "ok"},
		{"gateway " + itoa(os.Getpid()) + ": mem", "fail"},
		{"gateway " + itoa(gone.PID), "warn"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("checks (-want +got):\n%s", d)
	}
	if code != ExitUnavailable {
		t.Errorf("exit code %d, want %d (the first failure is a server)", code, ExitUnavailable)
	}
	for check, want := range map[string]string{
		"server missing":                         `command "mcpgw-no-such-command-anywhere" not found`,
		"server later":                           "starts on first use",
		"gateway " + itoa(os.Getpid()) + ": mem": "failed after 4 restarts: process exited with status 1; last stderr: Error: ENOENT /data/memory.json",
		"gateway " + itoa(os.Getpid()):           "claude-ai 0.1.0",
		"record":                                 "0 calls",
	} {
		if !strings.Contains(details[check], want) {
			t.Errorf("%s: %q does not say %q", check, details[check], want)
		}
	}
	// Sizes in binary units, as logs prune and the config's sizes.
	if !regexp.MustCompile(`, \d+(\.\d)? (B|KiB|MiB)$`).MatchString(details["record"]) {
		t.Errorf("record: %q does not end in a size in binary units", details["record"])
	}
	if len(r.Gateways) != 2 || !r.Gateways[0].Alive || r.Gateways[1].Alive {
		t.Errorf("gateways = %+v; want this process alive and the other dead", r.Gateways)
	}
	if !strings.Contains(errOut, "2 of 12 checks failed") {
		t.Errorf("stderr = %q", errOut)
	}

	// The table says the same, with each problem in full and its fix.
	code, out, _ = runCLI(t, "doctor", "--no-start", "--config", cfg, "--db", dbPath, "-o", "table")
	for _, want := range []string{"server missing (fail): command", "fix: install it", "mem (fail): failed after 4 restarts", "died without stopping cleanly"} {
		if !strings.Contains(out, want) {
			t.Errorf("table output lacks %q:\n%s", want, out)
		}
	}
	if code != ExitUnavailable {
		t.Errorf("table: exit code %d", code)
	}
}

// TestDoctorBadConfig exits with the configuration's code and says where.
func TestDoctorBadConfig(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	os.WriteFile(cfg, []byte("servers:\n  x:\n    comand: y\n"), 0o600)
	code, out, _ := runCLI(t, "doctor", "--config", cfg, "-o", "json")
	if code != ExitConfig || !strings.Contains(out, `"check": "config"`) || !strings.Contains(out, "comand") {
		t.Errorf("exit %d, report:\n%s", code, out)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
