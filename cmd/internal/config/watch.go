package config

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
)

// watchDebounce is how long the file must stay quiet after a change before
// it is reloaded; editors and atomic writers touch it several times.
const watchDebounce = 100 * time.Millisecond

// Watch reloads the configuration file at path whenever it changes and
// calls onChange with the new Config, or with the error if it no longer
// loads (the caller should then keep its current configuration and report
// the error). It watches the file's directory, so files replaced by rename,
// as editors and AddServer do, are followed. Bursts of events are debounced.
// onChange is called from Watch's goroutine, one call at a time.
//
// A change of one of the files in also (the managed policy, which a
// reload reads again) reloads the configuration too; such a file is
// watched only if its directory exists when the watch starts.
//
// Watch blocks until ctx is done and then returns nil; it returns an error
// only if the watch cannot be set up.
func Watch(ctx context.Context, path string, onChange func(*Config, error), also ...string) error {
	return watch(ctx, path, onChange, nil, also...)
}

// watch is Watch with a hook called once the watch is in place (for tests).
func watch(ctx context.Context, path string, onChange func(*Config, error), ready func(), also ...string) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("cannot watch %s for changes: %w", path, err)
	}
	defer w.Close()
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("cannot watch %s for changes: %w", path, err)
	}
	dir := filepath.Dir(abs)
	if err := w.Add(dir); err != nil {
		return fmt.Errorf("cannot watch %s for changes (watching its directory %s failed): %w", path, dir, err)
	}
	watched := map[string]bool{abs: true}
	for _, p := range also {
		if p, err := filepath.Abs(p); err == nil && w.Add(filepath.Dir(p)) == nil {
			watched[p] = true
		}
	}
	if ready != nil {
		ready()
	}

	var timer *time.Timer
	var fire <-chan time.Time
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.Events:
			if !ok {
				return nil
			}
			if !watched[filepath.Clean(ev.Name)] || ev.Op == fsnotify.Chmod {
				continue
			}
			if timer == nil {
				timer = time.NewTimer(watchDebounce)
				fire = timer.C
			} else {
				timer.Reset(watchDebounce)
			}
		case err, ok := <-w.Errors:
			if !ok {
				return nil
			}
			onChange(nil, fmt.Errorf("watching %s for changes: %w", path, err))
		case <-fire:
			cfg, err := Load(path)
			if ctx.Err() != nil {
				return nil
			}
			onChange(cfg, err)
		}
	}
}
