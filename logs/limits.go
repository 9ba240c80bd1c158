package logs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/mcpgw/mcpgw/policy/limits"
)

var _ limits.Store = (*DB)(nil)

// Take implements [limits.Store] over the limits table, so a rate limit
// holds across every mcpgw process writing this record: the buckets are
// read, refilled and taken from in one immediate transaction (the write
// lock is taken first, so two processes never both see the last token).
// Nothing is taken when any bucket is empty.
func (db *DB) Take(ctx context.Context, now time.Time, bs []limits.Bucket) (refused int, wait time.Duration, err error) {
	tx, err := db.sql.BeginTx(ctx, nil) // _txlock=immediate
	if err != nil {
		return 0, 0, fmt.Errorf("rate limits: %w", err)
	}
	defer tx.Rollback()
	have := make([]float64, len(bs))
	stamp := make([]int64, len(bs))
	for i, b := range bs {
		var tokens float64
		var updated int64
		err := tx.QueryRowContext(ctx, "SELECT tokens, updated FROM limits WHERE bucket = ?", b.Key).Scan(&tokens, &updated)
		var last time.Time
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return 0, 0, fmt.Errorf("rate limits: %w", err)
		default:
			last = time.UnixMicro(updated)
		}
		// Another process's clock a little ahead must not refill the
		// bucket twice: it is stamped no earlier than it was.
		stamp[i] = max(now.UnixMicro(), updated)
		have[i], wait = limits.Fill(tokens, last, now, b.Rate, b.Burst)
		if wait > 0 {
			return i, wait, nil
		}
	}
	for i, b := range bs {
		if _, err := tx.ExecContext(ctx, `INSERT INTO limits (bucket, tokens, updated) VALUES (?, ?, ?)
			ON CONFLICT (bucket) DO UPDATE SET tokens = excluded.tokens, updated = excluded.updated`,
			b.Key, have[i]-1, stamp[i]); err != nil {
			return 0, 0, fmt.Errorf("rate limits: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, 0, fmt.Errorf("rate limits: %w", err)
	}
	return -1, 0, nil
}
