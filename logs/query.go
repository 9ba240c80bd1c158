package logs

import (
	"context"
	"database/sql"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"
)

// Filter selects recorded calls. A zero field selects everything; the
// values of one field are alternatives (OR) and fields combine with AND.
//
// Servers, Tools, Users, Teams and Agents are patterns in [path.Match]
// syntax (* ? [...] and \ to escape); a value without those characters
// matches exactly. Matching is case-sensitive, and * does not cross a /
// (which matters only for resource URIs in Tool).
type Filter struct {
	Servers, Tools       []string
	Statuses             []Status
	Users, Teams, Agents []string
	// Since (inclusive) and Until (exclusive) bound the call's start time.
	Since, Until time.Time
	// MinLatency keeps calls that took at least this long.
	MinLatency time.Duration
	// Grep keeps calls whose tool name, arguments, result, error or reason
	// contain it, ignoring ASCII case.
	Grep string
	// Limit caps the number of calls returned; 0 means no limit.
	Limit int
	// AfterID keeps calls with id > AfterID and returns them oldest first
	// (by id); otherwise calls come newest first (by time, then id).
	AfterID int64
	// Location is the time zone of [DB.Stats]' hour and day buckets; nil
	// means time.Local.
	Location *time.Location

	// upTo, when set, keeps calls with id <= upTo ([DB.Follow] reads in
	// id windows so that no row is missed or repeated).
	upTo      int64
	hasUpTo   bool
	ascending bool // by id, as with AfterID
}

// Validate reports a malformed pattern or an unknown status.
func (f *Filter) Validate() error {
	for _, g := range []struct {
		name string
		pats []string
	}{{"server", f.Servers}, {"tool", f.Tools}, {"user", f.Users}, {"team", f.Teams}, {"agent", f.Agents}} {
		for _, p := range g.pats {
			if _, err := path.Match(p, ""); err != nil {
				return fmt.Errorf("%s pattern %q: %w", g.name, p, err)
			}
		}
	}
	for _, s := range f.Statuses {
		if !slices.Contains(Statuses, s) {
			return fmt.Errorf("unknown status %q; statuses are %s", s, joinStatuses())
		}
	}
	if f.Limit < 0 {
		return fmt.Errorf("limit %d is negative", f.Limit)
	}
	return nil
}

func joinStatuses() string {
	s := make([]string, len(Statuses))
	for i, st := range Statuses {
		s[i] = string(st)
	}
	return strings.Join(s, ", ")
}

// hasMeta reports whether a path.Match pattern is more than a literal.
func hasMeta(p string) bool { return strings.ContainsAny(p, `*?[\`) }

// globSuperset translates a valid path.Match pattern into a SQLite GLOB
// pattern that matches at least what the original matches: * and ? keep
// their meaning (GLOB's * also crosses /), a character class becomes ?,
// and escaped metacharacters become one-character classes. Rows it lets
// through are checked again with path.Match, so SQLite narrows the scan and
// Go decides.
func globSuperset(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		switch c := p[i]; c {
		case '\\':
			if i+1 < len(p) {
				i++
				switch c = p[i]; c {
				case '*', '?', '[':
					b.WriteByte('[')
					b.WriteByte(c)
					b.WriteByte(']')
				default:
					b.WriteByte(c)
				}
			}
		case '[':
			// Skip to the class's closing bracket (a valid pattern has
			// one; ']' cannot come first, and \ escapes inside).
			j := i + 1
			for j < len(p) && p[j] != ']' {
				if p[j] == '\\' {
					j++
				}
				j++
			}
			i = j
			b.WriteByte('?')
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// patternField is one pattern-filtered column.
type patternField struct {
	col  string
	pats []string
	ptr  func(*rowKeys) *string
}

// rowKeys are the columns Go-side pattern checks look at.
type rowKeys struct{ server, tool, user, team, agent string }

func (f *Filter) patternFields() []patternField {
	return []patternField{
		{"server", f.Servers, func(r *rowKeys) *string { return &r.server }},
		{"tool", f.Tools, func(r *rowKeys) *string { return &r.tool }},
		{"user", f.Users, func(r *rowKeys) *string { return &r.user }},
		{"team", f.Teams, func(r *rowKeys) *string { return &r.team }},
		{"agent", f.Agents, func(r *rowKeys) *string { return &r.agent }},
	}
}

// compiled is a Filter turned into a WHERE clause with its arguments and
// the pattern checks left for Go.
type compiled struct {
	where string
	args  []any
	check []patternField // fields with at least one non-literal pattern
}

// compile builds the WHERE clause. Values are always bound parameters;
// only column names and placeholders are written into the SQL.
func (f *Filter) compile() (*compiled, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	c := &compiled{}
	var conds []string
	add := func(cond string, args ...any) {
		conds = append(conds, cond)
		c.args = append(c.args, args...)
	}
	for _, pf := range f.patternFields() {
		if len(pf.pats) == 0 {
			continue
		}
		var ors []string
		var args []any
		literal := true
		for _, p := range pf.pats {
			if hasMeta(p) {
				literal = false
				ors = append(ors, pf.col+" GLOB ?")
				args = append(args, globSuperset(p))
			} else {
				ors = append(ors, pf.col+" = ?")
				args = append(args, p)
			}
		}
		if literal && len(pf.pats) > 1 {
			add(pf.col+" IN ("+strings.TrimSuffix(strings.Repeat("?,", len(args)), ",")+")", args...)
		} else {
			add("("+strings.Join(ors, " OR ")+")", args...)
		}
		if !literal {
			c.check = append(c.check, pf)
		}
	}
	if len(f.Statuses) > 0 {
		args := make([]any, len(f.Statuses))
		for i, s := range f.Statuses {
			args[i] = string(s)
		}
		add("status IN ("+strings.TrimSuffix(strings.Repeat("?,", len(args)), ",")+")", args...)
	}
	if !f.Since.IsZero() {
		add("ts >= ?", f.Since.UnixMicro())
	}
	if !f.Until.IsZero() {
		add("ts < ?", f.Until.UnixMicro())
	}
	if f.MinLatency > 0 {
		add("latency_us >= ?", f.MinLatency.Microseconds())
	}
	if f.Grep != "" {
		like := "%" + escapeLike(f.Grep) + "%"
		add(`(tool LIKE ? ESCAPE '\' OR args LIKE ? ESCAPE '\' OR result LIKE ? ESCAPE '\' OR error LIKE ? ESCAPE '\' OR reason LIKE ? ESCAPE '\')`,
			like, like, like, like, like)
	}
	if f.AfterID > 0 {
		add("id > ?", f.AfterID)
	}
	if f.hasUpTo {
		add("id <= ?", f.upTo)
	}
	if len(conds) > 0 {
		c.where = " WHERE " + strings.Join(conds, " AND ")
	}
	return c, nil
}

// matches applies the pattern checks SQLite could only approximate.
func (c *compiled) matches(r *rowKeys) bool {
	for _, pf := range c.check {
		v := *pf.ptr(r)
		ok := false
		for _, p := range pf.pats {
			if m, _ := path.Match(p, v); m {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// escapeLike escapes LIKE's wildcards with a backslash.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// querier is what *sql.DB and *sql.Conn share.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// Query returns the calls matching f: newest first, or oldest first when
// f.AfterID is set. It reads everything into memory; [DB.QueryEach]
// streams.
func (db *DB) Query(ctx context.Context, f Filter) ([]Call, error) {
	var out []Call
	err := db.QueryEach(ctx, f, func(c Call) error {
		out = append(out, c)
		return nil
	})
	return out, err
}

// QueryEach calls fn with each call matching f, in [DB.Query]'s order,
// while reading them; an error from fn stops the read and is returned.
func (db *DB) QueryEach(ctx context.Context, f Filter, fn func(Call) error) error {
	return db.queryEach(ctx, db.sql, f, fn)
}

// queryPage is how many rows one statement of [DB.QueryEach] reads.
const queryPage = 256

// queryEach reads in pages (keyset pagination on ts, id), so no read
// transaction stays open while fn runs: a slow consumer (mcpgw logs | less)
// must not pin a snapshot, which would keep writers' WAL from being reset.
func (db *DB) queryEach(ctx context.Context, q querier, f Filter, fn func(Call) error) error {
	c, err := f.compile()
	if err != nil {
		return err
	}
	asc := f.AfterID > 0 || f.ascending
	order := " ORDER BY ts DESC, id DESC LIMIT ?"
	if asc {
		order = " ORDER BY id LIMIT ?"
	}
	var (
		n        int
		after    bool // a page has been read; resume past (curTS, curID)
		curTS    int64
		curID    int64
		page     []Call
		pageSize int
	)
	for {
		args := slices.Clone(c.args)
		var cursor string
		switch {
		case !after:
		case asc:
			cursor, args = "id > ?", append(args, curID)
		default:
			cursor, args = "ts <= ? AND (ts < ? OR id < ?)", append(args, curTS, curTS, curID)
		}
		where := c.where
		if cursor != "" {
			if where == "" {
				where = " WHERE " + cursor
			} else {
				where += " AND " + cursor
			}
		}
		pageSize = queryPage
		// With Go-side checks, the limit counts rows that pass them.
		if f.Limit > 0 && len(c.check) == 0 {
			pageSize = min(pageSize, f.Limit-n)
		}
		page, err = readCalls(ctx, q, "SELECT "+callColumns+" FROM calls"+where+order, append(args, pageSize)...)
		if err != nil {
			return err
		}
		for _, call := range page {
			if len(c.check) > 0 && !c.matches(&rowKeys{call.Server, call.Tool, call.User, call.Team, call.Agent}) {
				continue
			}
			if err := fn(call); err != nil {
				return err
			}
			if n++; f.Limit > 0 && n >= f.Limit {
				return nil
			}
		}
		if len(page) < pageSize {
			return nil
		}
		last := page[len(page)-1]
		after, curTS, curID = true, last.Time.UnixMicro(), last.ID
	}
}

// readCalls runs a query of callColumns and reads all its rows.
func readCalls(ctx context.Context, q querier, query string, args ...any) ([]Call, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("reading the record: %w", err)
	}
	defer rows.Close()
	var out []Call
	for rows.Next() {
		call, err := scanCall(rows)
		if err != nil {
			return nil, fmt.Errorf("reading the record: %w", err)
		}
		out = append(out, call)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading the record: %w", err)
	}
	return out, nil
}

// LastID returns the highest call id in the record, 0 when it is empty.
func (db *DB) LastID(ctx context.Context) (int64, error) {
	return lastID(ctx, db.sql)
}

func lastID(ctx context.Context, q querier) (int64, error) {
	return queryInt(ctx, q, "SELECT coalesce(max(id), 0) FROM calls")
}

// queryInt runs a query of one integer. The rows are closed before it
// returns, so no read snapshot outlives it.
func queryInt(ctx context.Context, q querier, query string) (int64, error) {
	rows, err := q.QueryContext(ctx, query)
	if err != nil {
		return 0, fmt.Errorf("reading the record: %w", err)
	}
	defer rows.Close()
	var v int64
	if rows.Next() {
		err = rows.Scan(&v)
	} else {
		err = rows.Err()
	}
	if err == nil {
		err = rows.Close()
	}
	if err != nil {
		return 0, fmt.Errorf("reading the record: %w", err)
	}
	return v, nil
}

// Count returns how many calls the record holds.
func (db *DB) Count(ctx context.Context) (int64, error) {
	return queryInt(ctx, db.sql, "SELECT count(*) FROM calls")
}
