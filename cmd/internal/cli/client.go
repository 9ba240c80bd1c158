package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/mcpgw/mcpgw/cmd/internal/clients"
	"github.com/mcpgw/mcpgw/logs"
)

// NewCmdClient builds `mcpgw client` and its subcommands: mcpgw into the
// agents' configuration files, and out again.
func NewCmdClient(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "client",
		Short: "Put mcpgw into your agents' configuration (and take it out again)",
		Long: `Client reads and writes the MCP configuration files of the agents mcpgw serves:
` + agentNames() + `.

list shows each agent's files and their state; import copies an agent's
servers into mcpgw's configuration, moving plain-text credentials into the
OS keychain; install imports them, then replaces them in the agent's file
with one mcpgw entry (the file is backed up first); restore puts the backup
back; print shows the entry to add by hand.`,
		RunE: runGroup,
	}
	cmd.AddCommand(newCmdClientList(f), newCmdClientImport(f), newCmdClientInstall(f), newCmdClientRestore(f), newCmdClientPrint(f))
	return cmd
}

func agentNames() string {
	s := ""
	for i, a := range clients.Agents {
		if i > 0 {
			s += ", "
		}
		s += a.Name
	}
	return s
}

// clientLocator finds the agents' files for this process.
func clientLocator() (*clients.Locator, error) {
	return clients.NewLocator(runtime.GOOS)
}

// clientStateDir is where mcpgw keeps its record of agent files and their
// backups: clients/ in the OS state directory, beside the call record.
func clientStateDir() (string, error) {
	p, err := logs.DefaultPath()
	if err != nil {
		return "", fmt.Errorf("finding mcpgw's state directory: %w", err)
	}
	return filepath.Join(filepath.Dir(p), "clients"), nil
}

// loadClientState reads mcpgw's record of the agent files it wrote.
func loadClientState() (*clients.State, error) {
	dir, err := clientStateDir()
	if err != nil {
		return nil, err
	}
	return clients.LoadState(dir)
}

// clientTargets resolves AGENT or --all and --scope into files. With
// --all, agents without the scope are left out.
func clientTargets(args []string, all bool, scope string) ([]*clients.File, error) {
	if all == (len(args) == 1) {
		return nil, withCode(ExitUsage, fmt.Errorf("name one agent or pass --all; the agents are: %s", agentNames()))
	}
	sc := clients.User
	if scope != "" {
		var err error
		if sc, err = clients.ParseScope(scope); err != nil {
			return nil, withCode(ExitUsage, err)
		}
	}
	agents := clients.Agents
	if !all {
		a, err := clients.Lookup(args[0])
		if err != nil {
			return nil, withCode(ExitUsage, err)
		}
		agents = []*clients.Agent{a}
	}
	l, err := clientLocator()
	if err != nil {
		return nil, err
	}
	var out []*clients.File
	for _, a := range agents {
		if all && !a.HasScope(sc) {
			continue
		}
		f, err := a.File(l, sc)
		if err != nil {
			return nil, withCode(ExitUsage, err)
		}
		out = append(out, f)
	}
	return out, nil
}

// readAgentFile returns the file's bytes, or nil and false when it does
// not exist.
func readAgentFile(path string) ([]byte, bool, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("reading %s: %w", path, err)
	}
	return data, true, nil
}

func completeAgents(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return clients.Names(), cobra.ShellCompDirectiveNoFileComp
}

// ClientListOptions are the inputs of `mcpgw client list`.
type ClientListOptions struct {
	Output string
}

// ClientRow is one agent file in `mcpgw client list`.
type ClientRow struct {
	Agent string `json:"agent"`
	Scope string `json:"scope"`
	Path  string `json:"path"`
	// ServersAt is where in the file the servers are, when not at its top
	// (Claude Code's local scope).
	ServersAt string `json:"servers_at,omitempty"`
	// State is absent, empty, servers, managed, changed or invalid.
	State   string `json:"state"`
	Servers int    `json:"servers"`
	// Managed: the file runs mcpgw (installed by it, or by hand).
	Managed bool `json:"managed"`
	// Changed: the file (for Claude Code's ~/.claude.json, its servers)
	// differs from what mcpgw wrote.
	Changed bool   `json:"changed"`
	Backup  string `json:"backup,omitempty"`
	Error   string `json:"error,omitempty"`
}

func newCmdClientList(f *Factory) *cobra.Command {
	opts := &ClientListOptions{}
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List the agents, their configuration files and whether mcpgw is in them",
		Long: `List shows each supported agent's configuration file per scope (user;
project for the working directory; local for Claude Code's servers of the
working directory in ~/.claude.json) and its state: absent, empty (no
servers), servers (how many), managed (it runs mcpgw), changed (someone
edited it after mcpgw wrote it; in ~/.claude.json, which Claude Code
rewrites as it runs, only its servers count) or invalid (it does not parse).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runClientList(f, opts)
		},
	}
	addOutputFlag(cmd, &opts.Output)
	return cmd
}

func runClientList(f *Factory, opts *ClientListOptions) error {
	format, err := resolveFormat(f.IO, opts.Output)
	if err != nil {
		return err
	}
	l, err := clientLocator()
	if err != nil {
		return err
	}
	st, err := loadClientState()
	if err != nil {
		return err
	}
	rows := []ClientRow{}
	for _, a := range clients.Agents {
		for _, sc := range a.Scopes {
			f, err := a.File(l, sc)
			if err != nil {
				rows = append(rows, ClientRow{Agent: a.Name, Scope: string(sc), State: "invalid", Error: err.Error()})
				continue
			}
			rows = append(rows, clientRow(f, st))
		}
	}
	if format == FormatJSON {
		return printJSON(f.IO.Out, rows)
	}
	t := newTable(f.IO.Out, "AGENT", "SCOPE", "STATE", "PATH")
	for _, r := range rows {
		p := r.Path
		if r.ServersAt != "" {
			p += " (" + r.ServersAt + ")"
		}
		t.row(r.Agent, r.Scope, stateText(r), p)
	}
	return t.flush()
}

func clientRow(f *clients.File, st *clients.State) ClientRow {
	r := ClientRow{Agent: f.Agent.Name, Scope: string(f.Scope), Path: f.Path, ServersAt: f.Where()}
	rec := st.Files[f.Key()]
	if rec != nil {
		r.Managed, r.Backup = true, rec.Backup
	}
	data, ok, err := readAgentFile(f.Path)
	switch {
	case err != nil:
		r.State, r.Error = "invalid", err.Error()
		return r
	case !ok && rec != nil:
		r.State, r.Changed = "changed", true
		return r
	case !ok:
		r.State = "absent"
		return r
	}
	servers, err := f.Read(data)
	if err != nil {
		r.State, r.Error = "invalid", err.Error()
		return r
	}
	r.Servers = len(servers)
	switch {
	case rec != nil && f.Drifted(rec, data, true):
		r.State, r.Changed = "changed", true
	case rec != nil:
		r.State = "managed"
	case len(servers) == 1 && servers[0].IsMcpgw():
		r.State, r.Managed = "managed", true
	case len(servers) == 0:
		r.State = "empty"
	default:
		r.State = "servers"
	}
	return r
}

func stateText(r ClientRow) string {
	switch r.State {
	case "servers":
		if r.Servers == 1 {
			return "1 server"
		}
		return fmt.Sprintf("%d servers", r.Servers)
	case "empty":
		return "no servers"
	case "managed":
		return "managed by mcpgw"
	case "changed":
		return "changed since mcpgw wrote it"
	case "invalid":
		return "invalid: " + r.Error
	}
	return r.State
}

// ClientPrintOptions are the inputs of `mcpgw client print`.
type ClientPrintOptions struct {
	Agent string
}

func newCmdClientPrint(f *Factory) *cobra.Command {
	opts := &ClientPrintOptions{}
	return &cobra.Command{
		Use:   "print AGENT",
		Short: "Print the mcpgw entry to put in an agent's configuration by hand",
		Long: `Print shows the configuration snippet that makes AGENT run mcpgw (serve
--profile AGENT, with the absolute path of this mcpgw), in the agent's own
format, and the file it goes in. Replace the file's servers with it.`,
		Example:           `  mcpgw client print cursor`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeAgents,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Agent = args[0]
			return runClientPrint(f, opts)
		},
	}
}

func runClientPrint(f *Factory, opts *ClientPrintOptions) error {
	a, err := clients.Lookup(opts.Agent)
	if err != nil {
		return withCode(ExitUsage, err)
	}
	e, err := f.mcpgwEntry(a.Name)
	if err != nil {
		return err
	}
	if l, err := clientLocator(); err == nil {
		for _, sc := range a.Scopes {
			if file, err := a.File(l, sc); err == nil {
				fmt.Fprintf(f.IO.ErrOut, "%s %s configuration: %s\n", a.Title, sc, where(file))
			}
		}
	}
	fmt.Fprint(f.IO.Out, a.Snippet(e))
	return nil
}

// mcpgwEntry is the entry an agent runs: this binary's absolute path,
// serve --profile PROFILE, and --config when the configuration file was
// named (the agent does not have the MCPGW_CONFIG of this shell).
func (f *Factory) mcpgwEntry(profile string) (clients.Entry, error) {
	self, err := os.Executable()
	if err != nil {
		return clients.Entry{}, fmt.Errorf("finding the mcpgw executable: %w", err)
	}
	cfg := ""
	if f.ConfigExplicit() {
		p, err := f.ConfigPath()
		if err != nil {
			return clients.Entry{}, err
		}
		if cfg, err = filepath.Abs(p); err != nil {
			return clients.Entry{}, err
		}
	}
	return clients.NewEntry(self, profile, cfg), nil
}
