package policy

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// TestAsserter signs an assertion, verifies it with the printed public key
// forms, and checks the cache: one signature per server and identity until
// the assertion nears its expiry.
func TestAsserter(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	pub := key.Public().(ed25519.PublicKey)
	now := time.Unix(1_800_000_000, 0)
	a := NewAsserter(key, &AsserterOptions{TTL: time.Hour, Now: func() time.Time { return now }})
	id := Identity{User: "ana@example.com", Team: "data", Roles: []string{"dev", "admin"}}

	tok, err := a.Assert("postgres", id)
	if err != nil {
		t.Fatal(err)
	}
	// The PEM form, as a server would read it.
	block, _ := pem.Decode([]byte(PublicKeyPEM(pub)))
	parsed, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	var claims AssertionClaims
	_, err = jwt.ParseWithClaims(tok, &claims, func(t *jwt.Token) (any, error) {
		if t.Header["kid"] != PublicJWK(pub).Kid {
			return nil, jwt.ErrTokenUnverifiable
		}
		return parsed, nil
	}, jwt.WithValidMethods([]string{"EdDSA"}), jwt.WithAudience("postgres"), jwt.WithIssuer("mcpgw"),
		jwt.WithExpirationRequired(), jwt.WithTimeFunc(func() time.Time { return now.Add(time.Minute) }))
	if err != nil {
		t.Fatalf("verifying with the PEM key: %v", err)
	}
	if claims.Subject != id.User || claims.Team != "data" || len(claims.Roles) != 2 || claims.ID == "" {
		t.Errorf("claims = %+v", claims)
	}
	if ttl := claims.ExpiresAt.Sub(claims.IssuedAt.Time); ttl != MaxAssertionTTL {
		t.Errorf("lifetime %v; want it capped at %v", ttl, MaxAssertionTTL)
	}
	// The JWK's x is the same key.
	if x, _ := base64.RawURLEncoding.DecodeString(PublicJWK(pub).X); !pub.Equal(ed25519.PublicKey(x)) {
		t.Error("the JWK's x is not the public key")
	}
	// Another audience does not verify as this one.
	if _, err := jwt.Parse(tok, func(*jwt.Token) (any, error) { return pub, nil }, jwt.WithAudience("github"),
		jwt.WithTimeFunc(func() time.Time { return now })); err == nil {
		t.Error("an assertion for postgres verified with audience github")
	}

	// Cached: the same token while it has more than a fifth of its life.
	if again, _ := a.Assert("postgres", id); again != tok {
		t.Error("a second call signed again")
	}
	if other, _ := a.Assert("github", id); other == tok {
		t.Error("two servers got the same assertion")
	}
	if other, _ := a.Assert("postgres", Identity{User: id.User, Team: "web"}); other == tok {
		t.Error("two identities got the same assertion")
	}
	now = now.Add(MaxAssertionTTL * 4 / 5)
	if fresh, _ := a.Assert("postgres", id); fresh == tok {
		t.Error("an assertion near its expiry was reused")
	}
	if _, err := a.Assert("postgres", Identity{Team: "data"}); err == nil {
		t.Error("an assertion without a user")
	}
}

// BenchmarkAssertCached is the per-call cost of an assertion once signed.
func BenchmarkAssertCached(b *testing.B) {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	a := NewAsserter(key, nil)
	id := Identity{User: "ana@example.com", Team: "data", Roles: []string{"dev"}}
	for b.Loop() {
		a.Assert("postgres", id)
	}
}
