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
	Agent       string
	All         bool
	Scope       string
	DryRun      bool
	KeepSecrets bool
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
		RunE: func(cmd *cobra.Command, args []string) error {
			targets, err := clientTargets(args, opts.All, opts.Scope)
			if err != nil {
				return err
			}
			return runClientImport(cmd.Context(), f, opts, targets)
		},
	}
	addImportFlags(cmd, &opts.All, &opts.Scope, &opts.DryRun)
	cmd.Flags().BoolVar(&opts.KeepSecrets, "keep-secrets", false, "copy credentials as they are instead of moving them to the OS keychain")
	return cmd
}

func addImportFlags(cmd *cobra.Command, all *bool, scope *string, dryRun *bool) {
	cmd.Flags().BoolVar(all, "all", false, "every agent that has a configuration file")
	cmd.Flags().StringVar(scope, "scope", "user", "which configuration file: user, or project (in the working directory)")
	cmd.Flags().BoolVar(dryRun, "dry-run", false, "show what would change; write nothing")
	cmd.RegisterFlagCompletionFunc("scope", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return []string{string(clients.User), string(clients.Project)}, cobra.ShellCompDirectiveNoFileComp
	})
}

func runClientImport(ctx context.Context, f *Factory, opts *ClientImportOptions, targets []clientTarget) error {
	imp, err := newImporter(f, opts.KeepSecrets)
	if err != nil {
		return err
	}
	found := false
	for _, t := range targets {
		data, ok, err := readAgentFile(t.path)
		if err != nil {
			return err
		}
		if !ok {
			if !opts.All {
				return fmt.Errorf("%s has no %s configuration file (%s): nothing to import", t.agent.Title, t.scope, t.path)
			}
			continue
		}
		found = true
		plan, err := imp.plan(t, data)
		if err != nil {
			return withCode(ExitConfig, err)
		}
		plan.report(f.IO.Out, opts.DryRun)
	}
	if !found {
		fmt.Fprintf(f.IO.Out, "No agent has a %s configuration file (see mcpgw client list).\n", opts.Scope)
		return nil
	}
	if opts.DryRun {
		fmt.Fprintln(f.IO.Out, "Dry run: nothing was written.")
		return nil
	}
	return imp.commit(ctx, "")
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
	secrets []pendingSecret
	names   map[string]bool // secret names taken by this import
	cfg     *config.Config
}

type pendingSecret struct {
	sec *clients.Secret
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

// importPlan is what importing one agent file does.
type importPlan struct {
	target clientTarget
	// Added: imported servers (name in mcpgw, and in the agent when it differs).
	added []importedServer
	// present: servers mcpgw already has (same command or URL).
	present []string
	// skipped: servers not imported, with why; failed are those of them
	// that are not mcpgw's own entry.
	skipped []string
	failed  []string
	// dropped: per server, what could not be carried over.
	dropped map[string][]string
	// moved: credentials moved to the keychain.
	moved []string
}

type importedServer struct{ name, from string }

// badServerChars are the characters a server name in mcpgw cannot have.
var badServerChars = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

// plan reads t's servers and decides what to add; nothing is written.
func (imp *importer) plan(t clientTarget, data []byte) (*importPlan, error) {
	servers, err := t.agent.Read(t.path, data)
	if err != nil {
		return nil, err
	}
	p := &importPlan{target: t, dropped: map[string][]string{}}
	for _, s := range servers {
		if s.IsMcpgw() {
			p.skipped = append(p.skipped, fmt.Sprintf("%s: mcpgw's own entry", s.Name))
			continue
		}
		cs := toConfigServer(s)
		name := strings.Trim(badServerChars.ReplaceAllString(s.Name, "-"), "-")
		if name == "" {
			name = "server"
		}
		if have, ok := imp.known[name]; ok {
			if sameTarget(have, cs) {
				p.present = append(p.present, name)
				continue
			}
			name = imp.freeName(name + "-" + t.agent.Name)
		}
		cs.Name = name
		if err := config.CheckServer(cs); err != nil {
			p.skipped = append(p.skipped, fmt.Sprintf("%s: %v", s.Name, err))
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
				imp.secrets = append(imp.secrets, pendingSecret{sec: sec})
				p.moved = append(p.moved, fmt.Sprintf("%s %s → ${secret:%s}", name, sec.Where, sec.Name))
			}
		}
		if len(s.Dropped) > 0 {
			p.dropped[name] = s.Dropped
		}
		imp.known[name] = cs
		imp.added = append(imp.added, cs)
		p.added = append(p.added, importedServer{name: name, from: s.Name})
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
		for _, ps := range imp.secrets {
			name := ps.sec.Name
			for i := 2; ; i++ {
				v, err := store.Get(ctx, name)
				if errors.Is(err, keystore.ErrNotFound) || (err == nil && v == ps.sec.Value) {
					break
				}
				if err != nil {
					return withCode(ExitSecret, fmt.Errorf("%w; or import with --keep-secrets to copy credentials as they are", secretError(err)))
				}
				name = fmt.Sprintf("%s-%d", ps.sec.Name, i)
			}
			if name != ps.sec.Name {
				ps.sec.Reference(name)
				fmt.Fprintf(imp.f.IO.ErrOut, "Secret %q holds another value; stored as %q instead.\n", ps.sec.Name, name)
			}
			if err := store.Set(ctx, name, ps.sec.Value); err != nil {
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

// report writes what importing the file does (or did).
func (p *importPlan) report(w io.Writer, dryRun bool) {
	verb := "Imported"
	if dryRun {
		verb = "Would import"
	}
	fmt.Fprintf(w, "%s (%s, %s):\n", p.target.agent.Title, p.target.scope, p.target.path)
	if len(p.added) == 0 && len(p.present) == 0 && len(p.skipped) == 0 {
		fmt.Fprintln(w, "  no servers")
	}
	for _, s := range p.added {
		if s.from != s.name {
			fmt.Fprintf(w, "  %s %s (as %s: mcpgw has another server called %s)\n", verb, s.from, s.name, s.from)
		} else {
			fmt.Fprintf(w, "  %s %s\n", verb, s.name)
		}
		for _, d := range p.dropped[s.name] {
			fmt.Fprintf(w, "    not carried over: %s\n", d)
		}
	}
	for _, n := range p.present {
		fmt.Fprintf(w, "  Already in mcpgw: %s\n", n)
	}
	for _, n := range p.skipped {
		fmt.Fprintf(w, "  Not imported: %s\n", n)
	}
	if len(p.moved) > 0 {
		moved := "Moved to the OS keychain"
		if dryRun {
			moved = "Would move to the OS keychain"
		}
		fmt.Fprintf(w, "  %s:\n", moved)
		for _, m := range p.moved {
			fmt.Fprintf(w, "    %s\n", m)
		}
	}
}
