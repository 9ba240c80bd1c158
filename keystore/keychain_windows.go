package keystore

const unavailableHint = "mcpgw stores secrets in Windows Credential Manager, which needs an interactive user session; " +
	"or opt in to environment variables: set `secrets: {fallback: env}` in the config and set MCPGW_SECRET_<NAME>"

func preflight() error { return nil }

// describe returns the keychain's error as it is.
func describe(err error) string { return err.Error() }
