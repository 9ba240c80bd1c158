package mux

import (
	"os"
	"testing"
)

// TestMain lets the test binary act as a supervisor (SupervisorMain) or as
// a fake child process (MCPGW_PROC_FAKE) for the process tests.
func TestMain(m *testing.M) {
	SupervisorMain()
	if mode := os.Getenv("MCPGW_PROC_FAKE"); mode != "" {
		os.Exit(procFakeMain(mode))
	}
	os.Exit(m.Run())
}
