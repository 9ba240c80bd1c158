package cli

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mcpgw/mcpgw/cmd/internal/config"
	"github.com/mcpgw/mcpgw/logs"
)

// LogsOptions are the inputs of `mcpgw logs` and its subcommands (one
// command runs per process, so they share one).
type LogsOptions struct {
	IO      *IOStreams
	Factory *Factory
	// DB is --db, the database path (see [Factory.DBPath]).
	DB string

	// Filters (logs, logs stats).
	Servers, Tools, Statuses, Users, Teams, Agents []string
	Since, Until                                   string
	MinLatency                                     time.Duration
	Grep                                           string

	Limit  int  // -n; 0 is no limit
	Follow bool // -f
	Output string
	JQ     string
	By     string // logs stats --by
	ID     int64  // logs show ID

	OlderThan, MaxSize string // logs prune

	// Now is the clock behind relative times (--since 15m) and the compact
	// time column; nil means time.Now.
	Now func() time.Time
	// Location is the zone times are shown in and absolute --since/--until
	// are read in, and of stats' hour and day buckets; nil means time.Local.
	Location *time.Location
	// Width is the terminal width lines are cut to; 0 means the terminal's.
	Width int
	// Interval is how often --follow looks for new calls; 0 means 200ms.
	Interval time.Duration

	limitSet bool
}

func (o *LogsOptions) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

func (o *LogsOptions) loc() *time.Location {
	if o.Location != nil {
		return o.Location
	}
	return time.Local
}

func (o *LogsOptions) interval() time.Duration {
	if o.Interval > 0 {
		return o.Interval
	}
	return 200 * time.Millisecond
}

// NewCmdLogs builds `mcpgw logs` and its subcommands. prepare, when set,
// is called with the options before any of them runs (tests use it to fix
// the clock, the time zone and the width).
func NewCmdLogs(f *Factory, prepare func(*LogsOptions)) *cobra.Command {
	opts := &LogsOptions{IO: f.IO, Factory: f}
	run := func(cmd *cobra.Command, fn func(context.Context, *LogsOptions) error) error {
		if prepare != nil {
			prepare(opts)
		}
		opts.limitSet = cmd.Flags().Changed("limit")
		return fn(cmd.Context(), opts)
	}
	cmd := &cobra.Command{
		Use:   "logs [filters]",
		Short: "Show recorded calls: list, follow, show one, stats, prune",
		Long: `Logs reads the record mcpgw serve writes: one row per call, with who called,
which server and tool, the status, latency, policy decision and any error.

Filters combine with AND; a repeated (or comma-separated) filter matches any of
its values. --server, --tool, --user, --team and --agent take globs (* ? [..]).
Times for --since/--until are relative (15m, 2h, 7d, 1d12h, now, today) or
absolute (2006-01-02, 2006-01-02T15:04, RFC 3339) in local time.

Output: a table on a terminal (newest first, coloured, cut to the terminal's
width), JSON lines when piped (one call per line, stable for scripts). With
--follow, the latest calls come first in time order, then new ones as any mcpgw
process records them, until Ctrl-C.`,
		Example: `  mcpgw logs
  mcpgw logs --status denied,blocked --since 1d
  mcpgw logs --server github --tool '*issue*' -o wide
  mcpgw logs -f --status error,tool_error,timeout
  mcpgw logs --since 2h --jq 'select(.latency_us > 1000000) | .tool'
  mcpgw logs show 42
  mcpgw logs stats --by tool --since 7d
  mcpgw logs prune --older-than 30d`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return run(cmd, runLogs) },
	}
	cmd.PersistentFlags().StringVar(&opts.DB, "db", "", "record database `PATH` (env "+envDB+"; default: logs.path in the configuration, else mcpgw/mcpgw.db under the OS state dir)")
	addLogsFilterFlags(cmd, f, opts)
	cmd.Flags().IntVarP(&opts.Limit, "limit", "n", 0, "at most N calls, 0 for all (default: 50 on a terminal, all when piped)")
	cmd.Flags().BoolVarP(&opts.Follow, "follow", "f", false, "keep printing calls as they are recorded, until Ctrl-C")
	addLogsOutputFlag(cmd, &opts.Output, "output format: table, wide, json, jsonl or csv (default: table on a terminal, jsonl otherwise)",
		FormatTable, FormatWide, FormatJSON, FormatJSONL, FormatCSV)
	addJQFlag(cmd, &opts.JQ)

	cmd.AddCommand(newCmdLogsShow(f, opts, run), newCmdLogsStats(f, opts, run), newCmdLogsPrune(opts, run))
	return cmd
}

// addLogsFilterFlags registers the filters shared by logs and logs stats.
func addLogsFilterFlags(cmd *cobra.Command, f *Factory, opts *LogsOptions) {
	fl := cmd.Flags()
	fl.StringSliceVarP(&opts.Servers, "server", "s", nil, "only these servers (globs; repeatable or comma-separated)")
	fl.StringSliceVarP(&opts.Tools, "tool", "t", nil, "only these tools, by exposed name (globs)")
	fl.StringSliceVar(&opts.Statuses, "status", nil, "only these statuses: "+statusList())
	fl.StringSliceVar(&opts.Users, "user", nil, "only these users (globs)")
	fl.StringSliceVar(&opts.Teams, "team", nil, "only these teams (globs)")
	fl.StringSliceVar(&opts.Agents, "agent", nil, "only these agents, by client name (globs)")
	fl.StringVar(&opts.Since, "since", "", "calls from `TIME` on: 15m, 2h, 7d (ago), today, or 2006-01-02[T15:04[:05]], RFC 3339")
	fl.StringVar(&opts.Until, "until", "", "calls before `TIME` (same forms as --since)")
	fl.DurationVar(&opts.MinLatency, "min-latency", 0, "only calls that took at least this long (e.g. 500ms, 2s)")
	fl.StringVar(&opts.Grep, "grep", "", "only calls whose tool, arguments, result, error or reason contain `TEXT` (ignoring case)")
	cmd.RegisterFlagCompletionFunc("server", completeServerNames(f))
	cmd.RegisterFlagCompletionFunc("status", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		var s []string
		for _, st := range logs.Statuses {
			s = append(s, string(st))
		}
		return s, cobra.ShellCompDirectiveNoFileComp
	})
}

func addLogsOutputFlag(cmd *cobra.Command, dst *string, usage string, formats ...string) {
	cmd.Flags().StringVarP(dst, "output", "o", "", usage)
	cmd.RegisterFlagCompletionFunc("output", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return formats, cobra.ShellCompDirectiveNoFileComp
	})
}

func addJQFlag(cmd *cobra.Command, dst *string) {
	cmd.Flags().StringVar(dst, "jq", "", "run the jq expression `EXPR` on each row's JSON form (strings print raw, like jq -r)")
}

func statusList() string {
	s := make([]string, len(logs.Statuses))
	for i, st := range logs.Statuses {
		s[i] = string(st)
	}
	return strings.Join(s, ", ")
}

// resolveLogsFormat applies the default (table on a terminal, else
// piped) and checks the value against formats.
func resolveLogsFormat(s *IOStreams, format, piped string, formats ...string) (string, error) {
	if format == "" {
		if s.IsTerminal {
			return FormatTable, nil
		}
		return piped, nil
	}
	if !slices.Contains(formats, format) {
		return "", withCode(ExitUsage, fmt.Errorf("--output %q: want %s", format, strings.Join(formats, ", ")))
	}
	return format, nil
}

// jqFor compiles --jq, which works on JSON: with an explicit table or csv
// output it is a usage error.
func jqFor(s *IOStreams, expr, output string) (*jqFilter, error) {
	if expr == "" {
		return nil, nil
	}
	switch output {
	case "", FormatJSON, FormatJSONL:
	default:
		return nil, withCode(ExitUsage, fmt.Errorf("--jq works on JSON; drop -o %s (or use -o json)", output))
	}
	j, err := compileJQ(expr)
	if err != nil {
		return nil, err
	}
	j.safe = s.IsTerminal
	return j, nil
}

// filter turns the filter flags into a logs.Filter.
func (o *LogsOptions) filter() (logs.Filter, error) {
	f := logs.Filter{
		Servers: o.Servers, Tools: o.Tools, Users: o.Users, Teams: o.Teams, Agents: o.Agents,
		MinLatency: o.MinLatency, Grep: o.Grep, Location: o.loc(),
	}
	for _, s := range o.Statuses {
		st := logs.Status(strings.ToLower(strings.TrimSpace(s)))
		if !slices.Contains(logs.Statuses, st) {
			return f, withCode(ExitUsage, fmt.Errorf("--status %q: want one of %s", s, statusList()))
		}
		f.Statuses = append(f.Statuses, st)
	}
	var err error
	if f.Since, err = parseWhen(o.Since, o.now(), o.loc()); err != nil {
		return f, withCode(ExitUsage, fmt.Errorf("--since: %w", err))
	}
	if f.Until, err = parseWhen(o.Until, o.now(), o.loc()); err != nil {
		return f, withCode(ExitUsage, fmt.Errorf("--until: %w", err))
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Since.Before(f.Until) {
		return f, withCode(ExitUsage, fmt.Errorf("--since %s is not before --until %s", o.Since, o.Until))
	}
	if o.MinLatency < 0 {
		return f, withCode(ExitUsage, fmt.Errorf("--min-latency %v is negative", o.MinLatency))
	}
	if err := f.Validate(); err != nil {
		return f, withCode(ExitUsage, fmt.Errorf("--%w", err))
	}
	return f, nil
}

// whenLayouts are the absolute forms of --since/--until, read in the
// local zone unless they carry one.
var whenLayouts = []string{
	"2006-01-02",
	"2006-01-02T15:04",
	"2006-01-02T15:04:05",
	"2006-01-02 15:04",
	"2006-01-02 15:04:05",
}

// parseWhen reads --since/--until: "" (unset), now, today, yesterday, a
// duration ago (15m, 7d), or an absolute time.
func parseWhen(s string, now time.Time, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	switch strings.ToLower(s) {
	case "":
		return time.Time{}, nil
	case "now":
		return now, nil
	case "today", "yesterday":
		n := now.In(loc)
		day := time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, loc)
		if strings.EqualFold(s, "yesterday") {
			day = day.AddDate(0, 0, -1)
		}
		return day, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	for _, l := range whenLayouts {
		if t, err := time.ParseInLocation(l, s, loc); err == nil {
			return t, nil
		}
	}
	if d, err := config.ParseAge(s); err == nil {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("%q is not a time; write a duration ago (15m, 2h, 7d), today, or a date such as 2006-01-02, 2006-01-02T15:04 or RFC 3339", s)
}

// callPrinter writes calls in one output format; write may be called
// more than once (--follow), close ends the output.
type callPrinter struct {
	ctx    context.Context
	w      io.Writer
	format string
	jq     *jqFilter
	tf     timeFormatter
	grid   *grid
	csv    *csv.Writer
	safe   bool        // csv on a terminal: no control characters
	all    []logs.Call // json: one array at the end
}

func (o *LogsOptions) newCallPrinter(ctx context.Context, format string, jq *jqFilter) *callPrinter {
	p := &callPrinter{ctx: ctx, w: o.IO.Out, format: format, jq: jq,
		tf: timeFormatter{loc: o.loc(), now: o.now(), compact: o.IO.IsTerminal}, safe: o.IO.IsTerminal}
	switch {
	case jq != nil:
	case format == FormatTable || format == FormatWide:
		p.grid = newGrid(o.IO.Out, styleFor(o.IO, o.Width), callColumns(format == FormatWide)...)
	case format == FormatCSV:
		p.csv = csv.NewWriter(o.IO.Out)
		p.csv.Write(csvHeader)
	case format == FormatJSON:
		p.all = []logs.Call{}
	}
	return p
}

func (p *callPrinter) write(calls []logs.Call) error {
	switch {
	case p.jq != nil:
		for i := range calls {
			if err := p.jq.run(p.ctx, p.w, &calls[i]); err != nil {
				return err
			}
		}
	case p.grid != nil:
		rows := make([][]cell, len(calls))
		for i := range calls {
			rows[i] = callRow(&calls[i], p.tf, p.format == FormatWide)
		}
		return p.grid.write(rows)
	case p.csv != nil:
		for i := range calls {
			p.csv.Write(csvRecord(&calls[i], p.safe))
		}
		p.csv.Flush()
		return p.csv.Error()
	case p.format == FormatJSON:
		p.all = append(p.all, calls...)
	default: // jsonl
		for i := range calls {
			if err := printJSONLine(p.w, &calls[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

func (p *callPrinter) close() error {
	if p.jq == nil && p.format == FormatJSON {
		return printJSON(p.w, p.all)
	}
	if p.csv != nil {
		p.csv.Flush()
		return p.csv.Error()
	}
	return nil
}

func runLogs(ctx context.Context, opts *LogsOptions) error {
	format, err := resolveLogsFormat(opts.IO, opts.Output, FormatJSONL, FormatTable, FormatWide, FormatJSON, FormatJSONL, FormatCSV)
	if err != nil {
		return err
	}
	jq, err := jqFor(opts.IO, opts.JQ, opts.Output)
	if err != nil {
		return err
	}
	if opts.Follow && format == FormatJSON && jq == nil {
		return withCode(ExitUsage, errors.New("-o json prints one array at the end, which --follow never reaches; use -o jsonl"))
	}
	f, err := opts.filter()
	if err != nil {
		return err
	}
	if opts.Limit < 0 {
		return withCode(ExitUsage, fmt.Errorf("--limit %d is negative", opts.Limit))
	}
	f.Limit = opts.Limit
	if !opts.limitSet && opts.IO.IsTerminal {
		f.Limit = 50
	}
	path, err := opts.Factory.logsDBPath(opts.DB)
	if err != nil {
		return err
	}
	p := opts.newCallPrinter(ctx, format, jq)

	if opts.Follow {
		db, err := waitForRecord(ctx, opts.IO, path, opts.interval())
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		defer db.Close()
		err = db.Follow(ctx, f, &logs.FollowOptions{Interval: opts.interval()}, p.write)
		if ctx.Err() != nil || errors.Is(err, errHalt) {
			// Ctrl-C (or the caller's cancel) ends --follow cleanly.
			return p.close()
		}
		return err
	}

	ok, err := recordExists(path)
	if err != nil {
		return err
	}
	if !ok {
		fmt.Fprintln(opts.IO.ErrOut, noRecord(path))
		return p.close()
	}
	db, err := openRecord(ctx, path)
	if err != nil {
		return err
	}
	defer db.Close()
	n := 0
	if p.grid != nil {
		// A table is laid out from all its rows.
		calls, err := db.Query(ctx, f)
		if err != nil {
			return err
		}
		n = len(calls)
		if n > 0 {
			if err := p.write(calls); err != nil {
				return err
			}
		}
	} else {
		err = db.QueryEach(ctx, f, func(c logs.Call) error {
			n++
			return p.write([]logs.Call{c})
		})
		if errors.Is(err, errHalt) {
			err = nil
		}
		if err != nil {
			return err
		}
	}
	if n == 0 && p.grid != nil {
		fmt.Fprintf(opts.IO.ErrOut, "no matching calls in %s\n", path)
	}
	return p.close()
}
