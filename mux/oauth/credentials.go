package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/oauth2"

	"github.com/mcpgw/mcpgw/keystore"
)

// Credentials are what a login leaves for one server: the client it
// registered as, where tokens come from, and the tokens. They live in the
// keychain, one blob per server, and never anywhere else.
type Credentials struct {
	// URL is the server's URL they were obtained for; a server whose url:
	// changed needs a new login.
	URL      string `json:"url"`
	Resource string `json:"resource,omitempty"`
	Grant    string `json:"grant"`

	ClientID     string `json:"client_id,omitempty"`
	ClientSecret string `json:"client_secret,omitempty"`
	// Registered is set for a client mcpgw registered dynamically, which
	// the next login reuses instead of registering again.
	Registered bool             `json:"registered,omitempty"`
	AuthStyle  oauth2.AuthStyle `json:"auth_style,omitempty"`
	AuthURL    string           `json:"auth_url,omitempty"`
	TokenURL   string           `json:"token_url"`
	Scopes     []string         `json:"scopes,omitempty"`

	AccessToken  string    `json:"access_token,omitempty"`
	TokenType    string    `json:"token_type,omitempty"`
	RefreshToken string    `json:"refresh_token,omitempty"`
	Expiry       time.Time `json:"expiry,omitzero"`
	IDToken      string    `json:"id_token,omitempty"`
	// Revoked says why the tokens were dropped (a refresh the
	// authorization server refused), for `mcpgw auth status`.
	Revoked string    `json:"revoked,omitempty"`
	Updated time.Time `json:"updated"`
}

// blobName is the keychain blob of a server's credentials.
func blobName(server string) string { return "oauth." + server }

// Load returns the stored credentials of server, or an error matching
// [keystore.ErrNotFound].
func Load(ctx context.Context, store keystore.Blobs, server string) (*Credentials, error) {
	v, err := store.GetBlob(ctx, blobName(server))
	if err != nil {
		if errors.Is(err, keystore.ErrNotFound) {
			return nil, fmt.Errorf("no login stored for server %q: %w", server, keystore.ErrNotFound)
		}
		return nil, err
	}
	var c Credentials
	if err := json.Unmarshal([]byte(v), &c); err != nil {
		return nil, fmt.Errorf("the login stored for server %q is damaged (%v); run: mcpgw auth login %s", server, err, server)
	}
	return &c, nil
}

// Save stores c as server's credentials.
func Save(ctx context.Context, store keystore.Blobs, server string, c *Credentials) error {
	c.Updated = time.Now().UTC()
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	return store.SetBlob(ctx, blobName(server), string(b))
}

// Delete removes server's credentials; none stored is no error.
func Delete(ctx context.Context, store keystore.Blobs, server string) error {
	return store.DeleteBlob(ctx, blobName(server))
}

// token is c's tokens as x/oauth2 holds them.
func (c *Credentials) token() *oauth2.Token {
	return &oauth2.Token{AccessToken: c.AccessToken, TokenType: c.TokenType, RefreshToken: c.RefreshToken, Expiry: c.Expiry}
}

// setToken takes t's values, keeping the refresh token when t has none
// (a refresh need not return a new one).
func (c *Credentials) setToken(t *oauth2.Token) {
	c.AccessToken, c.TokenType, c.Expiry = t.AccessToken, t.TokenType, t.Expiry
	if t.RefreshToken != "" {
		c.RefreshToken = t.RefreshToken
	}
	if id, ok := t.Extra("id_token").(string); ok && id != "" {
		c.IDToken = id
	}
	if s, ok := t.Extra("scope").(string); ok && s != "" {
		c.Scopes = strings.Fields(s)
	}
	c.Revoked = ""
}

// expiresWithin reports whether the access token expires within d (or
// has, or there is none).
func (c *Credentials) expiresWithin(d time.Duration) bool {
	if c.AccessToken == "" {
		return true
	}
	return !c.Expiry.IsZero() && time.Until(c.Expiry) < d
}

// Status is what `mcpgw auth status` shows of a login: never a token.
type Status struct {
	LoggedIn    bool      `json:"loggedIn"`
	Grant       string    `json:"grant,omitempty"`
	Subject     string    `json:"subject,omitempty"`
	Scopes      []string  `json:"scopes,omitempty"`
	Expiry      time.Time `json:"expiry,omitzero"`
	Refreshable bool      `json:"refreshable"`
	ClientID    string    `json:"clientId,omitempty"`
	Revoked     string    `json:"revoked,omitempty"`
	Updated     time.Time `json:"updated,omitzero"`
}

// Status summarises c. The subject is read, unverified, from the ID token
// or a JWT access token, where the authorization server put one.
func (c *Credentials) Status() Status {
	s := Status{LoggedIn: c.AccessToken != "", Grant: c.Grant, Scopes: slices.Clone(c.Scopes), Expiry: c.Expiry,
		Refreshable: c.RefreshToken != "" || c.Grant == GrantClientCredentials, ClientID: c.ClientID, Revoked: c.Revoked, Updated: c.Updated}
	for _, tok := range []string{c.IDToken, c.AccessToken} {
		if sub := subject(tok); sub != "" {
			s.Subject = sub
			break
		}
	}
	return s
}

// subject returns the email, preferred_username or sub claim of a JWT,
// or "" when tok is not one.
func subject(tok string) string {
	if strings.Count(tok, ".") != 2 {
		return ""
	}
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(tok, claims); err != nil {
		return ""
	}
	for _, k := range []string{"email", "preferred_username", "sub"} {
		if v, ok := claims[k].(string); ok && v != "" {
			return v
		}
	}
	return ""
}
