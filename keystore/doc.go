// Package keystore owns mcpgw's credentials: the [Store] of named secrets in
// the OS keychain ([Keyring], over github.com/zalando/go-keyring), the
// opt-in [EnvFallback] for machines without one, and the ${secret:NAME}
// references that config files hold instead of values ([Refs], [Expand]).
// The keychain also keeps, apart from the named secrets, the Ed25519 key
// identity assertions are signed with ([Keyring.SigningKey]) and mcpgw's
// own values of any length, such as OAuth logins ([Blobs]).
//
// Values are looked up only when a server is spawned or connected, and are
// never written back to a file.
package keystore
