package oauth

import (
	"fmt"
	"strings"
)

// Grants mcpgw can use.
const (
	// GrantAuthorizationCode is a user's login in a browser (the default).
	GrantAuthorizationCode = "authorization_code"
	// GrantClientCredentials is machine-to-machine: a client secret or a
	// private key (private_key_jwt), no user and no browser.
	GrantClientCredentials = "client_credentials"
)

// Config is one server's oauth: settings, with ${secret:…} references
// resolved. The zero value discovers everything and registers a client
// (Client ID Metadata Document or dynamic registration) as the server's
// authorization server allows.
type Config struct {
	// Grant is "" (authorization_code) or one of the Grant constants.
	Grant string
	// ClientID and ClientSecret name a client registered beforehand;
	// ClientSecret is empty for a public client.
	ClientID, ClientSecret string
	// Scopes, when set, are requested instead of the ones the server
	// advertises.
	Scopes []string
	// ClientMetadataURL is an https URL of a Client ID Metadata Document
	// describing mcpgw, used as the client ID where the authorization
	// server supports them.
	ClientMetadataURL string
	// PrivateKey is a PEM private key (EC or RSA) the client authenticates
	// with (private_key_jwt) in the client credentials grant.
	PrivateKey string
	// ElicitLogin lets `mcpgw serve` ask an agent that supports URL-mode
	// elicitation to open the authorization URL: for a login when a call
	// finds the server in needs_login, and for more scope (403
	// insufficient_scope). Off, such calls say which command to run.
	ElicitLogin bool
}

// grant is Grant with the default applied.
func (c Config) grant() string {
	if c.Grant == "" {
		return GrantAuthorizationCode
	}
	return c.Grant
}

// isZero reports whether nothing is configured: a server that may need no
// login at all.
func (c Config) isZero() bool {
	return c.Grant == "" && c.ClientID == "" && c.ClientSecret == "" && len(c.Scopes) == 0 && c.ClientMetadataURL == "" && c.PrivateKey == ""
}

// NeedsLoginError is the error of a request to a server with no usable
// login: none stored, or one the server or its authorization server no
// longer accepts.
type NeedsLoginError struct {
	Server string
	// Why says what happened, when more is known than "no login".
	Why string
}

func (e *NeedsLoginError) Error() string {
	why := "it needs a login"
	if e.Why != "" {
		why = e.Why
	}
	return fmt.Sprintf("server %q: %s; run: mcpgw auth login %s", e.Server, why, e.Server)
}

// ScopeError is the error of a request the server refused for want of
// scope (403 insufficient_scope) when no step-up could run: Scopes are the
// ones to log in with, those granted and those asked for.
type ScopeError struct {
	Server string
	Scopes []string
}

func (e *ScopeError) Error() string {
	return fmt.Sprintf("server %q asks for more scope than its login has; run: mcpgw auth login %s --scope %q", e.Server, e.Server, strings.Join(e.Scopes, " "))
}
