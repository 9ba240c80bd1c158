package oauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/gofrs/flock"
	"golang.org/x/oauth2"

	"github.com/mcpgw/mcpgw/keystore"
)

// refreshAhead is how long before its expiry a token is refreshed, so no
// request goes out with one that expires on the way.
const refreshAhead = time.Minute

// SourceOptions configures a [Source].
type SourceOptions struct {
	// Server is the server's name in the configuration, URL its url.
	Server, URL string
	// Config is the server's oauth: settings; the zero value is a user's
	// login, discovered.
	Config Config
	// Store keeps the credentials (the keychain).
	Store keystore.Blobs
	// LockDir holds the files that make refreshes one at a time across
	// processes; empty means os.TempDir().
	LockDir string
	// HTTPClient talks to authorization servers; nil means
	// http.DefaultClient.
	HTTPClient *http.Client
	// Seen, when set, hears every token value the source hands out or
	// stores, so the caller can redact it wherever a server echoes it.
	Seen func(name, value string)
	// Fresh ignores the stored credentials until the source stores new
	// ones: a login replacing an earlier one.
	Fresh bool
}

// Source hands out a server's current access token: the stored one,
// refreshed shortly before it expires, or when the server refused it. A
// refresh holds a file lock per server, so of several mcpgw processes
// only one refreshes, and the others read its result from the keychain.
type Source struct {
	o    SourceOptions
	mu   sync.Mutex
	cur  *Credentials
	lock *flock.Flock
	// adopted is set once the source stored credentials of its own.
	adopted bool
	// none remembers that no login is stored, so the many requests to a
	// server that needs none do not each ask the keychain; a refused
	// request (Refresh) asks again.
	none error
}

// NewSource returns a [Source] over o.
func NewSource(o SourceOptions) *Source {
	if o.HTTPClient == nil {
		o.HTTPClient = http.DefaultClient
	}
	if o.LockDir == "" {
		o.LockDir = os.TempDir()
	}
	return &Source{o: o, lock: flock.New(filepath.Join(o.LockDir, "mcpgw-oauth-"+o.Server+".lock"))}
}

// Server is the name of the source's server.
func (s *Source) Server() string { return s.o.Server }

// Token returns credentials with a current access token, refreshing them
// first when they expire soon. With no login stored it returns a
// [*NeedsLoginError], except for the client credentials grant, which
// needs no user and logs in by itself.
func (s *Source) Token(ctx context.Context) (*Credentials, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur == nil && s.none != nil {
		return nil, s.none
	}
	if s.cur == nil {
		c, err := s.load(ctx)
		var nl *NeedsLoginError
		if errors.As(err, &nl) {
			s.none = nl
		}
		if err != nil {
			return nil, err
		}
		s.cur = c
	}
	if !s.cur.expiresWithin(refreshAhead) {
		return s.cur, nil
	}
	return s.refreshLocked(ctx, s.cur.AccessToken)
}

// Refresh replaces the access token stale, which the server refused. If
// another process has replaced it meanwhile, its token is used.
func (s *Source) Refresh(ctx context.Context, stale string) (*Credentials, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refreshLocked(ctx, stale)
}

// Reset forgets the credentials held in memory, so the next [Source.Token]
// reads the keychain (after a login in this process).
func (s *Source) Reset() {
	s.mu.Lock()
	s.cur, s.none = nil, nil
	s.mu.Unlock()
}

// load reads the stored credentials, or gets the first token of a
// client credentials grant.
func (s *Source) load(ctx context.Context) (*Credentials, error) {
	if s.o.Fresh && !s.adopted {
		return nil, &NeedsLoginError{Server: s.o.Server}
	}
	c, err := Load(ctx, s.o.Store, s.o.Server)
	switch {
	case errors.Is(err, keystore.ErrNotFound):
		if s.o.Config.grant() == GrantClientCredentials {
			return s.refreshLocked(ctx, "")
		}
		return nil, &NeedsLoginError{Server: s.o.Server}
	case err != nil && s.o.Config.isZero():
		// A server that may need no login at all must not fail because
		// the keychain cannot be read; if it asks for one, this says why.
		return nil, &NeedsLoginError{Server: s.o.Server, Why: "its login cannot be read: " + err.Error()}
	case err != nil:
		return nil, err
	case c.URL != s.o.URL:
		return nil, &NeedsLoginError{Server: s.o.Server, Why: fmt.Sprintf("its login is for %s, and its url is now %s", c.URL, s.o.URL)}
	case c.AccessToken == "" && c.Grant != GrantClientCredentials:
		why := "its login was revoked"
		if c.Revoked != "" {
			why += " (" + c.Revoked + ")"
		}
		return nil, &NeedsLoginError{Server: s.o.Server, Why: why}
	}
	s.seen(c)
	return c, nil
}

// refreshLocked refreshes under the cross-process lock; s.mu is held.
func (s *Source) refreshLocked(ctx context.Context, stale string) (*Credentials, error) {
	if err := os.MkdirAll(s.o.LockDir, 0o700); err != nil {
		return nil, fmt.Errorf("making the lock directory: %w", err)
	}
	if err := s.lock.Lock(); err != nil {
		return nil, fmt.Errorf("locking %s: %w", s.lock.Path(), err)
	}
	defer s.lock.Unlock()
	// Another process may have refreshed while this one waited.
	c, err := Load(ctx, s.o.Store, s.o.Server)
	switch {
	case err == nil && c.URL == s.o.URL && c.AccessToken != "" && c.AccessToken != stale && !c.expiresWithin(refreshAhead):
		s.cur, s.none = c, nil
		s.seen(c)
		return c, nil
	case errors.Is(err, keystore.ErrNotFound) && s.o.Config.grant() == GrantClientCredentials:
		c = &Credentials{URL: s.o.URL, Grant: GrantClientCredentials}
	case err != nil:
		if errors.Is(err, keystore.ErrNotFound) {
			return nil, &NeedsLoginError{Server: s.o.Server}
		}
		return nil, err
	}
	var tok *oauth2.Token
	if c.Grant == GrantClientCredentials {
		tok, err = clientCredentialsToken(ctx, s.o.HTTPClient, s.o.URL, s.o.Config, c)
	} else {
		tok, err = s.refreshToken(ctx, c)
	}
	if err != nil {
		return nil, err
	}
	c.setToken(tok)
	if err := Save(ctx, s.o.Store, s.o.Server, c); err != nil {
		return nil, fmt.Errorf("storing the refreshed token of server %q: %w", s.o.Server, err)
	}
	s.cur, s.none = c, nil
	s.seen(c)
	return c, nil
}

// refreshToken uses c's refresh token. An authorization server that
// refuses it has revoked the login: the tokens are dropped from the
// keychain (the client registration stays) and the server needs a login.
func (s *Source) refreshToken(ctx context.Context, c *Credentials) (*oauth2.Token, error) {
	if c.RefreshToken == "" {
		return nil, &NeedsLoginError{Server: s.o.Server, Why: "its token expired and the authorization server gave no refresh token"}
	}
	cfg := c.oauth2Config()
	old := c.token()
	old.AccessToken, old.Expiry = "", time.Unix(1, 0) // force the refresh
	tok, err := cfg.TokenSource(withResource(ctx, s.o.HTTPClient, c.Resource), old).Token()
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && (re.ErrorCode == "invalid_grant" || re.ErrorCode == "invalid_client" || re.ErrorCode == "unauthorized_client" ||
		re.Response != nil && (re.Response.StatusCode == http.StatusBadRequest || re.Response.StatusCode == http.StatusUnauthorized)) {
		why := "the authorization server refused its refresh token"
		if re.ErrorCode != "" {
			why += " (" + re.ErrorCode + ")"
		}
		c.AccessToken, c.RefreshToken, c.IDToken, c.Expiry, c.Revoked = "", "", "", time.Time{}, why
		if serr := Save(ctx, s.o.Store, s.o.Server, c); serr != nil {
			return nil, serr
		}
		s.cur = nil
		return nil, &NeedsLoginError{Server: s.o.Server, Why: "its login was revoked: " + why}
	}
	if err != nil {
		return nil, fmt.Errorf("refreshing the token of server %q: %w", s.o.Server, err)
	}
	return tok, nil
}

// oauth2Config is the x/oauth2 client of c.
func (c *Credentials) oauth2Config() *oauth2.Config {
	return &oauth2.Config{ClientID: c.ClientID, ClientSecret: c.ClientSecret, Scopes: c.Scopes,
		Endpoint: oauth2.Endpoint{AuthURL: c.AuthURL, TokenURL: c.TokenURL, AuthStyle: c.AuthStyle}}
}

func (s *Source) seen(c *Credentials) {
	if s.o.Seen == nil {
		return
	}
	for _, v := range []string{c.AccessToken, c.RefreshToken, c.IDToken, c.ClientSecret} {
		if v != "" {
			s.o.Seen("oauth-"+s.o.Server, v)
		}
	}
}

// adopt stores c, from a login, as the source's credentials.
func (s *Source) adopt(ctx context.Context, c *Credentials) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := os.MkdirAll(s.o.LockDir, 0o700); err != nil {
		return fmt.Errorf("making the lock directory: %w", err)
	}
	if err := s.lock.Lock(); err != nil {
		return fmt.Errorf("locking %s: %w", s.lock.Path(), err)
	}
	defer s.lock.Unlock()
	if err := Save(ctx, s.o.Store, s.o.Server, c); err != nil {
		return fmt.Errorf("storing the login of server %q: %w", s.o.Server, err)
	}
	s.cur, s.adopted, s.none = c, true, nil
	s.seen(c)
	return nil
}
