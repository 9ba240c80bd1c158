package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestImport adds servers and a profile in one write, keeping comments;
// a taken name or an invalid server writes nothing.
func TestImport(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	orig := "# mine\nservers:\n  a:\n    command: a # the first\nprofiles:\n  other: {}\n"
	if err := os.WriteFile(path, []byte(orig), 0o600); err != nil {
		t.Fatal(err)
	}
	no := false
	err := Import(path, []*Server{
		{Name: "b", Command: "b", Env: map[string]string{"TOKEN": "${secret:b-token}"}},
		{Name: "c", URL: "https://c.example/sse", Transport: "sse", Enabled: &no},
	}, "cursor")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	for _, want := range []string{"# mine", "# the first", "  b:\n", "TOKEN: ${secret:b-token}", "transport: sse", "enabled: false", "  other: {}\n  cursor: {}\n"} {
		if !strings.Contains(string(got), want) {
			t.Errorf("file lacks %q:\n%s", want, got)
		}
	}
	cfg, err := LoadAsWritten(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(cfg.Order, ",") != "a,b,c" || !cfg.HasProfile("cursor") || !cfg.HasProfile("other") {
		t.Errorf("servers %v, profiles %v", cfg.Order, cfg.Profiles)
	}
	// The profile exists now: not added twice.
	if err := Import(path, nil, "cursor"); err != nil {
		t.Fatal(err)
	}
	if again, _ := os.ReadFile(path); string(again) != string(got) {
		t.Errorf("a second Import of the profile changed the file:\n%s", again)
	}
	for _, bad := range [][]*Server{
		{{Name: "d", Command: "d"}, {Name: "a", Command: "other"}},
		{{Name: "e", Command: "e"}, {Name: "f", URL: "not a url"}},
		{{Name: "g h", Command: "g"}},
	} {
		if err := Import(path, bad, "x"); err == nil {
			t.Errorf("Import of %v succeeded", bad[len(bad)-1])
		}
		if now, _ := os.ReadFile(path); string(now) != string(got) {
			t.Errorf("a refused Import changed the file:\n%s", now)
		}
	}
	// A new file, with no servers: only the profile.
	fresh := filepath.Join(t.TempDir(), "sub", "config.yaml")
	if err := Import(fresh, nil, "zed"); err != nil {
		t.Fatal(err)
	}
	if c, err := Load(fresh); err != nil || !c.HasProfile("zed") {
		t.Errorf("fresh file: %v %+v", err, c)
	}
}
