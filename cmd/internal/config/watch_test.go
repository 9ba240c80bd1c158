package config

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// waitTimeout is generous: it only bounds a broken test, it never paces one.
const waitTimeout = 10 * time.Second

type loadResult struct {
	cfg *Config
	err error
}

// startWatch runs watch on path and returns its callbacks; it returns once
// the watch is in place.
func startWatch(t *testing.T, path string) <-chan loadResult {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	results := make(chan loadResult, 16)
	ready := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- watch(ctx, path, func(c *Config, err error) { results <- loadResult{c, err} }, func() { close(ready) })
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Watch returned %v", err)
			}
		case <-time.After(waitTimeout):
			t.Error("Watch did not return after cancel")
		}
	})
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("Watch failed to start: %v", err)
	case <-time.After(waitTimeout):
		t.Fatal("Watch never became ready")
	}
	return results
}

// replaceFile writes content to a temporary file and renames it over path,
// the way editors save.
func replaceFile(t *testing.T, path, content string) {
	t.Helper()
	tmp := path + ".new"
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// next waits for a callback whose outcome satisfies ok, skipping earlier
// ones (a save may be seen as several bursts of events).
func next(t *testing.T, results <-chan loadResult, ok func(loadResult) bool) loadResult {
	t.Helper()
	deadline := time.After(waitTimeout)
	for {
		select {
		case r := <-results:
			if ok(r) {
				return r
			}
		case <-deadline:
			t.Fatal("timed out waiting for the reload callback")
		}
	}
}

func TestWatchReloadsOnRename(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte("servers:\n  a:\n    command: one\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	results := startWatch(t, path)

	replaceFile(t, path, "servers:\n  a:\n    command: two\n  b:\n    url: https://example.com/mcp\n")
	r := next(t, results, func(r loadResult) bool { return r.err == nil && len(r.cfg.Order) == 2 })
	if got := r.cfg.Servers["a"].Command; got != "two" {
		t.Errorf("reloaded command = %q, want two", got)
	}

	// A broken save is reported, and a fixed one reloads again.
	replaceFile(t, path, "servers:\n  a:\n    comand: three\n")
	r = next(t, results, func(r loadResult) bool { return r.err != nil })
	if r.cfg != nil {
		t.Errorf("got a config with the error: %+v", r.cfg)
	}
	replaceFile(t, path, "servers:\n  a:\n    command: four\n")
	next(t, results, func(r loadResult) bool { return r.err == nil && r.cfg.Servers["a"].Command == "four" })
}

func TestWatchFollowsAddServer(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte("servers: {}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	results := startWatch(t, path)
	if err := AddServer(path, &Server{Name: "a", Command: "x"}); err != nil {
		t.Fatal(err)
	}
	next(t, results, func(r loadResult) bool { return r.err == nil && r.cfg.Servers["a"] != nil })
}

func TestWatchMissingDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope", "config.yaml")
	if err := Watch(context.Background(), path, func(*Config, error) {}); err == nil {
		t.Fatal("Watch on a missing directory succeeded")
	}
}
