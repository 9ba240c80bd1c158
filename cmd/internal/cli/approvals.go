package cli

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/mcpgw/mcpgw/logs"
	"github.com/mcpgw/mcpgw/policy/approval"
)

// ApprovalsOptions is `mcpgw approvals list|approve|deny`.
type ApprovalsOptions struct {
	IO      *IOStreams
	Factory *Factory
	DB      string // --db
	// list
	All    bool
	Output string
	// approve, deny
	ID     int64
	For    string        // once, session or args
	TTL    time.Duration // with --for args
	Reason string
}

// NewCmdApprovals builds `mcpgw approvals`.
func NewCmdApprovals(f *Factory, runF func(context.Context, *ApprovalsOptions, string) error) *cobra.Command {
	opts := &ApprovalsOptions{IO: f.IO, Factory: f}
	if runF == nil {
		runF = runApprovals
	}
	cmd := &cobra.Command{
		Use:   "approvals",
		Short: "List and decide calls waiting for a person's approval",
		Long: `Calls that match an approval: rule wait for a person. When the agent cannot
ask (or approval.channel is out-of-band), the call waits in the record and the
agent is told its id; decide it here, from any terminal, while it waits:

  mcpgw approvals list
  mcpgw approvals approve ID [--for once|session|args] [--ttl 1h]
  mcpgw approvals deny ID [--reason TEXT]

The waiting gateway notices the decision within a second. Every decision is
kept in the record (mcpgw approvals list --all, mcpgw logs).`,
		Args: cobra.NoArgs,
	}
	cmd.PersistentFlags().StringVar(&opts.DB, "db", "", "record database (env MCPGW_DB; default: the configuration's logs.path, else the OS state dir)")
	list := &cobra.Command{
		Use:   "list",
		Short: "List the approvals waiting for a decision (--all: every one, newest first)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runF(cmd.Context(), opts, "list")
		},
	}
	list.Flags().BoolVar(&opts.All, "all", false, "list decided approvals too")
	addOutputFlag(list, &opts.Output)
	id := func(args []string) error {
		n, err := strconv.ParseInt(args[0], 10, 64)
		if err != nil || n <= 0 {
			return withCode(ExitUsage, fmt.Errorf("%q is not an approval id; see the ids with: mcpgw approvals list", args[0]))
		}
		opts.ID = n
		return nil
	}
	pendingIDs := func(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return pendingApprovalIDs(cmd.Context(), f, opts.DB), cobra.ShellCompDirectiveNoFileComp
	}
	approve := &cobra.Command{
		Use:   "approve ID",
		Short: "Let a waiting call run (--for session: the tool for the rest of the agent's session; --for args: these arguments for --ttl)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := id(args); err != nil {
				return err
			}
			return runF(cmd.Context(), opts, "approve")
		},
		ValidArgsFunction: pendingIDs,
	}
	approve.Flags().StringVar(&opts.For, "for", "once", "what the approval covers: once (this call), session (this tool for the rest of the agent's session) or args (calls with these exact arguments, for --ttl)")
	approve.Flags().DurationVar(&opts.TTL, "ttl", approval.DefaultArgsTTL, "with --for args: how long the approval lasts")
	approve.Flags().StringVar(&opts.Reason, "reason", "", "why, for the record")
	approve.RegisterFlagCompletionFunc("for", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return []string{"once", "session", "args"}, cobra.ShellCompDirectiveNoFileComp
	})
	deny := &cobra.Command{
		Use:   "deny ID",
		Short: "Refuse a waiting call; the agent gets an error result saying so (and --reason)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := id(args); err != nil {
				return err
			}
			return runF(cmd.Context(), opts, "deny")
		},
		ValidArgsFunction: pendingIDs,
	}
	deny.Flags().StringVar(&opts.Reason, "reason", "", "why: the agent is told, and the record keeps it")
	cmd.AddCommand(list, approve, deny)
	return cmd
}

func runApprovals(ctx context.Context, opts *ApprovalsOptions, action string) error {
	format := ""
	if action == "list" {
		var err error
		if format, err = resolveFormat(opts.IO, opts.Output); err != nil {
			return err
		}
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
		if action == "list" {
			return printApprovals(opts, format, nil)
		}
		return withCode(ExitUsage, fmt.Errorf("no approval %d: no record at %s (approvals wait in the record of mcpgw serve)", opts.ID, path))
	}
	var db *logs.DB
	if action == "list" {
		db, err = openRecord(ctx, path)
	} else {
		db, err = logs.Open(ctx, path, nil)
	}
	if err != nil {
		return err
	}
	defer db.Close()
	if action == "list" {
		all, err := db.Approvals(ctx, !opts.All, 0)
		if err != nil {
			return err
		}
		return printApprovals(opts, format, all)
	}
	return decideApproval(ctx, opts, db, action)
}

func decideApproval(ctx context.Context, opts *ApprovalsOptions, db *logs.DB, action string) error {
	d := approval.Decision{State: approval.Denied, By: decider(), Reason: opts.Reason, Scope: approval.Once}
	if action == "approve" {
		scope, err := approval.ParseScope(opts.For)
		if err != nil {
			return withCode(ExitUsage, fmt.Errorf("--for %q: use once, session or args", opts.For))
		}
		if opts.TTL <= 0 {
			return withCode(ExitUsage, fmt.Errorf("--ttl %s: give a positive duration such as 1h", opts.TTL))
		}
		d.State, d.Scope = approval.Approved, scope
		if scope == approval.Args {
			d.Expires = time.Now().Add(opts.TTL)
		}
	}
	r, err := db.DecideApproval(ctx, opts.ID, d)
	switch {
	case errors.Is(err, approval.ErrNotFound):
		return withCode(ExitUsage, fmt.Errorf("no approval %d; see the waiting ones with: mcpgw approvals list", opts.ID))
	case errors.Is(err, approval.ErrDecided):
		return fmt.Errorf("approval %d was %s already (%s%s); nothing changed", opts.ID, r.State, r.DecidedBy, reasonSuffix(r.Reason))
	case err != nil:
		return err
	}
	what := "approved"
	if r.State == approval.Denied {
		what = "denied"
	}
	fmt.Fprintf(opts.IO.ErrOut, "mcpgw: approval %d %s: %s (%s)%s\n", r.ID, what, r.Exposed, scopeText(r), reasonSuffix(r.Reason))
	return nil
}

// decider names who decides at a terminal: the OS account.
func decider() string {
	if u := osIdentity().User; u != "" {
		return u
	}
	return "a terminal"
}

func reasonSuffix(reason string) string {
	if reason == "" {
		return ""
	}
	return ": " + reason
}

func scopeText(r approval.Request) string {
	switch r.Scope {
	case approval.Session:
		return "for the rest of the session"
	case approval.Args:
		return "these arguments until " + r.Expires.Local().Format(time.DateTime)
	case approval.Once:
		return "this call"
	}
	return "-"
}

// approvalJSON is one approval in `approvals list -o json`.
type approvalJSON struct {
	ID         int64      `json:"id"`
	State      string     `json:"state"`
	Created    time.Time  `json:"created"`
	Tool       string     `json:"tool"`
	Server     string     `json:"server"`
	ServerTool string     `json:"server_tool"`
	Arguments  string     `json:"arguments"`
	Rule       string     `json:"rule"`
	Channel    string     `json:"channel"`
	User       string     `json:"user,omitempty"`
	Session    string     `json:"session,omitempty"`
	PID        int        `json:"pid"`
	Decided    *time.Time `json:"decided,omitempty"`
	DecidedBy  string     `json:"decided_by,omitempty"`
	Scope      string     `json:"scope,omitempty"`
	Expires    *time.Time `json:"expires,omitempty"`
	Reason     string     `json:"reason,omitempty"`
}

func printApprovals(opts *ApprovalsOptions, format string, all []approval.Request) error {
	if format == FormatJSON {
		out := []approvalJSON{}
		for _, r := range all {
			j := approvalJSON{ID: r.ID, State: string(r.State), Created: r.Created, Tool: r.Exposed, Server: r.Server, ServerTool: r.Tool,
				Arguments: r.Args, Rule: r.Rule, Channel: string(r.Channel), User: r.User, Session: r.Session, PID: r.PID,
				DecidedBy: r.DecidedBy, Scope: string(r.Scope), Reason: r.Reason}
			if !r.Decided.IsZero() {
				j.Decided = &r.Decided
			}
			if !r.Expires.IsZero() {
				j.Expires = &r.Expires
			}
			out = append(out, j)
		}
		return printJSON(opts.IO.Out, out)
	}
	if len(all) == 0 {
		if opts.All {
			fmt.Fprintln(opts.IO.ErrOut, "mcpgw: no approvals yet")
		} else {
			fmt.Fprintln(opts.IO.ErrOut, "mcpgw: no calls are waiting for approval")
		}
		return nil
	}
	t := newTable(opts.IO.Out, "ID", "STATE", "AGE", "TOOL", "ARGUMENTS", "RULE", "DECIDED BY", "SCOPE")
	for _, r := range all {
		args := oneLine(r.Args, 60)
		by, scope := r.DecidedBy, ""
		if r.State == approval.Approved {
			scope = scopeText(r)
		}
		t.row(strconv.FormatInt(r.ID, 10), string(r.State), time.Since(r.Created).Round(time.Second).String(), r.Exposed, args, r.Rule, by, scope)
	}
	return t.flush()
}

// pendingApprovalIDs completes approve and deny: the ids of the waiting
// approvals, each with its tool and arguments; nothing when there is no
// record.
func pendingApprovalIDs(ctx context.Context, f *Factory, flag string) []string {
	path, err := f.logsDBPath(flag)
	if err != nil {
		return nil
	}
	if ok, err := recordExists(path); err != nil || !ok {
		return nil
	}
	db, err := openRecord(ctx, path)
	if err != nil {
		return nil
	}
	defer db.Close()
	pending, err := db.Approvals(ctx, true, 50)
	if err != nil {
		return nil
	}
	out := make([]string, len(pending))
	for i, r := range pending {
		out[i] = strconv.FormatInt(r.ID, 10) + "\t" + oneLine(r.Exposed+" "+r.Args, 60)
	}
	return out
}
