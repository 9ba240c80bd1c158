package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/mcpgw/mcpgw/cmd/internal/config"
	"github.com/mcpgw/mcpgw/keystore"
	"github.com/mcpgw/mcpgw/logs"
	"github.com/mcpgw/mcpgw/mux"
	"github.com/mcpgw/mcpgw/mux/oauth"
)

// oauthConfig is a remote server's oauth: settings for the gateway, nil
// when it has none (a login is then discovered when the server asks).
func oauthConfig(s *config.Server) *oauth.Config {
	o := s.OAuth
	if !s.IsRemote() || o.Grant == "" && o.ClientID == "" && o.ClientSecret == "" && len(o.Scopes) == 0 && o.ClientMetadataURL == "" && o.PrivateKey == "" && !o.ElicitLogin {
		return nil
	}
	return &oauth.Config{Grant: o.Grant, ClientID: o.ClientID, ClientSecret: o.ClientSecret, Scopes: o.Scopes,
		ClientMetadataURL: o.ClientMetadataURL, PrivateKey: o.PrivateKey, ElicitLogin: o.ElicitLogin}
}

// oauthOptions says where OAuth logins live: in the OS keychain, with the
// refresh locks in the user's state directory, which every mcpgw process
// of the user shares whatever its configuration.
func (f *Factory) oauthOptions(cfg *config.Config) *mux.OAuthOptions {
	return &mux.OAuthOptions{Store: keystore.BlobsOf(f.Keystore(cfg)), LockDir: oauthLockDir()}
}

// oauthLockDir is the directory of the refresh lock files.
func oauthLockDir() string {
	if p, err := logs.DefaultPath(); err == nil {
		return filepath.Join(filepath.Dir(p), "locks")
	}
	return filepath.Join(os.TempDir(), "mcpgw-locks")
}

// stepUp lets a command run in a terminal (mcpgw call) ask the user, in
// the browser, for the scopes a server wants for a call and the login
// lacks.
func stepUp(f *Factory, s *IOStreams, cfg *config.Config) func(mux.ServerSpec, *oauth.Source) oauth.Authorizer {
	return func(spec mux.ServerSpec, src *oauth.Source) oauth.Authorizer {
		conf := oauth.Config{}
		if spec.OAuth != nil {
			conf = *spec.OAuth
		}
		lo := oauth.LoginOptions{Server: spec.Name, URL: spec.URL, SSE: spec.Transport == "sse", Config: conf,
			Store: keystore.BlobsOf(f.Keystore(cfg)), LockDir: oauthLockDir(), Name: "mcpgw", Version: Version,
			Open: func(ctx context.Context, u string) error {
				fmt.Fprintf(s.ErrOut, "Server %s asks for more scope; opening the browser to authorize it...\n", spec.Name)
				if err := openBrowser(ctx, u); err != nil {
					fmt.Fprintf(s.ErrOut, "Could not open a browser (%v); open this URL yourself:\n\n  %s\n\n", err, u)
				}
				return nil
			}}
		return oauth.NewStepUp(lo, src).Authorize
	}
}

// loginCheck is doctor's view of a remote server's OAuth login: shown when
// one is stored or the server has oauth: settings; ok is false otherwise
// (most remote servers need none).
func loginCheck(ctx context.Context, store keystore.Store, s *config.Server) (doctorCheck, bool) {
	c := doctorCheck{Check: "login " + s.Name, Status: checkOK}
	conf := oauthConfig(s)
	creds, err := oauth.Load(ctx, keystore.BlobsOf(store), s.Name)
	switch {
	case errors.Is(err, keystore.ErrNotFound):
		if conf == nil || conf.Grant == oauth.GrantClientCredentials {
			return c, false // none needed, or one taken on first use
		}
		c.Status, c.Detail, c.Fix = checkWarn, "no OAuth login stored: the server is in needs_login once it asks for one", "mcpgw auth login "+s.Name
	case err != nil:
		return c, false // the keychain check says why
	case creds.URL != s.URL:
		c.Status, c.Detail, c.Fix = checkWarn, "the stored login is for "+creds.URL, "mcpgw auth login "+s.Name
	case creds.AccessToken == "" && creds.Grant != oauth.GrantClientCredentials:
		c.Status, c.Detail, c.Fix = checkWarn, "the login was revoked: "+creds.Revoked, "mcpgw auth login "+s.Name
	default:
		st := creds.Status()
		c.Detail = "logged in"
		if st.Subject != "" {
			c.Detail += " as " + st.Subject
		}
		if !st.Expiry.IsZero() {
			c.Detail += ", token expires " + st.Expiry.Local().Format(time.DateTime)
		}
		if st.Refreshable {
			c.Detail += ", refreshable"
		}
	}
	return c, true
}
