package proc

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFilterEnviron(t *testing.T) {
	env := []string{
		"PATH=/usr/bin", "HOME=/home/ada", "LANG=C.UTF-8", "LC_ALL=C", "TMPDIR=/tmp/x",
		"https_proxy=http://proxy:3128", "NO_PROXY=localhost",
		"MCPGW_SECRET_TOKEN=s3cret", "MCPGW_CONFIG=/c.yaml", "MCPGW_DB=/r.db",
		"ANTHROPIC_API_KEY=sk-ant", "AWS_SECRET_ACCESS_KEY=x", "GITHUB_TOKEN=ghp",
		"path=/lower/is/another/variable/on/unix", "=C:=C:\\dir",
	}
	want := []string{"PATH=/usr/bin", "HOME=/home/ada", "LANG=C.UTF-8", "LC_ALL=C", "TMPDIR=/tmp/x",
		"https_proxy=http://proxy:3128", "NO_PROXY=localhost"}
	if d := cmp.Diff(want, filterEnviron(env, false)); d != "" {
		t.Errorf("unix (-want +got):\n%s", d)
	}
	win := append(env, "SystemRoot=C:\\Windows", "ComSpec=C:\\Windows\\system32\\cmd.exe", "ProgramFiles(x86)=C:\\P86")
	got := filterEnviron(win, true)
	for _, kv := range []string{"SystemRoot=C:\\Windows", "ComSpec=C:\\Windows\\system32\\cmd.exe", "ProgramFiles(x86)=C:\\P86", "path=/lower/is/another/variable/on/unix"} {
		if !slices.Contains(got, kv) {
			t.Errorf("windows: %q missing from %q", kv, got)
		}
	}
	for _, kv := range got {
		if kv == "MCPGW_SECRET_TOKEN=s3cret" || kv == "GITHUB_TOKEN=ghp" || kv == "=C:=C:\\dir" {
			t.Errorf("windows: %q passed", kv)
		}
	}
}
