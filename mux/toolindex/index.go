package toolindex

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"

	_ "modernc.org/sqlite" // the "sqlite" driver, with FTS5
)

// Doc is one tool as the index sees it.
type Doc struct {
	// Name is the exposed name, which results give back.
	Name   string
	Server string
	// Description is the tool's description (or its title when it has
	// none).
	Description string
	// Params are the tool's parameter names, each optionally followed by
	// its description.
	Params []string
	// Version changes when the tool's definition does (its encoding will
	// do): a tool whose version is unchanged is not indexed again.
	Version string
}

// Hit is one search result.
type Hit struct {
	Name, Server, Description string
	// Score is the BM25 relevance, higher is better; only comparable
	// within one search.
	Score float64
}

// Index is an in-memory full-text index of tools. It is safe for
// concurrent use.
type Index struct {
	mu   sync.Mutex
	db   *sql.DB
	rows map[string]indexed // name → what is indexed for it
	next int64
}

type indexed struct {
	rowid   int64
	version string
	doc     Doc
}

// Column weights for bm25(), in the table's column order: a word of the
// name says most about what a tool does, then its description; the
// server's name and the parameters' names help tell tools apart.
// It is set as the table's rank function, which FTS5 orders by with a
// bounded sort of its own.
const rankSQL = `bm25(0, 2.0, 10.0, 4.0, 1.5)`

// New returns an empty index.
func New() (*Index, error) {
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		return nil, fmt.Errorf("opening the tool search index: %w", err)
	}
	// One connection, kept open: each connection to :memory: is a database
	// of its own.
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	// porter stems English words ("files" finds "file", "reading" finds
	// "read"); unicode61 splits on everything that is not a letter or
	// digit, so snake_case names are words already.
	if _, err := db.Exec(`CREATE VIRTUAL TABLE tools USING fts5(exposed UNINDEXED, server, words, description, params, tokenize = 'porter unicode61')`); err != nil {
		db.Close()
		return nil, fmt.Errorf("creating the tool search index (SQLite FTS5): %w", err)
	}
	if _, err := db.Exec(`INSERT INTO tools (tools, rank) VALUES ('rank', ?)`, rankSQL); err != nil {
		db.Close()
		return nil, fmt.Errorf("setting the tool search index's ranking: %w", err)
	}
	return &Index{db: db, rows: map[string]indexed{}}, nil
}

// Close releases the index.
func (ix *Index) Close() error { return ix.db.Close() }

// Len is the number of tools indexed.
func (ix *Index) Len() int {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return len(ix.rows)
}

// Sync makes the index hold exactly docs: tools gone are removed, new or
// changed ones (by Version) indexed; the others are left as they are.
func (ix *Index) Sync(docs []Doc) error {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	want := make(map[string]*Doc, len(docs))
	for i := range docs {
		want[docs[i].Name] = &docs[i]
	}
	tx, err := ix.db.Begin()
	if err != nil {
		return fmt.Errorf("updating the tool search index: %w", err)
	}
	defer tx.Rollback()
	del, err := tx.Prepare(`DELETE FROM tools WHERE rowid = ?`)
	if err != nil {
		return fmt.Errorf("updating the tool search index: %w", err)
	}
	ins, err := tx.Prepare(`INSERT INTO tools (rowid, exposed, server, words, description, params) VALUES (?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("updating the tool search index: %w", err)
	}
	rows := make(map[string]indexed, len(docs))
	for name, r := range ix.rows {
		if d, ok := want[name]; ok && d.Version == r.version && d.Server == r.doc.Server {
			rows[name] = r
			continue
		}
		if _, err := del.Exec(r.rowid); err != nil {
			return fmt.Errorf("updating the tool search index: %w", err)
		}
	}
	next := ix.next
	for _, d := range docs {
		if _, ok := rows[d.Name]; ok {
			continue
		}
		next++
		if _, err := ins.Exec(next, d.Name, Words(d.Server), Words(d.Name), d.Description, Words(strings.Join(d.Params, " "))); err != nil {
			return fmt.Errorf("updating the tool search index: %w", err)
		}
		rows[d.Name] = indexed{rowid: next, version: d.Version, doc: d}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("updating the tool search index: %w", err)
	}
	ix.rows, ix.next = rows, next
	return nil
}

// Search returns up to limit tools that keep admits (nil admits all),
// best match first. A query with no word to search for finds nothing.
func (ix *Index) Search(ctx context.Context, query string, limit int, keep func(name string) bool) ([]Hit, error) {
	match := matchExpr(query)
	if match == "" || limit <= 0 {
		return nil, nil
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	// SQLite keeps only the best n while ranking (a bounded sort), which
	// is most of a search's cost; when the filter refuses too many of
	// them, the search runs again over every match.
	n := 4*limit + 16
	hits, more, err := ix.search(ctx, match, n, limit, keep)
	if err == nil && more && len(hits) < limit {
		hits, _, err = ix.search(ctx, match, -1, limit, keep)
	}
	if err != nil {
		return nil, fmt.Errorf("searching tools for %q: %w", query, err)
	}
	return hits, nil
}

// search ranks the best n matches (n < 0: all) and keeps the first limit
// that keep admits; more reports that n rows came back, so there may be
// more matches.
func (ix *Index) search(ctx context.Context, match string, n, limit int, keep func(string) bool) (hits []Hit, more bool, err error) {
	rows, err := ix.db.QueryContext(ctx, `SELECT exposed, rank FROM tools WHERE tools MATCH ? ORDER BY rank LIMIT ?`, match, n)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	seen := 0
	for rows.Next() {
		seen++
		if len(hits) == limit {
			continue
		}
		var name string
		var score float64
		if err := rows.Scan(&name, &score); err != nil {
			return nil, false, err
		}
		if keep != nil && !keep(name) {
			continue
		}
		r := ix.rows[name]
		hits = append(hits, Hit{Name: name, Server: r.doc.Server, Description: r.doc.Description, Score: -score})
	}
	return hits, n >= 0 && seen == n, rows.Err()
}
