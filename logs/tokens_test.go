package logs

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestTokensLifecycle creates, checks, lists, expires and revokes tokens in
// a real database, and checks that the value itself is nowhere in the file.
func TestTokensLifecycle(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "mcpgw.db")
	db, err := Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Now()

	secret, tok, err := db.CreateToken(ctx, NewToken{Name: "ci", User: "ana@example.com", Team: "data", Roles: []string{"dev", "admin"}, Expires: now.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, TokenPrefix) || len(secret) < len(TokenPrefix)+40 {
		t.Errorf("token %q: want %s and 32 random bytes", secret, TokenPrefix)
	}
	if !strings.HasPrefix(tok.ID, "tk_") || strings.Contains(secret, tok.ID[3:]) {
		t.Errorf("id %q: want tk_ and no part of the token", tok.ID)
	}
	got, err := db.CheckToken(ctx, secret, now)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != tok.ID || got.User != "ana@example.com" || got.Team != "data" || strings.Join(got.Roles, ",") != "dev,admin" || got.Name != "ci" {
		t.Errorf("CheckToken = %+v", got)
	}
	for _, bad := range []string{"", "Bearer x", TokenPrefix + "nope", secret + "x", strings.TrimPrefix(secret, TokenPrefix)} {
		if _, err := db.CheckToken(ctx, bad, now); !errors.Is(err, ErrTokenUnknown) {
			t.Errorf("CheckToken(%q) = %v; want ErrTokenUnknown", bad, err)
		}
	}
	if _, err := db.CheckToken(ctx, secret, now.Add(2*time.Hour)); !errors.Is(err, ErrTokenExpired) {
		t.Errorf("after expiry: %v; want ErrTokenExpired", err)
	}

	forever, tok2, err := db.CreateToken(ctx, NewToken{User: "bo@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := db.ActiveTokens(ctx, now); err != nil || n != 2 {
		t.Errorf("ActiveTokens = %d, %v; want 2", n, err)
	}
	if n, _ := db.ActiveTokens(ctx, now.Add(2*time.Hour)); n != 1 {
		t.Errorf("ActiveTokens after the first expired = %d; want 1", n)
	}
	if _, err := db.CheckToken(ctx, forever, now.AddDate(50, 0, 0)); err != nil {
		t.Errorf("a token without expiry: %v", err)
	}

	r, err := db.RevokeToken(ctx, tok2.ID)
	if err != nil || r.Revoked.IsZero() || r.State(now) != TokenRevoked {
		t.Fatalf("RevokeToken = %+v, %v", r, err)
	}
	if again, err := db.RevokeToken(ctx, tok2.ID); err != nil || !again.Revoked.Equal(r.Revoked) {
		t.Errorf("revoking again = %+v, %v; want the first revocation time kept", again, err)
	}
	if _, err := db.CheckToken(ctx, forever, now); !errors.Is(err, ErrTokenRevoked) {
		t.Errorf("revoked token: %v; want ErrTokenRevoked", err)
	}
	if _, err := db.RevokeToken(ctx, "tk_nope"); !errors.Is(err, ErrTokenUnknown) {
		t.Errorf("revoking an unknown id: %v; want ErrTokenUnknown", err)
	}

	list, err := db.Tokens(ctx)
	if err != nil || len(list) != 2 {
		t.Fatalf("Tokens = %+v, %v", list, err)
	}
	states := map[string]string{}
	for _, tk := range list {
		states[tk.ID] = tk.State(now)
	}
	if states[tok.ID] != TokenActive || states[tok2.ID] != TokenRevoked {
		t.Errorf("states = %v", states)
	}

	db.Close()
	for _, f := range []string{path, path + "-wal"} {
		b, _ := os.ReadFile(f)
		for _, s := range []string{secret, forever} {
			if strings.Contains(string(b), strings.TrimPrefix(s, TokenPrefix)) {
				t.Errorf("%s holds a token value", filepath.Base(f))
			}
		}
	}
}

// BenchmarkCheckToken is what the HTTP front pays per request to check a
// caller's token against the record.
func BenchmarkCheckToken(b *testing.B) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(b.TempDir(), "mcpgw.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	for range 20 {
		db.CreateToken(ctx, NewToken{User: "x@example.com"})
	}
	secret, _, _ := db.CreateToken(ctx, NewToken{User: "ana@example.com", Team: "data", Roles: []string{"dev"}})
	now := time.Now()
	for b.Loop() {
		if _, err := db.CheckToken(ctx, secret, now); err != nil {
			b.Fatal(err)
		}
	}
}

// TestTokenChecker checks tokens from memory while the stamp stands, and
// sees a revocation made through another handle (another process) at the
// next check; a change that bypasses the stamp is seen within the recheck
// bound.
func TestTokenChecker(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "mcpgw.db")
	gw, err := Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Close()
	cli, err := Open(ctx, path, nil) // `mcpgw token` in another process
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	now := time.Now()
	secret, tok, err := cli.CreateToken(ctx, NewToken{User: "ana@example.com", Expires: now.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	c := gw.TokenChecker()
	for range 3 {
		if got, err := c.Check(ctx, secret, now); err != nil || got.ID != tok.ID {
			t.Fatalf("Check = %+v, %v", got, err)
		}
	}
	if _, err := c.Check(ctx, TokenPrefix+"guess", now); !errors.Is(err, ErrTokenUnknown) {
		t.Errorf("a guess: %v", err)
	}
	if _, err := c.Check(ctx, secret, now.Add(2*time.Hour)); !errors.Is(err, ErrTokenExpired) {
		t.Errorf("expired, from memory: %v", err)
	}
	if _, err := cli.RevokeToken(ctx, tok.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Check(ctx, secret, now); !errors.Is(err, ErrTokenRevoked) {
		t.Errorf("the next check after a revocation: %v; want ErrTokenRevoked", err)
	}

	// A change behind the stamp's back: seen once the recheck bound passes.
	secret2, tok2, _ := cli.CreateToken(ctx, NewToken{User: "bo@example.com"})
	if _, err := c.Check(ctx, secret2, now); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.sql.Exec("UPDATE tokens SET revoked = 1 WHERE id = ?", tok2.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Check(ctx, secret2, now.Add(DefaultTokenRecheck)); !errors.Is(err, ErrTokenRevoked) {
		t.Errorf("after the recheck bound: %v; want ErrTokenRevoked", err)
	}

	// An unwritable stamp: the revocation holds, and says what it could not do.
	secret3, tok3, _ := cli.CreateToken(ctx, NewToken{User: "cy@example.com"})
	os.Remove(cli.stampPath())
	if err := os.Mkdir(cli.stampPath(), 0o700); err != nil { // a directory cannot be renamed over
		t.Fatal(err)
	}
	if r, err := cli.RevokeToken(ctx, tok3.ID); !errors.Is(err, ErrTokenStamp) || r.Revoked.IsZero() {
		t.Errorf("RevokeToken with an unwritable stamp = %+v, %v; want it revoked, and ErrTokenStamp", r, err)
	}
	if _, err := cli.CheckToken(ctx, secret3, now); !errors.Is(err, ErrTokenRevoked) {
		t.Errorf("the database after that: %v", err)
	}
}
