//go:build unix

package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/mcpgw/mcpgw/cmd/internal/testenv"
)

// installScript returns the install script of the README: the sh block
// after the install-script marker.
func installScript(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "<!-- install-script")
	if !ok {
		t.Fatal("README.md has no <!-- install-script --> marker")
	}
	_, rest, ok = strings.Cut(rest, "```sh\n")
	if !ok {
		t.Fatal("no ```sh block after the install-script marker")
	}
	script, _, ok := strings.Cut(rest, "```\n")
	if !ok {
		t.Fatal("the install script's block does not end")
	}
	return script
}

// fakeRelease is a release tree served over HTTP as GitHub serves one:
// latest/download/FILE and download/vVERSION/FILE.
type fakeRelease struct {
	files map[string][]byte // by name, in every release
	mu    sync.Mutex
	paths []string // requested
}

func (r *fakeRelease) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	r.paths = append(r.paths, req.URL.Path)
	r.mu.Unlock()
	dir, name := filepath.Split(req.URL.Path)
	if dir != "/latest/download/" && dir != "/download/v1.2.3/" {
		http.NotFound(w, req)
		return
	}
	b, ok := r.files[name]
	if !ok {
		http.NotFound(w, req)
		return
	}
	w.Write(b)
}

func (r *fakeRelease) requested() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.paths)
}

// releaseArchive is a release archive as .goreleaser.yaml makes it: the
// binary at the top with README, LICENSE and a man page beside it.
func releaseArchive(t *testing.T, bin string) []byte {
	t.Helper()
	exe, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, f := range []struct {
		name string
		mode int64
		data []byte
	}{
		{"README.md", 0o644, []byte("readme\n")},
		{"LICENSE", 0o644, []byte("MIT\n")},
		{"man/man1/mcpgw.1.gz", 0o644, []byte("man\n")},
		{"mcpgw", 0o755, exe},
	} {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: f.mode, Size: int64(len(f.data)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write(f.data)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	gz.Close()
	return buf.Bytes()
}

// runInstall runs the script with sh and the environment env, and returns
// its combined output and whether it succeeded.
func runInstall(t *testing.T, script string, env ...string) (string, bool) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "install-mcpgw.sh")
	if err := os.WriteFile(path, []byte(script), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sh", path)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatalf("sh install-mcpgw.sh: %v", err)
	}
	return string(out), err == nil
}

// TestInstallScript runs the README's install script against a local
// server holding a release built here: it installs the archive's mcpgw
// (the same bytes, runnable), from the latest release or the one named by
// MCPGW_VERSION; with a checksum that does not match it fails and leaves
// the mcpgw already installed as it was.
func TestInstallScript(t *testing.T) {
	t.Parallel()
	for _, tool := range []string{"sh", "curl", "tar"} {
		if _, err := exec.LookPath(tool); err != nil {
			testenv.Missing(t, tool, "install it (Debian: apt-get install curl tar)")
		}
	}
	if runtime.GOOS != "linux" && runtime.GOOS != "darwin" {
		t.Skipf("the install script is for Linux and macOS, not %s", runtime.GOOS)
	}
	script := installScript(t)
	bin := testenv.Mcpgw(t)
	archive := releaseArchive(t, bin)
	name := fmt.Sprintf("mcpgw_%s_%s.tar.gz", runtime.GOOS, runtime.GOARCH)
	sum := sha256.Sum256(archive)
	good := &fakeRelease{files: map[string][]byte{
		name: archive,
		// Other platforms' lines first: the script must pick its own.
		"checksums.txt": fmt.Appendf(nil, "%s  mcpgw_plan9_amd64.tar.gz\n%s  %s\n", strings.Repeat("0", 64), hex.EncodeToString(sum[:]), name),
	}}
	srv := httptest.NewServer(good)
	defer srv.Close()
	want, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("latest", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "bin") // created by the script
		out, ok := runInstall(t, script, "MCPGW_RELEASE_URL="+srv.URL, "MCPGW_INSTALL_DIR="+dir, "MCPGW_VERSION=")
		if !ok {
			t.Fatalf("install failed:\n%s", out)
		}
		got, err := os.ReadFile(filepath.Join(dir, "mcpgw"))
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("installed mcpgw differs from the archive's (%v)", err)
		}
		if fi, _ := os.Stat(filepath.Join(dir, "mcpgw")); fi.Mode().Perm() != 0o755 {
			t.Errorf("installed mode %v, want 0755", fi.Mode().Perm())
		}
		if !strings.Contains(out, "installed mcpgw ") || !strings.Contains(out, "add "+dir+" to your PATH") {
			t.Errorf("output does not say what it installed and that %s is not on PATH:\n%s", dir, out)
		}
		if ents, _ := os.ReadDir(dir); len(ents) != 1 {
			t.Errorf("install dir holds %v, want only mcpgw", ents)
		}
		if v, err := exec.Command(filepath.Join(dir, "mcpgw"), "version", "-o", "json").Output(); err != nil || !strings.Contains(string(v), `"version"`) {
			t.Errorf("installed mcpgw version: %v %s", err, v)
		}
	})

	t.Run("version", func(t *testing.T) {
		dir := t.TempDir()
		n := len(good.requested())
		out, ok := runInstall(t, script, "MCPGW_RELEASE_URL="+srv.URL, "MCPGW_INSTALL_DIR="+dir, "MCPGW_VERSION=v1.2.3")
		if !ok {
			t.Fatalf("install failed:\n%s", out)
		}
		if got := good.requested()[n:]; !slices.Equal(got, []string{"/download/v1.2.3/" + name, "/download/v1.2.3/checksums.txt"}) {
			t.Errorf("requested %v", got)
		}
	})

	t.Run("wrong checksum", func(t *testing.T) {
		bad := &fakeRelease{files: map[string][]byte{
			name:            archive,
			"checksums.txt": fmt.Appendf(nil, "%s  %s\n", strings.Repeat("ab", 32), name),
		}}
		bsrv := httptest.NewServer(bad)
		defer bsrv.Close()
		dir := t.TempDir()
		old := []byte("#!/bin/sh\necho old mcpgw\n")
		if err := os.WriteFile(filepath.Join(dir, "mcpgw"), old, 0o755); err != nil {
			t.Fatal(err)
		}
		out, ok := runInstall(t, script, "MCPGW_RELEASE_URL="+bsrv.URL, "MCPGW_INSTALL_DIR="+dir, "MCPGW_VERSION=")
		if ok {
			t.Fatalf("install with a wrong checksum succeeded:\n%s", out)
		}
		if !strings.Contains(out, "does not match checksums.txt") || !strings.Contains(out, "nothing installed") {
			t.Errorf("output does not say why:\n%s", out)
		}
		if got, _ := os.ReadFile(filepath.Join(dir, "mcpgw")); !bytes.Equal(got, old) {
			t.Errorf("the mcpgw already installed was changed")
		}
		if ents, _ := os.ReadDir(dir); len(ents) != 1 {
			t.Errorf("install dir holds %v, want only the old mcpgw", ents)
		}
	})

	t.Run("no entry", func(t *testing.T) {
		none := &fakeRelease{files: map[string][]byte{name: archive, "checksums.txt": []byte("")}}
		nsrv := httptest.NewServer(none)
		defer nsrv.Close()
		dir := filepath.Join(t.TempDir(), "bin")
		out, ok := runInstall(t, script, "MCPGW_RELEASE_URL="+nsrv.URL, "MCPGW_INSTALL_DIR="+dir, "MCPGW_VERSION=")
		if ok || !strings.Contains(out, "want no entry") {
			t.Errorf("install without a checksum entry: ok=%v\n%s", ok, out)
		}
		if _, err := os.Stat(dir); err == nil {
			t.Errorf("install dir created though nothing was installed")
		}
	})
}
