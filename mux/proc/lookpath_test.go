package proc

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// fakeLoginShell writes a shell that sets PATH to path, as a user's profile
// would, then runs the command it is given like sh -c.
func fakeLoginShell(t *testing.T, path string) string {
	t.Helper()
	sh := filepath.Join(t.TempDir(), "loginsh")
	script := "#!/bin/sh\necho 'profile noise'\nPATH=" + path + "; export PATH\nexec /bin/sh -c \"$2\"\n"
	if err := os.WriteFile(sh, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return sh
}

func executable(t *testing.T, dir, name string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestReadLoginShellPath(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no login shell on Windows")
	}
	sh := fakeLoginShell(t, "/opt/homebrew/bin:/usr/bin")
	shell, path, err := readLoginShellPath(sh)
	if err != nil || shell != sh || path != "/opt/homebrew/bin:/usr/bin" {
		t.Errorf("readLoginShellPath = %q, %q, %v", shell, path, err)
	}
	if _, path, err := readLoginShellPath(filepath.Join(t.TempDir(), "no-such-shell")); err != nil || path != "" {
		t.Errorf("a missing shell: %q, %v; want no PATH and no error", path, err)
	}
}

func TestLookCommand(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("unix executables")
	}
	own := t.TempDir()
	prog := executable(t, own, "own-server")
	t.Setenv("PATH", "/usr/bin:/bin")

	// The server's own PATH comes first, and is all there is when set.
	if p, child, err := lookCommand("own-server", []string{"PATH=" + own}); err != nil || p != prog || child != "" {
		t.Errorf("own PATH: %q %q %v", p, child, err)
	}
	if _, _, err := lookCommand("sh-is-not-here", []string{"PATH=" + own}); err == nil || !strings.Contains(err.Error(), "in the PATH given in the server's env") {
		t.Errorf("own PATH, missing: %v", err)
	}
	// mcpgw's PATH.
	if p, child, err := lookCommand("sh", nil); err != nil || !strings.HasSuffix(p, "/sh") || child != "" {
		t.Errorf("mcpgw's PATH: %q %q %v", p, child, err)
	}
	// A path is taken as it is.
	if p, _, err := lookCommand("./bin/server", nil); err != nil || p != "./bin/server" {
		t.Errorf("a path: %q %v", p, err)
	}
}

func TestLookCommandLoginShell(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no login shell on Windows")
	}
	dir := t.TempDir()
	prog := executable(t, dir, "npx-like")
	shell, path, err := readLoginShellPath(fakeLoginShell(t, dir+":/usr/bin"))
	if err != nil {
		t.Fatal(err)
	}
	old := loginShell
	defer func() { loginShell = old }()
	loginShell = func() (r struct {
		shell, path string
		err         error
	}) {
		r.shell, r.path = shell, path
		return r
	}
	t.Setenv("PATH", "/usr/bin:/bin")
	p, child, err := lookCommand("npx-like", nil)
	if err != nil || p != prog || child != "/usr/bin:/bin:"+dir {
		t.Errorf("login shell PATH: %q %q %v", p, child, err)
	}
	_, _, err = lookCommand("nowhere-to-be-found", nil)
	for _, want := range []string{`command "nowhere-to-be-found" not found`, "mcpgw's PATH (/usr/bin:/bin)", "your login shell's, " + shell, dir, "write the full path in command:"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("not found: %v; want it to mention %q", err, want)
		}
	}
}
