package logs

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// FollowOptions configures [DB.Follow]. The zero value means defaults.
type FollowOptions struct {
	// Interval is how often to look for new calls; zero means 200ms. A look
	// costs one PRAGMA data_version unless another connection committed
	// since the last one.
	Interval time.Duration
}

// Follow reads the calls matching f as they are recorded, by this or any
// other process. First it calls emit with the matching calls already in
// the record (the newest f.Limit of them, 0 for all), oldest first; then,
// every interval, with the matching calls committed since, oldest first
// (f.AfterID and f.Limit do not apply to those). No call is missed or
// repeated: reads go in id windows, and writers commit ids in order.
//
// It returns ctx's error when ctx is done, or emit's error.
func (db *DB) Follow(ctx context.Context, f Filter, opts *FollowOptions, emit func([]Call) error) error {
	interval := 200 * time.Millisecond
	if opts != nil && opts.Interval > 0 {
		interval = opts.Interval
	}
	if _, err := f.compile(); err != nil {
		return err
	}
	// One connection throughout: data_version is per connection.
	conn, err := db.sql.Conn(ctx)
	if err != nil {
		return fmt.Errorf("reading the record: %w", err)
	}
	defer conn.Close()

	version, err := dataVersion(ctx, conn)
	if err != nil {
		return err
	}
	last, err := lastID(ctx, conn)
	if err != nil {
		return err
	}
	backlog := f
	backlog.AfterID = 0
	backlog.upTo, backlog.hasUpTo = last, true
	var calls []Call
	if err := db.queryEach(ctx, conn, backlog, func(c Call) error { calls = append(calls, c); return nil }); err != nil {
		return err
	}
	slices.Reverse(calls)
	if len(calls) > 0 {
		if err := emit(calls); err != nil {
			return err
		}
	}

	next := f
	next.Limit = 0
	next.ascending = true
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
		v, err := dataVersion(ctx, conn)
		if err != nil {
			return err
		}
		if v == version {
			continue
		}
		version = v
		hi, err := lastID(ctx, conn)
		if err != nil {
			return err
		}
		if hi <= last {
			continue
		}
		next.AfterID, next.upTo, next.hasUpTo = last, hi, true
		calls = nil
		if err := db.queryEach(ctx, conn, next, func(c Call) error { calls = append(calls, c); return nil }); err != nil {
			return err
		}
		last = hi
		if len(calls) > 0 {
			if err := emit(calls); err != nil {
				return err
			}
		}
	}
}

func dataVersion(ctx context.Context, q querier) (int64, error) {
	return queryInt(ctx, q, "PRAGMA data_version")
}
