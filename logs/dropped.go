package logs

import (
	"context"
	"fmt"
	"time"
)

// DroppedTotals are the records lost over the database's life, as the
// recorders that lost them wrote them down (see [Recorder]).
type DroppedTotals struct {
	Total     int64            // over every process
	Processes []DroppedProcess // the last loss first
}

// DroppedProcess is what one recorder lost.
type DroppedProcess struct {
	PID     int
	Started time.Time // when its recorder started; tells a reused pid apart
	Count   int64
	Last    time.Time // the last loss
	Reason  string    // why the last one was lost
}

// Dropped returns the records recorders could not write, per process.
// Losses a recorder has not been able to write down yet (the database is
// still failing) are not in it; that process reports them on its stderr.
func (db *DB) Dropped(ctx context.Context) (DroppedTotals, error) {
	var t DroppedTotals
	rows, err := db.sql.QueryContext(ctx, "SELECT pid, started, count, last, reason FROM dropped ORDER BY last DESC, pid")
	if err != nil {
		return t, fmt.Errorf("reading the dropped-record counts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			p             DroppedProcess
			started, last int64
		)
		if err := rows.Scan(&p.PID, &started, &p.Count, &last, &p.Reason); err != nil {
			return t, fmt.Errorf("reading the dropped-record counts: %w", err)
		}
		p.Started = time.UnixMicro(started).UTC()
		p.Last = time.UnixMicro(last).UTC()
		t.Total += p.Count
		t.Processes = append(t.Processes, p)
	}
	if err := rows.Err(); err != nil {
		return t, fmt.Errorf("reading the dropped-record counts: %w", err)
	}
	return t, nil
}

// addDropped adds n to the count of the recorder (pid, started). Recorders
// call it with what they lost since their last successful call, so a
// failure here just leaves the losses for the next try.
func (db *DB) addDropped(ctx context.Context, pid int, started time.Time, n int64, last time.Time, reason string) error {
	_, err := db.sql.ExecContext(ctx, `INSERT INTO dropped (pid, started, count, last, reason) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (pid, started) DO UPDATE SET count = count + excluded.count,
			last = max(last, excluded.last), reason = excluded.reason`,
		pid, started.UnixMicro(), n, last.UnixMicro(), reason)
	if err != nil {
		return fmt.Errorf("writing the dropped-record count: %w", err)
	}
	return nil
}
