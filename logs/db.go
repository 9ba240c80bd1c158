package logs

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// DB is an open record database.
type DB struct {
	sql  *sql.DB
	path string

	checkToken struct { // prepared on first use (tokens.go)
		sync.Mutex
		st *sql.Stmt
	}
}

// OpenOptions configures [Open]. The zero value means defaults.
type OpenOptions struct {
	// ReadOnly opens the file with SQLite's mode=ro: nothing is created or
	// migrated.
	ReadOnly bool
	// BusyTimeout is how long a statement waits for another process's
	// write lock; zero means 5s.
	BusyTimeout time.Duration
	// CacheKiB caps each connection's page cache, in KiB; zero leaves
	// SQLite's default (2 MiB). A gateway that appends rows all day needs
	// little of it, and a full cache is memory the process keeps.
	CacheKiB int

	// pragmas are added to every connection's; tests use them to make a
	// database fail (max_page_count) or to shrink limits.
	pragmas []string
}

// DefaultPath returns the database path under the OS state directory:
// $XDG_STATE_HOME/mcpgw (default ~/.local/state/mcpgw) on Linux and the
// BSDs, ~/Library/Application Support/mcpgw on macOS, %LOCALAPPDATA%\mcpgw
// on Windows.
func DefaultPath() (string, error) {
	var dir string
	switch runtime.GOOS {
	case "windows":
		dir = os.Getenv("LOCALAPPDATA")
		if dir == "" {
			return "", errors.New("%LOCALAPPDATA% is not set")
		}
	case "darwin", "ios":
		home, err := os.UserHomeDir()
		if err != nil {
			return "", err
		}
		dir = filepath.Join(home, "Library", "Application Support")
	default:
		dir = os.Getenv("XDG_STATE_HOME")
		if dir == "" || !filepath.IsAbs(dir) {
			home, err := os.UserHomeDir()
			if err != nil {
				return "", err
			}
			dir = filepath.Join(home, ".local", "state")
		}
	}
	return filepath.Join(dir, "mcpgw", "mcpgw.db"), nil
}

// dsn builds the connection string. Pragmas go in it, not in statements
// after opening, so every connection the pool opens gets them; the busy
// timeout comes first so that switching to WAL already waits for others.
func dsn(path string, o OpenOptions) string {
	busy := o.BusyTimeout
	if busy <= 0 {
		busy = 5 * time.Second
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout("+strconv.FormatInt(busy.Milliseconds(), 10)+")")
	if o.ReadOnly {
		q.Set("mode", "ro")
	} else {
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "journal_size_limit(67108864)") // WAL truncated to 64 MiB after checkpoints
		q.Add("_pragma", "wal_autocheckpoint(1000)")
		// Writers take the lock when the transaction starts, so two
		// processes never deadlock upgrading read locks.
		q.Set("_txlock", "immediate")
	}
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "temp_store(MEMORY)")
	if o.CacheKiB > 0 {
		q.Add("_pragma", "cache_size(-"+strconv.Itoa(o.CacheKiB)+")")
	}
	for _, p := range o.pragmas {
		q.Add("_pragma", p)
	}
	return "file:" + filepath.ToSlash(path) + "?" + q.Encode()
}

// Open opens (creating it, mode 0600, unless read-only) and migrates the
// database at path.
func Open(ctx context.Context, path string, opts *OpenOptions) (*DB, error) {
	var o OpenOptions
	if opts != nil {
		o = *opts
	}
	if !o.ReadOnly {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("creating the record's directory: %w", err)
		}
		// Create the file ourselves for its mode; SQLite gives the WAL and
		// shared-memory files the database file's permissions.
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return nil, fmt.Errorf("opening the record %s: %w", path, err)
		}
		fi, err := f.Stat()
		f.Close()
		if err == nil && fi.Size() == 0 {
			if err := initFile(ctx, path, o); err != nil {
				return nil, fmt.Errorf("creating the record %s: %w", path, err)
			}
		}
	} else if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("opening the record %s: %w", path, err)
	}
	sdb, err := sql.Open("sqlite", dsn(path, o))
	if err != nil {
		return nil, fmt.Errorf("opening the record %s: %w", path, err)
	}
	db := &DB{sql: sdb, path: path}
	if err := db.migrate(ctx, o.ReadOnly); err != nil {
		sdb.Close()
		if notDatabase(err) {
			return nil, fmt.Errorf("opening the record %s: %w; it is not an mcpgw record, or it is damaged: move it aside (mv %s %s), and mcpgw serve starts a new one in its place", path, err, shellQuote(path), shellQuote(path+".broken"))
		}
		return nil, fmt.Errorf("opening the record %s: %w", path, err)
	}
	return db, nil
}

// shellQuote quotes s for a POSIX shell when it needs quoting, for
// commands a message suggests.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+:@%,=") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// initFile turns on incremental vacuum in a new, empty file, so that
// [DB.Prune] can give freed pages back to the OS. The setting must come
// before anything else writes the file, WAL mode included, and it cannot
// go in the DSN: setting it takes the write lock, on every connection.
// Another process creating the file at the same moment is harmless: the
// first to write page 1 decides.
func initFile(ctx context.Context, path string, o OpenOptions) error {
	first := o
	first.pragmas = append([]string{"auto_vacuum(INCREMENTAL)"}, o.pragmas...)
	sdb, err := sql.Open("sqlite", dsn(path, first))
	if err != nil {
		return err
	}
	defer sdb.Close()
	return sdb.PingContext(ctx)
}

// Path returns the database file's path.
func (db *DB) Path() string { return db.path }

// Close closes the database.
func (db *DB) Close() error {
	db.checkToken.Lock()
	if db.checkToken.st != nil {
		db.checkToken.st.Close()
	}
	db.checkToken.Unlock()
	return db.sql.Close()
}

// migration is one embedded schema step; versions are the file names'
// numeric prefixes.
type migration struct {
	version int
	name    string
	sql     string
}

func migrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFS, "migrations")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range entries {
		n, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(n)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration %s: name must start with a number and _", e.Name())
		}
		b, err := migrationFS.ReadFile("migrations/" + e.Name())
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{v, e.Name(), string(b)})
	}
	slices.SortFunc(ms, func(a, b migration) int { return a.version - b.version })
	return ms, nil
}

// SchemaVersion is the schema this build writes.
func SchemaVersion() int {
	ms, _ := migrations()
	return ms[len(ms)-1].version
}

// migrate brings the schema up to date in one immediate transaction, so
// processes opening the file at once apply each step exactly once. The
// version lives in SQLite's user_version.
func (db *DB) migrate(ctx context.Context, readOnly bool) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	latest := ms[len(ms)-1].version
	var have int
	if err := db.sql.QueryRowContext(ctx, "PRAGMA user_version").Scan(&have); err != nil {
		return fmt.Errorf("reading the schema version: %w", err)
	}
	switch {
	case have > latest:
		return fmt.Errorf("the database has schema version %d, newer than this mcpgw knows (%d); upgrade mcpgw or point it at another file with --db", have, latest)
	case have == latest:
		return nil
	case readOnly:
		return fmt.Errorf("the database has schema version %d and needs migrating to %d, which a read-only open cannot do; run any mcpgw command that writes it (mcpgw serve) once", have, latest)
	}
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrating: %w", err)
	}
	defer tx.Rollback()
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&have); err != nil {
		return fmt.Errorf("migrating: %w", err)
	}
	for _, m := range ms {
		if m.version <= have {
			continue
		}
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
	}
	if _, err := tx.ExecContext(ctx, "PRAGMA user_version = "+strconv.Itoa(latest)); err != nil {
		return fmt.Errorf("migrating: %w", err)
	}
	return tx.Commit()
}

const insertCall = `INSERT INTO calls (ts, pid, session, agent, agent_version, user, team, roles,
	method, server, tool, tool_original, args, args_size, args_hash, result, result_size, result_hash,
	status, error, latency_us, bytes_in, bytes_out, decision, rule, reason, findings, profile)
	VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`

// Insert writes calls in one transaction, setting their IDs.
func (db *DB) Insert(ctx context.Context, calls []Call) error {
	conn, err := db.sql.Conn(ctx)
	if err != nil {
		return fmt.Errorf("writing the record: %w", err)
	}
	defer conn.Close()
	// On the driver's own connection: database/sql converts and checks
	// each of a row's 28 arguments again, in a slice of its own, on every
	// row.
	if err := conn.Raw(func(dc any) error { return insertRows(ctx, dc, calls) }); err != nil {
		return fmt.Errorf("writing the record: %w", err)
	}
	return nil
}

// sqliteConn is what insertRows needs of the driver's connection.
type sqliteConn interface {
	driver.ConnBeginTx
	driver.ConnPrepareContext
}

// insertRows is Insert on the driver's connection dc.
func insertRows(ctx context.Context, dc any, calls []Call) (err error) {
	conn, ok := dc.(sqliteConn)
	if !ok {
		return fmt.Errorf("the SQLite driver's connection is a %T", dc)
	}
	tx, err := conn.BeginTx(ctx, driver.TxOptions{})
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	st, err := conn.PrepareContext(ctx, insertCall)
	if err != nil {
		return err
	}
	defer st.Close()
	exec, ok := st.(driver.StmtExecContext)
	if !ok {
		return fmt.Errorf("the SQLite driver's statement is a %T", st)
	}
	// The rows are written without ctx: the driver watches a cancellable
	// context with a goroutine per statement, which cost more than the
	// row. The transaction began with ctx, so a wait for another
	// process's lock still ends with it; the rows after that are quick.
	rowCtx := context.WithoutCancel(ctx)
	var args [28]driver.NamedValue
	for i := range args {
		args[i].Ordinal = i + 1
	}
	for i := range calls {
		c := &calls[i]
		findings := ""
		if len(c.Findings) > 0 {
			b, _ := json.Marshal(c.Findings)
			findings = string(b)
		}
		for j, v := range [...]driver.Value{c.Time.UnixMicro(), int64(c.PID), c.Session, c.Agent, c.AgentVersion, c.User, c.Team, strings.Join(c.Roles, ","),
			c.Method, c.Server, c.Tool, c.ToolOriginal, c.Args, c.ArgsSize, c.ArgsHash, c.Result, c.ResultSize, c.ResultHash,
			string(c.Status), c.Error, c.Latency.Microseconds(), c.BytesIn, c.BytesOut, c.Decision, c.Rule, c.Reason, findings, c.Profile} {
			args[j].Value = v
		}
		res, err := exec.ExecContext(rowCtx, args[:])
		if err != nil {
			return err
		}
		c.ID, _ = res.LastInsertId()
	}
	return tx.Commit()
}

// callColumns are the columns scanCall reads, in order.
const callColumns = `id, ts, pid, session, agent, agent_version, user, team, roles, method, server, tool,
	tool_original, args, args_size, args_hash, result, result_size, result_hash, status, error,
	latency_us, bytes_in, bytes_out, decision, rule, reason, findings, profile`

// scanCall reads one row of callColumns.
func scanCall(rows interface{ Scan(...any) error }) (Call, error) {
	var (
		c               Call
		ts, lat         int64
		roles, findings string
		status          string
	)
	err := rows.Scan(&c.ID, &ts, &c.PID, &c.Session, &c.Agent, &c.AgentVersion, &c.User, &c.Team, &roles,
		&c.Method, &c.Server, &c.Tool, &c.ToolOriginal, &c.Args, &c.ArgsSize, &c.ArgsHash, &c.Result, &c.ResultSize,
		&c.ResultHash, &status, &c.Error, &lat, &c.BytesIn, &c.BytesOut, &c.Decision, &c.Rule, &c.Reason, &findings, &c.Profile)
	if err != nil {
		return c, err
	}
	c.Time = time.UnixMicro(ts).UTC()
	c.Latency = time.Duration(lat) * time.Microsecond
	c.Status = Status(status)
	if roles != "" {
		c.Roles = strings.Split(roles, ",")
	}
	if findings != "" {
		json.Unmarshal([]byte(findings), &c.Findings)
	}
	if c.Status == StatusToolError && c.Error == "" {
		// Recorded before the tool's text was kept as its error: take it
		// from the stored (masked) result.
		c.Error = toolErrorText([]byte(c.Result))
	}
	return c, nil
}

// Get returns the call with id.
func (db *DB) Get(ctx context.Context, id int64) (*Call, error) {
	c, err := scanCall(db.sql.QueryRowContext(ctx, "SELECT "+callColumns+" FROM calls WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("no call with id %d in %s", id, db.path)
	}
	if err != nil {
		return nil, fmt.Errorf("reading the record: %w", err)
	}
	return &c, nil
}
