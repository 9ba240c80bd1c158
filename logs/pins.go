package logs

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Pin is one pinned tool definition (Tool "": a server's launch spec), as
// the record keeps it: see package policy/pin.
type Pin struct {
	Server, Tool, Exposed string
	Hash                  string
	Def                   []byte
	SeenHash              string
	SeenDef               []byte
	Pinned                time.Time
	New                   bool
	RenamedFrom           string
	Flags                 []string
	Updated               time.Time
}

const pinColumns = "server, tool, exposed, hash, def, seen_hash, seen_def, pinned, is_new, renamed_from, flags, updated"

func scanPin(sc interface{ Scan(...any) error }) (Pin, error) {
	var p Pin
	var def, seen, flags string
	var pinned, updated int64
	err := sc.Scan(&p.Server, &p.Tool, &p.Exposed, &p.Hash, &def, &p.SeenHash, &seen, &pinned, &p.New, &p.RenamedFrom, &flags, &updated)
	if err != nil {
		return p, err
	}
	p.Def, p.SeenDef = []byte(def), []byte(seen)
	if seen == "" {
		p.SeenDef = nil
	}
	if flags != "" {
		json.Unmarshal([]byte(flags), &p.Flags)
	}
	p.Pinned, p.Updated = time.UnixMicro(pinned), time.UnixMicro(updated)
	return p, nil
}

func flagsText(flags []string) string {
	if len(flags) == 0 {
		return ""
	}
	b, _ := json.Marshal(flags)
	return string(b)
}

// Pins returns every pin, by server and tool.
func (db *DB) Pins(ctx context.Context) ([]Pin, error) {
	rows, err := db.sql.QueryContext(ctx, "SELECT "+pinColumns+" FROM pins ORDER BY server, tool")
	if err != nil {
		return nil, fmt.Errorf("reading the pins: %w", err)
	}
	defer rows.Close()
	var out []Pin
	for rows.Next() {
		p, err := scanPin(rows)
		if err != nil {
			return nil, fmt.Errorf("reading the pins: %w", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading the pins: %w", err)
	}
	return out, nil
}

// InsertPin stores p unless its server and tool are pinned already, and
// returns the pin stored.
func (db *DB) InsertPin(ctx context.Context, p Pin) (Pin, error) {
	now := time.Now().UnixMicro()
	_, err := db.sql.ExecContext(ctx, "INSERT INTO pins ("+pinColumns+") VALUES (?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT (server, tool) DO NOTHING",
		p.Server, p.Tool, p.Exposed, p.Hash, string(p.Def), p.SeenHash, string(p.SeenDef), p.Pinned.UnixMicro(), p.New, p.RenamedFrom, flagsText(p.Flags), now)
	if err != nil {
		return p, fmt.Errorf("pinning %s/%s: %w", p.Server, p.Tool, err)
	}
	stored, err := scanPin(db.sql.QueryRowContext(ctx, "SELECT "+pinColumns+" FROM pins WHERE server = ? AND tool = ?", p.Server, p.Tool))
	if err != nil {
		return p, fmt.Errorf("pinning %s/%s: %w", p.Server, p.Tool, err)
	}
	return stored, nil
}

// SawPin records what was seen of a pinned tool: the definition when it
// differs from the pin ("" and nil when it matches), and the markers
// found in it. It leaves the version ([DB.PinsVersion]) alone: nothing
// approved changed.
func (db *DB) SawPin(ctx context.Context, server, tool, hash string, def []byte, flags []string) error {
	_, err := db.sql.ExecContext(ctx, "UPDATE pins SET seen_hash = ?, seen_def = ?, flags = ? WHERE server = ? AND tool = ?",
		hash, string(def), flagsText(flags), server, tool)
	if err != nil {
		return fmt.Errorf("recording what was seen of %s/%s: %w", server, tool, err)
	}
	return nil
}

// ApprovePin re-pins a tool to the definition last seen of it. It reports
// false when there was nothing to approve.
func (db *DB) ApprovePin(ctx context.Context, server, tool string) (bool, error) {
	res, err := db.sql.ExecContext(ctx, `UPDATE pins SET hash = seen_hash, def = seen_def, seen_hash = '', seen_def = '',
		renamed_from = '', pinned = ?, updated = ? WHERE server = ? AND tool = ? AND seen_hash != '' AND seen_hash != hash`,
		time.Now().UnixMicro(), time.Now().UnixMicro(), server, tool)
	if err != nil {
		return false, fmt.Errorf("approving %s/%s: %w", server, tool, err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// PutPin stores p, replacing any pin of its server and tool (an import).
// What was seen is kept when it still differs from the new pin.
func (db *DB) PutPin(ctx context.Context, p Pin) error {
	now := time.Now().UnixMicro()
	_, err := db.sql.ExecContext(ctx, "INSERT INTO pins ("+pinColumns+") VALUES (?,?,?,?,?,'','',?,?,?,?,?)"+
		` ON CONFLICT (server, tool) DO UPDATE SET exposed = excluded.exposed, hash = excluded.hash, def = excluded.def,
		seen_hash = CASE WHEN pins.seen_hash = excluded.hash THEN '' ELSE pins.seen_hash END,
		seen_def = CASE WHEN pins.seen_hash = excluded.hash THEN '' ELSE pins.seen_def END,
		pinned = excluded.pinned, renamed_from = excluded.renamed_from, updated = excluded.updated`,
		p.Server, p.Tool, p.Exposed, p.Hash, string(p.Def), p.Pinned.UnixMicro(), p.New, p.RenamedFrom, flagsText(p.Flags), now)
	if err != nil {
		return fmt.Errorf("storing the pin of %s/%s: %w", p.Server, p.Tool, err)
	}
	return nil
}

// PinsVersion changes whenever a pin is added, approved, imported or
// removed, so a running gateway notices with one cheap query.
func (db *DB) PinsVersion(ctx context.Context) (string, error) {
	var n, max int64
	err := db.sql.QueryRowContext(ctx, "SELECT COUNT(*), COALESCE(MAX(updated), 0) FROM pins").Scan(&n, &max)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("reading the pins: %w", err)
	}
	return fmt.Sprint(n, ".", max), nil
}
