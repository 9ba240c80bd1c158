package logs

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestOpenMigratesAndRoundTrips(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sub", "mcpgw.db")
	db, err := Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("database file mode = %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	var mode string
	db.sql.QueryRow("PRAGMA journal_mode").Scan(&mode)
	if mode != "wal" {
		t.Errorf("journal_mode = %q; want wal", mode)
	}
	want := Call{
		Time: time.UnixMicro(1764000000123456).UTC(), PID: 42, Session: "s1", Agent: "claude-code", AgentVersion: "2.1",
		User: "ana@example.com", Team: "data", Roles: []string{"dev", "oncall"}, Method: "tools/call",
		Server: "fx", Tool: "fx__echo", ToolOriginal: "echo", Args: `{"text":"hi"}`, ArgsSize: 13, ArgsHash: "ab",
		Result: `{"content":[]}`, ResultSize: 14, ResultHash: "cd", Status: StatusToolError, Error: "boom",
		Latency: 1234 * time.Microsecond, BytesIn: 100, BytesOut: 200, Decision: "allow", Rule: "teams.data", Reason: "team data", Profile: "cursor",
		Findings: []Finding{{Rule: "aws-access-key", Path: "$.arguments.key"}},
	}
	calls := []Call{want}
	if err := db.Insert(ctx, calls); err != nil {
		t.Fatal(err)
	}
	got, err := db.Get(ctx, calls[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	want.ID = calls[0].ID
	if diff := cmp.Diff(want, *got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	db.Close()

	// Reopening is a no-op migration; a read-only open works too.
	db2, err := Open(ctx, path, &OpenOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	if _, err := db2.Get(ctx, want.ID); err != nil {
		t.Fatal(err)
	}
	var v int
	db2.sql.QueryRow("PRAGMA user_version").Scan(&v)
	if v != SchemaVersion() {
		t.Errorf("user_version = %d; want %d", v, SchemaVersion())
	}
}

func TestOpenCacheKiB(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		kib  int
		want int
	}{{0, -2000}, {512, -512}} { // 0: SQLite's default, 2000 KiB
		db := openTemp(t, &OpenOptions{CacheKiB: tc.kib})
		// Two connections at once: the pragma is in every one's DSN.
		conns := make([]int, 2)
		tx1, err := db.sql.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx1.Rollback()
		if err := tx1.QueryRowContext(ctx, "PRAGMA cache_size").Scan(&conns[0]); err != nil {
			t.Fatal(err)
		}
		if err := db.sql.QueryRowContext(ctx, "PRAGMA cache_size").Scan(&conns[1]); err != nil {
			t.Fatal(err)
		}
		for i, got := range conns {
			if got != tc.want {
				t.Errorf("CacheKiB %d: connection %d has cache_size %d, want %d", tc.kib, i, got, tc.want)
			}
		}
	}
}
