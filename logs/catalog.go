package logs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// LoadCatalog returns the catalog last saved for server under fingerprint
// (the server's launch spec), or false when there is none or the spec
// changed since.
func (db *DB) LoadCatalog(ctx context.Context, server, fingerprint string) ([]byte, bool, error) {
	var cat string
	err := db.sql.QueryRowContext(ctx, "SELECT catalog FROM catalog_cache WHERE server = ? AND fingerprint = ?", server, fingerprint).Scan(&cat)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("reading the catalog cache: %w", err)
	}
	return []byte(cat), true, nil
}

// SaveCatalog keeps catalog as server's last good catalog under
// fingerprint, replacing what was kept before.
func (db *DB) SaveCatalog(ctx context.Context, server, fingerprint string, catalog []byte) error {
	_, err := db.sql.ExecContext(ctx, `INSERT INTO catalog_cache (server, fingerprint, catalog, updated) VALUES (?, ?, ?, ?)
		ON CONFLICT (server) DO UPDATE SET fingerprint = excluded.fingerprint, catalog = excluded.catalog, updated = excluded.updated`,
		server, fingerprint, string(catalog), time.Now().UnixMicro())
	if err != nil {
		return fmt.Errorf("writing the catalog cache: %w", err)
	}
	return nil
}

// Catalogs returns the catalog last saved for each server, whatever
// fingerprint it was saved under: for hints that may be stale (which
// servers a command needs, shell completion), never to serve.
func (db *DB) Catalogs(ctx context.Context) (map[string][]byte, error) {
	rows, err := db.sql.QueryContext(ctx, "SELECT server, catalog FROM catalog_cache")
	if err != nil {
		return nil, fmt.Errorf("reading the catalog cache: %w", err)
	}
	defer rows.Close()
	out := map[string][]byte{}
	for rows.Next() {
		var server, cat string
		if err := rows.Scan(&server, &cat); err != nil {
			return nil, fmt.Errorf("reading the catalog cache: %w", err)
		}
		out[server] = []byte(cat)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading the catalog cache: %w", err)
	}
	return out, nil
}
