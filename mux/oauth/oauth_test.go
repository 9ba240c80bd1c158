package oauth

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/mcpgw/mcpgw/keystore"
	"github.com/mcpgw/mcpgw/keystore/keystoretest"
)

func TestStatusNeverHoldsATokenAndNamesTheSubject(t *testing.T) {
	id, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "u1", "email": "ana@example.com"}).SignedString([]byte("k"))
	c := &Credentials{Grant: GrantAuthorizationCode, AccessToken: "at-secret-value", RefreshToken: "rt-secret-value", IDToken: id,
		Scopes: []string{"read"}, Expiry: time.Now().Add(time.Hour)}
	st := c.Status()
	if st.Subject != "ana@example.com" || !st.LoggedIn || !st.Refreshable {
		t.Errorf("Status = %+v; want logged in, refreshable, as ana@example.com", st)
	}
	if s := strings.Join([]string{st.Subject, st.ClientID, st.Revoked, strings.Join(st.Scopes, " ")}, " "); strings.Contains(s, "secret-value") {
		t.Errorf("Status shows a token: %q", s)
	}
	if got := (&Credentials{AccessToken: "opaque"}).Status().Subject; got != "" {
		t.Errorf("subject of an opaque token = %q, want none", got)
	}
}

func TestResourceParamOnRefresh(t *testing.T) {
	var got url.Values
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got, _ = url.ParseQuery(string(b))
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"access_token":"at-new-token","token_type":"Bearer","expires_in":3600}`)
	}))
	defer srv.Close()
	store := keystoretest.New(nil)
	c := &Credentials{URL: "https://mcp.example/mcp", Resource: "https://mcp.example/mcp", Grant: GrantAuthorizationCode,
		ClientID: "c", TokenURL: srv.URL, AccessToken: "at-old-token", RefreshToken: "rt-token", Expiry: time.Now().Add(-time.Minute)}
	if err := Save(context.Background(), store, "s", c); err != nil {
		t.Fatal(err)
	}
	var seen []string
	src := NewSource(SourceOptions{Server: "s", URL: c.URL, Store: store, LockDir: t.TempDir(), Seen: func(_, v string) { seen = append(seen, v) }})
	nc, err := src.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if nc.AccessToken != "at-new-token" || nc.RefreshToken != "rt-token" {
		t.Errorf("after refresh: access %q refresh %q; want the new access token and the refresh token kept", nc.AccessToken, nc.RefreshToken)
	}
	if got.Get("grant_type") != "refresh_token" || got.Get("resource") != c.Resource {
		t.Errorf("refresh request = %v; want grant_type=refresh_token and resource=%s", got, c.Resource)
	}
	stored, _ := Load(context.Background(), store, "s")
	if stored.AccessToken != "at-new-token" {
		t.Errorf("stored access token %q, want the refreshed one", stored.AccessToken)
	}
	for _, want := range []string{"at-old-token", "at-new-token", "rt-token"} {
		if !slices.Contains(seen, want) {
			t.Errorf("the redactor did not hear %q (heard %q)", want, seen)
		}
	}
}

func TestNoLoginNeedsLogin(t *testing.T) {
	src := NewSource(SourceOptions{Server: "gh", URL: "https://x/mcp", Store: keystoretest.New(nil), LockDir: t.TempDir()})
	_, err := src.Token(context.Background())
	var nl *NeedsLoginError
	if !errors.As(err, &nl) || !strings.Contains(err.Error(), "run: mcpgw auth login gh") {
		t.Fatalf("Token with no login: %v; want a NeedsLoginError naming the command", err)
	}
	var _ keystore.Blobs = keystoretest.New(nil)
}

// A remote server that needs no login works with no keychain, asking it
// once per connection, not per request.
func TestTransportWithoutKeychainSendsNoToken(t *testing.T) {
	var auths []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auths = append(auths, r.Header.Get("Authorization"))
	}))
	defer srv.Close()
	store := &countingStore{Memory: keystoretest.New(nil)}
	store.Err = &keystore.UnavailableError{Err: errors.New("no session bus")}
	tr := &Transport{Source: NewSource(SourceOptions{Server: "open", URL: srv.URL, Store: store, LockDir: t.TempDir()})}
	for range 3 {
		resp, err := (&http.Client{Transport: tr}).Get(srv.URL)
		if err != nil {
			t.Fatalf("request with no keychain: %v", err)
		}
		resp.Body.Close()
	}
	if strings.Join(auths, "") != "" || len(auths) != 3 {
		t.Errorf("Authorization headers sent: %q; want 3 requests with none", auths)
	}
	if store.gets != 1 {
		t.Errorf("the keychain was asked %d times for 3 requests, want once", store.gets)
	}
}

type countingStore struct {
	*keystoretest.Memory
	gets int
}

func (s *countingStore) GetBlob(ctx context.Context, name string) (string, error) {
	s.gets++
	return s.Memory.GetBlob(ctx, name)
}

// A 401 that challenges for something else than a Bearer token (an API
// key) is the server's answer, not a login to ask for.
func TestTransportPassesOtherChallenges(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("WWW-Authenticate", `ApiKey realm="x"`)
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer srv.Close()
	tr := &Transport{Source: NewSource(SourceOptions{Server: "k", URL: srv.URL, Store: keystoretest.New(nil), LockDir: t.TempDir()})}
	resp, err := (&http.Client{Transport: tr}).Get(srv.URL)
	if err != nil {
		t.Fatalf("request: %v; want the server's 401 as it was", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || tr.NeedsLogin() != nil {
		t.Errorf("status %d, needs login %v; want 401 and no login asked for", resp.StatusCode, tr.NeedsLogin())
	}
}
