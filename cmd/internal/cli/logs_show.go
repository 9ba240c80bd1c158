package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mcpgw/mcpgw/logs"
)

type logsRunner func(*cobra.Command, func(context.Context, *LogsOptions) error) error

func newCmdLogsShow(f *Factory, opts *LogsOptions, run logsRunner) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "show ID",
		Short: "Print one recorded call in full, arguments and result included",
		Long: `Show prints everything the record holds about one call (the ID is in
"mcpgw logs -o wide" and in JSON output): identity, server and tool, status,
latency, the policy or guard decision and its findings, and the stored
arguments and result (as redacted and capped when they were recorded).`,
		Example: `  mcpgw logs show 42
  mcpgw logs show 42 --jq .args`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil || id <= 0 {
				return withCode(ExitUsage, fmt.Errorf("%q is not a call ID; IDs are positive integers, shown by mcpgw logs -o wide", args[0]))
			}
			opts.ID = id
			return run(cmd, runLogsShow)
		},
	}
	addLogsOutputFlag(cmd, &opts.Output, "output format: table or json (default: table on a terminal, json otherwise)", FormatTable, FormatJSON)
	addJQFlag(cmd, &opts.JQ)
	return cmd
}

func runLogsShow(ctx context.Context, opts *LogsOptions) error {
	format, err := resolveLogsFormat(opts.IO, opts.Output, FormatJSON, FormatTable, FormatJSON)
	if err != nil {
		return err
	}
	jq, err := jqFor(opts.IO, opts.JQ, opts.Output)
	if err != nil {
		return err
	}
	path, err := opts.Factory.logsDBPath(opts.DB)
	if err != nil {
		return err
	}
	ok, err := recordExists(path)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("no call %d: %s", opts.ID, noRecord(path))
	}
	db, err := openRecord(ctx, path)
	if err != nil {
		return err
	}
	defer db.Close()
	c, err := db.Get(ctx, opts.ID)
	if err != nil {
		return err
	}
	switch {
	case jq != nil:
		if err := jq.run(ctx, opts.IO.Out, c); err != nil && err != errHalt {
			return err
		}
		return nil
	case format == FormatJSON:
		return printJSON(opts.IO.Out, c)
	}
	return printCall(opts, c)
}

// printCall writes a call as "Key: value" lines, payloads indented below.
func printCall(opts *LogsOptions, c *logs.Call) error {
	st := styleFor(opts.IO, opts.Width)
	var b bytes.Buffer
	line := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, "%-10s %s\n", k+":", v)
		}
	}
	status := string(c.Status)
	if st.color {
		status = statusColor(c.Status) + status + sgrReset
	}
	line("ID", strconv.FormatInt(c.ID, 10))
	line("Time", c.Time.In(opts.loc()).Format("2006-01-02 15:04:05.000000 -07:00"))
	line("Status", status)
	line("Error", clean(c.Error))
	line("Method", clean(c.Method))
	line("Server", clean(c.Server))
	tool := clean(c.Tool)
	if c.ToolOriginal != "" && c.ToolOriginal != c.Tool {
		tool += " (" + clean(c.ToolOriginal) + " on the server)"
	}
	line("Tool", tool)
	line("Latency", fmtLatency(c.Latency))
	line("User", clean(c.User))
	line("Team", clean(c.Team))
	line("Roles", clean(strings.Join(c.Roles, ", ")))
	line("Profile", clean(c.Profile))
	line("Agent", strings.TrimSpace(clean(c.Agent)+" "+clean(c.AgentVersion)))
	line("Session", clean(c.Session))
	if c.PID != 0 {
		line("PID", strconv.Itoa(c.PID))
	}
	decision := clean(c.Decision)
	if c.Rule != "" {
		decision += " (rule " + clean(c.Rule) + ")"
	}
	if c.Reason != "" {
		decision = strings.TrimPrefix(decision+": "+clean(c.Reason), ": ")
	}
	line("Decision", decision)
	for i, fd := range c.Findings {
		k := ""
		if i == 0 {
			k = "Findings:"
		}
		fmt.Fprintf(&b, "%-10s %s at %s\n", k, clean(fd.Rule), clean(fd.Path))
	}
	line("Bytes", fmt.Sprintf("%s in, %s out", fmtBytes(c.BytesIn), fmtBytes(c.BytesOut)))
	payload(&b, "Arguments", c.Args, c.ArgsSize, c.ArgsHash)
	payload(&b, "Result", c.Result, c.ResultSize, c.ResultHash)
	_, err := opts.IO.Out.Write(b.Bytes())
	return err
}

// payload writes a stored payload's size and hash, then the payload
// itself, pretty-printed when it is JSON, indented two spaces.
func payload(b *bytes.Buffer, name, text string, size int64, hash string) {
	head := fmtBytes(size)
	if hash != "" {
		head += ", sha256 " + clean(hash)
	}
	switch {
	case text == "" && size > 0:
		head += " (not stored)"
	case text == "":
		return
	}
	fmt.Fprintf(b, "%-10s %s\n", name+":", head)
	if text == "" {
		return
	}
	var pretty bytes.Buffer
	if json.Indent(&pretty, []byte(text), "", "  ") == nil {
		text = pretty.String()
	}
	for _, l := range strings.Split(strings.TrimRight(safeText(text), "\n"), "\n") {
		b.WriteString("  " + l + "\n")
	}
}
