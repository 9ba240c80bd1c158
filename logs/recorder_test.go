package logs

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mcpgw/mcpgw/policy/guard"
)

func guardKnown() *guard.Known {
	k := guard.NewKnown()
	k.Add("api-token", "sk-test-0123456789abcdef")
	return k
}

// openTemp opens a new database in a temporary directory.
func openTemp(t testing.TB, o *OpenOptions) *DB {
	t.Helper()
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "mcpgw.db"), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// reopen opens a second handle on db's file, as another process would.
func reopen(t testing.TB, db *DB, o *OpenOptions) *DB {
	t.Helper()
	db2, err := Open(context.Background(), db.Path(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db2.Close() })
	return db2
}

func countCalls(t testing.TB, db *DB) int {
	t.Helper()
	var n int
	if err := db.sql.QueryRow("SELECT count(*) FROM calls").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func testEntry(i int) Entry {
	return Entry{
		Call: Call{
			Time: time.UnixMicro(1764000000000000 + int64(i)).UTC(), Session: "s", Agent: "claude-code",
			Method: "tools/call", Server: "fx", Tool: fmt.Sprintf("fx__t%d", i), ToolOriginal: "t", Status: StatusOK,
		},
		Args:   fmt.Appendf(nil, `{"i":%d}`, i),
		Result: []byte(`{"content":[{"type":"text","text":"ok"}]}`),
	}
}

// lockWrites holds db's write lock, as a slow writer in another process
// would, until the returned function is called.
func lockWrites(t *testing.T, db *DB) (release func()) {
	t.Helper()
	holder := reopen(t, db, nil)
	tx, err := holder.sql.BeginTx(context.Background(), nil) // BEGIN IMMEDIATE (_txlock)
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	release = func() { once.Do(func() { tx.Rollback() }) }
	t.Cleanup(release)
	return release
}

// fast are options that make failing tests quick.
func fast(o RecorderOptions) *RecorderOptions {
	o.retryWaits = []time.Duration{time.Millisecond, time.Millisecond}
	return &o
}

func TestRecorderWritesInOrder(t *testing.T) {
	db := openTemp(t, nil)
	r := NewRecorder(db, &RecorderOptions{BatchSize: 64})
	const goroutines, each = 4, 500
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				r.Record(testEntry(g*each + i))
			}
		})
	}
	wg.Wait()
	if err := r.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := countCalls(t, db); got != goroutines*each {
		t.Fatalf("%d rows; want %d", got, goroutines*each)
	}
	if s := r.Stats(); s.Recorded != goroutines*each || s.Dropped != 0 || s.Queued != 0 || s.LastError != "" {
		t.Errorf("Stats = %+v", s)
	}
	// Each goroutine's calls are in the order it recorded them.
	rows, err := db.sql.Query("SELECT " + callColumns + " FROM calls ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	last := map[int]int{}
	for rows.Next() {
		c, err := scanCall(rows)
		if err != nil {
			t.Fatal(err)
		}
		var i int
		fmt.Sscanf(c.Tool, "fx__t%d", &i)
		g := i / each
		if prev, ok := last[g]; ok && i != prev+1 {
			t.Fatalf("goroutine %d: call %d after %d", g, i, prev)
		}
		last[g] = i
		want := testEntry(i).Call
		want.ID, want.PID = c.ID, c.PID
		want.Args, want.ArgsSize, want.ArgsHash = string(testEntry(i).Args), int64(len(testEntry(i).Args)), sha(testEntry(i).Args)
		want.Result, want.ResultSize, want.ResultHash = string(testEntry(i).Result), int64(len(testEntry(i).Result)), sha(testEntry(i).Result)
		if diff := cmp.Diff(want, c); diff != "" {
			t.Fatalf("call %d (-want +got):\n%s", i, diff)
		}
		if c.PID <= 0 {
			t.Fatalf("call %d: pid %d; want this process's", i, c.PID)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
}

func TestRecordSyncCommits(t *testing.T) {
	db := openTemp(t, nil)
	// A FlushInterval this long would time the test out if RecordSync
	// waited for it.
	r := NewRecorder(db, &RecorderOptions{FlushInterval: time.Hour})
	defer r.Close(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r.Record(testEntry(1)) // queued before: written in the same batch
	if err := r.RecordSync(ctx, testEntry(2)); err != nil {
		t.Fatal(err)
	}
	other := reopen(t, db, &OpenOptions{ReadOnly: true})
	if got := countCalls(t, other); got != 2 {
		t.Errorf("another handle sees %d rows after RecordSync; want 2", got)
	}
}

func TestRecordBecomesVisibleWithoutClose(t *testing.T) {
	db := openTemp(t, nil)
	r := NewRecorder(db, &RecorderOptions{FlushInterval: 10 * time.Millisecond})
	defer r.Close(context.Background())
	r.Record(testEntry(1))
	other := reopen(t, db, &OpenOptions{ReadOnly: true})
	// No signal reaches another process; poll as `mcpgw logs -f` does.
	for deadline := time.Now().Add(10 * time.Second); countCalls(t, other) != 1; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the row never became visible")
		}
	}
}

func TestRecorderQueueFull(t *testing.T) {
	db := openTemp(t, &OpenOptions{BusyTimeout: 20 * time.Millisecond})
	release := lockWrites(t, db)
	dropped := make(chan int64, 100)
	r := NewRecorder(db, fast(RecorderOptions{
		QueueSize: 8, BatchSize: 4,
		OnDrop: func(n int64, err error) {
			if !errors.Is(err, ErrQueueFull) && !strings.Contains(err.Error(), "write lock") {
				t.Errorf("OnDrop cause: %v", err)
			}
			dropped <- n
		},
	}))
	defer r.Close(context.Background())

	const n = 2000
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range n {
			r.Record(testEntry(i))
		}
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("Record blocked on a locked database")
	}
	select {
	case <-dropped:
	case <-time.After(20 * time.Second):
		t.Fatal("OnDrop was not called")
	}
	s := r.Stats()
	if s.Dropped < n-8 || s.Queued > 8 {
		t.Errorf("Stats = %+v; want at least %d dropped, at most 8 queued", s, n-8)
	}

	// The lock goes away: recording resumes.
	release()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	attempts := int64(n)
	for {
		attempts++
		err := r.RecordSync(ctx, testEntry(n))
		if err == nil {
			break
		}
		if !errors.Is(err, ErrQueueFull) || ctx.Err() != nil {
			t.Fatal(err) // a full queue is fine for a moment: it held entries from before
		}
	}
	if err := r.Close(ctx); err != nil {
		t.Fatal(err)
	}
	s = r.Stats()
	rows := countCalls(t, db)
	if rows < 1 || int64(rows) != s.Recorded {
		t.Errorf("%d rows; Stats = %+v", rows, s)
	}
	tot, err := db.Dropped(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if tot.Total != s.Dropped || len(tot.Processes) != 1 || tot.Processes[0].Count != s.Dropped || tot.Processes[0].Reason == "" {
		t.Errorf("dropped table %+v; want %d from one process", tot, s.Dropped)
	}
	// Every call handed over is either a row or counted.
	if s.Recorded+s.Dropped != attempts {
		t.Errorf("%d recorded + %d dropped; want the %d handed over", s.Recorded, s.Dropped, attempts)
	}
}

func TestRecorderQueueBytesBound(t *testing.T) {
	db := openTemp(t, &OpenOptions{BusyTimeout: 20 * time.Millisecond})
	lockWrites(t, db)
	r := NewRecorder(db, fast(RecorderOptions{MaxQueueBytes: 1 << 20}))
	defer r.Close(context.Background())
	big := make([]byte, 300<<10)
	for range 20 {
		r.Record(Entry{Call: Call{Method: "tools/call", Status: StatusOK}, Result: big})
	}
	// Accepted while under the bound: 4 × 300 KiB, the last one past it.
	if s := r.Stats(); s.Queued > 4 || s.Dropped < 16 {
		t.Errorf("Stats = %+v; want at most 4 queued", s)
	}
}

func TestRecorderReadOnlyDatabase(t *testing.T) {
	db := openTemp(t, nil)
	ro := reopen(t, db, &OpenOptions{ReadOnly: true})
	dropped := make(chan error, 100)
	r := NewRecorder(ro, fast(RecorderOptions{BatchSize: 16, OnDrop: func(_ int64, err error) { dropped <- err }}))
	for i := range 100 {
		r.Record(testEntry(i))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := r.RecordSync(ctx, testEntry(100))
	if err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Errorf("RecordSync = %v; want an error saying the database is read-only", err)
	}
	if err := <-dropped; err == nil {
		t.Error("OnDrop got no cause")
	}
	if err := r.Close(ctx); err != nil {
		t.Logf("Close: %v", err) // nothing was queued, or it is lost: either is fine
	}
	s := r.Stats()
	if s.Recorded != 0 || s.Dropped != 101 || !strings.Contains(s.LastError, "readonly") {
		t.Errorf("Stats = %+v; want 101 dropped and a read-only error", s)
	}
	if got := countCalls(t, db); got != 0 {
		t.Errorf("%d rows", got)
	}
}

func TestRecorderDiskFull(t *testing.T) {
	db := openTemp(t, nil)
	var pages int
	db.sql.QueryRow("PRAGMA page_count").Scan(&pages)
	// SQLite's own size limit stands in for a full disk; it is
	// per-connection, so every connection of the pool gets it.
	full := reopen(t, db, &OpenOptions{pragmas: []string{fmt.Sprintf("max_page_count(%d)", pages+8)}})
	r := NewRecorder(full, fast(RecorderOptions{Payloads: PayloadsFull, BatchSize: 4}))
	defer r.Close(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	big := []byte(`{"text":"` + strings.Repeat("x", 16<<10) + `"}`)
	for i := range 50 {
		e := testEntry(i)
		e.Result = big
		r.Record(e)
	}
	e := testEntry(50)
	e.Result = big
	err := r.RecordSync(ctx, e)
	if err == nil || !strings.Contains(err.Error(), "full") {
		t.Fatalf("RecordSync = %v; want an error saying the disk is full", err)
	}
	s := r.Stats()
	if s.Dropped == 0 || s.Recorded+s.Dropped != 51 {
		t.Errorf("Stats = %+v; want losses, and 51 calls accounted for", s)
	}

	// Space comes back: the recorder recovers and writes its losses down.
	if _, err := db.sql.Exec("DELETE FROM calls"); err != nil {
		t.Fatal(err)
	}
	if err := r.RecordSync(ctx, testEntry(51)); err != nil {
		t.Fatalf("after space came back: %v", err)
	}
	tot, err := db.Dropped(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if tot.Total != s.Dropped || len(tot.Processes) != 1 || !strings.Contains(tot.Processes[0].Reason, "full") {
		t.Errorf("dropped table %+v; want %d for a full disk", tot, s.Dropped)
	}
}

func TestRecorderCloseBoundedByContext(t *testing.T) {
	db := openTemp(t, nil) // default busy timeout: 5s per attempt
	lockWrites(t, db)
	r := NewRecorder(db, nil)
	for i := range 10 {
		r.Record(testEntry(i))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := r.Close(ctx)
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Close took %v with a 200ms context", d)
	}
	if err == nil || !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "10 of 10 queued calls not written") {
		t.Errorf("Close = %v", err)
	}
	if s := r.Stats(); s.Dropped != 10 {
		t.Errorf("Stats = %+v", s)
	}
}

func TestRecordAfterClose(t *testing.T) {
	db := openTemp(t, nil)
	r := NewRecorder(db, nil)
	if err := r.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	r.Record(testEntry(1))
	if err := r.RecordSync(context.Background(), testEntry(2)); !errors.Is(err, ErrClosed) {
		t.Errorf("RecordSync after Close = %v", err)
	}
	if s := r.Stats(); s.Dropped != 2 {
		t.Errorf("Stats = %+v", s)
	}
	if err := r.Close(context.Background()); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

type panicky struct{}

func (panicky) Redact([]byte) ([]byte, bool) { panic("boom") }

func TestRecorderSurvivesPanickingRedactor(t *testing.T) {
	db := openTemp(t, nil)
	r := NewRecorder(db, &RecorderOptions{Redactor: panicky{}})
	err := r.RecordSync(context.Background(), testEntry(1))
	if err == nil || !strings.Contains(err.Error(), "panic: boom") {
		t.Errorf("RecordSync = %v", err)
	}
	r.Close(context.Background())
	if s := r.Stats(); s.Dropped != 1 {
		t.Errorf("Stats = %+v", s)
	}
}

func TestRecorderRetention(t *testing.T) {
	db := openTemp(t, nil)
	old := make([]Call, 50)
	for i := range old {
		old[i] = Call{Time: time.Now().Add(-48 * time.Hour), Method: "tools/call", Status: StatusOK}
	}
	if err := db.Insert(context.Background(), old); err != nil {
		t.Fatal(err)
	}
	r := NewRecorder(db, &RecorderOptions{Retention: Retention{MaxAge: 24 * time.Hour, Every: 10 * time.Millisecond}})
	defer r.Close(context.Background())
	if err := r.RecordSync(context.Background(), Entry{Call: Call{Method: "tools/call", Status: StatusOK}}); err != nil {
		t.Fatal(err)
	}
	// Pruning runs in the background: nothing to wait on but the result.
	for deadline := time.Now().Add(10 * time.Second); countCalls(t, db) != 1; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d rows; want the old ones pruned", countCalls(t, db))
		}
	}
}

func TestOnDropRateLimited(t *testing.T) {
	db := openTemp(t, &OpenOptions{BusyTimeout: 20 * time.Millisecond})
	release := lockWrites(t, db)
	var (
		mu    sync.Mutex
		calls []int64
	)
	first := make(chan struct{})
	o := fast(RecorderOptions{QueueSize: 1, OnDrop: func(n int64, err error) {
		mu.Lock()
		defer mu.Unlock()
		if calls = append(calls, n); len(calls) == 1 {
			close(first)
		}
	}})
	o.reportEvery = time.Hour
	r := NewRecorder(db, o)
	for i := range 100 {
		r.Record(testEntry(i))
	}
	<-first // at once, not after the period
	for i := range 100 {
		r.Record(testEntry(i))
	}
	release()
	r.Close(context.Background())
	// Once at the first loss, once more at Close with the total; the
	// losses between fall in the quiet period.
	mu.Lock()
	defer mu.Unlock()
	if s := r.Stats(); len(calls) != 2 || calls[1] != s.Dropped || calls[0] >= calls[1] {
		t.Errorf("OnDrop calls %v; want two, the last with the total %d", calls, s.Dropped)
	}
}

// BenchmarkRecord measures Record on the call path. The writer sleeps
// (FlushInterval and BatchSize out of reach) and the queue is emptied
// between rounds, off the clock, so every Record is accepted and the
// writer's work, measured by BenchmarkRecorderThroughput, is not counted.
func BenchmarkRecord(b *testing.B) {
	db := openTemp(b, nil)
	const round = 8192
	r := NewRecorder(db, &RecorderOptions{QueueSize: round, BatchSize: 2 * round, FlushInterval: time.Hour})
	defer r.Close(context.Background())
	e := testEntry(1)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		r.Record(e)
		if i++; i%round == 0 {
			b.StopTimer()
			r.mu.Lock()
			clear(r.pending)
			r.pending, r.bytes = r.pending[:0], 0
			r.mu.Unlock()
			b.StartTimer()
		}
	}
	if s := r.Stats(); s.Dropped != 0 {
		b.Fatalf("%d dropped: the benchmark measured drops", s.Dropped)
	}
	r.mu.Lock()
	clear(r.pending)
	r.pending, r.bytes = r.pending[:0], 0
	r.mu.Unlock()
}

// BenchmarkRecorderThroughput measures the writer: calls with ~100-byte
// payloads, redacted, written and committed, per second.
func BenchmarkRecorderThroughput(b *testing.B) {
	for _, batch := range []int{64, 512} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			db := openTemp(b, nil)
			known := guardKnown()
			r := NewRecorder(db, &RecorderOptions{BatchSize: batch, Redactor: known, QueueSize: 1 << 20, MaxQueueBytes: 1 << 30})
			start := time.Now()
			for i := range b.N {
				r.Record(testEntry(i))
			}
			if err := r.Close(context.Background()); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "rows/s")
		})
	}
}

// TestToolErrorTextIsTheError records tool_error calls: the tool's text is
// the call's error (masked like every text), except with payloads: none,
// and rows recorded without it get it from their stored result.
func TestToolErrorTextIsTheError(t *testing.T) {
	result := []byte(`{"content":[{"type":"text","text":"no such file: sk-test-0123456789abcdef"},{"type":"image","data":"AA=="},{"type":"text","text":"try again"}],"isError":true}`)
	for _, tc := range []struct {
		mode PayloadMode
		want string
	}{
		{PayloadsRedacted, "no such file: [redacted:api-token]\ntry again"},
		{PayloadsFull, "no such file: [redacted:api-token]\ntry again"},
		{PayloadsNone, ""},
	} {
		db := openTemp(t, nil)
		r := NewRecorder(db, &RecorderOptions{Payloads: tc.mode, Redactor: guardKnown()})
		e := testEntry(1)
		e.Call.Status, e.Result = StatusToolError, result
		if err := r.RecordSync(context.Background(), e); err != nil {
			t.Fatal(err)
		}
		r.Close(context.Background())
		calls, err := db.Query(context.Background(), Filter{})
		if err != nil || len(calls) != 1 {
			t.Fatalf("%s: %v %v", tc.mode, calls, err)
		}
		if calls[0].Error != tc.want {
			t.Errorf("payloads %s: error %q, want %q", tc.mode, calls[0].Error, tc.want)
		}
	}

	// A row from before: no error, the result stored.
	db := openTemp(t, nil)
	c := testEntry(2).Call
	c.Status, c.Result = StatusToolError, `{"content":[{"type":"text","text":"old failure"}],"isError":true}`
	if err := db.Insert(context.Background(), []Call{c}); err != nil {
		t.Fatal(err)
	}
	got, err := db.Get(context.Background(), 1)
	if err != nil || got.Error != "old failure" {
		t.Errorf("an older tool_error row reads with error %q (%v), want its text", got.Error, err)
	}
}
