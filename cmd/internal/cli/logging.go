package cli

import (
	"context"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"

	"github.com/mcpgw/mcpgw/mux"
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

// commandLogger is the logger of a gateway a command other than serve runs
// (tools, call, doctor): those commands report each server's state
// and the catalog's collisions themselves, in one place, so the gateway's
// own warnings about them would only repeat it, once per restart.
func commandLogger(w io.Writer) *slog.Logger {
	h := stderrLogger(w, false).Handler()
	return slog.New(dropMessages{h, []string{"server failed to start", "name collision"}})
}

// dropMessages is a handler that leaves out records with the given
// messages.
type dropMessages struct {
	slog.Handler
	msgs []string
}

func (d dropMessages) Handle(ctx context.Context, r slog.Record) error {
	if slices.Contains(d.msgs, r.Message) {
		return nil
	}
	return d.Handler.Handle(ctx, r)
}

func (d dropMessages) WithAttrs(as []slog.Attr) slog.Handler {
	return dropMessages{d.Handler.WithAttrs(as), d.msgs}
}

func (d dropMessages) WithGroup(name string) slog.Handler {
	return dropMessages{d.Handler.WithGroup(name), d.msgs}
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
