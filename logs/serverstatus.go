package logs

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// ServerStatus is one server as a running gateway sees it, kept in the
// record so `mcpgw tools` and `mcpgw doctor` in other processes can show it.
type ServerStatus struct {
	// Gateway identifies the `mcpgw serve` process the row belongs to.
	Gateway Gateway `json:"gateway"`

	Server        string    `json:"server"`
	State         string    `json:"state"`
	Since         time.Time `json:"since"`         // when the server entered State
	ServerPID     int       `json:"serverPid"`     // the server process (and process group); 0 when none
	ServerStarted int64     `json:"serverStarted"` // its start time as the OS counts it; 0 when unknown
	Restarts      int       `json:"restarts"`
	LastError     string    `json:"lastError,omitempty"`
	Stderr        []string  `json:"stderr,omitempty"` // last stderr lines, already redacted
	Updated       time.Time `json:"updated"`
}

// Gateway is the `mcpgw serve` process behind a set of status rows.
type Gateway struct {
	PID     int    `json:"pid"`
	Started int64  `json:"started"` // process start time as the OS counts it; 0 when unknown
	Agent   string `json:"agent,omitempty"`
	Config  string `json:"config,omitempty"`
}

// SaveServerStatus replaces every status row of gw with rows, in one
// transaction, so readers never see half an update.
func (db *DB) SaveServerStatus(ctx context.Context, gw Gateway, rows []ServerStatus) error {
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("writing server status: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "DELETE FROM server_status WHERE pid = ?", gw.PID); err != nil {
		return fmt.Errorf("writing server status: %w", err)
	}
	now := time.Now().UnixMicro()
	for _, r := range rows {
		_, err := tx.ExecContext(ctx, `INSERT INTO server_status
			(pid, started, agent, config, server, state, since, server_pid, server_started, restarts, last_error, stderr, updated)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			gw.PID, gw.Started, gw.Agent, gw.Config, r.Server, r.State, microOrZero(r.Since), r.ServerPID, r.ServerStarted,
			r.Restarts, r.LastError, strings.Join(r.Stderr, "\n"), now)
		if err != nil {
			return fmt.Errorf("writing server status: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("writing server status: %w", err)
	}
	return nil
}

// DeleteServerStatus removes every status row of the gateway process pid.
func (db *DB) DeleteServerStatus(ctx context.Context, pid int) error {
	if _, err := db.sql.ExecContext(ctx, "DELETE FROM server_status WHERE pid = ?", pid); err != nil {
		return fmt.Errorf("removing server status: %w", err)
	}
	return nil
}

// ServerStatuses returns every status row, by gateway pid then server name.
// Rows of gateways that have died are included: telling them apart is the
// reader's job (see the Started fields).
func (db *DB) ServerStatuses(ctx context.Context) ([]ServerStatus, error) {
	rs, err := db.sql.QueryContext(ctx, `SELECT pid, started, agent, config, server, state, since, server_pid, server_started,
		restarts, last_error, stderr, updated FROM server_status ORDER BY pid, server`)
	if err != nil {
		return nil, fmt.Errorf("reading server status: %w", err)
	}
	defer rs.Close()
	var out []ServerStatus
	for rs.Next() {
		var r ServerStatus
		var since, updated int64
		var stderr string
		if err := rs.Scan(&r.Gateway.PID, &r.Gateway.Started, &r.Gateway.Agent, &r.Gateway.Config, &r.Server, &r.State, &since,
			&r.ServerPID, &r.ServerStarted, &r.Restarts, &r.LastError, &stderr, &updated); err != nil {
			return nil, fmt.Errorf("reading server status: %w", err)
		}
		if since != 0 {
			r.Since = time.UnixMicro(since)
		}
		r.Updated = time.UnixMicro(updated)
		if stderr != "" {
			r.Stderr = strings.Split(stderr, "\n")
		}
		out = append(out, r)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("reading server status: %w", err)
	}
	return out, nil
}

func microOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}
