// Command mcpgw is a local MCP gateway: one stdio MCP server for desktop
// agents in front of many MCP servers. See the README.
package main

import (
	"os"

	"github.com/mcpgw/mcpgw/cmd/internal/cli"
	"github.com/mcpgw/mcpgw/mux/proc"
)

func main() {
	// When this process was started as a child supervisor, this runs it and
	// exits; otherwise it returns at once.
	proc.SupervisorMain()
	os.Exit(cli.Main())
}
