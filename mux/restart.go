package mux

// A downstream's life: start attempts, serving, and restarts with backoff.
// run is the loop; each step it takes has a name below.

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgw/mcpgw/mux/oauth"
	"github.com/mcpgw/mcpgw/mux/proc"
)

// A server that ran at least this long before it stopped is restarted at
// once; one that stops sooner is in a crash loop and backs off.
const stableRun = 10 * time.Second

// maxFailures is how many failures in a row (failed starts, or crashes
// before a stable run) a server's tools stay listed through while it
// restarts; then it is taken out of the catalog (the agent gets
// list_changed) until a restart succeeds. One crash does not make an
// agent's tools flicker.
const maxFailures = 3

// restartPolicy is a server's failures in a row and the wait before its
// next attempt: 1 s, doubling to 30 s, back to 1 s once it starts.
type restartPolicy struct {
	failures int
	backoff  time.Duration
}

func (r *restartPolicy) failed() int { r.failures++; return r.failures }
func (r *restartPolicy) started()    { r.backoff = time.Second }

// wait waits out the backoff, or less when asked to try again now (a
// login just stored: see [downstream.retryNow]); false when ctx ended
// first. woken is the asker's channel, to close once the attempt ended.
func (r *restartPolicy) wait(ctx context.Context, retry <-chan chan struct{}) (ok bool, woken chan struct{}) {
	select {
	case <-ctx.Done():
		return false, nil
	case woken = <-retry:
		return true, woken
	case <-time.After(r.backoff):
	}
	r.backoff = min(r.backoff*2, 30*time.Second)
	return true, nil
}

// run starts the server, serves it until its session ends, and restarts
// it, until ctx ends.
func (d *downstream) run(ctx context.Context) {
	defer close(d.done)
	r := restartPolicy{backoff: time.Second}
	var woken chan struct{}
	for first := true; ; first = false {
		if !first {
			d.beginAttempt()
		}
		cs, child, err := d.tryStart(ctx)
		if err != nil && ctx.Err() != nil {
			d.endAttempt()
			return
		}
		if err != nil {
			d.startFailed(err, r.failed(), first)
		} else {
			d.becomeReady(ctx, cs, child)
			r.started()
		}
		d.attemptEnded(first)
		if woken != nil {
			close(woken)
			woken = nil
		}
		ranWell := false
		if err == nil {
			readyAt := time.Now()
			werr, stopping := d.serve(ctx, cs, child)
			if stopping {
				return
			}
			if ranWell = time.Since(readyAt) >= stableRun; ranWell {
				r.failures = 0
			}
			if !d.stopped(ctx, child, werr, r.failed()) {
				return
			}
		}
		d.mu.Lock()
		d.restarts++
		d.mu.Unlock()
		d.gw.status.changed()
		if ranWell {
			continue // it ran well: restart at once
		}
		var ok bool
		if ok, woken = r.wait(ctx, d.retry); !ok {
			return
		}
	}
}

// tryStart starts (or dials) the server and lists its catalog, each under
// the connect timeout.
func (d *downstream) tryStart(ctx context.Context) (*mcp.ClientSession, *proc.Process, error) {
	cs, child, err := d.connect(ctx)
	if err != nil {
		return nil, nil, err
	}
	if err := d.firstList(ctx, cs, child); err != nil {
		closeSession(cs, child)
		return nil, nil, err
	}
	return cs, child, nil
}

// startFailed records a failed start attempt, the failures-th in a row.
func (d *downstream) startFailed(err error, failures int, first bool) {
	err = d.gw.redactErr(err)
	if nl := d.needsLogin(err); nl != nil {
		// Its tools go at once: a call to one must say how to log in,
		// not run against a server that refuses it.
		d.setState(StateNeedsLogin, nl)
		d.mu.Lock()
		d.cached = nil
		d.mu.Unlock()
		d.gw.logger.Warn("server needs a login", "server", d.spec.Name, "err", nl)
		return
	}
	d.setState(StateFailed, err)
	d.gw.logger.Warn("server failed to start", "server", d.spec.Name, "err", err, "failures_in_a_row", failures)
	if !first {
		d.takeOutAfter(failures)
	}
}

// needsLogin returns the login error behind a failed start, or nil when
// the failure was something else.
func (d *downstream) needsLogin(err error) error {
	var nl *oauth.NeedsLoginError
	if errors.As(err, &nl) {
		return nl
	}
	d.mu.Lock()
	auth := d.auth
	d.mu.Unlock()
	if auth != nil {
		return auth.NeedsLogin()
	}
	return nil
}

// lostLogin ends a session whose OAuth login is gone, so the server moves
// to needs_login and its tools leave the catalog at once.
func (d *downstream) lostLogin(err error) {
	d.mu.Lock()
	cs := d.cs
	d.cached = nil
	d.mu.Unlock()
	if cs == nil {
		return // not connected yet: the failed start says it
	}
	d.gw.logger.Warn("server lost its login", "server", d.spec.Name, "err", err)
	cs.Close()
}

// becomeReady makes a started session the one calls use.
func (d *downstream) becomeReady(ctx context.Context, cs *mcp.ClientSession, child *proc.Process) {
	d.mu.Lock()
	d.cs, d.proc = cs, child
	d.cached = nil // the live catalog takes over
	d.level = ""   // a new session has no level yet
	fc := d.nextFast
	d.nextFast = nil
	d.mu.Unlock()
	if fc != nil && !d.gw.opts.NoFastPath {
		d.fast.Store(fc)
	}
	d.setState(StateReady, nil)
	d.applyLogLevel(ctx, cs)
}

// attemptEnded releases whoever waits for the attempt, once the catalog
// includes its outcome; the first attempt's end also retires the catalog
// cached from an earlier run.
func (d *downstream) attemptEnded(first bool) {
	d.gw.rebuild()
	d.endAttempt()
	if !first {
		return
	}
	st := d.status()
	d.mu.Lock()
	d.cached = nil
	d.first = &st
	d.mu.Unlock()
	close(d.settled)
	d.gw.rebuild() // without the cached catalog, if it failed
}

// serve waits for the session to end, and returns how; stopping is set
// when ctx ended first, and the session and process are then stopped.
func (d *downstream) serve(ctx context.Context, cs *mcp.ClientSession, child *proc.Process) (werr error, stopping bool) {
	waited := make(chan error, 1)
	go func() { waited <- cs.Wait() }()
	select {
	case werr = <-waited:
		return werr, false
	case <-ctx.Done():
		closeSession(cs, child)
		<-waited
		d.fast.Store(nil)
		d.mu.Lock()
		d.cs, d.proc, d.snap = nil, nil, nil
		d.mu.Unlock()
		return nil, true
	}
}

// stopped records a session that ended by itself (the failures-th failure
// in a row) and stops its process; false when ctx ended meanwhile.
func (d *downstream) stopped(ctx context.Context, child *proc.Process, werr error, failures int) bool {
	// Until the process is stopped, calls get why the session ended (as
	// far as known yet), not "ready".
	d.setState(StateFailed, stopReason(child, werr))
	d.fast.Store(nil)
	d.mu.Lock()
	d.cs, d.proc = nil, nil
	// The tools stay listed while it restarts, unless it keeps failing
	// (takeOutAfter, below).
	d.cached = d.snap
	d.snap = nil
	d.mu.Unlock()
	if child != nil {
		child.Close()
		d.mu.Lock()
		d.lastStderr = child.StderrTail()
		d.mu.Unlock()
	}
	if ctx.Err() != nil {
		return false
	}
	if nl := d.needsLogin(werr); nl != nil {
		// Ended for a lost login (lostLogin): its tools go now.
		d.mu.Lock()
		d.cached = nil
		d.mu.Unlock()
		d.setState(StateNeedsLogin, nl)
		d.gw.rebuild()
		return true
	}
	reason := stopReason(child, werr)
	d.setState(StateFailed, reason)
	d.gw.logger.Warn("server stopped; restarting", "server", d.spec.Name, "err", reason, "failures_in_a_row", failures)
	d.takeOutAfter(failures)
	d.gw.rebuild()
	return true
}

// takeOutAfter drops the catalog kept for a restarting server once it has
// failed maxFailures times in a row; the caller rebuilds.
func (d *downstream) takeOutAfter(failures int) {
	if failures < maxFailures {
		return
	}
	d.mu.Lock()
	had := d.cached != nil
	d.cached = nil
	d.mu.Unlock()
	if had {
		d.gw.logger.Warn("server taken out of the catalog until a restart succeeds", "server", d.spec.Name, "failures_in_a_row", failures)
	}
}

// stopReason says why a session ended: how its process ended, with its
// last stderr lines, or else the connection's error.
func stopReason(child *proc.Process, werr error) error {
	if child != nil {
		return fmt.Errorf("process %s%s", child.HowEnded(), child.StderrHint())
	}
	return fmt.Errorf("connection closed: %v", werr)
}
