package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"regexp"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mcpgw/mcpgw/cmd/internal/clients"
	"github.com/mcpgw/mcpgw/cmd/internal/config"
	"github.com/mcpgw/mcpgw/keystore"
	"github.com/mcpgw/mcpgw/policy"
)

// ClientImportOptions are the inputs of `mcpgw client import`.
type ClientImportOptions struct {
	ClientFileFlags
}

// ClientFileFlags are the inputs import and install share: which agent
// files, and how.
type ClientFileFlags struct {
	All         bool
	Scope       string
	DryRun      bool
	KeepSecrets bool
	Output      string
}

func newCmdClientImport(f *Factory) *cobra.Command {
	opts := &ClientImportOptions{}
	cmd := &cobra.Command{
		Use:   "import (AGENT | --all)",
		Short: "Copy an agent's MCP servers into mcpgw's configuration",
		Long: `Import copies the servers of AGENT's configuration file (or of every agent's,
with --all) into mcpgw's configuration: stdio commands and remote URLs, with
their env, headers and working directory. Environment values and headers that
look like credentials (names with token, key, secret, password, auth...; or
known token formats) are stored in the OS keychain and replaced by
${secret:NAME} references, unless --keep-secrets. A server whose name mcpgw
already uses for another server is imported as NAME-AGENT. The report says
what was imported, what was moved to the keychain and what could not be
carried over. --dry-run reports without writing anything.`,
		Example: `  mcpgw client import claude-desktop --dry-run
  mcpgw client import cursor --scope project
  mcpgw client import --all`,
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: completeAgents,
		RunE: opts.withTargets(func(ctx context.Context, targets []*clients.File) error {
			return runClientImport(ctx, f, opts, targets)
		}),
	}
	opts.add(cmd)
	return cmd
}

// add adds the flags to cmd.
func (o *ClientFileFlags) add(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&o.All, "all", false, "every agent that has a configuration file")
	addScopeFlag(cmd, &o.Scope)
	cmd.Flags().BoolVar(&o.DryRun, "dry-run", false, "show what would change; write nothing")
	cmd.Flags().BoolVar(&o.KeepSecrets, "keep-secrets", false, "copy credentials as they are instead of moving them to the OS keychain")
	addOutputFlag(cmd, &o.Output)
}

// withTargets is a RunE that resolves AGENT or --all and --scope into
// files, then runs run on them.
func (o *ClientFileFlags) withTargets(run func(context.Context, []*clients.File) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		targets, err := clientTargets(args, o.All, o.Scope)
		if err != nil {
			return err
		}
		return run(cmd.Context(), targets)
	}
}

// addScopeFlag adds --scope, which picks the agent's file.
func addScopeFlag(cmd *cobra.Command, scope *string) {
	cmd.Flags().StringVar(scope, "scope", "user", "which configuration file: user; project (in the working directory); or local (Claude Code's servers of the working directory, in ~/.claude.json)")
	cmd.RegisterFlagCompletionFunc("scope", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return []string{string(clients.User), string(clients.Project), string(clients.Local)}, cobra.ShellCompDirectiveNoFileComp
	})
}

func runClientImport(ctx context.Context, f *Factory, opts *ClientImportOptions, targets []*clients.File) error {
	format, err := resolveFormat(f.IO, opts.Output)
	if err != nil {
		return err
	}
	imp, err := newImporter(f, opts.KeepSecrets)
	if err != nil {
		return err
	}
	var plans []*importPlan
	for _, t := range targets {
		data, ok, err := readAgentFile(t.Path)
		if err != nil {
			return err
		}
		if !ok {
			if !opts.All {
				return fmt.Errorf("%s has no %s configuration file (%s): nothing to import", t.Agent.Title, t.Scope, t.Path)
			}
			continue
		}
		plan, err := imp.plan(t, data)
		if err != nil {
			return withCode(ExitConfig, err)
		}
		plan.DryRun = opts.DryRun
		plans = append(plans, plan)
	}
	if !opts.DryRun {
		if err := imp.commit(ctx, ""); err != nil {
			return err
		}
	}
	return printReports(f, format, plans, opts.DryRun, fmt.Sprintf("No agent has a %s configuration file (see mcpgw client list).", opts.Scope))
}

// printReports writes the reports of client import or install: as JSON,
// or as text, with none saying so.
func printReports(f *Factory, format string, plans []*importPlan, dryRun bool, none string) error {
	if format == FormatJSON {
		reports := []*ClientReport{}
		for _, p := range plans {
			reports = append(reports, p.finish())
		}
		return printJSON(f.IO.Out, reports)
	}
	if len(plans) == 0 {
		fmt.Fprintln(f.IO.Out, none)
		return nil
	}
	for _, p := range plans {
		p.finish().write(f.IO.Out)
	}
	if dryRun {
		fmt.Fprintln(f.IO.Out, "Dry run: nothing was written.")
	}
	return nil
}

// importer gathers the servers of one or more agent files into one edit
// of mcpgw's configuration.
type importer struct {
	f           *Factory
	cfgPath     string
	keepSecrets bool
	// known are the servers of mcpgw's configuration, and those this
	// import adds, by name.
	known map[string]*config.Server
	// added are the servers to add, secrets the values to store.
	added   []*config.Server
	secrets []*clients.Secret
	names   map[string]bool // secret names taken by this import
	cfg     *config.Config
}

func newImporter(f *Factory, keepSecrets bool) (*importer, error) {
	path, err := f.ConfigPath()
	if err != nil {
		return nil, err
	}
	imp := &importer{f: f, cfgPath: path, keepSecrets: keepSecrets, known: map[string]*config.Server{}, names: map[string]bool{}}
	cfg, err := config.LoadAsWritten(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		cfg = &config.Config{}
	case err != nil:
		return nil, withCode(ExitConfig, fmt.Errorf("mcpgw's configuration must load before servers are added to it: %w", err))
	}
	imp.cfg = cfg
	for n, s := range cfg.Servers {
		imp.known[n] = s
	}
	return imp, nil
}

// ClientReport is what `client import` or `client install` did to one
// agent file, or would do with --dry-run: its -o json output.
type ClientReport struct {
	Agent  string `json:"agent"`
	Scope  string `json:"scope"`
	Path   string `json:"path"`
	DryRun bool   `json:"dry_run"`
	// Imported are the servers added to mcpgw's configuration.
	Imported []ImportedServer `json:"imported"`
	// Present are the agent's servers mcpgw already has (same command and
	// args, or URL).
	Present []string `json:"present"`
	// Skipped are servers not imported, each with why.
	Skipped []string `json:"skipped"`
	// Secrets are the credentials moved to the OS keychain.
	Secrets []MovedSecret `json:"secrets"`
	// ProfileCreated is the profile install added to mcpgw's configuration.
	ProfileCreated string `json:"profile_created,omitempty"`
	// Installed: install wrote the agent's file; Unchanged: it already ran
	// mcpgw as install would write it.
	Installed bool `json:"installed,omitempty"`
	Unchanged bool `json:"unchanged,omitempty"`
	// Backup is the copy of the file from before install.
	Backup string `json:"backup,omitempty"`
	// Diff is the unified diff of the agent's file (install --dry-run).
	Diff string `json:"diff,omitempty"`
}

// ImportedServer is one server import added.
type ImportedServer struct {
	// Name is its name in mcpgw; From its name in the agent, when that
	// differs (mcpgw had another server of that name).
	Name string `json:"name"`
	From string `json:"from,omitempty"`
	// NotCarriedOver are the entry's settings mcpgw has no place for.
	NotCarriedOver []string `json:"not_carried_over,omitempty"`
}

// MovedSecret is a credential moved from an agent's file to the keychain.
type MovedSecret struct {
	Server string `json:"server"`
	Where  string `json:"where"` // env NAME or header NAME
	Secret string `json:"secret"`
}

// importPlan is what importing one agent file does.
type importPlan struct {
	ClientReport
	target *clients.File
	// failed are the skipped servers that are not mcpgw's own entry.
	failed []string
	// moved are the credentials, whose names the keychain may change.
	moved []movedRef
}

type movedRef struct {
	server string
	sec    *clients.Secret
}

// finish fills the report's secrets with their final names.
func (p *importPlan) finish() *ClientReport {
	r := p.ClientReport
	r.Secrets = []MovedSecret{}
	for _, m := range p.moved {
		r.Secrets = append(r.Secrets, MovedSecret{Server: m.server, Where: m.sec.Where, Secret: m.sec.Name})
	}
	return &r
}

// badServerChars are the characters a server name in mcpgw cannot have.
var badServerChars = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

// plan reads t's servers and decides what to add; nothing is written.
func (imp *importer) plan(t *clients.File, data []byte) (*importPlan, error) {
	servers, err := t.Read(data)
	if err != nil {
		return nil, err
	}
	p := &importPlan{target: t, ClientReport: ClientReport{Agent: t.Agent.Name, Scope: string(t.Scope), Path: t.Path,
		Imported: []ImportedServer{}, Present: []string{}, Skipped: []string{}}}
	for _, s := range servers {
		if s.IsMcpgw() {
			p.Skipped = append(p.Skipped, fmt.Sprintf("%s: mcpgw's own entry", s.Name))
			continue
		}
		if s.Problem != "" {
			p.Skipped = append(p.Skipped, fmt.Sprintf("%s: %s", s.Name, s.Problem))
			p.failed = append(p.failed, s.Name)
			continue
		}
		cs := toConfigServer(s)
		name := strings.Trim(badServerChars.ReplaceAllString(s.Name, "-"), "-")
		if name == "" {
			name = "server"
		}
		if have, ok := imp.known[name]; ok {
			if sameTarget(have, cs) {
				p.Present = append(p.Present, name)
				continue
			}
			name = imp.freeName(name + "-" + t.Agent.Name)
		}
		cs.Name = name
		if err := config.CheckServer(cs); err != nil {
			p.Skipped = append(p.Skipped, fmt.Sprintf("%s: %v", s.Name, err))
			p.failed = append(p.failed, s.Name)
			continue
		}
		if !imp.keepSecrets {
			// The references replace the values in s.Env and s.Headers,
			// which cs shares.
			for _, sec := range s.Secrets() {
				sec.Name = imp.freeSecret(clients.SecretName(name, strings.TrimPrefix(strings.TrimPrefix(sec.Where, "env "), "header ")))
				imp.names[sec.Name] = true
				sec.Reference(sec.Name)
				imp.secrets = append(imp.secrets, sec)
				p.moved = append(p.moved, movedRef{server: name, sec: sec})
			}
		}
		imp.known[name] = cs
		imp.added = append(imp.added, cs)
		is := ImportedServer{Name: name, NotCarriedOver: s.Dropped}
		if name != s.Name {
			is.From = s.Name
		}
		p.Imported = append(p.Imported, is)
	}
	return p, nil
}

func (imp *importer) freeName(base string) string {
	name := base
	for i := 2; imp.known[name] != nil; i++ {
		name = fmt.Sprintf("%s-%d", base, i)
	}
	return name
}

func (imp *importer) freeSecret(base string) string {
	name := base
	for i := 2; imp.names[name]; i++ {
		name = fmt.Sprintf("%s-%d", base, i)
	}
	return name
}

func toConfigServer(s *clients.Server) *config.Server {
	cs := &config.Server{Name: s.Name, Command: s.Command, Args: s.Args, Env: s.Env, Cwd: s.Cwd, URL: s.URL, Transport: s.Transport, Headers: s.Headers}
	if s.Disabled {
		no := false
		cs.Enabled = &no
	}
	return cs
}

// sameTarget reports whether two servers run the same command or reach
// the same URL: then the agent's is already in mcpgw.
func sameTarget(a, b *config.Server) bool {
	return a.Command == b.Command && slices.Equal(a.Args, b.Args) && a.URL == b.URL
}

// commit stores the secrets in the keychain, then adds the servers (and
// profile, when not "") to mcpgw's configuration in one atomic write. A
// secret name the keychain holds with another value gets a -2, -3 ...
// suffix (the reference is rewritten before anything is written).
func (imp *importer) commit(ctx context.Context, profile string) error {
	if len(imp.added) == 0 && (profile == "" || imp.cfg.HasProfile(profile)) {
		return nil
	}
	if len(imp.secrets) > 0 {
		cfg, err := imp.f.secretsConfig()
		if err != nil {
			return err
		}
		store := imp.f.Keystore(cfg)
		for _, sec := range imp.secrets {
			name := sec.Name
			for i := 2; ; i++ {
				v, err := store.Get(ctx, name)
				if errors.Is(err, keystore.ErrNotFound) || (err == nil && v == sec.Value) {
					break
				}
				if err != nil {
					return withCode(ExitSecret, fmt.Errorf("%w; or import with --keep-secrets to copy credentials as they are", secretError(err)))
				}
				name = fmt.Sprintf("%s-%d", sec.Name, i)
			}
			if name != sec.Name {
				sec.Reference(name)
				fmt.Fprintf(imp.f.IO.ErrOut, "The keychain holds another value as %q; stored this one as %q.\n", sec.Name, name)
				sec.Name = name
			}
			if err := store.Set(ctx, name, sec.Value); err != nil {
				return withCode(ExitSecret, fmt.Errorf("%w; or import with --keep-secrets to copy credentials as they are", secretError(err)))
			}
		}
	}
	if err := config.Import(imp.cfgPath, imp.added, profile); err != nil {
		return withCode(ExitConfig, err)
	}
	if profile != "" && !imp.cfg.HasProfile(profile) {
		imp.cfg.Profiles = append(imp.cfg.Profiles, policy.Profile{Name: profile})
	}
	imp.added, imp.secrets = nil, nil
	fmt.Fprintf(imp.f.IO.ErrOut, "Wrote %s\n", imp.cfgPath)
	return nil
}

// write writes the report as text.
func (r *ClientReport) write(w io.Writer) {
	verb, moved := "Imported", "Moved to the OS keychain"
	if r.DryRun {
		verb, moved = "Would import", "Would move to the OS keychain"
	}
	fmt.Fprintf(w, "%s (%s, %s):\n", r.Agent, r.Scope, r.Path)
	if len(r.Imported) == 0 && len(r.Present) == 0 && len(r.Skipped) == 0 {
		fmt.Fprintln(w, "  no servers")
	}
	for _, s := range r.Imported {
		if s.From != "" {
			fmt.Fprintf(w, "  %s %s (as %s: mcpgw has another server called %s)\n", verb, s.From, s.Name, s.From)
		} else {
			fmt.Fprintf(w, "  %s %s\n", verb, s.Name)
		}
		for _, d := range s.NotCarriedOver {
			fmt.Fprintf(w, "    not carried over: %s\n", d)
		}
	}
	for _, n := range r.Present {
		fmt.Fprintf(w, "  Already in mcpgw: %s\n", n)
	}
	for _, n := range r.Skipped {
		fmt.Fprintf(w, "  Not imported: %s\n", n)
	}
	if len(r.Secrets) > 0 {
		fmt.Fprintf(w, "  %s:\n", moved)
		for _, m := range r.Secrets {
			fmt.Fprintf(w, "    %s %s → ${secret:%s}\n", m.Server, m.Where, m.Secret)
		}
	}
	if r.ProfileCreated != "" {
		if r.DryRun {
			fmt.Fprintf(w, "  Would create profile %s\n", r.ProfileCreated)
		} else {
			fmt.Fprintf(w, "  Created profile %s\n", r.ProfileCreated)
		}
	}
	switch {
	case r.Unchanged:
		fmt.Fprintf(w, "  %s already runs mcpgw; left as it is.\n", r.Path)
	case r.Diff != "":
		fmt.Fprint(w, r.Diff)
	case r.Installed:
		backup := r.Backup
		if backup == "" {
			backup = "none, there was no file"
		}
		fmt.Fprintf(w, "  Installed mcpgw into %s (backup: %s)\n  Restart the agent to use it; undo with: mcpgw client restore %s%s\n",
			r.Path, backup, r.Agent, scopeFlag(clients.Scope(r.Scope)))
	}
}
