package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mcpgw/mcpgw/cmd/internal/config"
	"github.com/mcpgw/mcpgw/logs"
)

// NewCmdToken builds `mcpgw token` and its subcommands.
func NewCmdToken(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Bearer tokens for agents of the HTTP front (mcpgw serve --http)",
		Long: `Tokens authenticate agents that reach mcpgw over HTTP (mcpgw serve --http). Each
names a user, a team and roles: the identity of every call made with it, which
policy decides on, the record keeps, and servers receive. No agent can claim
another identity in a request.

Once a token exists, "mcpgw serve --http" requires one on every request
(Authorization: Bearer TOKEN), and may listen on a non-loopback address.
Revoking a token stops it at its next request, without a restart.

Tokens live in the record database (--db, MCPGW_DB, logs.path, or the default),
as SHA-256 hashes: a token is shown once, when it is created.`,
		RunE: runGroup,
	}
	cmd.AddCommand(newCmdTokenCreate(f), newCmdTokenList(f), newCmdTokenRevoke(f))
	return cmd
}

// TokenCreateOptions are the inputs of `mcpgw token create`.
type TokenCreateOptions struct {
	Name, User, Team string
	Roles            []string
	Expires          string
	Output           string
	DB               string
}

// defaultTokenLife is how long a token lives without --expires.
const defaultTokenLife = "90d"

func newCmdTokenCreate(f *Factory) *cobra.Command {
	opts := &TokenCreateOptions{}
	cmd := &cobra.Command{
		Use:   "create --user EMAIL [--team TEAM] [--roles R1,R2] [--expires 30d] [--name NAME]",
		Short: "Create a bearer token for an agent, and print it once",
		Long: `Create makes a token naming a user, team and roles, stores its hash in the record,
and prints the token on stdout. It is never shown again: give it to the agent
as the header "Authorization: Bearer TOKEN".`,
		Example: `  mcpgw token create --user ana@example.com --team data --roles analyst --name ana-laptop
  mcpgw token create --user ci@example.com --team build --expires 7d -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runTokenCreate(cmd.Context(), f, opts)
		},
	}
	cmd.Flags().StringVar(&opts.User, "user", "", "the caller's user, usually an email address (required)")
	cmd.Flags().StringVar(&opts.Team, "team", "", "the caller's team")
	cmd.Flags().StringSliceVar(&opts.Roles, "roles", nil, "the caller's roles, comma-separated")
	cmd.Flags().StringVar(&opts.Expires, "expires", defaultTokenLife, "how long the token works, e.g. 12h, 30d, 2w; never for no expiry")
	cmd.Flags().StringVar(&opts.Name, "name", "", "a label for the token in lists, e.g. the agent or machine it is for")
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "", "output format: the token alone (default), or json (the token and its record)")
	cmd.Flags().StringVar(&opts.DB, "db", "", "record database (env MCPGW_DB; default: logs.path in the config, or mcpgw/mcpgw.db under your OS state dir)")
	cmd.RegisterFlagCompletionFunc("output", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return []string{FormatJSON}, cobra.ShellCompDirectiveNoFileComp
	})
	return cmd
}

func runTokenCreate(ctx context.Context, f *Factory, opts *TokenCreateOptions) error {
	if opts.Output != "" && opts.Output != FormatJSON {
		return withCode(ExitUsage, fmt.Errorf("--output %q: leave it out for the token alone, or use json", opts.Output))
	}
	nt, err := newTokenSpec(opts, time.Now())
	if err != nil {
		return withCode(ExitUsage, err)
	}
	path, err := f.logsDBPath(opts.DB)
	if err != nil {
		return err
	}
	db, err := logs.Open(ctx, path, nil)
	if err != nil {
		return err
	}
	defer db.Close()
	secret, tok, err := db.CreateToken(ctx, nt)
	if err != nil {
		return err
	}
	if opts.Output == FormatJSON {
		if err := printJSON(f.IO.Out, struct {
			Secret string `json:"token"`
			logs.Token
		}{secret, tok}); err != nil {
			return err
		}
	} else {
		fmt.Fprintln(f.IO.Out, secret)
	}
	fmt.Fprintf(f.IO.ErrOut, "Created token %s for %s; %s.\n", tok.ID, describeCaller(tok), describeExpiry(tok))
	fmt.Fprintf(f.IO.ErrOut, "It is shown this once: give it to the agent as the header \"Authorization: Bearer TOKEN\". Revoke it with: mcpgw token revoke %s\n", tok.ID)
	return nil
}

// newTokenSpec checks the flags of `token create`.
func newTokenSpec(opts *TokenCreateOptions, now time.Time) (logs.NewToken, error) {
	nt := logs.NewToken{Name: strings.TrimSpace(opts.Name), User: strings.TrimSpace(opts.User), Team: strings.TrimSpace(opts.Team)}
	if nt.User == "" {
		return nt, errors.New("--user is required: the identity the token stands for, e.g. --user ana@example.com")
	}
	for _, v := range []struct{ flag, val string }{{"--user", nt.User}, {"--team", nt.Team}} {
		if strings.ContainsAny(v.val, ", \t\n") {
			return nt, fmt.Errorf("%s %q: no spaces or commas", v.flag, v.val)
		}
	}
	for _, r := range opts.Roles {
		r = strings.TrimSpace(r)
		if r == "" || strings.ContainsAny(r, " \t\n") {
			return nt, fmt.Errorf("--roles: bad role %q; give names separated by commas, e.g. --roles analyst,admin", r)
		}
		nt.Roles = append(nt.Roles, r)
	}
	if e := strings.TrimSpace(opts.Expires); e != "never" {
		d, err := config.ParseAge(e)
		if err != nil || d <= 0 {
			return nt, fmt.Errorf("--expires %q: want a duration such as 12h, 30d or 2w, or never", opts.Expires)
		}
		nt.Expires = now.Add(d)
	}
	return nt, nil
}

func describeCaller(t logs.Token) string {
	s := t.User
	if t.Team != "" {
		s += ", team " + t.Team
	}
	if len(t.Roles) > 0 {
		s += ", roles " + strings.Join(t.Roles, ",")
	}
	return s
}

func describeExpiry(t logs.Token) string {
	if t.Expires.IsZero() {
		return "it does not expire"
	}
	return "it expires " + t.Expires.Local().Format("2006-01-02 15:04 MST")
}

// TokenListOptions are the inputs of `mcpgw token list`.
type TokenListOptions struct {
	Output string
	DB     string
}

// tokenRow is a token in `token list -o json`: its record and its state.
type tokenRow struct {
	logs.Token
	State string `json:"state"`
}

func newCmdTokenList(f *Factory) *cobra.Command {
	opts := &TokenListOptions{}
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List the tokens (ids and identities, never the tokens themselves)",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runTokenList(cmd.Context(), f, opts)
		},
	}
	addOutputFlag(cmd, &opts.Output)
	cmd.Flags().StringVar(&opts.DB, "db", "", "record database (env MCPGW_DB; default: logs.path in the config, or mcpgw/mcpgw.db under your OS state dir)")
	return cmd
}

func runTokenList(ctx context.Context, f *Factory, opts *TokenListOptions) error {
	format, err := resolveFormat(f.IO, opts.Output)
	if err != nil {
		return err
	}
	path, err := f.logsDBPath(opts.DB)
	if err != nil {
		return err
	}
	var toks []logs.Token
	if ok, err := recordExists(path); err != nil {
		return err
	} else if ok {
		db, err := openRecord(ctx, path)
		if err != nil {
			return err
		}
		defer db.Close()
		if toks, err = db.Tokens(ctx); err != nil {
			return err
		}
	}
	now := time.Now()
	rows := make([]tokenRow, 0, len(toks))
	for _, t := range toks {
		rows = append(rows, tokenRow{Token: t, State: t.State(now)})
	}
	if format == FormatJSON {
		return printJSON(f.IO.Out, rows)
	}
	if len(rows) == 0 {
		fmt.Fprintln(f.IO.ErrOut, "No tokens; create one with: mcpgw token create --user EMAIL --team TEAM")
		return nil
	}
	t := newTable(f.IO.Out, "ID", "NAME", "USER", "TEAM", "ROLES", "CREATED", "EXPIRES", "STATE")
	for _, r := range rows {
		expires := "never"
		if !r.Expires.IsZero() {
			expires = fmtWhen(r.Expires)
		}
		t.row(r.ID, dash(r.Name), r.User, dash(r.Team), dash(strings.Join(r.Roles, ",")), fmtWhen(r.Created), expires, r.State)
	}
	return t.flush()
}

func fmtWhen(t time.Time) string { return t.Local().Format("2006-01-02 15:04") }

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func newCmdTokenRevoke(f *Factory) *cobra.Command {
	var dbFlag string
	cmd := &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke a token: a running mcpgw refuses it from its next request on",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return withCode(ExitUsage, errors.New("name the token to revoke by its id: mcpgw token revoke ID (mcpgw token list shows the ids)"))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runTokenRevoke(cmd.Context(), f, args[0], dbFlag)
		},
	}
	cmd.Flags().StringVar(&dbFlag, "db", "", "record database (env MCPGW_DB; default: logs.path in the config, or mcpgw/mcpgw.db under your OS state dir)")
	return cmd
}

func runTokenRevoke(ctx context.Context, f *Factory, id, dbFlag string) error {
	if strings.HasPrefix(id, logs.TokenPrefix) {
		return withCode(ExitUsage, errors.New("that is a token, not a token's id; revoke by id (mcpgw token list shows the ids), and treat the token as leaked if it was shared"))
	}
	path, err := f.logsDBPath(dbFlag)
	if err != nil {
		return err
	}
	if ok, err := recordExists(path); err != nil {
		return err
	} else if !ok {
		return fmt.Errorf("no token %q: there is no record at %s yet, so no tokens", id, path)
	}
	db, err := logs.Open(ctx, path, nil)
	if err != nil {
		return err
	}
	defer db.Close()
	before := time.Now().Add(-time.Second)
	t, err := db.RevokeToken(ctx, id)
	if errors.Is(err, logs.ErrTokenUnknown) {
		return fmt.Errorf("no token %q in %s; mcpgw token list shows the ids", id, path)
	}
	if errors.Is(err, logs.ErrTokenStamp) {
		fmt.Fprintf(f.IO.ErrOut, "Warning: %v\n", err)
	} else if err != nil {
		return err
	}
	if t.Revoked.Before(before) {
		fmt.Fprintf(f.IO.ErrOut, "Token %s (%s) was already revoked, at %s.\n", t.ID, describeCaller(t), fmtWhen(t.Revoked))
		return nil
	}
	fmt.Fprintf(f.IO.ErrOut, "Revoked token %s (%s); a running mcpgw serve --http refuses it from its next request on.\n", t.ID, describeCaller(t))
	return nil
}
