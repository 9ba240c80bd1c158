package cli

import (
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/mcpgw/mcpgw/mux"
	"github.com/mcpgw/mcpgw/mux/callpath"
)

// stderrLogger logs diagnostics as text to w (stderr: in serve mode stdout
// belongs to the protocol). MCPGW_LOG_LEVEL=debug|info|warn|error sets the
// level; the default is warn, or info when verbose.
func stderrLogger(w io.Writer, verbose bool) *slog.Logger {
	level := slog.LevelWarn
	if verbose {
		level = slog.LevelInfo
	}
	switch strings.ToLower(os.Getenv("MCPGW_LOG_LEVEL")) {
	case "debug":
		level = slog.LevelDebug
	case "info":
		level = slog.LevelInfo
	case "warn":
		level = slog.LevelWarn
	case "error":
		level = slog.LevelError
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

// identityFromEnv is the local caller: MCPGW_USER, MCPGW_TEAM and
// MCPGW_ROLES (comma-separated).
func identityFromEnv() callpath.Identity {
	id := callpath.Identity{User: os.Getenv("MCPGW_USER"), Team: os.Getenv("MCPGW_TEAM")}
	if r := os.Getenv("MCPGW_ROLES"); r != "" {
		for _, role := range strings.Split(r, ",") {
			if role = strings.TrimSpace(role); role != "" {
				id.Roles = append(id.Roles, role)
			}
		}
	}
	return id
}

// debugSwitches reads the environment switches for debugging and A/B
// measurements: MCPGW_NO_FASTPATH=1 forwards every call the SDK's way,
// MCPGW_NO_INLINE=1 keeps the fast path without inline answers,
// MCPGW_NO_SUPERVISOR=1 spawns servers without their supervisor.
func debugSwitches(o *mux.Options) {
	o.NoFastPath = os.Getenv("MCPGW_NO_FASTPATH") == "1"
	o.NoInline = os.Getenv("MCPGW_NO_INLINE") == "1"
	o.NoSupervisor = os.Getenv("MCPGW_NO_SUPERVISOR") == "1"
}
