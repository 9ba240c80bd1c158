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
