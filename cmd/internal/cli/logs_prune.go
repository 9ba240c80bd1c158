package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/mcpgw/mcpgw/cmd/internal/config"
	"github.com/mcpgw/mcpgw/logs"
)

func newCmdLogsPrune(opts *LogsOptions, run logsRunner) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "prune (--older-than AGE | --max-size SIZE)",
		Short: "Delete old calls from the record, by age or to fit a size",
		Long: `Prune deletes calls older than --older-than, then the oldest calls until the
record's data fits --max-size, in small transactions, so running mcpgw serve
processes keep recording meanwhile. Without either flag it applies
logs.retention from the configuration.`,
		Example: `  mcpgw logs prune --older-than 30d
  mcpgw logs prune --max-size 500MB`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return run(cmd, runLogsPrune) },
	}
	cmd.Flags().StringVar(&opts.OlderThan, "older-than", "", "delete calls older than this (e.g. 30d, 12h)")
	cmd.Flags().StringVar(&opts.MaxSize, "max-size", "", "delete the oldest calls until the data fits this size (e.g. 500MB; binary units)")
	addLogsOutputFlag(cmd, &opts.Output, "output format: table or json (default: table on a terminal, json otherwise)", FormatTable, FormatJSON)
	return cmd
}

// PruneReport is what `mcpgw logs prune -o json` prints.
type PruneReport struct {
	DB         string `json:"db"`
	Deleted    int64  `json:"deleted"`
	SizeBefore int64  `json:"size_before"`
	SizeAfter  int64  `json:"size_after"`
}

func runLogsPrune(ctx context.Context, opts *LogsOptions) error {
	format, err := resolveLogsFormat(opts.IO, opts.Output, FormatJSON, FormatTable, FormatJSON)
	if err != nil {
		return err
	}
	var po logs.PruneOptions
	if opts.OlderThan != "" {
		if po.OlderThan, err = config.ParseAge(opts.OlderThan); err != nil || po.OlderThan <= 0 {
			return withCode(ExitUsage, fmt.Errorf("--older-than: %q is not a positive duration; write e.g. 30d or 12h", opts.OlderThan))
		}
	}
	if opts.MaxSize != "" {
		if po.MaxSize, err = config.ParseSize(opts.MaxSize); err != nil {
			return withCode(ExitUsage, fmt.Errorf("--max-size: %w", err))
		}
	}
	var path string
	if po.OlderThan == 0 && po.MaxSize == 0 {
		// The configured retention, if any.
		cfg, err := opts.Factory.logsConfig()
		if err != nil {
			return err
		}
		if cfg != nil {
			po.OlderThan, po.MaxSize = cfg.Logs.Retention.MaxAge, cfg.Logs.Retention.MaxSize
		}
		if po.OlderThan == 0 && po.MaxSize == 0 {
			return withCode(ExitUsage, errors.New("say what to delete: --older-than AGE (e.g. 30d) and/or --max-size SIZE (e.g. 500MB), or set logs.retention in the configuration"))
		}
		if path, err = opts.Factory.DBPath(cfg, opts.DB); err != nil {
			return err
		}
	} else if path, err = opts.Factory.logsDBPath(opts.DB); err != nil {
		return err
	}

	rep := PruneReport{DB: path}
	ok, err := recordExists(path)
	if err != nil {
		return err
	}
	if !ok {
		fmt.Fprintln(opts.IO.ErrOut, noRecord(path)+"; nothing to prune")
	} else {
		db, err := logs.Open(ctx, path, nil)
		if err != nil {
			return err
		}
		defer db.Close()
		res, err := db.Prune(ctx, po)
		rep.Deleted, rep.SizeBefore, rep.SizeAfter = res.Deleted, res.SizeBefore, res.SizeAfter
		if err != nil {
			if rep.Deleted > 0 {
				fmt.Fprintf(opts.IO.ErrOut, "deleted %d calls before the error\n", rep.Deleted)
			}
			return err
		}
	}
	if format == FormatJSON {
		return printJSON(opts.IO.Out, rep)
	}
	what := []string{}
	if po.OlderThan > 0 {
		what = append(what, "older than "+fmtAge(po.OlderThan))
	}
	if po.MaxSize > 0 {
		what = append(what, "beyond "+fmtBytes(po.MaxSize))
	}
	fmt.Fprintf(opts.IO.Out, "deleted %d calls (%s) from %s; data %s → %s\n", rep.Deleted, joinAnd(what), path, fmtBytes(rep.SizeBefore), fmtBytes(rep.SizeAfter))
	return nil
}

// fmtAge writes whole days as 30d, anything else as a Go duration.
func fmtAge(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}

func joinAnd(s []string) string {
	switch len(s) {
	case 0:
		return ""
	case 1:
		return s[0]
	}
	return s[0] + " and " + s[1]
}
