// Package oauth owns mcpgw's side of the MCP authorization spec for remote
// servers: logging in ([Login]: discovery, PKCE, the resource parameter,
// client registration, step-up, through go-sdk's auth and oauthex
// packages), the [Credentials] each login leaves in the keychain (through
// [keystore.Blobs]), and the [Transport] that attaches them to every
// request to a server, refreshing them before they expire and once on a
// 401, one refresh at a time across mcpgw processes ([Source]).
//
// A server whose login is missing or was revoked fails its requests with a
// [*NeedsLoginError] that says which command fixes it.
package oauth
