package main

import (
	"flag"
	"os"
	"runtime"
	"strconv"
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
	parallelByDefault(4)
	code := m.Run()
	cleanup()
	os.Exit(code)
}

// parallelByDefault runs up to n parallel tests at once unless -parallel
// was given. These tests spend their time waiting on the processes they
// start (mcpgw, servers, Node.js clients), not computing, so the default
// of GOMAXPROCS leaves a 2-core CI machine mostly idle while the
// longest of them, the TypeScript client's, runs.
func parallelByDefault(n int) {
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.parallel" })
	if !set && runtime.GOMAXPROCS(0) < n {
		flag.Set("test.parallel", strconv.Itoa(n))
	}
}
