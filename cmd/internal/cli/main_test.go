package cli

import (
	"os"
	"testing"
)

// TestMain keeps the record of calls the tests make out of the user's state
// directory.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "mcpgw-cli-state-")
	if err != nil {
		panic(err)
	}
	os.Setenv("XDG_STATE_HOME", dir)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
