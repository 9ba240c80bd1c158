package cli

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/mcpgw/mcpgw/cmd/internal/config"
	"github.com/mcpgw/mcpgw/mux"
)

// doctorStart starts every enabled server in a gateway of its own and
// reports how each came up (started, initialized, catalog listed) and how
// long it took, or why it failed and what to do. Servers in skip already
// failed a check that did not need them started, which said why.
func doctorStart(ctx context.Context, opts *DoctorOptions, cfg *config.Config, skip map[string]bool, r *doctorReport) {
	t0 := time.Now()
	g, err := newGateway(opts.Factory, cfg, &mux.Options{Logger: slog.New(slog.DiscardHandler)}, nil)
	if err != nil {
		r.add(doctorCheck{Check: "start", Status: checkFail, Detail: err.Error(), code: exitCode(err)})
		return
	}
	defer g.Close()
	wctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	w := startWaiting(opts.IO, startingText(g.Current()))
	stop := w.watch(func() string { return startingText(g.Current()) })
	// On a timeout, what came up meanwhile is still worth reporting.
	statuses, _ := g.FirstAttempts(wctx)
	stop()
	for _, st := range statuses {
		if skip[st.Name] {
			continue
		}
		r.add(startCheck(st, t0, opts.Timeout))
	}
}

// startCheck is the report line of one started server.
func startCheck(st mux.ServerStatus, t0 time.Time, timeout time.Duration) doctorCheck {
	c := doctorCheck{Check: "start " + st.Name, Status: checkOK}
	var took time.Duration
	if !st.Since.IsZero() && st.Since.After(t0) {
		took = st.Since.Sub(t0)
		ms := took.Milliseconds()
		c.ElapsedMs = &ms
	}
	switch st.State {
	case mux.StateReady:
		c.Detail = fmt.Sprintf("ready in %s: %d tools, %d prompts, %d resources (protocol %s)",
			took.Round(time.Millisecond), st.Tools, st.Prompts, st.Resources, st.ProtocolVersion)
		return c
	case mux.StateStarting, mux.StateIdle:
		c.Status, c.code = checkFail, ExitUnavailable
		c.Detail = fmt.Sprintf("still starting after %s (doctor --timeout)", timeout)
		c.Fix = "run its command in a terminal to see what it waits for; raise doctor --timeout if it is only slow"
		c.ElapsedMs = nil
		return c
	}
	c.Status, c.code = checkFail, ExitUnavailable
	c.Detail = st.State
	if took > 0 {
		c.Detail += fmt.Sprintf(" after %s", took.Round(time.Millisecond))
	}
	if st.Error != "" {
		c.Detail += ": " + st.Error
	}
	c.Stderr = st.Stderr
	c.Fix = startFix(st.Name, st.Error)
	return c
}

// startFix says what to do about a server that failed to start, by what
// the gateway's error says happened.
func startFix(name, err string) string {
	edit := "mcpgw server edit " + name
	switch {
	case strings.Contains(err, "not found: looked in"):
		return "install it, or write its full path in command: (" + edit + ")"
	case strings.Contains(err, "no answer to initialize within"):
		return "it runs but does not answer initialize: run its command in a terminal to see what it waits for (a prompt, a login); if it is only slow (npx downloads a package on its first run), raise timeouts.connect for it (" + edit + ")"
	case strings.Contains(err, "before answering initialize"):
		return "it exits at start: its last stderr lines say why; run its command in a terminal with the same args and env, then fix them (" + edit + ")"
	case strings.Contains(err, "keychain"), strings.Contains(err, "secret"):
		return "mcpgw secret check lists what is missing; store it with mcpgw secret set NAME"
	}
	return "run its command in a terminal to see what it does, then fix its configuration (" + edit + ")"
}
