package policy

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// AssertionIssuer is the iss claim of every identity assertion.
const AssertionIssuer = "mcpgw"

// MaxAssertionTTL is the longest an identity assertion lives.
const MaxAssertionTTL = 5 * time.Minute

// AssertionClaims are the claims of an identity assertion: the registered
// ones (iss "mcpgw", sub the user, aud the server's name, iat, exp, jti)
// and the caller's team and roles.
type AssertionClaims struct {
	Team  string   `json:"team,omitempty"`
	Roles []string `json:"roles,omitempty"`
	jwt.RegisteredClaims
}

// AsserterOptions configures [NewAsserter]. The zero value means defaults.
type AsserterOptions struct {
	// TTL is each assertion's life; zero or more than [MaxAssertionTTL]
	// means MaxAssertionTTL.
	TTL time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Asserter signs identity assertions: JWTs (EdDSA over Ed25519) that tell
// one server who the caller is, which the server checks with the public key
// (`mcpgw identity public-key`). An assertion is made once per server and
// identity and reused until it nears its expiry, so a call costs a map
// lookup, not a signature; its jti names the assertion, not the request.
type Asserter struct {
	key ed25519.PrivateKey
	kid string
	ttl time.Duration
	now func() time.Time

	mu    sync.Mutex
	cache map[string]signed
}

type signed struct {
	token   string
	refresh time.Time // when to sign a new one
	expires time.Time
}

// maxCachedAssertions bounds the cache; past it, expired entries go.
const maxCachedAssertions = 4096

// NewAsserter returns an Asserter signing with key; opts may be nil.
func NewAsserter(key ed25519.PrivateKey, opts *AsserterOptions) *Asserter {
	var o AsserterOptions
	if opts != nil {
		o = *opts
	}
	if o.TTL <= 0 || o.TTL > MaxAssertionTTL {
		o.TTL = MaxAssertionTTL
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Asserter{key: key, kid: KeyID(key.Public().(ed25519.PublicKey)), ttl: o.TTL, now: o.Now, cache: map[string]signed{}}
}

// Assert returns an assertion of id for the server named audience. An
// identity without a user has nothing to assert: it is an error.
func (a *Asserter) Assert(audience string, id Identity) (string, error) {
	if id.User == "" {
		return "", fmt.Errorf("no user to assert to server %q", audience)
	}
	key := strings.Join([]string{audience, id.User, id.Team, strings.Join(id.Roles, ",")}, "\x00")
	now := a.now()
	a.mu.Lock()
	defer a.mu.Unlock()
	if s, ok := a.cache[key]; ok && now.Before(s.refresh) {
		return s.token, nil
	}
	jti := make([]byte, 12)
	rand.Read(jti)
	exp := now.Add(a.ttl)
	claims := AssertionClaims{Team: id.Team, Roles: id.Roles, RegisteredClaims: jwt.RegisteredClaims{
		Issuer: AssertionIssuer, Subject: id.User, Audience: jwt.ClaimStrings{audience},
		IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(exp), ID: hex.EncodeToString(jti),
	}}
	t := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims)
	t.Header["kid"] = a.kid
	s, err := t.SignedString(a.key)
	if err != nil {
		return "", fmt.Errorf("signing the identity assertion for server %q: %w", audience, err)
	}
	if len(a.cache) >= maxCachedAssertions {
		for k, v := range a.cache {
			if !now.Before(v.expires) {
				delete(a.cache, k)
			}
		}
		if len(a.cache) >= maxCachedAssertions {
			clear(a.cache)
		}
	}
	// Used for the first four fifths of its life: a server always gets at
	// least a minute (of five) before it expires.
	a.cache[key] = signed{token: s, refresh: now.Add(a.ttl * 4 / 5), expires: exp}
	return s, nil
}

// KeyID is the key's JWK thumbprint (RFC 7638): the kid of the assertions
// it signs and of its JWK.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256([]byte(`{"crv":"Ed25519","kty":"OKP","x":"` + base64.RawURLEncoding.EncodeToString(pub) + `"}`))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// PublicKeyPEM is the public key as a PKIX "PUBLIC KEY" PEM block, as
// most JWT libraries read it.
func PublicKeyPEM(pub ed25519.PublicKey) string {
	der, _ := x509.MarshalPKIXPublicKey(pub) // never fails for Ed25519
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// JWK is a public key as a JSON Web Key (RFC 8037: OKP, Ed25519).
type JWK struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Kid string `json:"kid"`
	Alg string `json:"alg"`
	Use string `json:"use"`
}

// PublicJWK is the public key as a [JWK].
func PublicJWK(pub ed25519.PublicKey) JWK {
	return JWK{Kty: "OKP", Crv: "Ed25519", X: base64.RawURLEncoding.EncodeToString(pub), Kid: KeyID(pub), Alg: "EdDSA", Use: "sig"}
}
