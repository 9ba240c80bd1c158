package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mcpgw/mcpgw/cmd/internal/config"
	"github.com/mcpgw/mcpgw/logs"
	"github.com/mcpgw/mcpgw/mux"
	"github.com/mcpgw/mcpgw/mux/callpath"
	"github.com/mcpgw/mcpgw/policy"
)

// httpAuth authenticates the HTTP front's agents by the tokens in the
// record (mcpgw token). Callers must present a token once any is active
// (or from the start, with --require-token or a non-loopback address), and
// from then on for the life of the process: revoking the last token closes
// the gateway rather than opening it. A token presented is checked on every
// request (from memory while the tokens' stamp is unchanged; see
// logs.TokenChecker), so a revocation holds from the next one.
type httpAuth struct {
	db       *logs.DB
	tokens   *logs.TokenChecker
	logger   *slog.Logger
	required atomic.Bool
	// counted is when the active tokens were last counted (Unix ns),
	// while callers need none: a token created meanwhile is noticed
	// within countEvery.
	counted atomic.Int64
	now     func() time.Time
}

// countEvery bounds how often a gateway that needs no token yet looks for
// one.
const countEvery = time.Second

// openHTTPAuth opens the tokens for `serve --http` on addr. Without a
// readable record a loopback gateway serves unauthenticated, with a
// warning; a non-loopback one, or one told to require tokens, does not
// start. A non-loopback address needs an active token.
func openHTTPAuth(ctx context.Context, f *Factory, cfg *config.Config, opts *ServeOptions, loopback bool, logger *slog.Logger) (*httpAuth, error) {
	path, err := f.DBPath(cfg, opts.DB)
	var db *logs.DB
	if err == nil {
		db, err = logs.Open(ctx, path, &logs.OpenOptions{CacheKiB: 256})
	}
	n := 0
	if err == nil {
		if n, err = db.ActiveTokens(ctx, time.Now()); err != nil {
			db.Close()
		}
	}
	if err != nil {
		if loopback && !opts.RequireToken {
			logger.Warn("bearer tokens cannot be read, so none is required: any local process may call this gateway", "err", err)
			return nil, nil
		}
		return nil, fmt.Errorf("reading the tokens that authenticate HTTP callers: %w", err)
	}
	if n == 0 && !loopback {
		db.Close()
		return nil, withCode(ExitUsage, fmt.Errorf("--http %q: a non-loopback address needs caller authentication, and the record %s holds no active token; create one with: mcpgw token create --user EMAIL --team TEAM (or serve on a loopback address, e.g. 127.0.0.1:PORT)", opts.HTTP, path))
	}
	a := &httpAuth{db: db, tokens: db.TokenChecker(), logger: logger, now: time.Now}
	a.required.Store(n > 0 || opts.RequireToken || !loopback)
	return a, nil
}

// Required reports whether callers must present a token now.
func (a *httpAuth) Required() bool { return a.required.Load() }

func (a *httpAuth) close() {
	if a != nil {
		a.db.Close()
	}
}

// authenticate implements [mux.Options].Authenticate.
func (a *httpAuth) authenticate(r *http.Request) (*mux.Caller, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		if !a.needed(r.Context()) {
			return nil, nil
		}
		return nil, fmt.Errorf("%w: this gateway requires a bearer token; send the header \"Authorization: Bearer TOKEN\" (an administrator makes one with: mcpgw token create --user EMAIL --team TEAM)", mux.ErrNoCredential)
	}
	scheme, secret, _ := strings.Cut(strings.TrimSpace(h), " ")
	secret = strings.TrimSpace(secret)
	if !strings.EqualFold(scheme, "Bearer") || secret == "" {
		return nil, errors.New("the Authorization header holds no bearer token; send \"Authorization: Bearer TOKEN\"")
	}
	t, err := a.tokens.Check(r.Context(), secret, a.now())
	switch {
	case errors.Is(err, logs.ErrTokenUnknown):
		return nil, errors.New("this bearer token is not one this gateway issued (mcpgw token list shows the tokens it knows)")
	case errors.Is(err, logs.ErrTokenRevoked):
		return nil, fmt.Errorf("token %s was revoked at %s; ask for a new one (mcpgw token create)", t.ID, t.Revoked.Format(time.RFC3339))
	case errors.Is(err, logs.ErrTokenExpired):
		return nil, fmt.Errorf("token %s expired at %s; ask for a new one (mcpgw token create)", t.ID, t.Expires.Format(time.RFC3339))
	case err != nil:
		a.logger.Error("a bearer token could not be checked; the request is refused", "err", err)
		return nil, errors.New("the token could not be checked (the gateway's record is unreadable); try again, or see the gateway's log")
	}
	if !a.required.Load() {
		a.turnOn("a token was presented")
	}
	return &mux.Caller{ID: t.ID, Identity: callpath.Identity{User: t.User, Team: t.Team, Roles: t.Roles}}, nil
}

// needed reports whether a request without a token is refused: it is once
// a token is active, looked for at most every countEvery.
func (a *httpAuth) needed(ctx context.Context) bool {
	if a.required.Load() {
		return true
	}
	now := a.now()
	last := a.counted.Load()
	if now.UnixNano()-last < int64(countEvery) || !a.counted.CompareAndSwap(last, now.UnixNano()) {
		return false
	}
	n, err := a.db.ActiveTokens(ctx, now)
	if err != nil {
		a.logger.Warn("bearer tokens could not be counted", "err", err)
		return false
	}
	if n > 0 {
		a.turnOn("a token was created")
		return true
	}
	return false
}

func (a *httpAuth) turnOn(why string) {
	if a.required.CompareAndSwap(false, true) {
		a.logger.Warn(why + ": every HTTP request now needs a bearer token, until mcpgw stops")
	}
}

// assertionSigner signs identity assertions for the servers that ask for
// them (servers.NAME.identity.assert), with the key in the OS keychain,
// read on first use (a gateway whose callers are not verified never reads
// it).
type assertionSigner struct {
	ctx context.Context
	cfg *config.Config

	mu sync.Mutex
	a  *policy.Asserter
}

// sign implements [mux.Options].SignAssertion.
func (s *assertionSigner) sign(server string, id callpath.Identity) (string, error) {
	s.mu.Lock()
	a := s.a
	if a == nil {
		ctx, cancel := context.WithTimeout(s.ctx, keystoreWait)
		key, err := signingKey(ctx, s.cfg)
		cancel()
		if err != nil {
			s.mu.Unlock()
			return "", err
		}
		a = policy.NewAsserter(key, nil)
		s.a = a
	}
	s.mu.Unlock()
	return a.Assert(server, id)
}

// keystoreWait bounds the first read of the signing key, on a call's path.
const keystoreWait = 15 * time.Second
