package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/mcpgw/mcpgw/cmd/internal/testenv"
)

// TestVersionStampedAsReleased builds mcpgw with the ldflags of
// .goreleaser.yaml (its templates filled in as a release fills them), so a
// flag naming a variable that does not exist, or a version command that
// ignores them, fails here rather than in a published release.
func TestVersionStampedAsReleased(t *testing.T) {
	t.Parallel()
	root := testenv.RepoRoot(t)
	b, err := os.ReadFile(filepath.Join(root, ".goreleaser.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var gr struct {
		Builds []struct {
			Main    string
			Flags   []string
			Ldflags []string
		}
	}
	if err := yaml.Unmarshal(b, &gr); err != nil {
		t.Fatalf(".goreleaser.yaml: %v", err)
	}
	if len(gr.Builds) != 1 {
		t.Fatalf(".goreleaser.yaml has %d builds, want 1", len(gr.Builds))
	}
	build := gr.Builds[0]
	fill := strings.NewReplacer("{{.Version}}", "9.8.7", "{{.ShortCommit}}", "abc1234", "{{.Date}}", "2026-01-02T03:04:05Z")
	ldflags := fill.Replace(strings.Join(build.Ldflags, " "))
	if strings.Contains(ldflags, "{{") {
		t.Fatalf("ldflags use a template this test does not fill: %s", ldflags)
	}
	bin := filepath.Join(t.TempDir(), "mcpgw")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	args := append([]string{"build", "-o", bin}, build.Flags...)
	cmd := exec.Command("go", append(args, "-ldflags="+ldflags, build.Main)...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(cmd.Args[1:], " "), err, out)
	}

	out, err := exec.Command(bin, "version", "-o", "json").Output()
	if err != nil {
		t.Fatalf("mcpgw version -o json: %v", err)
	}
	var v map[string]string
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("mcpgw version -o json: %v\n%s", err, out)
	}
	want := map[string]string{"version": "9.8.7", "commit": "abc1234", "date": "2026-01-02T03:04:05Z", "go": runtime.Version(), "os": runtime.GOOS, "arch": runtime.GOARCH}
	for k, w := range want {
		if v[k] != w {
			t.Errorf("version -o json: %s = %q, want %q (%s)", k, v[k], w, out)
		}
	}
	out, err = exec.Command(bin, "version", "-o", "table").Output()
	if err != nil {
		t.Fatalf("mcpgw version -o table: %v", err)
	}
	if got := string(out); !strings.HasPrefix(got, "mcpgw 9.8.7 (") || !strings.Contains(got, "commit abc1234, 2026-01-02T03:04:05Z") {
		t.Errorf("mcpgw version:\n%s", got)
	}
}
