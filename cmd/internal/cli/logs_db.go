package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/mcpgw/mcpgw/cmd/internal/config"
	"github.com/mcpgw/mcpgw/logs"
)

// envDB is the environment variable naming the record database.
const envDB = "MCPGW_DB"

// dbEnv returns MCPGW_DB through viper (bound here, idempotently, so that
// every command asking for the path sees the same precedence).
func (f *Factory) dbEnv() string {
	f.v.BindEnv("db", envDB)
	return f.v.GetString("db")
}

// DBPath returns the record database's path by precedence: flag (a --db
// value), then MCPGW_DB, then the configuration's logs.path (cfg may be
// nil; a relative logs.path is taken from the configuration file's
// directory), then [logs.DefaultPath]. `mcpgw logs` and `mcpgw serve` both
// use it, so they agree on the file.
func (f *Factory) DBPath(cfg *config.Config, flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	if p := f.dbEnv(); p != "" {
		return p, nil
	}
	if cfg != nil && cfg.Logs.Path != "" {
		p := cfg.Logs.Path
		if !filepath.IsAbs(p) && cfg.Path != "" {
			p = filepath.Join(filepath.Dir(cfg.Path), p)
		}
		return p, nil
	}
	p, err := logs.DefaultPath()
	if err != nil {
		return "", fmt.Errorf("finding the record's default path: %w; pass --db PATH or set %s", err, envDB)
	}
	return p, nil
}

// logsConfig loads the configuration for `mcpgw logs`, where it is
// optional: a missing file is nil, no error. A file with a problem outside
// its logs: section (a typo in a server's keys) is no reason to keep anyone
// from the record: it is read for logs: alone, with a warning. A file whose
// logs: section does not load is an error, since it may name another
// database.
func (f *Factory) logsConfig() (*config.Config, error) {
	return f.sectionsConfig("logs")
}

// sectionsConfig loads the configuration for a command that uses only the
// top-level sections named: the whole file when it loads, else those
// sections alone, with a warning about the rest; nil when there is no
// file.
func (f *Factory) sectionsConfig(sections ...string) (*config.Config, error) {
	cfg, err := f.LoadConfig()
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err == nil || exitCode(err) != ExitConfig {
		return cfg, err
	}
	path, perr := f.ConfigPath()
	if perr != nil {
		return nil, err
	}
	part, serr := config.LoadSections(path, sections...)
	if serr != nil {
		return nil, err
	}
	fmt.Fprintf(f.IO.ErrOut, "mcpgw: warning: the configuration does not load (this command does not need its servers, and goes on): %v\n", err)
	return part, nil
}

// logsDBPath resolves the database for the logs commands, reading the
// configuration only when neither --db nor MCPGW_DB says where it is.
func (f *Factory) logsDBPath(flag string) (string, error) {
	if flag != "" || f.dbEnv() != "" {
		return f.DBPath(nil, flag)
	}
	cfg, err := f.logsConfig()
	if err != nil {
		return "", err
	}
	return f.DBPath(cfg, "")
}

// noRecord is the message for a database that does not exist yet.
func noRecord(path string) string {
	return fmt.Sprintf("no record yet at %s; calls are recorded by mcpgw serve", path)
}

// recordExists reports whether the database file exists; other stat
// errors (permissions) are returned.
func recordExists(path string) (bool, error) {
	_, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("opening the record: %w", err)
	}
	return true, nil
}

// openRecord opens the database for reading.
//
// Read-only (SQLite mode=ro): it never creates, migrates or write-locks the
// file, and in WAL mode readers and writers do not block each other, so
// `mcpgw logs` reads while `mcpgw serve` processes write. A read-only
// connection still needs the -shm file beside the database: SQLite creates
// it (and an empty -wal) when the directory is writable, which it is for
// the record's owner, the only user who can read the 0600 file anyway.
func openRecord(ctx context.Context, path string) (*logs.DB, error) {
	return logs.Open(ctx, path, &logs.OpenOptions{ReadOnly: true})
}

// waitForRecord waits (for --follow) until the database exists and opens
// it. A file mcpgw serve has just created is empty until its first
// migration commits, so a failing open is retried for a while.
func waitForRecord(ctx context.Context, s *IOStreams, path string, interval time.Duration) (*logs.DB, error) {
	said := false
	var firstErr time.Time
	for {
		ok, err := recordExists(path)
		if err != nil {
			return nil, err
		}
		if ok {
			db, err := openRecord(ctx, path)
			if err == nil {
				return db, nil
			}
			if firstErr.IsZero() {
				firstErr = time.Now()
			} else if time.Since(firstErr) > 5*time.Second {
				return nil, err
			}
		} else if !said {
			fmt.Fprintf(s.ErrOut, "%s; waiting for one (Ctrl-C to stop)\n", noRecord(path))
			said = true
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(interval):
		}
	}
}
