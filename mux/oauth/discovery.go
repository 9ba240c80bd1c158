package oauth

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
)

// discovered is where a server's tokens come from.
type discovered struct {
	resource string
	asm      *oauthex.AuthServerMeta
	scopes   []string // the resource's scopes_supported
}

// discover finds a server's authorization server without a challenge (the
// client credentials grant asks for a token before any request): its
// protected resource metadata at the two well-known locations (RFC 9728),
// refusing metadata for another resource, then the authorization server's
// metadata (RFC 8414, OpenID discovery); with none, the 2025-03-26
// fallbacks (the server's origin, /token).
func discover(ctx context.Context, hc *http.Client, serverURL string) (*discovered, error) {
	u, err := url.Parse(serverURL)
	if err != nil {
		return nil, fmt.Errorf("bad server url %q: %w", serverURL, err)
	}
	origin := &url.URL{Scheme: u.Scheme, Host: u.Host}
	tries := []struct{ meta, resource string }{
		{origin.String() + "/.well-known/oauth-protected-resource/" + strings.TrimLeft(u.Path, "/"), serverURL},
		{origin.String() + "/.well-known/oauth-protected-resource", origin.String()},
	}
	d := &discovered{resource: serverURL}
	issuer := origin.String()
	var refused error
	for _, t := range tries {
		prm, err := oauthex.GetProtectedResourceMetadata(ctx, t.meta, t.resource, hc)
		if err != nil {
			if strings.Contains(err.Error(), "want") {
				refused = err // metadata for another resource
			}
			continue
		}
		if len(prm.AuthorizationServers) == 0 {
			return nil, fmt.Errorf("the protected resource metadata of %s names no authorization server", serverURL)
		}
		d.resource, issuer, d.scopes = prm.Resource, prm.AuthorizationServers[0], prm.ScopesSupported
		refused = nil
		break
	}
	if refused != nil {
		return nil, fmt.Errorf("refusing the server's protected resource metadata: %w", refused)
	}
	asm, err := auth.GetAuthServerMetadata(ctx, issuer, hc)
	if err != nil {
		return nil, fmt.Errorf("reading the authorization server metadata of %s: %w", issuer, err)
	}
	if asm == nil {
		asm = &oauthex.AuthServerMeta{Issuer: issuer, AuthorizationEndpoint: issuer + "/authorize", TokenEndpoint: issuer + "/token"}
	}
	d.asm = asm
	return d, nil
}
