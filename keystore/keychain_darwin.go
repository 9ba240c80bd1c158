package keystore

const unavailableHint = "mcpgw stores secrets in the login keychain: unlock it (`security unlock-keychain`) and allow mcpgw when macOS asks; " +
	"or opt in to environment variables: set `secrets: {fallback: env}` in the config and export MCPGW_SECRET_<NAME>"

func preflight() error { return nil }

// describe returns the keychain's error as it is.
func describe(err error) string { return err.Error() }
