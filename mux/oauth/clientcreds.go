package oauth

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// clientCredentialsToken gets a token with the client credentials grant,
// discovering the token endpoint first when c has none. The client
// authenticates with its secret (client_secret_basic unless the
// authorization server supports only client_secret_post) or with a JWT
// signed by its private key (private_key_jwt, RFC 7523).
func clientCredentialsToken(ctx context.Context, hc *http.Client, serverURL string, cfg Config, c *Credentials) (*oauth2.Token, error) {
	if c.TokenURL == "" || c.AuthURL == "" {
		d, err := discover(ctx, hc, serverURL)
		if err != nil {
			return nil, err
		}
		c.Resource, c.TokenURL, c.AuthURL = d.resource, d.asm.TokenEndpoint, d.asm.Issuer
		c.AuthStyle = oauth2.AuthStyleInHeader
		if m := d.asm.TokenEndpointAuthMethodsSupported; slices.Contains(m, "client_secret_post") && !slices.Contains(m, "client_secret_basic") {
			c.AuthStyle = oauth2.AuthStyleInParams
		}
		c.Scopes = cfg.Scopes
		if len(c.Scopes) == 0 {
			c.Scopes = d.scopes
		}
	}
	c.ClientID = cfg.ClientID
	cc := clientcredentials.Config{ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, TokenURL: c.TokenURL,
		Scopes: c.Scopes, AuthStyle: c.AuthStyle, EndpointParams: url.Values{}}
	if c.Resource != "" {
		cc.EndpointParams.Set("resource", c.Resource)
	}
	if cfg.PrivateKey != "" {
		// c.AuthURL holds the issuer here: the assertion's audience.
		assertion, err := signAssertion(cfg.PrivateKey, cfg.ClientID, c.AuthURL)
		if err != nil {
			return nil, err
		}
		cc.ClientSecret = ""
		cc.AuthStyle = oauth2.AuthStyleInParams
		cc.EndpointParams.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
		cc.EndpointParams.Set("client_assertion", assertion)
	}
	tok, err := cc.Token(context.WithValue(ctx, oauth2.HTTPClient, hc))
	if err != nil {
		return nil, fmt.Errorf("getting a token with the client credentials grant from %s: %w", c.TokenURL, err)
	}
	return tok, nil
}

// signAssertion signs a client assertion (RFC 7523) for clientID, for the
// authorization server audience, valid for five minutes.
func signAssertion(keyPEM, clientID, audience string) (string, error) {
	var (
		key    any
		method jwt.SigningMethod
	)
	if k, err := jwt.ParseECPrivateKeyFromPEM([]byte(keyPEM)); err == nil {
		key, method = k, ecMethod(k)
	} else if k, err := jwt.ParseRSAPrivateKeyFromPEM([]byte(keyPEM)); err == nil {
		key, method = k, jwt.SigningMethodRS256
	} else {
		return "", errors.New("private_key is not a PEM EC or RSA private key; store one with: mcpgw secret set NAME < key.pem")
	}
	now := time.Now()
	claims := jwt.RegisteredClaims{Issuer: clientID, Subject: clientID, Audience: jwt.ClaimStrings{audience},
		IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(5 * time.Minute)), ID: rand.Text()}
	return jwt.NewWithClaims(method, claims).SignedString(key)
}

func ecMethod(k *ecdsa.PrivateKey) jwt.SigningMethod {
	switch k.Curve.Params().BitSize {
	case 384:
		return jwt.SigningMethodES384
	case 521:
		return jwt.SigningMethodES512
	}
	return jwt.SigningMethodES256
}
