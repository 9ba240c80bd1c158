package logs

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestFollowSeesAnotherWriter follows a read-only handle while a separate
// read-write handle (its own connections, as another process would have)
// inserts calls.
func TestFollowSeesAnotherWriter(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	w := seed(t, fixture())
	r, err := Open(ctx, w.Path(), &OpenOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()

	batches := make(chan []Call, 16)
	done := make(chan error, 1)
	fctx, stop := context.WithCancel(ctx)
	go func() {
		done <- r.Follow(fctx, Filter{Servers: []string{"f*"}, Limit: 2}, &FollowOptions{Interval: 10 * time.Millisecond}, func(c []Call) error {
			batches <- c
			return nil
		})
	}()
	next := func() []int64 {
		t.Helper()
		select {
		case b := <-batches:
			return ids(b)
		case <-ctx.Done():
			t.Fatal("timed out waiting for a batch")
			return nil
		}
	}
	// The backlog: the newest two matches, oldest first.
	if diff := cmp.Diff([]int64{9, 10}, next()); diff != "" {
		t.Errorf("backlog (-want +got):\n%s", diff)
	}
	// New calls, matching and not, in two transactions.
	more := []Call{
		{Time: t0.Add(72 * time.Hour), Method: "tools/call", Server: "github", Tool: "github__search", Status: StatusOK},
		{Time: t0.Add(72 * time.Hour), Method: "tools/call", Server: "fx", Tool: "fx__echo", Status: StatusOK},
	}
	if err := w.Insert(ctx, more); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]int64{12}, next()); diff != "" {
		t.Errorf("first new batch (-want +got):\n%s", diff)
	}
	// Written with a time older than others: follow goes by id, not time.
	more = []Call{
		{Time: t0.Add(-time.Hour), Method: "tools/call", Server: "fs", Tool: "fs__read", Status: StatusError},
		{Time: t0.Add(-time.Hour), Method: "tools/call", Server: "fx", Tool: "fx__add", Status: StatusOK},
	}
	if err := w.Insert(ctx, more); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]int64{13, 14}, next()); diff != "" {
		t.Errorf("second new batch (-want +got):\n%s", diff)
	}
	stop()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Follow after cancel = %v; want context.Canceled", err)
	}
	select {
	case b := <-batches:
		t.Errorf("unexpected batch %v", ids(b))
	default:
	}
}

func TestFollowEmptyRecordAndEmitError(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	db := seed(t, nil)
	boom := errors.New("stdout closed")
	done := make(chan error, 1)
	go func() {
		done <- db.Follow(ctx, Filter{}, &FollowOptions{Interval: 5 * time.Millisecond}, func([]Call) error { return boom })
	}()
	// Let it poll an empty record at least once, then write.
	time.Sleep(20 * time.Millisecond)
	if err := db.Insert(ctx, fixture()[:1]); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, boom) {
			t.Errorf("Follow = %v; want the emit error", err)
		}
	case <-ctx.Done():
		t.Fatal("Follow did not return the emit error")
	}
	if err := db.Follow(ctx, Filter{Servers: []string{"["}}, nil, nil); err == nil {
		t.Error("Follow with a bad pattern: no error")
	}
}
