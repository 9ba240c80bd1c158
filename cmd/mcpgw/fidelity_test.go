package main

// What real servers send reaches the agent as if it spoke to them
// directly: each test here runs a case where mcpgw once differed from the
// direct conversation.

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mcpgw/mcpgw/cmd/internal/testenv"
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
