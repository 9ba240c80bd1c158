package main

// The stdio MCP servers BenchmarkGateway runs by re-executing the test
// binary (TestMain dispatches on benchRoleEnv): the naive go-sdk forwarder
// the issue asks for as a baseline, the best forwarder go-sdk allows on both
// sides (the "floor"), a relay that passes bytes on without reading them
// (what any gateway in a process of its own costs at least), and the
// gateway in-process under the CPU profiler.

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgw/mcpgw/mux"
)

const (
	benchRoleEnv    = "MCPGW_BENCH_ROLE"    // naive | floor | relay | relay-http | gateway
	benchFixtureEnv = "MCPGW_BENCH_FIXTURE" // the fixture binary the child forwards to
	benchProfileEnv = "MCPGW_BENCH_PROFILE" // CPU profile file (gateway role; also enables that arm)
)

func benchChildMain(role string) int {
	fixture := os.Getenv(benchFixtureEnv)
	if fixture == "" {
		fmt.Fprintf(os.Stderr, "bench %s: %s is not set\n", role, benchFixtureEnv)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch role {
	case "naive":
		err = runForwarder(ctx, fixture, false)
	case "floor":
		err = runForwarder(ctx, fixture, true)
	case "relay":
		err = runRelay(ctx, fixture)
	case "relay-http":
		err = runHTTPRelay(ctx, fixture)
	case "gateway":
		err = runProfiledGateway(ctx, fixture, os.Getenv(benchProfileEnv))
	default:
		err = fmt.Errorf("unknown role %q", role)
	}
	if err != nil && ctx.Err() == nil {
		fmt.Fprintf(os.Stderr, "bench %s: %v\n", role, err)
		return 1
	}
	return 0
}

// runForwarder is a minimal go-sdk proxy in front of the fixture: a client
// to it and a server re-exposing its tools, each call forwarded with the
// handler's own context.
//
// The naive one is what the SDK's documentation leads to: the client at its
// default protocol version (2026-07-28), and tools registered with the
// generic mcp.AddTool[map[string]any, any], which unmarshals and validates
// the arguments on every call before they are marshalled again downstream.
//
// The floor is the best the SDK allows on both sides without bypassing it:
// the raw Server.AddTool handler passing the arguments on as raw JSON, the
// downstream spoken to at 2025-11-25, capabilities set explicitly.
func runForwarder(ctx context.Context, fixture string, floor bool) error {
	var (
		copts *mcp.ClientOptions
		sopts *mcp.ClientSessionOptions
		svopt *mcp.ServerOptions
	)
	if floor {
		copts = &mcp.ClientOptions{Capabilities: &mcp.ClientCapabilities{}}
		sopts = &mcp.ClientSessionOptions{ProtocolVersion: mux.ProtocolV20251125}
		svopt = &mcp.ServerOptions{Capabilities: &mcp.ServerCapabilities{Tools: &mcp.ToolCapabilities{}}}
	}
	client := mcp.NewClient(&mcp.Implementation{Name: "bench-forwarder", Version: "1"}, copts)
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	fx := exec.Command(fixture)
	fx.Stderr = os.Stderr // what it says, and its dump on a stall (bench_stall_linux_test.go)
	cs, err := client.Connect(cctx, &mcp.CommandTransport{Command: fx}, sopts)
	if err != nil {
		return fmt.Errorf("connecting to the fixture: %w", err)
	}
	defer cs.Close()

	server := mcp.NewServer(&mcp.Implementation{Name: "bench-forwarder", Version: "1"}, svopt)
	for t, err := range cs.Tools(cctx, nil) {
		if err != nil {
			return fmt.Errorf("listing tools: %w", err)
		}
		name := t.Name
		func() {
			defer func() { recover() }() // a schema the SDK rejects: skip the tool
			if floor {
				server.AddTool(t, func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
					p := &mcp.CallToolParams{Name: name}
					if len(req.Params.Arguments) > 0 {
						p.Arguments = req.Params.Arguments
					}
					return cs.CallTool(ctx, p)
				})
				return
			}
			mcp.AddTool(server, t, func(ctx context.Context, req *mcp.CallToolRequest, in map[string]any) (*mcp.CallToolResult, any, error) {
				res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: in})
				return res, nil, err
			})
		}()
	}
	return server.Run(ctx, &mcp.StdioTransport{})
}

// runProfiledGateway is `mcpgw serve` over the fixture, built from the same
// mux calls as the CLI (MCPGW_NO_SUPERVISOR=1 included), with a CPU profile
// of the whole session written to profile (when set).
func runProfiledGateway(ctx context.Context, fixture, profile string) error {
	g := mux.New(&mux.Options{Name: "mcpgw", Version: "bench", ChildStderr: os.Stderr, NoSupervisor: os.Getenv("MCPGW_NO_SUPERVISOR") == "1"})
	defer g.Close()
	g.Apply([]mux.ServerSpec{{Name: "fx", Command: fixture, Prefix: "fx"}})
	if profile != "" {
		f, err := os.Create(profile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	return g.ServeStdio(ctx, os.Stdin, os.Stdout)
}
