// Package limits is the call path's rate-limit stage: token buckets per
// (limit, caller key), where the key is the call's user, team, server or
// server and tool, as each limit's scope says.
//
// The buckets live in a [Store]. The gateway's store is the record
// database, so a limit holds across every mcpgw process of the user on the
// machine; without a record, [Memory] keeps them in the process
// (golang.org/x/time/rate).
package limits

import (
	"context"
	"fmt"
	"path"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/mcpgw/mcpgw/mux/callpath"
)

// Scope is what a limit counts per.
type Scope string

// The scopes of a limit.
const (
	User   Scope = "user"   // per user; calls with no user are not limited
	Team   Scope = "team"   // per team; calls with no team are not limited
	Server Scope = "server" // per server
	Tool   Scope = "tool"   // per tool of a server (tools/call only)
)

// Rate is N calls per period.
type Rate struct {
	N   int
	Per time.Duration // time.Second, time.Minute or time.Hour
}

// ParseRate reads N/s, N/m or N/h (also N/sec, N/min, N/hour).
func ParseRate(s string) (Rate, error) {
	num, unit, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return Rate{}, fmt.Errorf("rate %q: write N/s, N/m or N/h, e.g. 60/m", s)
	}
	n, err := strconv.Atoi(strings.TrimSpace(num))
	if err != nil || n <= 0 {
		return Rate{}, fmt.Errorf("rate %q: %q is not a positive whole number of calls; write N/s, N/m or N/h, e.g. 60/m", s, num)
	}
	var per time.Duration
	switch strings.TrimSpace(unit) {
	case "s", "sec", "second":
		per = time.Second
	case "m", "min", "minute":
		per = time.Minute
	case "h", "hour":
		per = time.Hour
	default:
		return Rate{}, fmt.Errorf("rate %q: unknown period %q; use s, m or h, e.g. 5/s, 60/m, 1000/h", s, unit)
	}
	return Rate{N: n, Per: per}, nil
}

// String is the rate as written: 5/s, 60/m, 1000/h.
func (r Rate) String() string {
	u := "s"
	switch r.Per {
	case time.Minute:
		u = "m"
	case time.Hour:
		u = "h"
	}
	return strconv.Itoa(r.N) + "/" + u
}

// PerSecond is the refill rate in tokens per second.
func (r Rate) PerSecond() float64 { return float64(r.N) / r.Per.Seconds() }

// Rule is one limit, as configured.
type Rule struct {
	// ID names the limit in the record and in messages: limits[2].
	ID    string
	Scope Scope
	// Server and Tool, when set, are globs (path.Match) narrowing which
	// calls the limit counts: the server's name, the server's own tool
	// name. A Tool narrows the limit to tools/call.
	Server, Tool string
	Rate         Rate
	// Burst is how many calls may come at once; 0 means Rate.N.
	Burst int
}

// burst is the bucket's size.
func (r *Rule) burst() int {
	if r.Burst > 0 {
		return r.Burst
	}
	return r.Rate.N
}

// Bucket is one token bucket a call takes a token from.
type Bucket struct {
	// Key identifies the bucket across processes: the limit's definition
	// (scope, globs) and the caller's key; not its position in the file,
	// nor its rate, so a rate edited live keeps the bucket's state.
	Key string
	// Rate is the refill in tokens per second; Burst the bucket's size.
	Rate  float64
	Burst float64
}

// Store takes one token from each bucket, all or none.
type Store interface {
	// Take returns refused = -1 when every bucket had a token (and takes
	// them), else the index of a bucket that had none and how long until
	// it has one (and takes nothing).
	Take(ctx context.Context, now time.Time, buckets []Bucket) (refused int, wait time.Duration, err error)
}

// Fill is the token-bucket arithmetic every store shares: a bucket that
// held tokens at last holds, at now, tokens refilled at rate per second up
// to burst. Taking one leaves the result minus one; when it holds less
// than one, wait is how long until it holds one. A bucket never seen
// (last zero) is full. A clock that went back refills nothing.
func Fill(tokens float64, last, now time.Time, rate, burst float64) (have float64, wait time.Duration) {
	if last.IsZero() {
		tokens = burst
	} else if dt := now.Sub(last); dt > 0 {
		tokens += dt.Seconds() * rate
	}
	if tokens > burst {
		tokens = burst
	}
	if tokens >= 1 {
		return tokens, 0
	}
	return tokens, time.Duration((1 - tokens) / rate * float64(time.Second))
}

// Stage is the rate-limit stage. Its zero value limits nothing; Update
// sets the limits, at once for every session.
type Stage struct {
	Store Store
	// OnError is told when the store fails; the call is then checked
	// against Fallback (a store in the process), so a broken record
	// never stops calls nor lets a flood through unlimited.
	OnError  func(error)
	Fallback Store
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	rules atomic.Pointer[[]Rule]
}

var _ callpath.RequestStage = (*Stage)(nil)

// Update replaces the limits.
func (s *Stage) Update(rules []Rule) {
	rs := append([]Rule(nil), rules...)
	s.rules.Store(&rs)
}

// Name implements [callpath.Stage].
func (*Stage) Name() string { return "limits" }

// match is a call's bucket of one rule.
type match struct {
	rule *Rule
	key  string // the caller's key: user, team, server or server/tool
}

// matches lists the buckets c takes a token from.
func matches(rules []Rule, c *callpath.Call) []match {
	var ms []match
	for i := range rules {
		r := &rules[i]
		if r.Server != "" && !globMatch(r.Server, c.Server) {
			continue
		}
		if (r.Tool != "" || r.Scope == Tool) && c.Kind != callpath.ToolCall {
			continue
		}
		if r.Tool != "" && !globMatch(r.Tool, c.Name) {
			continue
		}
		var key string
		switch r.Scope {
		case User:
			key = c.Identity.User
		case Team:
			key = c.Identity.Team
		case Server:
			key = c.Server
		case Tool:
			key = c.Server + "/" + c.Name
		}
		if key == "" {
			continue // no user (team) known: not limited per user (team)
		}
		ms = append(ms, match{r, key})
	}
	return ms
}

func globMatch(pattern, name string) bool {
	ok, _ := path.Match(pattern, name)
	return ok
}

// bucket is m's bucket.
func (m match) bucket() Bucket {
	return Bucket{
		Key:   strings.Join([]string{string(m.rule.Scope), m.rule.Server, m.rule.Tool, m.key}, "\x1f"),
		Rate:  m.rule.Rate.PerSecond(),
		Burst: float64(m.rule.burst()),
	}
}

// CheckRequest implements [callpath.RequestStage]. A call no limit counts
// goes on at once. One that some limit counts is held, so that the store
// (a database transaction) is never waited for on a connection's reader;
// with an in-process store it is decided at once.
func (s *Stage) CheckRequest(ctx context.Context, c *callpath.Call) *callpath.Verdict {
	rp := s.rules.Load()
	if rp == nil || len(*rp) == 0 || c.Kind.FromServer() {
		return nil
	}
	ms := matches(*rp, c)
	if len(ms) == 0 {
		return nil
	}
	if _, local := s.Store.(*Memory); local || s.Store == nil {
		return s.check(ctx, c, ms)
	}
	return &callpath.Verdict{Hold: func(ctx context.Context) *callpath.Verdict { return s.check(ctx, c, ms) }}
}

// check takes the call's tokens.
func (s *Stage) check(ctx context.Context, c *callpath.Call, ms []match) *callpath.Verdict {
	bs := make([]Bucket, len(ms))
	for i, m := range ms {
		bs[i] = m.bucket()
	}
	now := time.Now()
	if s.Now != nil {
		now = s.Now()
	}
	st := s.Store
	if st == nil {
		st = s.Fallback
	}
	refused, wait, err := st.Take(ctx, now, bs)
	if err != nil {
		if s.OnError != nil {
			s.OnError(err)
		}
		if s.Fallback == nil {
			return nil
		}
		if refused, wait, err = s.Fallback.Take(ctx, now, bs); err != nil {
			return nil
		}
	}
	if refused < 0 {
		return nil
	}
	return Refusal(ms[refused].rule, ms[refused].key, wait)
}

// Refusal is the verdict of a call rule r refused for key, to retry after
// wait.
func Refusal(r *Rule, key string, wait time.Duration) *callpath.Verdict {
	var what string
	switch r.Scope {
	case Tool:
		srv, tool, _ := strings.Cut(key, "/")
		what = fmt.Sprintf("tool %s of server %s", tool, srv)
	default:
		what = string(r.Scope) + " " + key
	}
	return &callpath.Verdict{
		Status:   callpath.Blocked,
		Decision: "limit",
		Rule:     r.ID,
		Reason:   fmt.Sprintf("rate limit %s for %s reached (%s); retry in %s", r.Rate, what, r.ID, RetryIn(wait)),
	}
}

// RetryIn writes a wait the way people read it: 0.4s, 12s, 3m20s, 5m, 1h.
func RetryIn(d time.Duration) string {
	switch {
	case d < 100*time.Millisecond:
		return "0.1s"
	case d < 10*time.Second:
		// Rounded up, so a retry at the time given succeeds.
		return strconv.FormatFloat(float64((d+99*time.Millisecond)/(100*time.Millisecond))/10, 'f', -1, 64) + "s"
	default:
		t := ((d + time.Second - 1) / time.Second * time.Second).String()
		if strings.HasSuffix(t, "m0s") {
			t = strings.TrimSuffix(t, "0s")
		}
		if strings.HasSuffix(t, "h0m") {
			t = strings.TrimSuffix(t, "0m")
		}
		return t
	}
}
