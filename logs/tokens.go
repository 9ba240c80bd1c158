package logs

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

// TokenPrefix starts every bearer token mcpgw makes, so a leaked one is
// recognisable (secret scanners, logs) and a value of another kind is
// refused before any lookup.
const TokenPrefix = "mcpgw_"

// Token is a bearer token of the HTTP front as the record keeps it: who it
// names, and its life. The token itself is never stored, only its hash.
type Token struct {
	ID    string   `json:"id"`
	Name  string   `json:"name,omitempty"`
	User  string   `json:"user"`
	Team  string   `json:"team,omitempty"`
	Roles []string `json:"roles,omitempty"`
	// Created, Expires and Revoked are UTC; a zero Expires never comes, a
	// zero Revoked has not happened.
	Created time.Time `json:"created"`
	Expires time.Time `json:"expires,omitzero"`
	Revoked time.Time `json:"revoked,omitzero"`
}

// Token states, as [Token.State] names them.
const (
	TokenActive  = "active"
	TokenExpired = "expired"
	TokenRevoked = "revoked"
)

// State is the token's state at now: active, expired or revoked.
func (t *Token) State(now time.Time) string {
	switch {
	case !t.Revoked.IsZero():
		return TokenRevoked
	case !t.Expires.IsZero() && !now.Before(t.Expires):
		return TokenExpired
	}
	return TokenActive
}

// NewToken is what [DB.CreateToken] stores.
type NewToken struct {
	Name  string
	User  string
	Team  string
	Roles []string
	// Expires is when the token stops working; zero means never.
	Expires time.Time
}

// Errors of [DB.CheckToken] and [DB.RevokeToken], matched with errors.Is.
var (
	// ErrTokenUnknown: no token has this value (or this id), or the value
	// is not an mcpgw token at all.
	ErrTokenUnknown = errors.New("unknown token")
	ErrTokenRevoked = errors.New("token revoked")
	ErrTokenExpired = errors.New("token expired")
)

// tokenHash is the stored form of a token: hex SHA-256. The token holds
// 256 random bits, so a plain hash is as hard to reverse as the token is to
// guess; no salt or slow hash is needed.
func tokenHash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// CreateToken stores a new token for t and returns its value, which exists
// nowhere else: show it once. The id names the token in lists and
// revocation.
func (db *DB) CreateToken(ctx context.Context, t NewToken) (secret string, tok Token, err error) {
	if t.User == "" {
		return "", Token{}, errors.New("a token needs a user")
	}
	raw := make([]byte, 32)
	rand.Read(raw)
	secret = TokenPrefix + base64.RawURLEncoding.EncodeToString(raw)
	tok = Token{Name: t.Name, User: t.User, Team: t.Team, Roles: t.Roles,
		Created: time.Now().UTC().Truncate(time.Microsecond)}
	if !t.Expires.IsZero() {
		tok.Expires = t.Expires.UTC().Truncate(time.Microsecond)
	}
	for range 3 { // an id already taken: draw another
		id := make([]byte, 5)
		rand.Read(id)
		tok.ID = "tk_" + hex.EncodeToString(id)
		_, err = db.sql.ExecContext(ctx, `INSERT INTO tokens (id, hash, name, user, team, roles, created, expires) VALUES (?,?,?,?,?,?,?,?)`,
			tok.ID, tokenHash(secret), tok.Name, tok.User, tok.Team, strings.Join(tok.Roles, ","), tok.Created.UnixMicro(), micros(tok.Expires))
		if err == nil || !strings.Contains(err.Error(), "UNIQUE") {
			break
		}
	}
	if err != nil {
		return "", Token{}, fmt.Errorf("storing the token in the record %s: %w", db.path, err)
	}
	db.touchTokens() // a new token was cached as unknown by no one (it could not be guessed)
	return secret, tok, nil
}

// Tokens returns every token, newest first.
func (db *DB) Tokens(ctx context.Context) ([]Token, error) {
	rows, err := db.sql.QueryContext(ctx, "SELECT "+tokenColumns+" FROM tokens ORDER BY created DESC, id")
	if err != nil {
		return nil, fmt.Errorf("reading the tokens: %w", err)
	}
	defer rows.Close()
	var out []Token
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, fmt.Errorf("reading the tokens: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading the tokens: %w", err)
	}
	return out, nil
}

// RevokeToken revokes the token with id from now on and returns it. A
// token revoked before keeps its first revocation time. An unknown id
// matches [ErrTokenUnknown]. Running gateways ([TokenChecker]) refuse it
// from their next request on; when they cannot be told so, the token is
// returned with an error matching [ErrTokenStamp].
func (db *DB) RevokeToken(ctx context.Context, id string) (Token, error) {
	res, err := db.sql.ExecContext(ctx, "UPDATE tokens SET revoked = ? WHERE id = ? AND revoked = 0", time.Now().UnixMicro(), id)
	if err != nil {
		return Token{}, fmt.Errorf("revoking token %s: %w", id, err)
	}
	var stampErr error
	if n, _ := res.RowsAffected(); n > 0 {
		if err := db.touchTokens(); err != nil {
			stampErr = stampError(db, err)
		}
	}
	t, err := scanToken(db.sql.QueryRowContext(ctx, "SELECT "+tokenColumns+" FROM tokens WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return Token{}, fmt.Errorf("%w %q", ErrTokenUnknown, id)
	}
	if err != nil {
		return Token{}, fmt.Errorf("reading token %s: %w", id, err)
	}
	return t, stampErr
}

// CheckToken returns the token whose value is secret if it is active at
// now. An error matches [ErrTokenUnknown], [ErrTokenRevoked] or
// [ErrTokenExpired] (with the token returned for the last two), or is the
// database's own.
//
// It reads the database every time, one indexed row, so a revocation by
// another process holds from the next request on.
func (db *DB) CheckToken(ctx context.Context, secret string, now time.Time) (Token, error) {
	if !strings.HasPrefix(secret, TokenPrefix) {
		return Token{}, ErrTokenUnknown
	}
	st, err := db.checkTokenStmt(ctx)
	if err != nil {
		return Token{}, fmt.Errorf("reading the tokens: %w", err)
	}
	t, err := scanToken(st.QueryRowContext(ctx, tokenHash(secret)))
	if errors.Is(err, sql.ErrNoRows) {
		return Token{}, ErrTokenUnknown
	}
	if err != nil {
		return Token{}, fmt.Errorf("reading the tokens: %w", err)
	}
	switch t.State(now) {
	case TokenRevoked:
		return t, ErrTokenRevoked
	case TokenExpired:
		return t, ErrTokenExpired
	}
	return t, nil
}

// checkTokenStmt is CheckToken's query, prepared once: a request pays for
// the lookup, not for parsing it.
func (db *DB) checkTokenStmt(ctx context.Context) (*sql.Stmt, error) {
	db.checkToken.Lock()
	defer db.checkToken.Unlock()
	if db.checkToken.st == nil {
		st, err := db.sql.PrepareContext(ctx, "SELECT "+tokenColumns+" FROM tokens WHERE hash = ?")
		if err != nil {
			return nil, err
		}
		db.checkToken.st = st
	}
	return db.checkToken.st, nil
}

// ActiveTokens counts the tokens active at now.
func (db *DB) ActiveTokens(ctx context.Context, now time.Time) (int, error) {
	var n int
	err := db.sql.QueryRowContext(ctx, "SELECT count(*) FROM tokens WHERE revoked = 0 AND (expires = 0 OR expires > ?)", now.UnixMicro()).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("reading the tokens: %w", err)
	}
	return n, nil
}

const tokenColumns = "id, name, user, team, roles, created, expires, revoked"

func scanToken(row interface{ Scan(...any) error }) (Token, error) {
	var (
		t                         Token
		roles                     string
		created, expires, revoked int64
	)
	if err := row.Scan(&t.ID, &t.Name, &t.User, &t.Team, &roles, &created, &expires, &revoked); err != nil {
		return Token{}, err
	}
	if roles != "" {
		t.Roles = strings.Split(roles, ",")
	}
	t.Created = time.UnixMicro(created).UTC()
	if expires != 0 {
		t.Expires = time.UnixMicro(expires).UTC()
	}
	if revoked != 0 {
		t.Revoked = time.UnixMicro(revoked).UTC()
	}
	return t, nil
}

// micros is t in Unix microseconds, 0 for the zero time.
func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}
