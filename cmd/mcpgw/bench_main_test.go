package main

import (
	"os"
	"testing"

	"github.com/mcpgw/mcpgw/mux"
)

// TestMain lets the test binary act as mcpgw's process supervisor
// (SupervisorMain, as in main) or, for BenchmarkGateway, as one of the
// stdio MCP servers it measures (see benchChildMain).
func TestMain(m *testing.M) {
	mux.SupervisorMain()
	if role := os.Getenv(benchRoleEnv); role != "" {
		os.Exit(benchChildMain(role))
	}
	os.Exit(m.Run())
}
