package logs

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// run is the recorder's writer: it waits for entries, gives a batch
// FlushInterval to fill unless it is full or someone waits on it, and
// writes it. It returns when the recorder is closing and the queue is
// empty.
func (r *Recorder) run() {
	defer close(r.stopped)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	var deadline time.Time // when the current batch is due
	for {
		r.mu.Lock()
		n, closing := len(r.pending), r.closing
		urgent := closing || r.syncs > 0 || n >= r.batch
		r.mu.Unlock()
		switch {
		case n == 0 && closing:
			return
		case n == 0:
			deadline = time.Time{}
			<-r.wake
			continue
		case !urgent:
			now := time.Now()
			if deadline.IsZero() {
				deadline = now.Add(r.interval)
			}
			if wait := deadline.Sub(now); wait > 0 {
				timer.Reset(wait)
				select {
				case <-r.wake: // a full batch, a RecordSync or Close: look again
					timer.Stop()
					continue
				case <-timer.C:
				}
			}
		}
		deadline = time.Time{}
		r.flush()
	}
}

// flush writes everything queued, BatchSize calls per transaction. It swaps
// the queue for an empty buffer, so Record never waits for a write.
func (r *Recorder) flush() {
	r.mu.Lock()
	all := r.pending
	r.pending, r.spare = r.spare[:0], nil
	r.inflight += len(all)
	r.syncs = 0
	r.mu.Unlock()
	for items := all; len(items) > 0; {
		k := min(len(items), r.batch)
		r.write(items[:k])
		items = items[k:]
	}
	clear(all) // the payloads and Calls are garbage now
	if cap(all) <= 4*r.batch {
		// A buffer that grew in a burst is let go rather than kept.
		r.mu.Lock()
		r.spare = all[:0]
		r.mu.Unlock()
	}
}

// write writes one batch, retrying, and accounts for it.
func (r *Recorder) write(items []item) {
	var (
		bytes int64
		err   error
	)
	for i := range items {
		bytes += int64(len(items[i].Args) + len(items[i].Result))
	}
	if err = r.ctx.Err(); err != nil {
		err = fmt.Errorf("the recorder was closed before these calls were written: %w", err)
	} else if err = r.prepare(items); err == nil {
		err = r.insert(r.calls)
	}
	clear(r.calls)
	r.calls = r.calls[:0]
	r.mu.Lock()
	r.inflight -= len(items)
	r.bytes -= bytes
	if err == nil {
		// Under the lock, so Close's count of what it flushed is exact.
		r.recorded.Add(int64(len(items)))
	}
	r.mu.Unlock()
	if err != nil {
		r.setLastError(err)
		r.drop(len(items), err)
	} else {
		r.saveDrops(r.ctx)
	}
	for i := range items {
		if d := items[i].done; d != nil {
			d <- err // buffered: never blocks
		}
	}
}

// prepare fills r.calls with the stored form of items and lets go of the
// raw payloads. A panic (in a Redactor, say) fails the batch rather than
// the process.
func (r *Recorder) prepare(items []item) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("preparing calls for the record: panic: %v", p)
		}
	}()
	for i := range items {
		r.calls = append(r.calls, r.stored(&items[i].Entry))
		items[i].Args, items[i].Result = nil, nil
	}
	return nil
}

// stored returns the call as the record keeps it.
func (r *Recorder) stored(e *Entry) Call {
	c := e.Call
	if c.Time.IsZero() {
		c.Time = time.Now()
	}
	if c.PID == 0 {
		c.PID = r.pid
	}
	p := &r.policy
	c.Args, c.ArgsSize, c.ArgsHash = p.apply(e.Args)
	c.Result, c.ResultSize, c.ResultHash = p.apply(e.Result)
	if c.Status == StatusToolError && c.Error == "" && p.mode != PayloadsNone {
		// The tool's own words are the error (masked below with the rest);
		// with payloads: none they are payload, and not kept.
		c.Error = toolErrorText(e.Result)
	}
	if p.redactor == nil {
		return c
	}
	// Secrets can turn up in any text: a token in a resource URI, an
	// error quoting a header. Cheap when nothing matches.
	for _, s := range []*string{&c.Session, &c.Agent, &c.AgentVersion, &c.User, &c.Team, &c.Profile, &c.Method,
		&c.Server, &c.Tool, &c.ToolOriginal, &c.Error, &c.Decision, &c.Rule, &c.Reason} {
		*s = p.redactString(*s)
	}
	// The caller's slices may be shared with other calls: copy, never
	// write into them.
	if slices.ContainsFunc(c.Roles, func(s string) bool { return p.redactString(s) != s }) {
		c.Roles = slices.Clone(c.Roles)
		for i := range c.Roles {
			c.Roles[i] = p.redactString(c.Roles[i])
		}
	}
	if slices.ContainsFunc(c.Findings, func(f Finding) bool { return p.redactString(f.Rule) != f.Rule || p.redactString(f.Path) != f.Path }) {
		c.Findings = slices.Clone(c.Findings)
		for i := range c.Findings {
			c.Findings[i].Rule, c.Findings[i].Path = p.redactString(c.Findings[i].Rule), p.redactString(c.Findings[i].Path)
		}
	}
	return c
}

// insert writes calls in one transaction, trying again after each of
// r.waits. Every attempt has already waited busy_timeout for another
// process's lock, so SQLITE_BUSY here means a lock held for very long.
func (r *Recorder) insert(calls []Call) error {
	var err error
	for attempt := 0; ; attempt++ {
		if err = r.db.Insert(r.ctx, calls); err == nil {
			return nil
		}
		if r.ctx.Err() != nil {
			return fmt.Errorf("the recorder was closed before these calls were written: %w", err)
		}
		r.setLastError(err)
		if attempt == len(r.waits) {
			what := "a call"
			if len(calls) > 1 {
				what = fmt.Sprintf("a batch of %d calls", len(calls))
			}
			return fmt.Errorf("could not write %s to %s (%d attempts): %s: %w", what, r.db.path, attempt+1, why(err), err)
		}
		select {
		case <-time.After(r.waits[attempt]):
		case <-r.ctx.Done():
			return fmt.Errorf("the recorder was closed before these calls were written: %w", err)
		}
	}
}

// notDatabase reports whether err is SQLite's "not a database" or
// "corrupt": a file that no retry or migration will make a record.
func notDatabase(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB:
			return true
		}
	}
	return false
}

// why says in a user's words why SQLite failed.
func why(err error) string {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff { // primary code
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return "another writer held the database's write lock too long"
		case sqlite3.SQLITE_FULL:
			return "the disk (or the database's size limit) is full"
		case sqlite3.SQLITE_READONLY:
			return "the database is read-only"
		case sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB:
			return "the database is corrupt; move it aside and mcpgw starts a new one"
		case sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN:
			return "the database file cannot be read or written"
		}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "it took too long"
	}
	return "the database failed"
}
