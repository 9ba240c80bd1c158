package logs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/mcpgw/mcpgw/policy/approval"
)

var _ approval.Store = (*DB)(nil)

const approvalColumns = `id, created, pid, user, session, server, tool, exposed, args, args_hash, rule, channel,
	state, decided, decided_by, reason, scope, expires`

func scanApproval(row interface{ Scan(...any) error }) (approval.Request, error) {
	var r approval.Request
	var created, decided, expires int64
	var channel, state, scope string
	err := row.Scan(&r.ID, &created, &r.PID, &r.User, &r.Session, &r.Server, &r.Tool, &r.Exposed, &r.Args, &r.ArgsHash,
		&r.Rule, &channel, &state, &decided, &r.DecidedBy, &r.Reason, &scope, &expires)
	if err != nil {
		return r, err
	}
	r.Channel, r.State, r.Scope = approval.Channel(channel), approval.State(state), approval.Scope(scope)
	r.Created = time.UnixMicro(created)
	if decided != 0 {
		r.Decided = time.UnixMicro(decided)
	}
	if expires != 0 {
		r.Expires = time.UnixMicro(expires)
	}
	return r, nil
}

// CreateApproval implements [approval.Store]: r is stored as pending.
func (db *DB) CreateApproval(ctx context.Context, r approval.Request) (int64, error) {
	res, err := db.sql.ExecContext(ctx, `INSERT INTO approvals (created, pid, user, session, server, tool, exposed, args, args_hash, rule, channel, state)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.Created.UnixMicro(), r.PID, r.User, r.Session, r.Server, r.Tool, r.Exposed, r.Args, r.ArgsHash, r.Rule, string(r.Channel), string(approval.Pending))
	if err != nil {
		return 0, fmt.Errorf("storing the approval: %w", err)
	}
	return res.LastInsertId()
}

// Approval implements [approval.Store].
func (db *DB) Approval(ctx context.Context, id int64) (approval.Request, error) {
	r, err := scanApproval(db.sql.QueryRowContext(ctx, "SELECT "+approvalColumns+" FROM approvals WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("approval %d: %w", id, approval.ErrNotFound)
	}
	return r, err
}

// DecideApproval implements [approval.Store]: only a pending approval is decided,
// so of two deciders (a terminal and the timeout, say) the first wins.
func (db *DB) DecideApproval(ctx context.Context, id int64, d approval.Decision) (approval.Request, error) {
	var expires int64
	if !d.Expires.IsZero() {
		expires = d.Expires.UnixMicro()
	}
	res, err := db.sql.ExecContext(ctx, `UPDATE approvals SET state = ?, decided = ?, decided_by = ?, reason = ?, scope = ?, expires = ?
		WHERE id = ? AND state = ?`,
		string(d.State), time.Now().UnixMicro(), d.By, d.Reason, string(d.Scope), expires, id, string(approval.Pending))
	if err != nil {
		return approval.Request{}, fmt.Errorf("deciding approval %d: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return approval.Request{}, err
	}
	r, err := db.Approval(ctx, id)
	if err != nil {
		return r, err
	}
	if n == 0 {
		return r, fmt.Errorf("approval %d is %s: %w", id, r.State, approval.ErrDecided)
	}
	return r, nil
}

// ApprovalGranted implements [approval.Store].
func (db *DB) ApprovalGranted(ctx context.Context, server, tool, argsHash string, now time.Time) (*approval.Request, error) {
	r, err := scanApproval(db.sql.QueryRowContext(ctx, "SELECT "+approvalColumns+` FROM approvals
		WHERE args_hash = ? AND state = ? AND scope = ? AND expires > ? AND server = ? AND tool = ?
		ORDER BY expires DESC LIMIT 1`, argsHash, string(approval.Approved), string(approval.Args), now.UnixMicro(), server, tool))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("reading approvals: %w", err)
	}
	return &r, nil
}

// Approvals returns approvals, newest first: the pending ones only when
// pending is set, else every one; at most limit (0: no limit).
func (db *DB) Approvals(ctx context.Context, pending bool, limit int) ([]approval.Request, error) {
	q := "SELECT " + approvalColumns + " FROM approvals"
	var args []any
	if pending {
		q += " WHERE state = ?"
		args = append(args, string(approval.Pending))
	}
	q += " ORDER BY id DESC"
	if limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", limit)
	}
	rows, err := db.sql.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("reading approvals: %w", err)
	}
	defer rows.Close()
	var out []approval.Request
	for rows.Next() {
		r, err := scanApproval(rows)
		if err != nil {
			return nil, fmt.Errorf("reading approvals: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
