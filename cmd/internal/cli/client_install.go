package cli

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aymanbagabas/go-udiff"
	"github.com/spf13/cobra"

	"github.com/mcpgw/mcpgw/cmd/internal/clients"
	"github.com/mcpgw/mcpgw/cmd/internal/config"
	"github.com/mcpgw/mcpgw/policy"
)

// ClientInstallOptions are the inputs of `mcpgw client install`.
type ClientInstallOptions struct {
	ClientFileFlags
	NoImport bool
}

func newCmdClientInstall(f *Factory) *cobra.Command {
	opts := &ClientInstallOptions{}
	cmd := &cobra.Command{
		Use:   "install (AGENT | --all)",
		Short: "Make an agent run mcpgw in place of its own MCP servers",
		Long: `Install imports AGENT's servers that mcpgw does not have yet (as client import
does, credentials moved to the OS keychain), creates the profile AGENT in
mcpgw's configuration if it is missing, backs up the agent's file under
mcpgw's state directory (timestamped, never overwritten), and replaces the
file's servers with one entry, mcpgw, that runs this binary's absolute path
with serve --profile AGENT. Everything else in the file stays as it was,
comments and trailing commas included. The write is atomic.

--no-import refuses, naming them, when the agent has servers mcpgw lacks.
--dry-run prints what would be imported and the file's diff, and writes
nothing. Undo with: mcpgw client restore AGENT.`,
		Example: `  mcpgw client install claude-desktop --dry-run
  mcpgw client install cursor
  mcpgw client install vscode --scope project`,
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: completeAgents,
		RunE: opts.withTargets(func(ctx context.Context, targets []*clients.File) error {
			return runClientInstall(ctx, f, opts, targets)
		}),
	}
	opts.add(cmd)
	cmd.Flags().BoolVar(&opts.NoImport, "no-import", false, "refuse when the agent has servers mcpgw lacks, instead of importing them")
	return cmd
}

func runClientInstall(ctx context.Context, f *Factory, opts *ClientInstallOptions, targets []*clients.File) error {
	format, err := resolveFormat(f.IO, opts.Output)
	if err != nil {
		return err
	}
	imp, err := newImporter(f, opts.KeepSecrets)
	if err != nil {
		return err
	}
	st, err := loadClientState()
	if err != nil {
		return err
	}
	var plans []*importPlan
	for _, t := range targets {
		data, exists, err := readAgentFile(t.Path)
		if err != nil {
			return err
		}
		if opts.All && !exists {
			continue
		}
		plan, err := imp.plan(t, data)
		if err != nil {
			return withCode(ExitConfig, err)
		}
		plan.DryRun = opts.DryRun
		if len(plan.failed) > 0 {
			// Installing would take them out of the agent and put them
			// nowhere.
			plan.finish().write(f.IO.ErrOut)
			return withCode(ExitConfig, fmt.Errorf("%s has servers mcpgw cannot import: %s (see above); fix them in %s or remove them, then install again", t.Agent.Title, strings.Join(plan.failed, ", "), t.Path))
		}
		if opts.NoImport && len(plan.Imported) > 0 {
			var names []string
			for _, s := range plan.Imported {
				names = append(names, cmp.Or(s.From, s.Name))
			}
			return withCode(ExitConfig, fmt.Errorf("%s has servers mcpgw lacks: %s; import them (install without --no-import, or mcpgw client import %s), or remove them from %s", t.Agent.Title, strings.Join(names, ", "), t.Agent.Name, t.Path))
		}
		e, err := f.mcpgwEntry(t.Agent.Name)
		if err != nil {
			return err
		}
		edited, err := t.Install(data, e)
		if err != nil {
			return withCode(ExitConfig, err)
		}
		plans = append(plans, plan)
		if !imp.cfg.HasProfile(t.Agent.Name) {
			plan.ProfileCreated = t.Agent.Name
		}
		plan.Unchanged = exists && bytes.Equal(edited, data)
		if opts.DryRun {
			if !plan.Unchanged {
				plan.Diff = udiff.Unified(t.Path, t.Path+" (with mcpgw)", string(data), string(edited))
			}
			// What later agents would see of this one's import.
			if plan.ProfileCreated != "" {
				imp.cfg.Profiles = append(imp.cfg.Profiles, policy.Profile{Name: t.Agent.Name})
			}
			continue
		}
		if err := imp.commit(ctx, t.Agent.Name); err != nil {
			return err
		}
		if plan.Unchanged {
			continue
		}
		if err := installFile(st, t, data, exists, edited); err != nil {
			return err
		}
		plan.Installed, plan.Backup = true, st.Files[t.Key()].Backup
	}
	return printReports(f, format, plans, opts.DryRun, fmt.Sprintf("No agent has a %s configuration file (see mcpgw client list).", opts.Scope))
}

// installFile backs up the agent's file, writes the edited one and
// records what it wrote. A file mcpgw wrote and nobody changed since keeps
// its first backup: that is the file from before mcpgw.
func installFile(st *clients.State, t *clients.File, data []byte, exists bool, edited []byte) error {
	backup := ""
	if rec := st.Files[t.Key()]; rec != nil && exists && !t.Drifted(rec, data, exists) {
		backup = rec.Backup
	} else if exists {
		var err error
		if backup, err = st.Backup(t.Agent, t.Scope, t.Path, data, time.Now()); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(filepath.Dir(t.Path), 0o700); err != nil {
		return fmt.Errorf("creating %s: %w", filepath.Dir(t.Path), err)
	}
	if err := config.WriteFileAtomic(t.Path, edited, 0o600); err != nil {
		return err
	}
	st.Files[t.Key()] = t.Record(edited, backup, time.Now())
	if err := st.Save(); err != nil {
		return fmt.Errorf("installed into %s, but recording it failed (restore will not find the backup %q): %w", t.Path, backup, err)
	}
	return nil
}

// where names the file and, when not at its top, where its servers are.
func where(t *clients.File) string {
	if t.Where() == "" {
		return t.Path
	}
	return t.Path + " (" + t.Where() + ")"
}

func scopeFlag(s clients.Scope) string {
	if s == clients.User {
		return ""
	}
	return " --scope " + string(s)
}

// ClientRestoreOptions are the inputs of `mcpgw client restore`.
type ClientRestoreOptions struct {
	Scope string
	Force bool
}

func newCmdClientRestore(f *Factory) *cobra.Command {
	opts := &ClientRestoreOptions{}
	cmd := &cobra.Command{
		Use:   "restore AGENT",
		Short: "Put back the agent's configuration file as it was before mcpgw install",
		Long: `Restore puts back, byte for byte, the backup mcpgw install made of AGENT's
file (or removes the file when install created it). It refuses when the file
changed since mcpgw wrote it, since those changes would be lost; --force
restores anyway. Backups are kept.

Claude Code rewrites ~/.claude.json as it runs (the user and local scopes),
so there restore puts back only the backup's servers value into the file as
it is now, and refuses only when the servers changed since mcpgw wrote them.`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeAgents,
		RunE: func(cmd *cobra.Command, args []string) error {
			targets, err := clientTargets(args, false, opts.Scope)
			if err != nil {
				return err
			}
			return runClientRestore(f, opts, targets[0])
		},
	}
	addScopeFlag(cmd, &opts.Scope)
	cmd.Flags().BoolVar(&opts.Force, "force", false, "restore even if the file changed since mcpgw wrote it")
	return cmd
}

func runClientRestore(f *Factory, opts *ClientRestoreOptions, t *clients.File) error {
	st, err := loadClientState()
	if err != nil {
		return err
	}
	rec := st.Files[t.Key()]
	if rec == nil {
		return fmt.Errorf("mcpgw has not installed into %s (%s %s): there is nothing to restore", t.Path, t.Agent.Title, t.Scope)
	}
	data, exists, err := readAgentFile(t.Path)
	if err != nil {
		return err
	}
	if t.Drifted(rec, data, exists) && !opts.Force {
		what := "was changed"
		switch {
		case !exists:
			what = "was removed"
		case t.ServersOnly():
			what = "had its servers changed"
		}
		return fmt.Errorf("%s %s after mcpgw wrote it (%s); restoring the backup would lose that change. Look at it, then run: mcpgw client restore %s%s --force", t.Path, what, rec.At.Local().Format(time.DateTime), t.Agent.Name, scopeFlag(t.Scope))
	}
	var orig []byte
	if rec.Backup != "" {
		if orig, err = os.ReadFile(rec.Backup); err != nil {
			return fmt.Errorf("reading the backup of %s: %w", t.Path, err)
		}
	}
	switch {
	case t.ServersOnly() && exists:
		// The agent's own state in the file now is newer than the
		// backup's: only the servers go back (none when there was no file).
		if orig == nil {
			orig = []byte("{}")
		}
		out, err := t.PutServers(data, orig)
		if err != nil {
			return withCode(ExitConfig, err)
		}
		if err := config.WriteFileAtomic(t.Path, out, 0o600); err != nil {
			return err
		}
		fmt.Fprintf(f.IO.ErrOut, "Restored the servers of %s from %s\n", where(t), cmp.Or(rec.Backup, "none (there was no file before install): mcpgw's entry removed"))
	case rec.Backup == "":
		if err := os.Remove(t.Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("removing %s: %w", t.Path, err)
		}
		fmt.Fprintf(f.IO.ErrOut, "Removed %s: there was no file before mcpgw install.\n", t.Path)
	default:
		if err := config.WriteFileAtomic(t.Path, orig, 0o600); err != nil {
			return err
		}
		fmt.Fprintf(f.IO.ErrOut, "Restored %s from %s\n", t.Path, rec.Backup)
	}
	delete(st.Files, t.Key())
	return st.Save()
}
