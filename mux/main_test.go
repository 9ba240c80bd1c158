package mux

import (
	"os"
	"testing"

	"github.com/mcpgw/mcpgw/mux/proc"
)

// TestMain lets the test binary act as a process supervisor
// (proc.SupervisorMain, as mcpgw's main does): the gateways these tests
// build start their stdio servers under one, as mcpgw does.
func TestMain(m *testing.M) {
	proc.SupervisorMain()
	os.Exit(m.Run())
}
