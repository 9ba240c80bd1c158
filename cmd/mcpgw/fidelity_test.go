package main

// What real servers send reaches the agent as if it spoke to them
// directly: each test here runs a case where mcpgw once differed from the
// direct conversation.

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mcpgw/mcpgw/cmd/internal/testenv"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// everythingConfig is a configuration with the npm server-everything as
// server "everything".
func everythingConfig(t *testing.T) string {
	return fmt.Sprintf("servers:\n  everything:\n    command: %q\n    args: [\"stdio\"]\n", testenv.NpmBin(t, "mcp-server-everything"))
}

// TestLogsBeforeSetLevel relays the log messages a server sends before the
// agent has set a level: a server the agent spoke to directly would send
// them, and server-everything does. (At 2026-07-28 there is no session
// level: a request asks for log messages in its own _meta, or gets none.)
func TestLogsBeforeSetLevel(t *testing.T) {
	cfg := everythingConfig(t)
	for _, v := range []string{"2025-11-25"} {
		t.Run(v, func(t *testing.T) {
			a := startAgent(t, cfg, v)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			call(t, ctx, a, "everything__toggle-simulated-logging", nil)
			waitFor(t, ctx, "a log message from server-everything", func() bool {
				a.mu.Lock()
				defer a.mu.Unlock()
				for _, l := range a.logs {
					if strings.HasPrefix(l.Logger, "everything") {
						return true
					}
				}
				return false
			})
		})
	}
}

// TestRootsRelayed gives servers the agent's roots and tells them of a
// change once per change the agent reports, over stdio and HTTP: a
// roots/list_changed that changes nothing tells servers nothing, and the
// HTTP agent's roots reach a server even when its stream was not connected
// when it initialized.
func TestRootsRelayed(t *testing.T) {
	cfg := writeConfig(t, fixtureConfig(testenv.Fixture(t)))
	for _, front := range []string{"stdio", "http"} {
		t.Run(front, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			var a *agent
			if front == "stdio" {
				cmd := exec.Command(testenv.Mcpgw(t), "serve", "--config", cfg)
				cmd.Env = append(os.Environ(), ownRecord(t, nil)...)
				cmd.Stderr = &testWriter{t: t}
				a = connectAgent(t, cmd, "2025-11-25")
			} else {
				url := serveHTTP(t, ctx, cfg)
				client := mcp.NewClient(&mcp.Implementation{Name: "http-agent", Version: "1"}, nil)
				client.AddRoots(&mcp.Root{URI: "file:///e2e-root", Name: "e2e"})
				cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: url + "mcp"}, &mcp.ClientSessionOptions{ProtocolVersion: "2025-11-25"})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { cs.Close() })
				a = &agent{client: client, cs: cs}
			}
			roots := func() string { return textOf(t, call(t, ctx, a, "fx__roots", nil)) }
			changes := func() int {
				n, err := strconv.Atoi(textOf(t, call(t, ctx, a, "fx__roots_changed_count", nil)))
				if err != nil {
					t.Fatal(err)
				}
				return n
			}
			if got := roots(); got != "file:///e2e-root" {
				t.Fatalf("the server sees roots %q; want the agent's", got)
			}
			before := changes()
			// The same root again (the agent says its roots changed; they
			// did not), then a new one.
			a.client.AddRoots(&mcp.Root{URI: "file:///e2e-root", Name: "e2e"})
			a.client.AddRoots(&mcp.Root{URI: "file:///second", Name: "second"})
			waitFor(t, ctx, "the new root", func() bool { return roots() == "file:///e2e-root\nfile:///second" })
			if got := changes() - before; got != 1 {
				t.Errorf("the server was told of %d changes; the roots changed once", got)
			}
		})
	}
}
