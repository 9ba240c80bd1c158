package cli

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mcpgw/mcpgw/cmd/internal/config"
	"github.com/mcpgw/mcpgw/mux"
	"github.com/mcpgw/mcpgw/mux/catalog"
	"github.com/mcpgw/mcpgw/policy/guard"
	"github.com/mcpgw/mcpgw/policy/pin"
)

// ToolsOptions are the inputs of `mcpgw tools`.
type ToolsOptions struct {
	IO      *IOStreams
	Factory *Factory
	Server  string
	Output  string
	Timeout time.Duration
	// Tokens prints what tools/list weighs in each catalog mode instead
	// of the tools (toolstokens.go).
	Tokens bool
}

// NewCmdTools builds `mcpgw tools`.
func NewCmdTools(f *Factory, runF func(context.Context, *ToolsOptions) error) *cobra.Command {
	opts := &ToolsOptions{IO: f.IO, Factory: f}
	cmd := &cobra.Command{
		Use:   "tools",
		Short: "List the merged tool catalog exactly as an agent sees it",
		Long: `Tools starts the configured servers, merges their tools and prints the catalog
an agent would see, with each server's status and any name collisions.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runTools(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVarP(&opts.Server, "server", "s", "", "only this server's tools")
	cmd.Flags().DurationVar(&opts.Timeout, "timeout", 60*time.Second, "how long to wait for servers to start")
	cmd.Flags().BoolVar(&opts.Tokens, "tokens", false, "show the size of the tools/list answer in full and search catalog mode (bytes, estimated tokens), per server")
	addOutputFlag(cmd, &opts.Output)
	cmd.RegisterFlagCompletionFunc("server", completeServerNames(f))
	cmd.AddCommand(newCmdToolsPins(f), newCmdToolsApprove(f))
	return cmd
}

func runTools(ctx context.Context, opts *ToolsOptions) error {
	format, err := resolveFormat(opts.IO, opts.Output)
	if err != nil {
		return err
	}
	cfg, err := opts.Factory.LoadConfig()
	if err != nil {
		return err
	}
	if opts.Server != "" {
		if _, ok := cfg.Servers[opts.Server]; !ok {
			return withCode(ExitUsage, fmt.Errorf("no server %q in %s; configured: %s", opts.Server, cfg.Path, strings.Join(cfg.Order, ", ")))
		}
	}
	specs := serverSpecs(cfg)
	if opts.Server != "" {
		specs = only(specs, []string{opts.Server}) // the others need not start
	}
	// The record's catalog cache keeps what the servers list, for call
	// and for completion.
	gwOpts := &mux.Options{Logger: commandLogger(opts.IO.ErrOut)}
	known := guard.NewKnown()
	gwOpts.Redactor = known
	record, err := openGatewayRecord(ctx, opts.Factory, cfg, "", known, nil, gwOpts.Logger)
	if err != nil {
		return err
	}
	defer record.close()
	record.options(gwOpts, false)
	gwOpts.Stages = append(gwOpts.Stages, newSchemaCheck(cfg, gwOpts.Logger), newLimits(cfg, record, gwOpts.Logger))
	g, err := newGatewayOf(opts.Factory, cfg, gwOpts, specs, nil)
	if err != nil {
		return err
	}
	defer g.Close()
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	view, err := viewWaiting(ctx, opts.IO, g)
	if err != nil {
		return withCode(ExitUnavailable, fmt.Errorf("waiting for servers: %w", err))
	}
	if opts.Server != "" {
		view = filterView(view, opts.Server)
		hideCachedCollisions(view, cfg, opts.Server, cachedToolNames(ctx, opts.Factory, cfg))
	}
	if opts.Tokens {
		if err := printToolsTokens(opts.IO, format, g, cfg, opts.Server); err != nil {
			return err
		}
		return toolsFailure(ctx, opts.Factory, cfg, view)
	}
	running := liveGateways(ctx, opts.Factory, cfg, opts.Server)
	if format == FormatJSON {
		err = printJSON(opts.IO.Out, toolsJSON{view, running})
	} else if err = printToolsTable(opts.IO, view); err == nil {
		err = printRunning(opts.IO, running)
	}
	if err != nil {
		return err
	}
	return toolsFailure(ctx, opts.Factory, cfg, view)
}

// toolsFailure is the exit status of a listing: an error when no server
// came up (with the code of the first that failed: 6 for its secret, 5
// otherwise). Some servers failing is shown in the table, and not an error.
func toolsFailure(ctx context.Context, f *Factory, cfg *config.Config, v *mux.CatalogView) error {
	var first *mux.ServerStatus
	for i, st := range v.Servers {
		switch {
		case st.State == mux.StateReady:
			return nil
		case (st.State == mux.StateFailed || st.State == mux.StateNeedsLogin) && first == nil:
			first = &v.Servers[i]
		}
	}
	if first == nil {
		return nil
	}
	err := serverFailure(ctx, f, cfg, *first)
	if len(v.Servers) > 1 {
		err = withCode(exitCode(err), fmt.Errorf("no server started (the table shows each one's error); the first: %w", err))
	}
	return err
}

// hideCachedCollisions applies to the catalog of server, started alone,
// the collisions its names have with the other servers' cached tools: the
// first server in config order keeps a name, as in the merged catalog.
func hideCachedCollisions(v *mux.CatalogView, cfg *config.Config, server string, cached map[string][]string) {
	mine := slices.Index(cfg.Order, server)
	v.Tools = slices.DeleteFunc(v.Tools, func(t catalog.ExposedTool) bool {
		for i, other := range cfg.Order {
			if other == server || !slices.Contains(cached[other], t.Tool.Name) {
				continue
			}
			if i < mine {
				v.Collisions = append(v.Collisions, catalog.Collision{Kind: "tool", Name: t.Tool.Name, Kept: other, Hidden: server, Original: t.Original})
				return true
			}
			v.Collisions = append(v.Collisions, catalog.Collision{Kind: "tool", Name: t.Tool.Name, Kept: server, Hidden: other})
		}
		return false
	})
}

// toolsJSON is `mcpgw tools -o json`: the catalog as this command saw it,
// and what each running `mcpgw serve` sees of its servers.
type toolsJSON struct {
	*mux.CatalogView
	Running []gatewayStatus `json:"running"`
}

// liveGateways is the status of every running `mcpgw serve` that records
// to the same database, limited to server when it is set. Not being able
// to read it is no reason to fail the listing.
func liveGateways(ctx context.Context, f *Factory, cfg *config.Config, server string) []gatewayStatus {
	out := []gatewayStatus{}
	if !cfg.Logs.IsEnabled() {
		return out
	}
	path, err := f.DBPath(cfg, "")
	if err != nil {
		return out
	}
	all, err := runningGateways(ctx, path)
	if err != nil {
		fmt.Fprintf(f.IO.ErrOut, "mcpgw: running gateways not shown: %v\n", err)
		return out
	}
	for _, g := range all {
		if !g.Alive {
			continue
		}
		if server != "" {
			g.Servers = slices.DeleteFunc(g.Servers, func(s gatewayServerInfo) bool { return s.Server != server })
		}
		out = append(out, g)
	}
	return out
}

// printRunning prints what running gateways see, below the catalog.
func printRunning(s *IOStreams, running []gatewayStatus) error {
	for _, g := range running {
		fmt.Fprintf(s.Out, "\nSeen by the running mcpgw serve (%s):\n", g.title())
		t := newTable(s.Out, "SERVER", "STATE", "SINCE", "PID", "RESTARTS", "DETAIL")
		for _, st := range g.Servers {
			since, pid, detail := "-", "-", ""
			if !st.Since.IsZero() {
				since = st.Since.Local().Format(time.TimeOnly)
			}
			if st.PID > 0 {
				pid = fmt.Sprint(st.PID)
			}
			if st.State != mux.StateReady {
				detail = st.problem()
			}
			t.row(st.Server, st.State, since, pid, fmt.Sprint(st.Restarts), oneLine(detail, 100))
		}
		if err := t.flush(); err != nil {
			return err
		}
	}
	return nil
}

func filterView(v *mux.CatalogView, server string) *mux.CatalogView {
	out := &mux.CatalogView{Tools: []catalog.ExposedTool{}, Collisions: []catalog.Collision{}}
	for _, t := range v.Tools {
		if t.Server == server {
			out.Tools = append(out.Tools, t)
		}
	}
	for _, s := range v.Servers {
		if s.Name == server {
			out.Servers = append(out.Servers, s)
		}
	}
	for _, c := range v.Collisions {
		if c.Kept == server || c.Hidden == server {
			out.Collisions = append(out.Collisions, c)
		}
	}
	return out
}

func printToolsTable(s *IOStreams, v *mux.CatalogView) error {
	t := newTable(s.Out, "SERVER", "STATE", "PROTOCOL", "TOOLS", "PROMPTS", "RESOURCES", "RESTARTS", "DETAIL")
	for _, st := range v.Servers {
		t.row(st.Name, st.State, st.ProtocolVersion, fmt.Sprint(st.Tools), fmt.Sprint(st.Prompts), fmt.Sprint(st.Resources), fmt.Sprint(st.Restarts), oneLine(st.Error, 80))
	}
	t.flush()
	fmt.Fprintln(s.Out)
	t = newTable(s.Out, "TOOL", "SERVER", "DESCRIPTION")
	for _, tool := range v.Tools {
		t.row(tool.Tool.Name, tool.Server, oneLine(tool.Tool.Description, 70))
	}
	t.flush()
	var held, hidden []mux.HiddenTool
	for _, h := range v.Hidden {
		if h.Rule == pin.Rule {
			held = append(held, h)
		} else {
			hidden = append(hidden, h)
		}
	}
	if len(hidden) > 0 {
		fmt.Fprintf(s.Out, "\n%d tool(s) the policy hides from you (see why with: mcpgw policy explain --tool NAME):\n", len(hidden))
		for _, h := range hidden {
			fmt.Fprintf(s.Out, "  %s  (%s)\n", h.Name, h.Rule)
		}
	}
	if len(held) > 0 {
		fmt.Fprintf(s.Out, "\n%d tool(s) held: the definition changed since it was pinned (review with: mcpgw tools pins diff NAME; accept with: mcpgw tools approve NAME):\n", len(held))
		for _, h := range held {
			fmt.Fprintf(s.Out, "  %s\n", h.Name)
		}
	}
	if len(v.Collisions) > 0 {
		fmt.Fprintf(s.Out, "\n%d name collision(s) (the first server in config order keeps the name):\n", len(v.Collisions))
		for _, c := range v.Collisions {
			fmt.Fprintf(s.Out, "  %s\n", c)
		}
	}
	return nil
}

// oneLine shortens s to its first line and at most n characters.
func oneLine(s string, n int) string {
	s, _, _ = strings.Cut(s, "\n")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
