package main

import (
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgw/mcpgw/cmd/internal/testenv"
)

// assertionClaims are the claims a server reads from an identity
// assertion.
type assertionClaims struct {
	Team  string   `json:"team"`
	Roles []string `json:"roles"`
	jwt.RegisteredClaims
}

// verifyAssertion checks tok as a server would, with the public key
// printed by `mcpgw identity public-key`: EdDSA, issuer mcpgw, audience
// the server, unexpired, living at most five minutes.
func verifyAssertion(t *testing.T, tok string, pub ed25519.PublicKey, audience string) assertionClaims {
	t.Helper()
	var c assertionClaims
	_, err := jwt.ParseWithClaims(tok, &c, func(*jwt.Token) (any, error) { return pub, nil },
		jwt.WithValidMethods([]string{"EdDSA"}), jwt.WithIssuer("mcpgw"), jwt.WithAudience(audience),
		jwt.WithExpirationRequired(), jwt.WithIssuedAt())
	if err != nil {
		t.Fatalf("the assertion for %s does not verify with the printed key: %v", audience, err)
	}
	if life := c.ExpiresAt.Sub(c.IssuedAt.Time); life <= 0 || life > 5*time.Minute {
		t.Errorf("assertion for %s lives %v; want at most 5m", audience, life)
	}
	if c.ID == "" {
		t.Errorf("assertion for %s has no jti", audience)
	}
	return c
}

// TestIdentityAssertion: servers that set identity.assert get a signed
// assertion of a token's caller with each request (stdio servers in
// _meta, remote ones in a header), which verifies with the key `mcpgw
// identity public-key` prints (PEM and JWK); other servers get none, and
// neither does anyone when the identity comes from the environment.
func TestIdentityAssertion(t *testing.T) {
	kenv := testenv.Keyring(t)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	fixture := testenv.Fixture(t)
	env := append(slices.Clip(kenv), "MCPGW_DB="+filepath.Join(t.TempDir(), "record.db"))

	pemOut, stderr, code := mcpgwCmd(t, env, "", "identity", "public-key")
	if code != 0 {
		t.Fatalf("identity public-key: exit %d: %s", code, stderr)
	}
	block, _ := pem.Decode([]byte(pemOut))
	if block == nil || block.Type != "PUBLIC KEY" {
		t.Fatalf("identity public-key printed no PEM public key:\n%s", pemOut)
	}
	parsed, err := x509.ParsePKIXPublicKey(block.Bytes)
	pub, ok := parsed.(ed25519.PublicKey)
	if err != nil || !ok {
		t.Fatalf("the printed key is not Ed25519: %T %v", parsed, err)
	}
	jwkOut, _, code := mcpgwCmd(t, env, "", "identity", "public-key", "-o", "json")
	var jwk struct{ Kty, Crv, X, Kid, Alg string }
	if err := json.Unmarshal([]byte(jwkOut), &jwk); code != 0 || err != nil {
		t.Fatalf("identity public-key -o json: exit %d, %v:\n%s", code, err, jwkOut)
	}
	if x, _ := base64.RawURLEncoding.DecodeString(jwk.X); jwk.Kty != "OKP" || jwk.Crv != "Ed25519" || jwk.Alg != "EdDSA" || !pub.Equal(ed25519.PublicKey(x)) {
		t.Errorf("the JWK %+v is not the PEM key", jwk)
	}

	remote := exec.CommandContext(ctx, fixture, "-http", "127.0.0.1:0")
	rerr, _ := remote.StderrPipe()
	if err := remote.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { remote.Process.Signal(os.Interrupt); remote.Wait() })
	remoteURL := readServingURL(t, rerr)
	// The fixture echoes the assertions it received; they are JWTs, which
	// the default guardrails redact in results, so the echo is let through.
	cfgPath := writeConfig(t, fmt.Sprintf(`guardrails: {secrets: {output: off}}
servers:
  fx:
    command: %q
    identity: {assert: true}
  plain:
    command: %q
  web:
    url: %q
    protocol_version: "2025-11-25"
    identity: {assert: true}
`, fixture, fixture, remoteURL))

	token, _ := createToken(t, env, "--user", "ana@example.com", "--team", "data", "--roles", "dev,admin")
	url := serveHTTPAt(t, ctx, cfgPath, "127.0.0.1:0", env)
	for _, v := range agentVersions {
		cs, err := connectHTTP(ctx, url, token, v)
		if err != nil {
			t.Fatalf("%s: %v", v, err)
		}
		waitFor(t, ctx, "every server's tools", func() bool {
			tools, err := cs.ListTools(ctx, nil)
			return err == nil && slices.ContainsFunc(tools.Tools, func(tl *mcp.Tool) bool { return tl.Name == "web__headers" }) &&
				slices.ContainsFunc(tools.Tools, func(tl *mcp.Tool) bool { return tl.Name == "plain__meta" })
		})
		metaOf := func(tool string) map[string]any {
			res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: tool, Meta: mcp.Meta{"io.mcpgw/assertion": "forged"}})
			if err != nil || res.IsError {
				t.Fatalf("%s: %s: %v %v", v, tool, err, res)
			}
			var m map[string]any
			if err := json.Unmarshal([]byte(textOf(t, res)), &m); err != nil {
				t.Fatalf("%s: %v", tool, err)
			}
			return m
		}

		tok, _ := metaOf("fx__meta")["io.mcpgw/assertion"].(string)
		if tok == "" || tok == "forged" {
			t.Fatalf("%s: the stdio server got assertion %q", v, tok)
		}
		c := verifyAssertion(t, tok, pub, "fx")
		if c.Subject != "ana@example.com" || c.Team != "data" || !slices.Equal(c.Roles, []string{"dev", "admin"}) {
			t.Errorf("%s: assertion claims %+v; want the token's identity", v, c)
		}
		if _, err := jwt.Parse(tok, func(*jwt.Token) (any, error) { return pub, nil }, jwt.WithAudience("plain")); err == nil {
			t.Errorf("%s: fx's assertion verifies for another server", v)
		}
		if a, ok := metaOf("plain__meta")["io.mcpgw/assertion"]; ok {
			t.Errorf("%s: a server without identity.assert got assertion %v", v, a)
		}

		if v != "2025-11-25" {
			// A 2026-07-28 agent's calls to an older remote server fail
			// through mcpgw today (the server refuses the version), with
			// or without assertions.
			cs.Close()
			continue
		}
		h := metaOf("web__headers")
		vals, _ := h["X-Mcpgw-Identity-Assertion"].([]any)
		if len(vals) != 1 {
			t.Fatalf("%s: the remote server got headers %v; want one X-MCPGW-Identity-Assertion", v, h)
		}
		if c := verifyAssertion(t, vals[0].(string), pub, "web"); c.Subject != "ana@example.com" {
			t.Errorf("%s: remote assertion for %q", v, c.Subject)
		}
		cs.Close()
	}

	// Over stdio the identity is the environment's: claimed, so not
	// asserted.
	a := startAgentEnv(t, fmt.Sprintf("servers:\n  fx:\n    command: %q\n    identity: {assert: true}\n", fixture), "2025-11-25",
		append(slices.Clip(env), "MCPGW_USER=ana@example.com", "MCPGW_TEAM=data")...)
	got := textOf(t, call(t, ctx, a, "fx__meta", nil))
	if !strings.Contains(got, `"user":"ana@example.com"`) || strings.Contains(got, "io.mcpgw/assertion") {
		t.Errorf("stdio with an identity from the environment: _meta %s; want the identity and no assertion", got)
	}
}
