package logs

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/mcpgw/mcpgw/policy/limits"
)

func TestTakeTokens(t *testing.T) {
	db := openTemp(t, nil)
	ctx := context.Background()
	t0 := time.Unix(1_000_000, 0)
	a := limits.Bucket{Key: "a", Rate: 5, Burst: 2}
	b := limits.Bucket{Key: "b", Rate: 1.0 / 60, Burst: 1}
	take := func(now time.Time, bs ...limits.Bucket) (int, time.Duration) {
		t.Helper()
		i, wait, err := db.Take(ctx, now, bs)
		if err != nil {
			t.Fatal(err)
		}
		return i, wait
	}
	if i, _ := take(t0, a, b); i != -1 {
		t.Fatalf("first take refused by %d", i)
	}
	// b is empty: nothing is taken, a keeps its last token.
	if i, wait := take(t0, a, b); i != 1 || wait != time.Minute {
		t.Fatalf("second take: refused %d, wait %v; want 1, 1m", i, wait)
	}
	if i, _ := take(t0, a); i != -1 {
		t.Fatalf("a's last token: refused")
	}
	if i, wait := take(t0, a); i != 0 || wait != 200*time.Millisecond {
		t.Fatalf("a empty: %d, %v", i, wait)
	}
	if i, _ := take(t0.Add(200*time.Millisecond), a); i != -1 {
		t.Fatalf("a refilled: refused")
	}
	// Another handle on the same file (another process) sees the same buckets.
	db2, err := Open(ctx, db.Path(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	if i, _, err := db2.Take(ctx, t0.Add(time.Second), []limits.Bucket{b}); err != nil || i != 0 {
		t.Fatalf("b from another handle: %d, %v; want refused", i, err)
	}
}

// TestTakeTokensConcurrent: two handles racing for a bucket of 50 never
// take more than 50 between them.
func TestTakeTokensConcurrent(t *testing.T) {
	db := openTemp(t, nil)
	ctx := context.Background()
	db2, err := Open(ctx, db.Path(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	now := time.Now()
	bs := []limits.Bucket{{Key: "k", Rate: 1e-9, Burst: 50}}
	var mu sync.Mutex
	got := 0
	var wg sync.WaitGroup
	for _, d := range []*DB{db, db, db2, db2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 40 {
				i, _, err := d.Take(ctx, now, bs)
				if err != nil {
					t.Error(err)
					return
				}
				if i < 0 {
					mu.Lock()
					got++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if got != 50 {
		t.Errorf("%d tokens taken; want 50", got)
	}
}

// BenchmarkTakeTokens is the cost a limited call pays for the shared
// bucket: one immediate transaction on the record.
func BenchmarkTakeTokens(b *testing.B) {
	db := openTemp(b, nil)
	ctx := context.Background()
	bs := []limits.Bucket{{Key: "server\x1fgithub", Rate: 1e9, Burst: 1e9}}
	for b.Loop() {
		if i, _, err := db.Take(ctx, time.Now(), bs); err != nil || i >= 0 {
			b.Fatal(i, err)
		}
	}
}

// BenchmarkTakeTokensTwoBuckets: a call that two limits count (user and
// server).
func BenchmarkTakeTokensTwoBuckets(b *testing.B) {
	db := openTemp(b, nil)
	ctx := context.Background()
	bs := []limits.Bucket{{Key: "user\x1fana", Rate: 1e9, Burst: 1e9}, {Key: "server\x1fgithub", Rate: 1e9, Burst: 1e9}}
	for b.Loop() {
		if i, _, err := db.Take(ctx, time.Now(), bs); err != nil || i >= 0 {
			b.Fatal(i, err)
		}
	}
}
