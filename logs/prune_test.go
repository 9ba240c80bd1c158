package logs

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

// fill inserts n calls of about size payload bytes each, at times from
// start a second apart, in transactions of 500.
func fill(t *testing.T, db *DB, n, size int, start time.Time) {
	t.Helper()
	payload := `{"text":"` + strings.Repeat("x", size) + `"}`
	for i := 0; i < n; i += 500 {
		calls := make([]Call, min(500, n-i))
		for j := range calls {
			calls[j] = Call{Time: start.Add(time.Duration(i+j) * time.Second), Method: "tools/call", Status: StatusOK, Result: payload}
		}
		if err := db.Insert(context.Background(), calls); err != nil {
			t.Fatal(err)
		}
	}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if os.IsNotExist(err) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

func TestPruneByAge(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t, nil)
	fill(t, db, 2500, 10, time.Now().Add(-72*time.Hour))
	fill(t, db, 300, 10, time.Now().Add(-time.Hour))
	res, err := db.Prune(ctx, PruneOptions{OlderThan: 24 * time.Hour, BatchSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	if res.Deleted != 2500 || countCalls(t, db) != 300 {
		t.Errorf("Prune = %+v, %d rows left; want 2500 deleted, 300 left", res, countCalls(t, db))
	}
	if res.SizeAfter >= res.SizeBefore || res.SizeAfter <= 0 {
		t.Errorf("size %d -> %d; want it smaller", res.SizeBefore, res.SizeAfter)
	}
	var oldest int64
	db.sql.QueryRow("SELECT min(ts) FROM calls").Scan(&oldest)
	if time.Since(time.UnixMicro(oldest)) > 24*time.Hour {
		t.Errorf("a call older than 24h is left: %v", time.UnixMicro(oldest))
	}
	// Nothing more to do the second time.
	if res, err := db.Prune(ctx, PruneOptions{OlderThan: 24 * time.Hour}); err != nil || res.Deleted != 0 {
		t.Errorf("second Prune = %+v, %v", res, err)
	}
}

func TestPruneBySize(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t, nil)
	fill(t, db, 3000, 2000, time.Now().Add(-time.Hour)) // ~6 MB
	before := fileSize(t, db.Path())
	const max = 1 << 20
	res, err := db.Prune(ctx, PruneOptions{MaxSize: max, BatchSize: 200})
	if err != nil {
		t.Fatal(err)
	}
	left := countCalls(t, db)
	if res.SizeBefore < 5<<20 || res.SizeAfter > max || res.SizeAfter < max/2 {
		t.Errorf("size %d -> %d; want it from over 5 MiB to under %d, not far under", res.SizeBefore, res.SizeAfter, max)
	}
	if res.Deleted+int64(left) != 3000 || left == 0 {
		t.Errorf("Prune deleted %d, %d left; want 3000 in all", res.Deleted, left)
	}
	// The oldest went: what is left is the newest, with no gaps.
	var lo, hi int64
	db.sql.QueryRow("SELECT min(id), max(id) FROM calls").Scan(&lo, &hi)
	if hi != 3000 || hi-lo+1 != int64(left) {
		t.Errorf("ids %d..%d left for %d rows; want the newest", lo, hi, left)
	}
	// A file this version created gives the pages back (incremental
	// vacuum) once the checkpoint has run.
	if after := fileSize(t, db.Path()); after > max+max/2 || after >= before {
		t.Errorf("database file %d -> %d bytes; want it near %d", before, after, max)
	}
}

// TestPruneBoundsTheWAL checks that the WAL, grown while a reader kept a
// checkpoint from finishing, is cut back to journal_size_limit after
// Prune's checkpoint and the next write.
func TestPruneBoundsTheWAL(t *testing.T) {
	ctx := context.Background()
	const limit = 64 << 10
	// "=" sorts after "(" and the driver sorts pragmas: this one wins.
	db := openTemp(t, &OpenOptions{pragmas: []string{"journal_size_limit=65536"}})
	reader := reopen(t, db, &OpenOptions{ReadOnly: true})
	tx, err := reader.sql.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	tx.QueryRow("SELECT count(*) FROM calls").Scan(&n) // holds a snapshot
	fill(t, db, 2000, 2000, time.Now().Add(-48*time.Hour))
	wal := db.Path() + "-wal"
	if size := fileSize(t, wal); size < 2<<20 {
		t.Fatalf("WAL is %d bytes with a reader open; want it grown", size)
	}
	tx.Rollback()
	if _, err := db.Prune(ctx, PruneOptions{OlderThan: 24 * time.Hour}); err != nil {
		t.Fatal(err)
	}
	fill(t, db, 1, 10, time.Now())
	if size := fileSize(t, wal); size > limit+32<<10 {
		t.Errorf("WAL is %d bytes after a checkpoint and a write; want about %d at most", size, limit)
	}
}

func TestDroppedTotals(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t, nil)
	if tot, err := db.Dropped(ctx); err != nil || tot.Total != 0 || len(tot.Processes) != 0 {
		t.Fatalf("empty: %+v, %v", tot, err)
	}
	t0 := time.UnixMicro(1764000000000000).UTC()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(db.addDropped(ctx, 10, t0, 5, t0.Add(time.Second), "queue full"))
	must(db.addDropped(ctx, 10, t0, 2, t0.Add(3*time.Second), "disk full"))
	must(db.addDropped(ctx, 11, t0, 1, t0.Add(2*time.Second), "read-only"))
	tot, err := db.Dropped(ctx)
	must(err)
	want := DroppedTotals{Total: 8, Processes: []DroppedProcess{
		{PID: 10, Started: t0, Count: 7, Last: t0.Add(3 * time.Second), Reason: "disk full"},
		{PID: 11, Started: t0, Count: 1, Last: t0.Add(2 * time.Second), Reason: "read-only"},
	}}
	if tot.Total != want.Total || len(tot.Processes) != 2 || tot.Processes[0] != want.Processes[0] || tot.Processes[1] != want.Processes[1] {
		t.Errorf("Dropped = %+v; want %+v", tot, want)
	}
}
