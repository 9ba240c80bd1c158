package oauth

import (
	"context"
	"errors"
	"fmt"
	"html"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
	"golang.org/x/oauth2"

	"github.com/mcpgw/mcpgw/keystore"
)

// LoginOptions configures [Login] and [NewStepUp].
type LoginOptions struct {
	// Server is the server's name, URL its url, SSE set for a server
	// speaking the legacy SSE transport.
	Server, URL string
	SSE         bool
	Config      Config
	Store       keystore.Blobs
	LockDir     string
	// Base sends requests to the server (with its configured headers);
	// nil means http.DefaultTransport.
	Base http.RoundTripper
	// HTTPClient talks to authorization servers; nil means
	// http.DefaultClient.
	HTTPClient *http.Client
	// Open shows the user the authorization URL: a browser, or a line to
	// copy. Required for the authorization code grant.
	Open func(ctx context.Context, authURL string) error
	// Name and Version identify mcpgw to the server.
	Name, Version string
	// Seen hears token values, as in [SourceOptions].
	Seen func(name, value string)
}

// LoginResult is what a login leaves.
type LoginResult struct {
	Status Status
	// Tools is how many tools the server listed with the new login.
	Tools int
}

// ErrNoLoginNeeded is returned by [Login] for a server that answered
// without asking for one.
var ErrNoLoginNeeded = errors.New("the server answered without asking for a login; nothing was stored")

// Login logs in to a server: for the authorization code grant, it
// connects, and when the server answers 401 runs the flow the MCP
// authorization spec describes (go-sdk's [auth.AuthorizationCodeHandler]:
// discovery, PKCE, resource parameter, client ID metadata document,
// pre-registered or dynamically registered client), with the user's
// browser and a loopback redirect on 127.0.0.1; for the client credentials
// grant it gets a token directly. The credentials replace the stored ones
// once the server has listed its tools with them.
func Login(ctx context.Context, o LoginOptions) (*LoginResult, error) {
	src := NewSource(SourceOptions{Server: o.Server, URL: o.URL, Config: o.Config, Store: o.Store, LockDir: o.LockDir,
		HTTPClient: o.HTTPClient, Seen: o.Seen, Fresh: true})
	tr := &Transport{Source: src, Base: o.Base}
	var su *StepUp
	if o.Config.grant() == GrantAuthorizationCode {
		if o.Open == nil {
			return nil, errors.New("no way to open the authorization URL")
		}
		su = NewStepUp(o, src)
		defer su.Close()
		tr.Authorize = su.Authorize
	} else if _, err := src.Refresh(ctx, ""); err != nil {
		return nil, err
	}
	n, err := listTools(ctx, o, tr)
	if err != nil {
		return nil, err
	}
	if su != nil && !su.authorized() {
		return nil, ErrNoLoginNeeded
	}
	c, err := src.Token(ctx)
	if err != nil {
		return nil, err
	}
	return &LoginResult{Status: c.Status(), Tools: n}, nil
}

// listTools connects through tr and lists the server's tools.
func listTools(ctx context.Context, o LoginOptions, tr http.RoundTripper) (int, error) {
	hc := &http.Client{Transport: tr}
	var t mcp.Transport = &mcp.StreamableClientTransport{Endpoint: o.URL, HTTPClient: hc, DisableStandaloneSSE: true}
	if o.SSE {
		t = &mcp.SSEClientTransport{Endpoint: o.URL, HTTPClient: hc}
	}
	client := mcp.NewClient(&mcp.Implementation{Name: o.Name, Version: o.Version}, nil)
	cs, err := client.Connect(ctx, t, nil)
	if err != nil {
		return 0, fmt.Errorf("connecting to %s: %w", o.URL, err)
	}
	defer cs.Close()
	n := 0
	for tool, err := range cs.Tools(ctx, nil) {
		if err != nil {
			return 0, fmt.Errorf("listing the tools of %s: %w", o.URL, err)
		}
		_ = tool
		n++
	}
	return n, nil
}

// StepUp runs the browser flow for a [Transport]: a first login, or more
// scopes for a server that asks for them (403 insufficient_scope). One
// StepUp keeps go-sdk's handler, so scopes granted earlier are asked for
// again with the new ones.
type StepUp struct {
	o   LoginOptions
	src *Source

	mu       sync.Mutex
	h        *auth.AuthorizationCodeHandler
	ln       net.Listener
	srv      *http.Server
	pending  map[string]chan callback
	resource string
	cfg      *oauth2.Config
	tok      oauth2.TokenSource
	done     bool // a flow completed
}

type callback struct {
	res *auth.AuthorizationResult
	err error
}

// NewStepUp returns a [StepUp] storing what it gets through src.
func NewStepUp(o LoginOptions, src *Source) *StepUp {
	return &StepUp{o: o, src: src, pending: map[string]chan callback{}}
}

// authorized reports whether a flow completed.
func (s *StepUp) authorized() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.done
}

// Close stops the loopback listener.
func (s *StepUp) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		s.srv.Close()
	}
}

// Authorize is an [Authorizer].
func (s *StepUp) Authorize(ctx context.Context, req *http.Request, resp *http.Response) error {
	h, err := s.handler(ctx)
	if err != nil {
		resp.Body.Close()
		return err
	}
	if err := h.Authorize(ctx, req, resp); err != nil {
		return fmt.Errorf("logging in to server %q: %w", s.o.Server, err)
	}
	s.mu.Lock()
	cfg, ts, resource := s.cfg, s.tok, s.resource
	s.mu.Unlock()
	tok, err := ts.Token()
	if err != nil {
		return err
	}
	c := &Credentials{URL: s.o.URL, Resource: resource, Grant: GrantAuthorizationCode, ClientID: cfg.ClientID,
		ClientSecret: cfg.ClientSecret, AuthStyle: cfg.Endpoint.AuthStyle, AuthURL: cfg.Endpoint.AuthURL,
		TokenURL: cfg.Endpoint.TokenURL, Scopes: cfg.Scopes}
	c.Registered = s.o.Config.ClientID == "" && cfg.ClientID != s.o.Config.ClientMetadataURL
	c.setToken(tok)
	if err := s.src.adopt(ctx, c); err != nil {
		return err
	}
	s.mu.Lock()
	s.done = true
	s.mu.Unlock()
	return nil
}

// handler makes go-sdk's handler and the loopback listener on first use.
func (s *StepUp) handler(ctx context.Context) (*auth.AuthorizationCodeHandler, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.h != nil {
		return s.h, nil
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listening for the login's redirect on 127.0.0.1: %w", err)
	}
	redirect := fmt.Sprintf("http://127.0.0.1:%d/callback", ln.Addr().(*net.TCPAddr).Port)
	hc := s.o.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	cfg := &auth.AuthorizationCodeHandlerConfig{
		RedirectURL:              redirect,
		AuthorizationCodeFetcher: s.fetch,
		RequestRefreshToken:      true,
		Client:                   hc,
		NewTokenSource: func(ctx context.Context, c *oauth2.Config, t *oauth2.Token) (oauth2.TokenSource, error) {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.cfg, s.tok = c, oauth2.StaticTokenSource(t)
			return s.tok, nil
		},
	}
	conf := s.o.Config
	switch {
	case conf.ClientID != "":
		cfg.PreregisteredClient = &oauthex.ClientCredentials{ClientID: conf.ClientID}
		if conf.ClientSecret != "" {
			cfg.PreregisteredClient.ClientSecretAuth = &oauthex.ClientSecretAuth{ClientSecret: conf.ClientSecret}
		}
	default:
		// A client registered by an earlier login is used again.
		if old, err := Load(ctx, s.o.Store, s.o.Server); err == nil && old.Registered && old.URL == s.o.URL && old.ClientID != "" {
			cfg.PreregisteredClient = &oauthex.ClientCredentials{ClientID: old.ClientID}
			if old.ClientSecret != "" {
				cfg.PreregisteredClient.ClientSecretAuth = &oauthex.ClientSecretAuth{ClientSecret: old.ClientSecret}
			}
		}
		cfg.DynamicClientRegistrationConfig = &auth.DynamicClientRegistrationConfig{Metadata: &oauthex.ClientRegistrationMetadata{
			RedirectURIs: []string{redirect}, ClientName: "mcpgw", GrantTypes: []string{"authorization_code", "refresh_token"},
			ResponseTypes: []string{"code"},
		}}
	}
	if conf.ClientMetadataURL != "" {
		cfg.ClientIDMetadataDocumentConfig = &auth.ClientIDMetadataDocumentConfig{URL: conf.ClientMetadataURL}
	}
	if len(conf.Scopes) > 0 {
		cfg.ScopeFilter = func([]string) []string { return conf.Scopes }
	}
	h, err := auth.NewAuthorizationCodeHandler(cfg)
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("server %q: oauth settings: %w", s.o.Server, err)
	}
	s.ln, s.h = ln, h
	s.srv = &http.Server{Handler: http.HandlerFunc(s.callback), ReadHeaderTimeout: 10 * time.Second}
	go s.srv.Serve(ln)
	return h, nil
}

// fetch shows the user the authorization URL and waits for the redirect.
func (s *StepUp) fetch(ctx context.Context, args *auth.AuthorizationArgs) (*auth.AuthorizationResult, error) {
	u, err := url.Parse(args.URL)
	if err != nil {
		return nil, err
	}
	state := u.Query().Get("state")
	ch := make(chan callback, 1)
	s.mu.Lock()
	s.resource = u.Query().Get("resource")
	s.pending[state] = ch
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.pending, state)
		s.mu.Unlock()
	}()
	if err := s.o.Open(ctx, args.URL); err != nil {
		return nil, err
	}
	select {
	case cb := <-ch:
		return cb.res, cb.err
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for the browser to come back from the authorization server: %w", ctx.Err())
	}
}

// callback answers the authorization server's redirect. A state no login
// of this process is waiting for is refused (a forged or stale redirect).
func (s *StepUp) callback(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/callback" {
		http.NotFound(w, r)
		return
	}
	q := r.URL.Query()
	s.mu.Lock()
	ch, ok := s.pending[q.Get("state")]
	s.mu.Unlock()
	if !ok {
		http.Error(w, "mcpgw: this redirect does not belong to a login in progress (state does not match); start again with mcpgw auth login", http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if e := q.Get("error"); e != "" {
		msg := e
		if d := q.Get("error_description"); d != "" {
			msg += ": " + d
		}
		fmt.Fprintf(w, "<p>mcpgw: the authorization server refused the login (%s). You can close this tab.</p>", html.EscapeString(msg))
		ch <- callback{err: fmt.Errorf("the authorization server refused the login: %s", msg)}
		return
	}
	fmt.Fprintf(w, "<p>mcpgw: logged in to %s. You can close this tab.</p>", html.EscapeString(s.o.Server))
	ch <- callback{res: &auth.AuthorizationResult{Code: q.Get("code"), State: q.Get("state"), Iss: q.Get("iss")}}
}
