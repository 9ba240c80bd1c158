package logs

import (
	"context"
	"fmt"
	"time"
)

// PruneOptions says which calls [DB.Prune] deletes. Zero values mean no
// bound of that kind.
type PruneOptions struct {
	// OlderThan deletes calls that arrived longer ago than this.
	OlderThan time.Duration
	// MaxSize deletes the oldest calls until the data takes at most this
	// many bytes (see [DB.Prune] for what counts).
	MaxSize int64
	// BatchSize is how many rows one transaction deletes; zero means
	// 1000. Each batch holds the write lock briefly, so the writers of
	// other processes wait for one batch at most, never for the prune.
	BatchSize int
}

// PruneResult is what [DB.Prune] did.
type PruneResult struct {
	Deleted    int64 // calls deleted
	SizeBefore int64 // bytes of data, before and after (see [DB.Prune])
	SizeAfter  int64
}

// vacuumPages is how many free pages one transaction gives back to the OS.
const vacuumPages = 2048

// Prune deletes calls by age and then, oldest first, by size, in small
// transactions, while other processes keep writing.
//
// The size is that of the data: the database's pages less its free ones.
// The write-ahead log beside it is not counted; journal_size_limit and
// checkpoints keep it to a few MiB. A database file created by this
// version of mcpgw gives the pages it frees back to the OS (incremental
// vacuum), so the file shrinks after the next checkpoint, which Prune
// runs. An older file keeps its size: SQLite cannot switch it to
// incremental vacuum without rewriting it, so its free pages are reused
// by new calls instead and the file stops growing.
func (db *DB) Prune(ctx context.Context, o PruneOptions) (PruneResult, error) {
	var res PruneResult
	batch := o.BatchSize
	if batch <= 0 {
		batch = 1000
	}
	size, err := db.dataSize(ctx)
	if err != nil {
		return res, fmt.Errorf("pruning the record: %w", err)
	}
	res.SizeBefore, res.SizeAfter = size, size
	if o.OlderThan > 0 {
		cutoff := time.Now().Add(-o.OlderThan).UnixMicro()
		for {
			n, err := db.deleteBatch(ctx, "DELETE FROM calls WHERE id IN (SELECT id FROM calls WHERE ts < ? ORDER BY ts LIMIT ?)", cutoff, batch)
			res.Deleted += n
			if err != nil {
				return res, fmt.Errorf("pruning calls older than %v: %w", o.OlderThan, err)
			}
			if n < int64(batch) {
				break
			}
		}
	}
	if o.MaxSize > 0 {
		for {
			if size, err = db.dataSize(ctx); err != nil {
				return res, fmt.Errorf("pruning the record: %w", err)
			}
			if size <= o.MaxSize {
				break
			}
			n, err := db.deleteBatch(ctx, "DELETE FROM calls WHERE id IN (SELECT id FROM calls ORDER BY ts, id LIMIT ?)", batch)
			res.Deleted += n
			if err != nil {
				return res, fmt.Errorf("pruning the record to %d bytes: %w", o.MaxSize, err)
			}
			if n == 0 {
				break // no calls left; the rest is other tables and the schema
			}
		}
	}
	if err := db.vacuumFree(ctx); err != nil {
		return res, fmt.Errorf("pruning the record: %w", err)
	}
	// PASSIVE: a checkpoint that waits for readers would hold the write
	// lock meanwhile. This one copies what it can and, when it completes,
	// truncates the file to the pages still in use.
	if _, err := db.sql.ExecContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)"); err != nil {
		return res, fmt.Errorf("pruning the record: checkpointing: %w", err)
	}
	if res.SizeAfter, err = db.dataSize(ctx); err != nil {
		return res, fmt.Errorf("pruning the record: %w", err)
	}
	return res, nil
}

// deleteBatch runs one delete in its own transaction.
func (db *DB) deleteBatch(ctx context.Context, query string, args ...any) (int64, error) {
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	r, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	if err := tx.Commit(); err != nil {
		return 0, err
	}
	return r.RowsAffected()
}

// dataSize returns the bytes of the database's pages in use.
func (db *DB) dataSize(ctx context.Context) (int64, error) {
	var n int64
	err := db.sql.QueryRowContext(ctx, `SELECT (p.page_count - f.freelist_count) * s.page_size
		FROM pragma_page_count() p, pragma_freelist_count() f, pragma_page_size() s`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("measuring the database: %w", err)
	}
	return n, nil
}

// vacuumFree gives free pages back to the OS, a few at a time, when the
// file was created with incremental vacuum; otherwise it does nothing and
// SQLite reuses them.
func (db *DB) vacuumFree(ctx context.Context) error {
	var mode int
	if err := db.sql.QueryRowContext(ctx, "PRAGMA auto_vacuum").Scan(&mode); err != nil {
		return fmt.Errorf("reading auto_vacuum: %w", err)
	}
	if mode != 2 { // INCREMENTAL
		return nil
	}
	prev := int64(-1)
	for {
		var free int64
		if err := db.sql.QueryRowContext(ctx, "PRAGMA freelist_count").Scan(&free); err != nil {
			return fmt.Errorf("reading the free pages: %w", err)
		}
		if free == 0 || free == prev {
			return nil
		}
		prev = free
		tx, err := db.sql.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("vacuuming: %w", err)
		}
		_, err = tx.ExecContext(ctx, fmt.Sprintf("PRAGMA incremental_vacuum(%d)", vacuumPages))
		if err == nil {
			err = tx.Commit()
		}
		tx.Rollback()
		if err != nil {
			return fmt.Errorf("vacuuming: %w", err)
		}
	}
}
