package cli

import (
	"os"
	"testing"

	"github.com/mcpgw/mcpgw/cmd/internal/testenv"
)

// TestMain keeps the record of calls the tests make out of the user's state
// directory.
func TestMain(m *testing.M) {
	cleanup := testenv.PrivateState("mcpgw-cli-state-")
	code := m.Run()
	cleanup()
	os.Exit(code)
}
