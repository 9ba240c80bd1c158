package logs

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"
)

// The token stamp is a file beside the database (NAME.db.tokens) that
// every change to the tokens replaces, after the change commits. A
// [TokenChecker] stats it per request (a microsecond) instead of reading
// the database (in a gateway whose recorder writes all the time, every read
// finds SQLite's page cache stale: about 140 µs a request, measured), and
// reads the database again only when the stamp changed.

func (db *DB) stampPath() string { return db.path + ".tokens" }

// touchTokens replaces the stamp: written aside and renamed over, so each
// stamp is a new file (a new inode), whatever the clock's granularity.
func (db *DB) touchTokens() error {
	b := make([]byte, 16)
	rand.Read(b)
	tmp := db.stampPath() + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, db.stampPath())
}

// ErrTokenStamp is matched by the error of a token change whose stamp
// could not be replaced: the change holds, but running gateways may take up
// to [DefaultTokenRecheck] to see it.
var ErrTokenStamp = errors.New("running gateways may not see the change at once")

func stampError(db *DB, err error) error {
	return fmt.Errorf("%w (for up to %s): %v; %s must be writable", ErrTokenStamp, DefaultTokenRecheck, err, db.stampPath())
}

// DefaultTokenRecheck is how long a [TokenChecker] trusts what it read of
// a token while the stamp stays the same: the bound on a change made
// without replacing the stamp (by an older mcpgw, say).
const DefaultTokenRecheck = 30 * time.Second

// maxCheckedTokens bounds a TokenChecker's memory (unknown tokens are
// remembered too, so guessing costs the database nothing).
const maxCheckedTokens = 4096

// TokenChecker checks bearer tokens as [DB.CheckToken] does, from memory
// while the tokens are unchanged: a revocation by any process holds from
// the next request. It is safe for concurrent use.
type TokenChecker struct {
	db      *DB
	recheck time.Duration

	mu    sync.Mutex
	stamp os.FileInfo // nil: no stamp (yet)
	gen   uint64      // bumped when the stamp changes
	known map[string]checked
}

// checked is what the database said of a token, and when.
type checked struct {
	tok     Token
	unknown bool
	at      time.Time
}

// TokenChecker returns a checker over db's tokens.
func (db *DB) TokenChecker() *TokenChecker {
	return &TokenChecker{db: db, recheck: DefaultTokenRecheck, known: map[string]checked{}}
}

// Check is [DB.CheckToken], from memory when the tokens are unchanged
// since it last read this one (and that was less than DefaultTokenRecheck
// ago).
func (c *TokenChecker) Check(ctx context.Context, secret string, now time.Time) (Token, error) {
	if !strings.HasPrefix(secret, TokenPrefix) {
		return Token{}, ErrTokenUnknown
	}
	h := tokenHash(secret)
	fi, _ := os.Stat(c.db.stampPath())
	c.mu.Lock()
	if !sameStamp(c.stamp, fi) {
		c.stamp = fi
		c.gen++
		clear(c.known)
	}
	gen := c.gen
	e, ok := c.known[h]
	c.mu.Unlock()
	if !ok || now.Sub(e.at) >= c.recheck || now.Before(e.at) {
		t, err := c.db.CheckToken(ctx, secret, now)
		if err != nil && !errors.Is(err, ErrTokenUnknown) && !errors.Is(err, ErrTokenRevoked) && !errors.Is(err, ErrTokenExpired) {
			return Token{}, err // the database's own trouble: nothing to remember
		}
		e = checked{tok: t, unknown: errors.Is(err, ErrTokenUnknown), at: now}
		c.mu.Lock()
		if c.gen == gen { // else it was read under a stamp that is gone
			if len(c.known) >= maxCheckedTokens {
				clear(c.known)
			}
			c.known[h] = e
		}
		c.mu.Unlock()
	}
	switch {
	case e.unknown:
		return Token{}, ErrTokenUnknown
	case e.tok.State(now) == TokenRevoked:
		return e.tok, ErrTokenRevoked
	case e.tok.State(now) == TokenExpired:
		return e.tok, ErrTokenExpired
	}
	return e.tok, nil
}

// sameStamp reports whether two stats are of the same stamp file (both
// missing counts as the same).
func sameStamp(a, b os.FileInfo) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return os.SameFile(a, b) && a.ModTime().Equal(b.ModTime()) && a.Size() == b.Size()
}
