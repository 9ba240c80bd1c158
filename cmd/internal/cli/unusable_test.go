package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// doctorCheckOf runs doctor with args and returns the named check.
func doctorCheckOf(t *testing.T, name string, args ...string) (doctorCheck, int) {
	t.Helper()
	code, out, errOut := runCLI(t, append([]string{"doctor", "-o", "json"}, args...)...)
	var r doctorReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("doctor -o json: %v\n%s\n%s", err, out, errOut)
	}
	for _, c := range r.Checks {
		if c.Check == name {
			return c, code
		}
	}
	t.Fatalf("doctor has no %q check: %+v", name, r.Checks)
	return doctorCheck{}, code
}

// TestDoctorRecordServeCannotWrite points the record where serve cannot
// create it (below a regular file, which even root cannot write into):
// doctor fails the record check and says what to do.
func TestDoctorRecordServeCannotWrite(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	os.WriteFile(cfg, []byte("servers: {}\n"), 0o600)
	file := filepath.Join(dir, "a-file")
	os.WriteFile(file, []byte("x"), 0o600)
	c, code := doctorCheckOf(t, "record", "--config", cfg, "--db", filepath.Join(file, "sub", "record.db"))
	if c.Status != checkFail || !strings.Contains(c.Detail, "cannot write") || !strings.Contains(c.Detail, "not a directory") || c.Fix == "" {
		t.Errorf("record check = %+v; want a failure saying serve cannot write it, with a fix", c)
	}
	if code != ExitError {
		t.Errorf("exit %d, want %d", code, ExitError)
	}
	// A directory without write permission (root writes anyway).
	if os.Geteuid() > 0 {
		ro := t.TempDir()
		os.Chmod(ro, 0o500)
		defer os.Chmod(ro, 0o700)
		if c, _ := doctorCheckOf(t, "record", "--config", cfg, "--db", filepath.Join(ro, "record.db")); c.Status != checkFail || !strings.Contains(c.Detail, "cannot write") {
			t.Errorf("record check in a read-only directory = %+v", c)
		}
	}
	// A writable place is fine, and doctor leaves nothing in it.
	ok := t.TempDir()
	if c, _ := doctorCheckOf(t, "record", "--config", cfg, "--db", filepath.Join(ok, "record.db")); c.Status != checkOK {
		t.Errorf("record check in a writable directory = %+v", c)
	}
	if ents, _ := os.ReadDir(ok); len(ents) != 0 {
		t.Errorf("doctor left %v in the record's directory", ents)
	}
}

// TestRecordNotADatabase: a record file that is not SQLite gets, from logs
// and doctor, the fix: move it aside.
func TestRecordNotADatabase(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "record.db")
	os.WriteFile(db, []byte(strings.Repeat("not a database\n", 300)), 0o600)
	code, _, errOut := runCLI(t, "logs", "--db", db)
	if code == ExitOK || !strings.Contains(errOut, "move it aside") || !strings.Contains(errOut, db+".broken") {
		t.Errorf("logs: exit %d, stderr:\n%s", code, errOut)
	}
	cfg := filepath.Join(dir, "config.yaml")
	os.WriteFile(cfg, []byte("servers: {}\n"), 0o600)
	if c, _ := doctorCheckOf(t, "record", "--config", cfg, "--db", db); c.Status != checkFail || !strings.Contains(c.Detail, "move it aside") {
		t.Errorf("doctor: record check = %+v", c)
	}
}

// TestLogsDespiteConfigTypo: a typo in a server's keys does not keep logs
// from the record; it warns once.
func TestLogsDespiteConfigTypo(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	os.WriteFile(cfg, []byte("servers:\n  fx:\n    comand: x\n"), 0o600)
	for _, args := range [][]string{{"logs"}, {"logs", "stats"}, {"logs", "prune", "--older-than", "30d"}} {
		code, _, errOut := runCLI(t, append([]string{"--config", cfg}, args...)...)
		if code != ExitOK {
			t.Errorf("%v: exit %d; stderr:\n%s", args, code, errOut)
		}
		if strings.Count(errOut, "comand") != 1 || !strings.Contains(errOut, "warning") {
			t.Errorf("%v: want one warning about the config; stderr:\n%s", args, errOut)
		}
	}
}
