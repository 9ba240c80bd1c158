package cli

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/mcpgw/mcpgw/cmd/internal/testenv"
)

// fakeEditor installs a script named vi as $EDITOR. Run n copies edits[n]
// (when set) over the file it is given; an edit "exit N" makes that run
// exit N instead, and one starting "conflict:" writes the rest to conflict
// (another program writing the configuration meanwhile). It returns the
// file where each run's arguments are logged.
func fakeEditor(t *testing.T, conflict string, edits ...string) string {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("the fake editor is a shell script")
	}
	dir := t.TempDir()
	for i, e := range edits {
		name := filepath.Join(dir, "edit"+itoa(i+1))
		switch {
		case strings.HasPrefix(e, "exit "):
			os.WriteFile(name+".exit", []byte(strings.TrimPrefix(e, "exit ")), 0o600)
		case strings.HasPrefix(e, "conflict:"):
			os.WriteFile(name+".conflict", []byte(strings.TrimPrefix(e, "conflict:")), 0o600)
		default:
			os.WriteFile(name, []byte(e), 0o600)
		}
	}
	script := `#!/bin/sh
d=` + dir + `
n=$(( $(cat $d/count 2>/dev/null || echo 0) + 1 )); echo $n > $d/count
echo "$@" >> $d/args
for a; do last=$a; done
if [ -f $d/edit$n.exit ]; then exit $(cat $d/edit$n.exit); fi
if [ -f $d/edit$n.conflict ]; then cp $d/edit$n.conflict '` + conflict + `'; echo "servers: {}" > "$last"; exit 0; fi
if [ -f $d/edit$n ]; then cp $d/edit$n "$last"; fi
`
	bin := filepath.Join(dir, "bin")
	os.Mkdir(bin, 0o700)
	if err := os.WriteFile(filepath.Join(bin, "vi"), []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	t.Setenv("VISUAL", "")
	t.Setenv("EDITOR", filepath.Join(bin, "vi"))
	return filepath.Join(dir, "args")
}

// runEdit runs `mcpgw server edit` with answers on stdin (asked only when
// answers is not empty) and returns the exit code and stderr.
func runEdit(t *testing.T, cfg, answers string, args ...string) (int, string) {
	t.Helper()
	var out, errOut testenv.SyncBuffer
	s := &IOStreams{In: strings.NewReader(answers), Out: &out, ErrOut: &errOut, CanPrompt: answers != ""}
	code := Run(context.Background(), append([]string{"--config", cfg, "server", "edit"}, args...), s)
	return code, errOut.String()
}

// copiesLeft lists the copies server edit left in $TMPDIR.
func copiesLeft(t *testing.T) []string {
	m, _ := filepath.Glob(filepath.Join(os.Getenv("TMPDIR"), "mcpgw-config-*.yaml"))
	return m
}

func TestServerEdit(t *testing.T) {
	const orig = "# mine\nservers:\n  one:\n    command: /bin/cat\n  two:\n    command: /bin/echo\n"
	const valid = "# mine\nservers:\n  one:\n    command: /bin/cat\n    args: [-u]\n"
	const typo = "servers:\n  one:\n    comand: /bin/cat\n"
	setup := func(t *testing.T) string {
		t.Setenv("TMPDIR", t.TempDir())
		cfg := filepath.Join(t.TempDir(), "config.yaml")
		os.WriteFile(cfg, []byte(orig), 0o600)
		return cfg
	}
	content := func(cfg string) string { b, _ := os.ReadFile(cfg); return string(b) }

	t.Run("a valid edit is saved", func(t *testing.T) {
		cfg := setup(t)
		args := fakeEditor(t, "", valid)
		code, errOut := runEdit(t, cfg, "", "two")
		if code != ExitOK || content(cfg) != valid || !strings.Contains(errOut, "Saved") {
			t.Errorf("exit %d, file:\n%s\nstderr:\n%s", code, content(cfg), errOut)
		}
		if b, _ := os.ReadFile(args); !strings.HasPrefix(string(b), "+5 ") {
			t.Errorf("the editor was not opened at server two's line: %q", b)
		}
		if c := copiesLeft(t); len(c) != 0 {
			t.Errorf("copies left behind: %v", c)
		}
	})
	t.Run("no change", func(t *testing.T) {
		cfg := setup(t)
		fakeEditor(t, "")
		code, errOut := runEdit(t, cfg, "")
		if code != ExitOK || content(cfg) != orig || !strings.Contains(errOut, "No changes") {
			t.Errorf("exit %d, stderr:\n%s", code, errOut)
		}
	})
	t.Run("invalid, edited again, then valid", func(t *testing.T) {
		cfg := setup(t)
		args := fakeEditor(t, "", typo, valid)
		code, errOut := runEdit(t, cfg, "y\n")
		if code != ExitOK || content(cfg) != valid {
			t.Errorf("exit %d, file:\n%s\nstderr:\n%s", code, content(cfg), errOut)
		}
		if !strings.Contains(errOut, `unknown key "comand"`) || !strings.Contains(errOut, "Edit it again?") {
			t.Errorf("stderr does not show the error and the question:\n%s", errOut)
		}
		// The second run opens at the error's line.
		if b, _ := os.ReadFile(args); !strings.Contains(string(b), "\n+3 ") {
			t.Errorf("the second edit was not opened at the error's line: %q", b)
		}
	})
	t.Run("invalid, declined", func(t *testing.T) {
		cfg := setup(t)
		fakeEditor(t, "", typo)
		code, errOut := runEdit(t, cfg, "n\n")
		if code != ExitConfig || content(cfg) != orig {
			t.Errorf("exit %d (want %d), file:\n%s\nstderr:\n%s", code, ExitConfig, content(cfg), errOut)
		}
		c := copiesLeft(t)
		if len(c) != 1 || !strings.Contains(errOut, c[0]) {
			t.Fatalf("the edit is not kept where stderr says (%v):\n%s", c, errOut)
		}
		if b, _ := os.ReadFile(c[0]); string(b) != typo {
			t.Errorf("the kept copy holds %q, want the edit", b)
		}
	})
	t.Run("invalid, not on a terminal", func(t *testing.T) {
		cfg := setup(t)
		fakeEditor(t, "", typo, valid)
		code, errOut := runEdit(t, cfg, "")
		if code != ExitConfig || content(cfg) != orig || strings.Contains(errOut, "again?") || len(copiesLeft(t)) != 1 {
			t.Errorf("exit %d, stderr:\n%s", code, errOut)
		}
	})
	t.Run("the editor fails", func(t *testing.T) {
		cfg := setup(t)
		fakeEditor(t, "", "exit 2")
		code, errOut := runEdit(t, cfg, "")
		if code != ExitError || content(cfg) != orig || !strings.Contains(errOut, "status 2") || len(copiesLeft(t)) != 1 {
			t.Errorf("exit %d, stderr:\n%s", code, errOut)
		}
	})
	t.Run("the file changes meanwhile", func(t *testing.T) {
		cfg := setup(t)
		const theirs = "servers:\n  three:\n    command: /bin/true\n"
		fakeEditor(t, cfg, "conflict:"+theirs)
		code, errOut := runEdit(t, cfg, "")
		if code != ExitError || content(cfg) != theirs || !strings.Contains(errOut, "changed") || len(copiesLeft(t)) != 1 {
			t.Errorf("exit %d, file:\n%s\nstderr:\n%s", code, content(cfg), errOut)
		}
	})
	t.Run("no file yet", func(t *testing.T) {
		t.Setenv("TMPDIR", t.TempDir())
		cfg := filepath.Join(t.TempDir(), "sub", "config.yaml")
		fakeEditor(t, "", valid)
		code, errOut := runEdit(t, cfg, "")
		if code != ExitOK || content(cfg) != valid {
			t.Errorf("exit %d, stderr:\n%s", code, errOut)
		}
		if fi, err := os.Stat(cfg); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("new config: %v %v; want mode 0600", fi, err)
		}
	})
	t.Run("an unknown server", func(t *testing.T) {
		cfg := setup(t)
		fakeEditor(t, "", valid)
		if code, errOut := runEdit(t, cfg, "", "nope"); code != ExitConfig || content(cfg) != orig {
			t.Errorf("exit %d, stderr:\n%s", code, errOut)
		}
	})
}
