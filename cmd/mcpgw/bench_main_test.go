package main

import (
	"os"
	"testing"

	"github.com/mcpgw/mcpgw/cmd/internal/cli"
	"github.com/mcpgw/mcpgw/cmd/internal/testenv"
	"github.com/mcpgw/mcpgw/mux/proc"
)

// TestMain lets the test binary act as mcpgw's process supervisor
// (SupervisorMain, as in main), as mcpgw with test stages (stages_test.go)
// or, for BenchmarkGateway, as one of the stdio MCP servers it measures
// (see benchChildMain).
func TestMain(m *testing.M) {
	proc.SupervisorMain()
	if os.Getenv(stagesEnv) != "" {
		os.Exit(cli.MainWith(testStages())) // mcpgw with test stages (stages_test.go)
	}
	if role := os.Getenv(benchRoleEnv); role != "" {
		os.Exit(benchChildMain(role))
	}
	// Every mcpgw the tests start records its calls: into a database of
	// this test process, never the user's own (tests that look at the
	// record set MCPGW_DB themselves).
	cleanup := testenv.PrivateState("mcpgw-e2e-state-")
	code := m.Run()
	cleanup()
	os.Exit(code)
}
