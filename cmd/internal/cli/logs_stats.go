package cli

import (
	"context"
	"encoding/csv"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mcpgw/mcpgw/logs"
)

func newCmdLogsStats(f *Factory, opts *LogsOptions, run logsRunner) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "stats [filters] [--by GROUP]",
		Short: "Summarize recorded calls: counts, error rate, latency percentiles",
		Long: `Stats summarizes the calls the filters select, in total or grouped --by
server, tool, agent, user, team, status, hour or day (hours and days in local
time), and says how many records mcpgw processes could not write.

Errors are calls with any status but ok: tool errors, denials, guard blocks,
timeouts, cancellations, unavailable servers and gateway errors; DENIED and
BLOCKED count the refusals among them. Latency percentiles (exact, nearest
rank) and MAX leave out denied and blocked calls, which never reached a server.`,
		Example: `  mcpgw logs stats
  mcpgw logs stats --by server --since 7d
  mcpgw logs stats --by day --tool 'github__*' -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return run(cmd, runLogsStats) },
	}
	addLogsFilterFlags(cmd, f, opts)
	cmd.Flags().StringVar(&opts.By, "by", "", "group by "+strings.Join(logs.StatsGroups, ", ")+" (default: one total)")
	cmd.RegisterFlagCompletionFunc("by", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return logs.StatsGroups, cobra.ShellCompDirectiveNoFileComp
	})
	addLogsOutputFlag(cmd, &opts.Output, "output format: table, json or csv (default: table on a terminal, json otherwise)", FormatTable, FormatJSON, FormatCSV)
	addJQFlag(cmd, &opts.JQ)
	return cmd
}

// StatsReport is what `mcpgw logs stats -o json` prints.
type StatsReport struct {
	By      string          `json:"by"`
	Rows    []logs.StatsRow `json:"rows"`
	Dropped DroppedReport   `json:"dropped"`
}

// DroppedReport is the JSON form of [logs.DroppedTotals].
type DroppedReport struct {
	Total     int64                  `json:"total"`
	Processes []DroppedProcessReport `json:"processes"`
}

// DroppedProcessReport is one process's losses.
type DroppedProcessReport struct {
	PID     int       `json:"pid"`
	Started time.Time `json:"started"`
	Count   int64     `json:"count"`
	Last    time.Time `json:"last"`
	Reason  string    `json:"reason,omitempty"`
}

func droppedReport(d logs.DroppedTotals) DroppedReport {
	r := DroppedReport{Total: d.Total, Processes: []DroppedProcessReport{}}
	for _, p := range d.Processes {
		r.Processes = append(r.Processes, DroppedProcessReport{p.PID, p.Started.UTC(), p.Count, p.Last.UTC(), p.Reason})
	}
	return r
}

func runLogsStats(ctx context.Context, opts *LogsOptions) error {
	format, err := resolveLogsFormat(opts.IO, opts.Output, FormatJSON, FormatTable, FormatJSON, FormatCSV)
	if err != nil {
		return err
	}
	jq, err := jqFor(opts.IO, opts.JQ, opts.Output)
	if err != nil {
		return err
	}
	by := strings.ToLower(strings.TrimSpace(opts.By))
	if by != logs.ByTotal && !slices.Contains(logs.StatsGroups, by) {
		return withCode(ExitUsage, fmt.Errorf("--by %q: want one of %s", opts.By, strings.Join(logs.StatsGroups, ", ")))
	}
	f, err := opts.filter()
	if err != nil {
		return err
	}
	path, err := opts.Factory.logsDBPath(opts.DB)
	if err != nil {
		return err
	}
	rep := StatsReport{By: by, Rows: []logs.StatsRow{}, Dropped: DroppedReport{Processes: []DroppedProcessReport{}}}
	ok, err := recordExists(path)
	if err != nil {
		return err
	}
	if ok {
		db, err := openRecord(ctx, path)
		if err != nil {
			return err
		}
		defer db.Close()
		if rep.Rows, err = db.Stats(ctx, f, by); err != nil {
			return err
		}
		d, err := db.Dropped(ctx)
		if err != nil {
			return err
		}
		rep.Dropped = droppedReport(d)
	} else {
		fmt.Fprintln(opts.IO.ErrOut, noRecord(path))
		if by == logs.ByTotal {
			rep.Rows = []logs.StatsRow{{}}
		}
	}

	switch {
	case jq != nil:
		for _, r := range rep.Rows {
			if err := jq.run(ctx, opts.IO.Out, r); err != nil {
				if err == errHalt {
					return nil
				}
				return err
			}
		}
		return nil
	case format == FormatJSON:
		return printJSON(opts.IO.Out, rep)
	case format == FormatCSV:
		w := csv.NewWriter(opts.IO.Out)
		w.Write([]string{"key", "calls", "errors", "denied", "blocked", "error_rate", "p50_us", "p95_us", "p99_us", "max_us", "last_seen"})
		for _, r := range rep.Rows {
			last := ""
			if !r.LastSeen.IsZero() {
				last = r.LastSeen.UTC().Format("2006-01-02T15:04:05.000000Z07:00")
			}
			w.Write([]string{r.Key, i64(r.Calls), i64(r.Errors), i64(r.Denied), i64(r.Blocked), strconv.FormatFloat(r.ErrorRate, 'f', -1, 64),
				i64(r.P50.Microseconds()), i64(r.P95.Microseconds()), i64(r.P99.Microseconds()), i64(r.Max.Microseconds()), last})
		}
		w.Flush()
		return w.Error()
	}
	return printStatsTable(opts, &rep)
}

func i64(n int64) string { return strconv.FormatInt(n, 10) }

func printStatsTable(opts *LogsOptions, rep *StatsReport) error {
	st := styleFor(opts.IO, opts.Width)
	tf := timeFormatter{loc: opts.loc(), now: opts.now(), compact: opts.IO.IsTerminal}
	cols := []column{{header: "CALLS", right: true}, {header: "ERRORS", right: true}, {header: "ERROR%", right: true},
		{header: "DENIED", right: true}, {header: "BLOCKED", right: true}, {header: "P50", right: true}, {header: "P95", right: true},
		{header: "P99", right: true}, {header: "MAX", right: true}, {header: "LAST SEEN"}}
	if rep.By != logs.ByTotal {
		cols = append([]column{{header: strings.ToUpper(rep.By)}}, cols...)
	}
	g := newGrid(opts.IO.Out, st, cols...)
	var rows [][]cell
	for _, r := range rep.Rows {
		last := "-"
		if !r.LastSeen.IsZero() {
			last = tf.format(r.LastSeen)
		}
		lat := func(d time.Duration) string {
			if r.Calls == r.Denied+r.Blocked {
				return "-" // no call reached a server
			}
			return fmtLatency(d)
		}
		row := []cell{{text: i64(r.Calls)}, {text: i64(r.Errors)}, {text: strconv.FormatFloat(100*r.ErrorRate, 'f', 1, 64) + "%"},
			{text: i64(r.Denied)}, {text: i64(r.Blocked)}, {text: lat(r.P50)}, {text: lat(r.P95)}, {text: lat(r.P99)}, {text: lat(r.Max)}, {text: last}}
		if rep.By != logs.ByTotal {
			key := cell{text: orDash(clean(r.Key))}
			if rep.By == logs.ByStatus {
				key.color = statusColor(logs.Status(r.Key))
			}
			row = append([]cell{key}, row...)
		}
		rows = append(rows, row)
	}
	if err := g.write(rows); err != nil {
		return err
	}
	d := rep.Dropped
	if d.Total == 0 {
		_, err := fmt.Fprintln(opts.IO.Out, "\ndropped records: none")
		return err
	}
	msg := fmt.Sprintf("dropped records: %d, by %d process(es)", d.Total, len(d.Processes))
	if len(d.Processes) > 0 {
		p := d.Processes[0]
		msg += fmt.Sprintf("; last at %s by pid %d", tf.format(p.Last), p.PID)
		if p.Reason != "" {
			msg += ": " + clean(p.Reason)
		}
	}
	if st.color {
		msg = sgrYellow + msg + sgrReset
	}
	_, err := fmt.Fprintln(opts.IO.Out, "\n"+msg)
	return err
}
