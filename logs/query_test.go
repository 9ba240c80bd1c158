package logs

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var t0 = time.Date(2025, 11, 24, 12, 0, 0, 0, time.UTC)

// fixture is one call of every status, several servers, tools, users,
// teams and agents, spread over three days. IDs are 1..len in this order.
func fixture() []Call {
	return []Call{
		{Time: t0, Method: "tools/call", Server: "fx", Tool: "fx__echo", ToolOriginal: "echo", Status: StatusOK, Latency: time.Millisecond,
			User: "ana@example.com", Team: "data", Agent: "claude-code", Args: `{"text":"hello"}`, Result: `{"content":[{"type":"text","text":"hello"}]}`},
		{Time: t0.Add(time.Minute), Method: "tools/call", Server: "fx", Tool: "fx__add", Status: StatusToolError, Latency: 2 * time.Millisecond,
			User: "bob@example.com", Team: "web", Agent: "cursor", Args: `{"a":1,"b":0}`, Error: "Division by zero"},
		{Time: t0.Add(2 * time.Minute), Method: "tools/call", Server: "github", Tool: "github__create_issue", Status: StatusDenied, Latency: 50 * time.Microsecond,
			User: "bob@example.com", Team: "web", Agent: "cursor", Decision: "deny", Reason: "team web may not call github__create_issue"},
		{Time: t0.Add(3 * time.Minute), Method: "tools/call", Server: "github", Tool: "github__search", Status: StatusBlocked, Latency: 80 * time.Microsecond,
			User: "ana@example.com", Team: "data", Agent: "claude-code", Decision: "block", Reason: "secret in arguments",
			Findings: []Finding{{Rule: "github-pat", Path: "$.arguments.q"}}},
		{Time: t0.Add(time.Hour), Method: "tools/call", Server: "memory", Tool: "memory__read_graph", Status: StatusTimeout, Latency: 30 * time.Second,
			User: "ana@example.com", Team: "data", Agent: "vscode", Error: "timed out after 30s"},
		{Time: t0.Add(2 * time.Hour), Method: "tools/call", Server: "memory", Tool: "memory__store", Status: StatusCancelled, Latency: 500 * time.Millisecond,
			User: "carl@example.com", Team: "ops", Agent: "claude-code"},
		{Time: t0.Add(24 * time.Hour), Method: "tools/call", Server: "search", Tool: "search__web", Status: StatusUnavailable,
			User: "carl@example.com", Team: "ops", Agent: "codex", Error: "server search is not running"},
		{Time: t0.Add(25 * time.Hour), Method: "tools/call", Server: "fx", Tool: "fx__echo", Status: StatusError, Latency: 5 * time.Millisecond,
			User: "ana@example.com", Team: "data", Agent: "claude-code", Error: "invalid params: 100% wrong"},
		{Time: t0.Add(48 * time.Hour), Method: "tools/call", Server: "fx", Tool: "fx__echo", Status: StatusOK, Latency: 3 * time.Millisecond,
			User: "ana@example.com", Team: "data", Agent: "claude-code", Args: `{"text":"a NEEDLE in a haystack"}`},
		{Time: t0.Add(48*time.Hour + time.Minute), Method: "resources/read", Server: "fs", Tool: "file:///tmp/a/b.txt", Status: StatusOK, Latency: 4 * time.Millisecond,
			User: "ana@example.com", Team: "data", Agent: "claude-code"},
	}
}

func seed(t testing.TB, calls []Call) *DB {
	t.Helper()
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "mcpgw.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Insert(ctx, calls); err != nil {
		t.Fatal(err)
	}
	return db
}

func ids(calls []Call) []int64 {
	out := []int64{}
	for _, c := range calls {
		out = append(out, c.ID)
	}
	return out
}

func TestQueryFilters(t *testing.T) {
	db := seed(t, fixture())
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		f    Filter
		want []int64
	}{
		{"all newest first", Filter{}, []int64{10, 9, 8, 7, 6, 5, 4, 3, 2, 1}},
		{"server exact", Filter{Servers: []string{"fx"}}, []int64{9, 8, 2, 1}},
		{"servers exact list", Filter{Servers: []string{"fx", "search"}}, []int64{9, 8, 7, 2, 1}},
		{"server glob", Filter{Servers: []string{"g*"}}, []int64{4, 3}},
		{"server class", Filter{Servers: []string{"[fm]*"}}, []int64{10, 9, 8, 6, 5, 2, 1}},
		{"server negated class", Filter{Servers: []string{"[^fm]*"}}, []int64{7, 4, 3}},
		{"server ? and literal mixed", Filter{Servers: []string{"f?", "search"}}, []int64{10, 9, 8, 7, 2, 1}},
		{"tool glob", Filter{Tools: []string{"*__echo"}}, []int64{9, 8, 1}},
		{"tool star does not cross slash", Filter{Tools: []string{"file:///*"}}, []int64{}},
		{"tool uri glob", Filter{Tools: []string{"file:///*/*/*.txt"}}, []int64{10}},
		{"tool escaped star is literal", Filter{Tools: []string{`fx\*`}}, []int64{}},
		{"tool escaped letters", Filter{Tools: []string{`fx\_\_add`}}, []int64{2}},
		{"status", Filter{Statuses: []Status{StatusDenied, StatusBlocked}}, []int64{4, 3}},
		{"user", Filter{Users: []string{"carl@example.com"}}, []int64{7, 6}},
		{"user glob", Filter{Users: []string{"b*@example.com"}}, []int64{3, 2}},
		{"team", Filter{Teams: []string{"ops", "web"}}, []int64{7, 6, 3, 2}},
		{"agent", Filter{Agents: []string{"cursor"}}, []int64{3, 2}},
		{"agent glob", Filter{Agents: []string{"c*"}}, []int64{10, 9, 8, 7, 6, 4, 3, 2, 1}},
		{"since inclusive", Filter{Since: t0.Add(24 * time.Hour)}, []int64{10, 9, 8, 7}},
		{"until exclusive", Filter{Until: t0.Add(2 * time.Minute)}, []int64{2, 1}},
		{"since and until", Filter{Since: t0.Add(time.Hour), Until: t0.Add(25 * time.Hour)}, []int64{7, 6, 5}},
		{"min latency", Filter{MinLatency: 5 * time.Millisecond}, []int64{8, 6, 5}},
		{"grep args, any case", Filter{Grep: "needle"}, []int64{9}},
		{"grep error", Filter{Grep: "DIVISION"}, []int64{2}},
		{"grep tool", Filter{Grep: "read_graph"}, []int64{5}},
		{"grep reason", Filter{Grep: "secret in"}, []int64{4}},
		{"grep result", Filter{Grep: `"type":"text"`}, []int64{1}},
		{"grep percent is literal", Filter{Grep: "100%"}, []int64{8}},
		{"grep underscore is literal", Filter{Grep: "a_b"}, []int64{}},
		{"limit", Filter{Limit: 3}, []int64{10, 9, 8}},
		{"limit counts glob matches", Filter{Tools: []string{"fx__*"}, Limit: 2}, []int64{9, 8}},
		{"after id oldest first", Filter{AfterID: 6}, []int64{7, 8, 9, 10}},
		{"after id with limit and filter", Filter{AfterID: 1, Servers: []string{"f*"}, Limit: 2}, []int64{2, 8}},
		{"fields combine", Filter{Servers: []string{"fx"}, Users: []string{"ana@example.com"}, Statuses: []Status{StatusOK}}, []int64{9, 1}},
		{"injection is a value", Filter{Servers: []string{"fx' OR '1'='1"}}, []int64{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := db.Query(ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, ids(got)); diff != "" {
				t.Errorf("ids (-want +got):\n%s", diff)
			}
		})
	}
}

func TestQueryReturnsWholeCalls(t *testing.T) {
	want := fixture()
	db := seed(t, want)
	got, err := db.Query(context.Background(), Filter{Statuses: []Status{StatusBlocked}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("got %d calls", len(got))
	}
	if diff := cmp.Diff(want[3], got[0]); diff != "" {
		t.Errorf("call (-want +got):\n%s", diff)
	}
}

func TestFilterValidate(t *testing.T) {
	db := seed(t, nil)
	for _, tc := range []struct {
		f    Filter
		want string
	}{
		{Filter{Servers: []string{"[fx"}}, `server pattern "[fx"`},
		{Filter{Tools: []string{`a\`}}, `tool pattern "a\\"`},
		{Filter{Agents: []string{"[]"}}, `agent pattern "[]"`},
		{Filter{Statuses: []Status{"nope"}}, `unknown status "nope"; statuses are ok, tool_error`},
		{Filter{Limit: -1}, "negative"},
	} {
		_, err := db.Query(context.Background(), tc.f)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Query(%+v) = %v; want an error containing %q", tc.f, err, tc.want)
		}
	}
}

func TestGlobSuperset(t *testing.T) {
	for in, want := range map[string]string{
		"fx":          "fx",
		"fx*":         "fx*",
		"f?x":         "f?x",
		"[abc]x":      "?x",
		"[^a-c]x":     "?x",
		`[\]a]x`:      "?x",
		`a\*b`:        "a[*]b",
		`a\?b\[c\]d`:  "a[?]b[[]c]d",
		`\a\b`:        "ab",
		"ü*[ä]":       "ü*?",
		"github__*_x": "github__*_x",
	} {
		if got := globSuperset(in); got != want {
			t.Errorf("globSuperset(%q) = %q; want %q", in, got, want)
		}
	}
}

func TestQueryPlansUseIndexes(t *testing.T) {
	db := seed(t, fixture())
	for _, tc := range []struct {
		f    Filter
		want string
	}{
		{Filter{Limit: 50}, "calls_ts"},
		{Filter{Since: t0, Tools: []string{"fx__*"}, Grep: "x"}, "calls_ts"},
		{Filter{Servers: []string{"fx"}}, "calls_server_ts"},
		{Filter{AfterID: 5}, "INTEGER PRIMARY KEY"},
	} {
		c, err := tc.f.compile()
		if err != nil {
			t.Fatal(err)
		}
		order := " ORDER BY ts DESC, id DESC"
		if tc.f.AfterID > 0 {
			order = " ORDER BY id"
		}
		rows, err := db.sql.Query("EXPLAIN QUERY PLAN SELECT "+callColumns+" FROM calls"+c.where+order, c.args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, notused int
			var detail string
			rows.Scan(&id, &parent, &notused, &detail)
			plan = append(plan, detail)
		}
		rows.Close()
		if !strings.Contains(strings.Join(plan, "; "), tc.want) {
			t.Errorf("plan for %+v = %q; want it to use %s", tc.f, plan, tc.want)
		}
	}
}

func TestLastID(t *testing.T) {
	db := seed(t, nil)
	ctx := context.Background()
	if id, err := db.LastID(ctx); err != nil || id != 0 {
		t.Fatalf("LastID of an empty record = %d, %v", id, err)
	}
	db.Insert(ctx, fixture())
	if id, err := db.LastID(ctx); err != nil || id != int64(len(fixture())) {
		t.Fatalf("LastID = %d, %v; want %d", id, err, len(fixture()))
	}
}

func TestQueryEachStopsOnError(t *testing.T) {
	db := seed(t, fixture())
	stop := fmt.Errorf("enough")
	n := 0
	err := db.QueryEach(context.Background(), Filter{}, func(Call) error {
		n++
		if n == 2 {
			return stop
		}
		return nil
	})
	if err != stop || n != 2 {
		t.Errorf("QueryEach = %v after %d calls; want %v after 2", err, n, stop)
	}
}

// TestQueryPages reads across page boundaries, with runs of calls at the
// same microsecond, so the keyset cursor must use the id as a tie-break.
func TestQueryPages(t *testing.T) {
	var calls []Call
	n := 3*queryPage + 17
	for i := range n {
		s := "a"
		if i%4 == 0 {
			s = "b"
		}
		calls = append(calls, Call{Time: t0.Add(time.Duration(i/5) * time.Second), Method: "tools/call", Server: s, Tool: s + "__t", Status: StatusOK})
	}
	db := seed(t, calls)
	ctx := context.Background()
	want := func(keep func(id int64) bool, desc bool, limit int) []int64 {
		out := []int64{}
		for i := range n {
			id := int64(i + 1)
			if keep(id) {
				out = append(out, id)
			}
		}
		if desc {
			slices.SortFunc(out, func(a, b int64) int {
				ta, tb := (a-1)/5, (b-1)/5
				if ta != tb {
					return int(tb - ta)
				}
				return int(b - a)
			})
		}
		if limit > 0 && len(out) > limit {
			out = out[:limit]
		}
		return out
	}
	all := func(int64) bool { return true }
	isB := func(id int64) bool { return (id-1)%4 == 0 }
	for _, tc := range []struct {
		name string
		f    Filter
		want []int64
	}{
		{"all", Filter{}, want(all, true, 0)},
		{"limit across pages", Filter{Limit: queryPage + 3}, want(all, true, queryPage+3)},
		{"exact filter", Filter{Servers: []string{"b"}}, want(isB, true, 0)},
		{"glob filter with limit", Filter{Tools: []string{"b__*"}, Limit: queryPage - 1}, want(isB, true, queryPage-1)},
		{"after id", Filter{AfterID: 100}, want(func(id int64) bool { return id > 100 }, false, 0)},
		{"after id with glob and limit", Filter{AfterID: 5, Servers: []string{"[b]"}, Limit: queryPage}, want(func(id int64) bool { return id > 5 && isB(id) }, false, queryPage)},
	} {
		got, err := db.Query(ctx, tc.f)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tc.want, ids(got)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, diff)
		}
	}
}

// TestQueryEachHoldsNoSnapshot checks that a slow consumer does not keep a
// read transaction open: a writer can reset the WAL meanwhile.
func TestQueryEachHoldsNoSnapshot(t *testing.T) {
	var calls []Call
	for i := range 2 * queryPage {
		calls = append(calls, Call{Time: t0.Add(time.Duration(i) * time.Second), Method: "tools/call", Status: StatusOK})
	}
	w := seed(t, calls)
	ctx := context.Background()
	r, err := Open(ctx, w.Path(), &OpenOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	checked := false
	err = r.QueryEach(ctx, Filter{}, func(Call) error {
		if checked {
			return nil
		}
		checked = true
		if err := w.Insert(ctx, calls[:1]); err != nil {
			return err
		}
		var busy, logFrames, done int
		if err := w.sql.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &logFrames, &done); err != nil {
			return err
		}
		if busy != 0 {
			t.Errorf("checkpoint busy while a reader consumes rows: busy=%d log=%d done=%d", busy, logFrames, done)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
