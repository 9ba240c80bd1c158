package logs

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestStatsGroups(t *testing.T) {
	db := seed(t, fixture())
	ctx := context.Background()
	ms := time.Millisecond
	last := func(i int) time.Time { return fixture()[i-1].Time }
	// Latencies (µs) of calls that got past policy and guards, by id:
	// 1:1000 2:2000 5:30e6 6:500e3 7:0 8:5000 9:3000 10:4000.
	for _, tc := range []struct {
		by   string
		want []StatsRow
	}{
		{ByTotal, []StatsRow{{Key: "", Calls: 10, Errors: 7, Denied: 1, Blocked: 1, ErrorRate: 0.7,
			P50: 3 * ms, P95: 30 * time.Second, P99: 30 * time.Second, Max: 30 * time.Second, LastSeen: last(10)}}},
		{ByServer, []StatsRow{
			{Key: "fx", Calls: 4, Errors: 2, ErrorRate: 0.5, P50: 2 * ms, P95: 5 * ms, P99: 5 * ms, Max: 5 * ms, LastSeen: last(9)},
			{Key: "github", Calls: 2, Errors: 2, Denied: 1, Blocked: 1, ErrorRate: 1, LastSeen: last(4)},
			{Key: "memory", Calls: 2, Errors: 2, ErrorRate: 1, P50: 500 * ms, P95: 30 * time.Second, P99: 30 * time.Second, Max: 30 * time.Second, LastSeen: last(6)},
			{Key: "fs", Calls: 1, ErrorRate: 0, P50: 4 * ms, P95: 4 * ms, P99: 4 * ms, Max: 4 * ms, LastSeen: last(10)},
			{Key: "search", Calls: 1, Errors: 1, ErrorRate: 1, LastSeen: last(7)},
		}},
		{ByStatus, []StatsRow{
			{Key: "ok", Calls: 3, P50: 3 * ms, P95: 4 * ms, P99: 4 * ms, Max: 4 * ms, LastSeen: last(10)},
			{Key: "tool_error", Calls: 1, Errors: 1, ErrorRate: 1, P50: 2 * ms, P95: 2 * ms, P99: 2 * ms, Max: 2 * ms, LastSeen: last(2)},
			{Key: "denied", Calls: 1, Errors: 1, Denied: 1, ErrorRate: 1, LastSeen: last(3)},
			{Key: "blocked", Calls: 1, Errors: 1, Blocked: 1, ErrorRate: 1, LastSeen: last(4)},
			{Key: "timeout", Calls: 1, Errors: 1, ErrorRate: 1, P50: 30 * time.Second, P95: 30 * time.Second, P99: 30 * time.Second, Max: 30 * time.Second, LastSeen: last(5)},
			{Key: "cancelled", Calls: 1, Errors: 1, ErrorRate: 1, P50: 500 * ms, P95: 500 * ms, P99: 500 * ms, Max: 500 * ms, LastSeen: last(6)},
			{Key: "unavailable", Calls: 1, Errors: 1, ErrorRate: 1, LastSeen: last(7)},
			{Key: "error", Calls: 1, Errors: 1, ErrorRate: 1, P50: 5 * ms, P95: 5 * ms, P99: 5 * ms, Max: 5 * ms, LastSeen: last(8)},
		}},
		{ByDay, []StatsRow{
			{Key: "2025-11-24", Calls: 6, Errors: 5, Denied: 1, Blocked: 1, ErrorRate: 5.0 / 6, P50: 2 * ms, P95: 30 * time.Second, P99: 30 * time.Second, Max: 30 * time.Second, LastSeen: last(6)},
			{Key: "2025-11-25", Calls: 2, Errors: 2, ErrorRate: 1, P50: 0, P95: 5 * ms, P99: 5 * ms, Max: 5 * ms, LastSeen: last(8)},
			{Key: "2025-11-26", Calls: 2, ErrorRate: 0, P50: 3 * ms, P95: 4 * ms, P99: 4 * ms, Max: 4 * ms, LastSeen: last(10)},
		}},
	} {
		t.Run("by="+tc.by, func(t *testing.T) {
			got, err := db.Stats(ctx, Filter{Location: time.UTC}, tc.by)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("stats (-want +got):\n%s", diff)
			}
		})
	}

	// The other groupings: keys and counts.
	for by, want := range map[string]map[string]int64{
		ByTool:  {"fx__echo": 3, "fx__add": 1, "github__create_issue": 1, "github__search": 1, "memory__read_graph": 1, "memory__store": 1, "search__web": 1, "file:///tmp/a/b.txt": 1},
		ByAgent: {"claude-code": 6, "cursor": 2, "vscode": 1, "codex": 1},
		ByUser:  {"ana@example.com": 6, "bob@example.com": 2, "carl@example.com": 2},
		ByTeam:  {"data": 6, "web": 2, "ops": 2},
	} {
		got, err := db.Stats(ctx, Filter{}, by)
		if err != nil {
			t.Fatal(err)
		}
		counts := map[string]int64{}
		for i, r := range got {
			counts[r.Key] = r.Calls
			if i > 0 && got[i-1].Calls < r.Calls {
				t.Errorf("by %s: rows not by most calls first: %v", by, got)
			}
		}
		if diff := cmp.Diff(want, counts); diff != "" {
			t.Errorf("by %s (-want +got):\n%s", by, diff)
		}
	}
}

func TestStatsHourBucketsInLocation(t *testing.T) {
	db := seed(t, fixture())
	// +05:30: hour buckets start at :30 UTC; 12:00Z is 17:30 local.
	ist := time.FixedZone("IST", 5*3600+1800)
	got, err := db.Stats(context.Background(), Filter{Location: ist, Until: t0.Add(3 * time.Hour)}, ByHour)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	var calls []int64
	for _, r := range got {
		keys = append(keys, r.Key)
		calls = append(calls, r.Calls)
	}
	if diff := cmp.Diff([]string{"2025-11-24 17:00", "2025-11-24 18:00", "2025-11-24 19:00"}, keys); diff != "" {
		t.Errorf("keys (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int64{4, 1, 1}, calls); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
}

func TestStatsFiltersAndEmpty(t *testing.T) {
	db := seed(t, fixture())
	ctx := context.Background()
	got, err := db.Stats(ctx, Filter{Tools: []string{"fx__*"}, Statuses: []Status{StatusOK}}, ByTotal)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Calls != 2 || got[0].P50 != time.Millisecond || got[0].Max != 3*time.Millisecond {
		t.Errorf("filtered total = %+v", got)
	}
	got, err = db.Stats(ctx, Filter{Servers: []string{"nothing"}}, ByTotal)
	if err != nil || len(got) != 1 || got[0] != (StatsRow{}) {
		t.Errorf("empty total = %+v, %v; want one zero row", got, err)
	}
	got, err = db.Stats(ctx, Filter{Servers: []string{"nothing"}}, ByServer)
	if err != nil || len(got) != 0 {
		t.Errorf("empty by server = %+v, %v; want no rows", got, err)
	}
	if _, err := db.Stats(ctx, Filter{}, "weekday"); err == nil {
		t.Error("Stats by weekday: no error")
	}
}

func TestStatsRowJSON(t *testing.T) {
	b, err := json.Marshal(StatsRow{Key: "fx", Calls: 2, Errors: 1, ErrorRate: 0.5, P50: 1500 * time.Microsecond, Max: 2 * time.Second,
		LastSeen: time.Date(2025, 1, 2, 3, 4, 5, 6000, time.FixedZone("X", 3600))})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"key":"fx","calls":2,"errors":1,"denied":0,"blocked":0,"error_rate":0.5,"p50_us":1500,"p95_us":0,"p99_us":0,"max_us":2000000,"last_seen":"2025-01-02T02:04:05.000006Z"}`
	if string(b) != want {
		t.Errorf("JSON = %s\nwant   %s", b, want)
	}
	b, _ = json.Marshal(StatsRow{})
	if want := `{"key":"","calls":0,"errors":0,"denied":0,"blocked":0,"error_rate":0,"p50_us":0,"p95_us":0,"p99_us":0,"max_us":0}`; string(b) != want {
		t.Errorf("zero JSON = %s\nwant        %s", b, want)
	}
}

func TestRank(t *testing.T) {
	var v []int64
	for i := int64(1); i <= 100; i++ {
		v = append(v, i)
	}
	for pct, want := range map[int]int64{50: 50, 95: 95, 99: 99, 100: 100, 1: 1} {
		if got := rank(v, pct); got != time.Duration(want)*time.Microsecond {
			t.Errorf("rank(1..100, %d) = %v; want %dµs", pct, got, want)
		}
	}
	v = v[:20] // 95% of 20 is the 19th value; 50% the 10th
	if got := rank(v, 95); got != 19*time.Microsecond {
		t.Errorf("rank(1..20, 95) = %v", got)
	}
	if got := rank(v, 50); got != 10*time.Microsecond {
		t.Errorf("rank(1..20, 50) = %v", got)
	}
	if got := rank([]int64{7}, 99); got != 7*time.Microsecond {
		t.Errorf("rank([7], 99) = %v", got)
	}
}

// TestStatsExactOnManyRows checks the percentiles against a sort done here,
// on enough rows to notice a slow path.
func TestStatsExactOnManyRows(t *testing.T) {
	n := 20000
	if testing.Short() {
		n = 2000
	}
	r := rand.New(rand.NewPCG(1, 2))
	calls := make([]Call, n)
	byServer := map[string][]int64{}
	for i := range calls {
		s := fmt.Sprintf("s%d", i%3)
		lat := r.Int64N(1_000_000)
		calls[i] = Call{Time: t0.Add(time.Duration(i) * time.Second), Method: "tools/call", Server: s, Tool: s + "__t", Status: StatusOK, Latency: time.Duration(lat) * time.Microsecond}
		byServer[s] = append(byServer[s], lat)
	}
	db := seed(t, calls)
	start := time.Now()
	got, err := db.Stats(context.Background(), Filter{}, ByServer)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("stats over %d calls: %v", n, time.Since(start))
	for _, row := range got {
		lats := byServer[row.Key]
		slices.Sort(lats)
		at := func(p float64) time.Duration {
			// nearest rank: ceil(p*n)-th value, with exact decimal p
			i := (int(p*100+0.5)*len(lats)+99)/100 - 1
			return time.Duration(lats[i]) * time.Microsecond
		}
		if row.Calls != int64(len(lats)) || row.P50 != at(0.50) || row.P95 != at(0.95) || row.P99 != at(0.99) || row.Max != time.Duration(lats[len(lats)-1])*time.Microsecond {
			t.Errorf("%s: %+v; want calls %d p50 %v p95 %v p99 %v", row.Key, row, len(lats), at(0.5), at(0.95), at(0.99))
		}
	}
}

func BenchmarkStats100k(b *testing.B) {
	calls := make([]Call, 100_000)
	for i := range calls {
		s := fmt.Sprintf("s%d", i%7)
		calls[i] = Call{Time: t0.Add(time.Duration(i) * time.Second), Method: "tools/call", Server: s, Tool: s + "__t", Status: Statuses[i%len(Statuses)],
			Latency: time.Duration(i%5000) * time.Microsecond, User: "u", Agent: "a", Args: `{"q":"some arguments"}`}
	}
	db := seed(b, calls)
	for _, by := range []string{ByTotal, ByServer, ByHour} {
		b.Run("by="+by, func(b *testing.B) {
			for b.Loop() {
				if _, err := db.Stats(context.Background(), Filter{}, by); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("query limit 50", func(b *testing.B) {
		for b.Loop() {
			if _, err := db.Query(context.Background(), Filter{Limit: 50, Tools: []string{"s3__*"}}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
