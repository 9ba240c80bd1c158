package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/mcpgw/mcpgw/cmd/internal/config"
	"github.com/mcpgw/mcpgw/keystore"
	"github.com/mcpgw/mcpgw/mux/oauth"
)

// NewCmdServer builds `mcpgw server` and its subcommands. Every edit goes
// through the YAML node tree, so comments and ${VAR} references survive, and
// is written atomically after the result validates.
func NewCmdServer(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Add, list, edit, remove, enable or disable configured servers",
		RunE:  runGroup,
	}
	cmd.AddCommand(newCmdServerAdd(f), newCmdServerList(f), newCmdServerEdit(f), newCmdServerRemove(f), newCmdServerToggle(f, true), newCmdServerToggle(f, false))
	return cmd
}

// ServerAddOptions are the inputs of `mcpgw server add`.
type ServerAddOptions struct {
	Name      string
	Command   []string
	URL       string
	Transport string
	Env       []string
	Headers   []string
	Cwd       string
	Prefix    string
	NoPrefix  bool
	Lazy      bool
	Disabled  bool
}

func newCmdServerAdd(f *Factory) *cobra.Command {
	opts := &ServerAddOptions{}
	cmd := &cobra.Command{
		Use:   "add NAME (-- CMD [ARGS...] | --url URL)",
		Short: "Add a stdio server (after --) or a remote one (--url)",
		Example: `  mcpgw server add everything -- npx -y @modelcontextprotocol/server-everything
  mcpgw server add search --url https://mcp.example.com/mcp --header 'Authorization=Bearer ${SEARCH_TOKEN}'`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			if dash := cmd.ArgsLenAtDash(); dash >= 0 {
				if dash != 1 {
					return withCode(ExitUsage, errors.New("put only the server NAME before --, e.g. mcpgw server add NAME -- CMD ARGS"))
				}
				opts.Command = args[1:]
			} else if len(args) > 1 {
				return withCode(ExitUsage, fmt.Errorf("unexpected %q: put the command after --, e.g. mcpgw server add %s -- %s", strings.Join(args[1:], " "), args[0], strings.Join(args[1:], " ")))
			}
			return runServerAdd(f, opts)
		},
	}
	cmd.Flags().StringVar(&opts.URL, "url", "", "remote server URL (streamable HTTP)")
	cmd.Flags().StringVar(&opts.Transport, "transport", "", "remote transport: streamable (default) or sse")
	cmd.Flags().StringArrayVarP(&opts.Env, "env", "e", nil, "environment KEY=VALUE for a stdio server (repeatable; ${VAR} is kept as a reference)")
	cmd.Flags().StringArrayVar(&opts.Headers, "header", nil, "HTTP header Name=Value for a remote server (repeatable)")
	cmd.Flags().StringVar(&opts.Cwd, "cwd", "", "working directory of a stdio server")
	cmd.Flags().StringVar(&opts.Prefix, "prefix", "", "exposed-name prefix (default: the server name)")
	cmd.Flags().BoolVar(&opts.NoPrefix, "no-prefix", false, "expose the server's names without a prefix")
	cmd.Flags().BoolVar(&opts.Lazy, "lazy", false, "start the server when the catalog is first listed, not with the gateway")
	cmd.Flags().BoolVar(&opts.Disabled, "disabled", false, "add the server disabled")
	cmd.MarkFlagsMutuallyExclusive("prefix", "no-prefix")
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		// `server add foo npx -y pkg`: -y is the server's flag, taken for
		// one of mcpgw's. Say where it goes, with the line rewritten.
		if strings.HasPrefix(err.Error(), "unknown flag") || strings.HasPrefix(err.Error(), "unknown shorthand flag") {
			if fixed := withDashDash(c, f.args); fixed != "" {
				return withCode(ExitUsage, fmt.Errorf("%w: the server's command and its flags go after --: %s", err, fixed))
			}
		}
		return withCode(ExitUsage, fmt.Errorf("%w\nRun '%s --help' for usage.", err, c.CommandPath()))
	})
	return cmd
}

// withDashDash rewrites a `server add` command line that has no -- as it
// should be: mcpgw's own flags stay before --, and the server's command
// with everything after it goes after. "" when args is not such a line.
func withDashDash(cmd *cobra.Command, args []string) string {
	i := slices.Index(args, "add")
	if i < 0 || slices.Contains(args, "--") {
		return ""
	}
	out := append([]string{"mcpgw"}, args[:i+1]...)
	var name string
	var rest []string
	for j := i + 1; j < len(args); j++ {
		a := args[j]
		if name != "" && len(rest) > 0 {
			rest = append(rest, a)
			continue
		}
		if fl := ownFlag(cmd, a); fl != nil {
			out = append(out, a)
			if fl.Value.Type() != "bool" && !strings.Contains(a, "=") && j+1 < len(args) {
				j++
				out = append(out, args[j])
			}
			continue
		}
		if name == "" {
			name = a
			out = append(out, a)
			continue
		}
		rest = append(rest, a)
	}
	if name == "" || len(rest) == 0 || strings.HasPrefix(rest[0], "-") {
		return "" // no command: the flag is a typo of mcpgw's own
	}
	return strings.Join(append(append(out, "--"), rest...), " ")
}

// ownFlag returns cmd's flag that the word a sets (--name, --name=v, -n),
// or nil.
func ownFlag(cmd *cobra.Command, a string) *pflag.Flag {
	switch {
	case strings.HasPrefix(a, "--"):
		name, _, _ := strings.Cut(a[2:], "=")
		return cmd.Flags().Lookup(name)
	case strings.HasPrefix(a, "-") && len(a) == 2:
		return cmd.Flags().ShorthandLookup(a[1:])
	}
	return nil
}

func runServerAdd(f *Factory, opts *ServerAddOptions) error {
	path, err := f.ConfigPath()
	if err != nil {
		return err
	}
	if (len(opts.Command) == 0) == (opts.URL == "") {
		return withCode(ExitUsage, fmt.Errorf("give either a command after -- or --url: mcpgw server add %s -- CMD ARGS, or mcpgw server add %s --url URL", opts.Name, opts.Name))
	}
	s := &config.Server{Name: opts.Name, Cwd: opts.Cwd, URL: opts.URL, Transport: opts.Transport}
	if len(opts.Command) > 0 {
		s.Command, s.Args = opts.Command[0], opts.Command[1:]
	}
	if s.Env, err = keyValues("--env", opts.Env); err != nil {
		return err
	}
	if s.Headers, err = keyValues("--header", opts.Headers); err != nil {
		return err
	}
	switch {
	case opts.NoPrefix:
		empty := ""
		s.Prefix = &empty
	case opts.Prefix != "":
		s.Prefix = &opts.Prefix
	}
	if opts.Lazy {
		s.Start = "lazy"
	}
	if opts.Disabled {
		no := false
		s.Enabled = &no
	}
	if err := config.AddServer(path, s); err != nil {
		return withCode(ExitConfig, err)
	}
	fmt.Fprintf(f.IO.ErrOut, "Added server %q to %s\n", opts.Name, path)
	if s.URL != "" && !keystore.HasRef(s.URL) && !hasAuthorizationHeader(s.Headers) {
		ctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
		defer cancel()
		if oauth.NeedsLogin(ctx, nil, s.URL, s.Headers) {
			fmt.Fprintf(f.IO.ErrOut, "It needs an OAuth login; run: mcpgw auth login %s\n", opts.Name)
		}
	}
	return nil
}

// probeTimeout bounds the question `server add` asks a remote server:
// does it want a login.
const probeTimeout = 10 * time.Second

// hasAuthorizationHeader reports whether headers give the server its
// credential (then no login is asked about).
func hasAuthorizationHeader(headers map[string]string) bool {
	for k := range headers {
		if strings.EqualFold(k, "Authorization") {
			return true
		}
	}
	return false
}

func keyValues(flag string, pairs []string) (map[string]string, error) {
	if len(pairs) == 0 {
		return nil, nil
	}
	m := make(map[string]string, len(pairs))
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return nil, withCode(ExitUsage, fmt.Errorf("%s %q: want KEY=VALUE", flag, p))
		}
		m[k] = v
	}
	return m, nil
}

// ServerRow is one line of `mcpgw server list`.
type ServerRow struct {
	Name    string `json:"name"`
	Kind    string `json:"kind"` // stdio | http | sse
	Target  string `json:"target"`
	Enabled bool   `json:"enabled"`
	Start   string `json:"start"`
	Prefix  string `json:"prefix"`
}

func newCmdServerList(f *Factory) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List configured servers",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := resolveFormat(f.IO, output)
			if err != nil {
				return err
			}
			path, err := f.ConfigPath()
			if err != nil {
				return err
			}
			// As written: ${VAR} references are listed, not their values.
			cfg, err := config.LoadAsWritten(path)
			if err != nil {
				err = withCode(ExitConfig, err)
				if errors.Is(err, os.ErrNotExist) {
					return withCode(ExitConfig, fmt.Errorf("%w (add a server with: mcpgw server add NAME -- CMD ARGS)", err))
				}
				return err
			}
			rows := []ServerRow{}
			for _, name := range cfg.Order {
				s := cfg.Servers[name]
				r := ServerRow{Name: name, Enabled: s.IsEnabled(), Start: "eager", Prefix: s.PrefixOr()}
				if s.Lazy() {
					r.Start = "lazy"
				}
				switch {
				case s.Command != "":
					r.Kind, r.Target = "stdio", strings.Join(append([]string{s.Command}, s.Args...), " ")
				case s.Transport == "sse":
					r.Kind, r.Target = "sse", s.URL
				default:
					r.Kind, r.Target = "http", s.URL
				}
				rows = append(rows, r)
			}
			if format == FormatJSON {
				return printJSON(f.IO.Out, rows)
			}
			// The target, last, is cut only to the terminal's width.
			g := newGrid(f.IO.Out, styleFor(f.IO, 0), column{header: "NAME"}, column{header: "KIND"}, column{header: "ENABLED"},
				column{header: "START"}, column{header: "PREFIX", shrink: true}, column{header: "TARGET"})
			cells := make([][]cell, len(rows))
			for i, r := range rows {
				cells[i] = []cell{{text: r.Name}, {text: r.Kind}, {text: fmt.Sprint(r.Enabled)}, {text: r.Start}, {text: orDash(r.Prefix)}, {text: clean(r.Target)}}
			}
			return g.write(cells)
		},
	}
	addOutputFlag(cmd, &output)
	return cmd
}

func newCmdServerRemove(f *Factory) *cobra.Command {
	cmd := newCmdServerChange(f, "remove NAME", "Remove a server from the configuration", "Removed server %q from %s", config.RemoveServer)
	cmd.Aliases = []string{"rm"}
	return cmd
}

func newCmdServerToggle(f *Factory, enable bool) *cobra.Command {
	if enable {
		return newCmdServerChange(f, "enable NAME", "Enable a configured server", "Enabled server %q in %s", func(path, name string) error { return config.SetEnabled(path, name, true) })
	}
	return newCmdServerChange(f, "disable NAME", "Disable a configured server", "Disabled server %q in %s", func(path, name string) error { return config.SetEnabled(path, name, false) })
}

// newCmdServerChange builds a command that applies one edit to one named
// server in the configuration file; done says so, given the server's name
// and the file.
func newCmdServerChange(f *Factory, use, short, done string, edit func(path, name string) error) *cobra.Command {
	return &cobra.Command{
		Use:               use,
		Short:             short,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeServerArg(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			path, err := f.ConfigPath()
			if err != nil {
				return err
			}
			if err := edit(path, args[0]); err != nil {
				return withCode(ExitConfig, err)
			}
			fmt.Fprintf(f.IO.ErrOut, done+"\n", args[0], path)
			return nil
		},
	}
}
