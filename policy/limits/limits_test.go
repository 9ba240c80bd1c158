package limits_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mcpgw/mcpgw/mux/callpath"
	"github.com/mcpgw/mcpgw/policy/limits"
)

func TestParseRate(t *testing.T) {
	for in, want := range map[string]limits.Rate{
		"5/s": {5, time.Second}, "60/m": {60, time.Minute}, " 1000 / h ": {1000, time.Hour}, "2/min": {2, time.Minute},
	} {
		got, err := limits.ParseRate(in)
		if err != nil || got != want {
			t.Errorf("ParseRate(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"5", "5/d", "-1/s", "0/s", "x/s", "/s"} {
		if _, err := limits.ParseRate(in); err == nil {
			t.Errorf("ParseRate(%q): no error", in)
		}
	}
	if s := (limits.Rate{N: 60, Per: time.Minute}).String(); s != "60/m" {
		t.Errorf("String() = %q", s)
	}
}

func TestFill(t *testing.T) {
	t0 := time.Unix(1000, 0)
	// A new bucket is full.
	if have, wait := limits.Fill(0, time.Time{}, t0, 5, 10); have != 10 || wait != 0 {
		t.Errorf("new bucket: %v, %v", have, wait)
	}
	// Refilled at the rate, capped at burst.
	if have, _ := limits.Fill(0, t0, t0.Add(200*time.Millisecond), 5, 10); have != 1 {
		t.Errorf("after 0.2s at 5/s: %v tokens; want 1", have)
	}
	if have, _ := limits.Fill(3, t0, t0.Add(time.Hour), 5, 10); have != 10 {
		t.Errorf("after an hour: %v tokens; want the burst, 10", have)
	}
	// Empty: how long until one token.
	if _, wait := limits.Fill(0.6, t0, t0, 5, 10); wait != 80*time.Millisecond {
		t.Errorf("0.6 tokens at 5/s: wait %v; want 80ms", wait)
	}
	if _, wait := limits.Fill(0, t0, t0, 5.0/60, 5); wait != 12*time.Second {
		t.Errorf("empty at 5/m: wait %v; want 12s", wait)
	}
	// A clock that went back refills nothing.
	if have, _ := limits.Fill(0.5, t0, t0.Add(-time.Minute), 5, 10); have != 0.5 {
		t.Errorf("clock back: %v", have)
	}
}

func TestRetryIn(t *testing.T) {
	for d, want := range map[time.Duration]string{
		time.Millisecond: "0.1s", 350 * time.Millisecond: "0.4s", 400 * time.Millisecond: "0.4s",
		2 * time.Second: "2s", 12*time.Second + time.Millisecond: "13s", 200 * time.Second: "3m20s", 5 * time.Minute: "5m", time.Hour: "1h", 61 * time.Minute: "1h1m",
	} {
		if got := limits.RetryIn(d); got != want {
			t.Errorf("RetryIn(%v) = %q; want %q", d, got, want)
		}
	}
}

type session struct{ callpath.Session }

func call(kind callpath.Kind, server, name, user string) *callpath.Call {
	return &callpath.Call{Kind: kind, Server: server, Name: name, Exposed: name, Identity: callpath.Identity{User: user}, Session: session{}}
}

func TestStage(t *testing.T) {
	ctx := context.Background()
	now := time.Unix(1000, 0)
	s := &limits.Stage{Store: &limits.Memory{}, Now: func() time.Time { return now }}
	if v := s.CheckRequest(ctx, call(callpath.ToolCall, "github", "create_issue", "ana")); v != nil {
		t.Fatalf("no limits: %+v", v)
	}
	s.Update([]limits.Rule{
		{ID: "limits[0]", Scope: limits.User, Rate: limits.Rate{N: 3, Per: time.Minute}},
		{ID: "limits[1]", Scope: limits.Server, Server: "github", Rate: limits.Rate{N: 5, Per: time.Second}, Burst: 2},
		{ID: "limits[2]", Scope: limits.Tool, Server: "git*", Tool: "create_*", Rate: limits.Rate{N: 1, Per: time.Hour}},
	})
	// limits[1]: 2 at once on github, then one every 0.2s.
	for i := range 2 {
		if v := s.CheckRequest(ctx, call(callpath.ResourceRead, "github", "file:///x", "")); v != nil {
			t.Fatalf("read %d: %+v", i, v)
		}
	}
	v := s.CheckRequest(ctx, call(callpath.ResourceRead, "github", "file:///x", ""))
	if !v.Stops() || v.Rule != "limits[1]" || v.Status != callpath.Blocked ||
		v.Reason != "rate limit 5/s for server github reached (limits[1]); retry in 0.2s" {
		t.Fatalf("third read: %+v", v)
	}
	// Another server is not limited by it; no user, no user limit.
	for range 5 {
		if v := s.CheckRequest(ctx, call(callpath.ToolCall, "other", "create_x", "")); v != nil {
			t.Fatalf("other server: %+v", v)
		}
	}
	now = now.Add(time.Second)
	// limits[2], per tool: one create_issue an hour; other tools are not counted.
	if v := s.CheckRequest(ctx, call(callpath.ToolCall, "github", "create_issue", "ana")); v != nil {
		t.Fatalf("first create_issue: %+v", v)
	}
	v = s.CheckRequest(ctx, call(callpath.ToolCall, "github", "create_issue", "ana"))
	if !v.Stops() || v.Rule != "limits[2]" || !strings.Contains(v.Reason, "rate limit 1/h for tool create_issue of server github reached") ||
		!strings.HasSuffix(v.Reason, "retry in 1h") {
		t.Fatalf("second create_issue: %+v", v)
	}
	// The refused call took no token from limits[0] or [1]: ana has 2 left.
	now = now.Add(time.Second)
	for i := range 2 {
		if v := s.CheckRequest(ctx, call(callpath.ToolCall, "github", "list_issues", "ana")); v != nil {
			t.Fatalf("list %d: %+v", i, v)
		}
	}
	v = s.CheckRequest(ctx, call(callpath.PromptGet, "other", "p", "ana"))
	if !v.Stops() || v.Rule != "limits[0]" || !strings.Contains(v.Reason, "rate limit 3/m for user ana reached") {
		t.Fatalf("fourth call of ana: %+v", v)
	}
	// Another user has their own bucket.
	if v := s.CheckRequest(ctx, call(callpath.PromptGet, "other", "p", "bo")); v != nil {
		t.Fatalf("bo: %+v", v)
	}
	// Requests from servers are never limited.
	if v := s.CheckRequest(ctx, call(callpath.Sampling, "github", "", "ana")); v != nil {
		t.Fatalf("sampling: %+v", v)
	}
	// Edited live: a higher rate applies from the next call on, and the
	// bucket keeps its state.
	s.Update([]limits.Rule{{ID: "limits[0]", Scope: limits.User, Rate: limits.Rate{N: 100, Per: time.Second}}})
	if v := s.CheckRequest(ctx, call(callpath.PromptGet, "other", "p", "ana")); !v.Stops() || !strings.Contains(v.Reason, "100/s") {
		t.Fatalf("right after the edit: %+v", v)
	}
	now = now.Add(50 * time.Millisecond)
	if v := s.CheckRequest(ctx, call(callpath.PromptGet, "other", "p", "ana")); v != nil {
		t.Fatalf("after the edit: %+v", v)
	}
}

// slowStore stands for the database: it makes the stage hold the call.
type slowStore struct{ limits.Memory }

func TestStageHoldsForAStoreOffProcess(t *testing.T) {
	s := &limits.Stage{Store: &slowStore{}}
	s.Update([]limits.Rule{{ID: "limits[0]", Scope: limits.Server, Rate: limits.Rate{N: 1, Per: time.Hour}}})
	ctx := context.Background()
	v := s.CheckRequest(ctx, call(callpath.ToolCall, "a", "t", ""))
	if v == nil || v.Hold == nil || v.Stops() {
		t.Fatalf("first: %+v; want a hold", v)
	}
	if d := v.Hold(ctx); d != nil {
		t.Fatalf("first, held: %+v", d)
	}
	if d := s.CheckRequest(ctx, call(callpath.ToolCall, "a", "t", "")).Hold(ctx); !d.Stops() {
		t.Fatalf("second, held: %+v", d)
	}
}

type failing struct{}

func (failing) Take(context.Context, time.Time, []limits.Bucket) (int, time.Duration, error) {
	return 0, 0, context.DeadlineExceeded
}

func TestStageFallsBackWhenTheStoreFails(t *testing.T) {
	var errs int
	s := &limits.Stage{Store: failing{}, Fallback: &limits.Memory{}, OnError: func(error) { errs++ }}
	s.Update([]limits.Rule{{ID: "limits[0]", Scope: limits.Server, Rate: limits.Rate{N: 1, Per: time.Hour}}})
	ctx := context.Background()
	if d := s.CheckRequest(ctx, call(callpath.ToolCall, "a", "t", "")).Hold(ctx); d != nil {
		t.Fatalf("first: %+v", d)
	}
	if d := s.CheckRequest(ctx, call(callpath.ToolCall, "a", "t", "")).Hold(ctx); !d.Stops() {
		t.Fatalf("second: %+v; want the fallback to refuse", d)
	}
	if errs != 2 {
		t.Errorf("OnError called %d times; want 2", errs)
	}
}
