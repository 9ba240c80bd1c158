package proc

import (
	"os"
	"testing"
	"time"
)

// TestMain lets the test binary act as a supervisor (SupervisorMain) or as
// a fake child process (MCPGW_PROC_FAKE) for the process tests.
func TestMain(m *testing.M) {
	if os.Getenv("MCPGW_PROC_SUPERVISOR_HANG") == "1" {
		// A supervisor that never reports, as one whose exec is stuck.
		time.Sleep(time.Hour)
	}
	SupervisorMain()
	if mode := os.Getenv("MCPGW_PROC_FAKE"); mode != "" {
		os.Exit(fakeMain(mode))
	}
	os.Exit(m.Run())
}
