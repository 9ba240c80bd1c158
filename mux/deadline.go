package mux

import (
	"context"
	"sync/atomic"
	"time"
)

// callDeadline is a forwarded call's timeout, pushed back by the server's
// progress: a call times out once its timeout passes with neither an answer
// nor a progress notification, so a long job that reports progress runs as
// long as it needs while a stuck one is still cut off. Every forwarding
// path (SDK, fast, inline, parked for input) uses it.
type callDeadline struct {
	d       time.Duration
	timer   *time.Timer
	expired atomic.Bool
}

// startDeadline calls expire when d passes without a [callDeadline.touch].
func startDeadline(d time.Duration, expire func()) *callDeadline {
	cd := &callDeadline{d: d}
	cd.timer = time.AfterFunc(d, func() {
		cd.expired.Store(true)
		expire()
	})
	return cd
}

// withCallDeadline returns a context cancelled when d passes without a
// touch, and a function that releases it.
func withCallDeadline(ctx context.Context, d time.Duration) (context.Context, *callDeadline, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	cd := startDeadline(d, cancel)
	return ctx, cd, func() {
		cd.stop()
		cancel()
	}
}

// touch pushes the deadline back by the full timeout; it does nothing once
// the call has timed out.
func (cd *callDeadline) touch() {
	if cd != nil && !cd.expired.Load() {
		cd.timer.Reset(cd.d)
	}
}

// stop releases the timer.
func (cd *callDeadline) stop() { cd.timer.Stop() }

// timedOut reports whether the deadline passed.
func (cd *callDeadline) timedOut() bool { return cd != nil && cd.expired.Load() }
