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
	All         bool
	Scope       string
	DryRun      bool
	NoImport    bool
	KeepSecrets bool
	Output      string
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
		RunE: func(cmd *cobra.Command, args []string) error {
			targets, err := clientTargets(args, opts.All, opts.Scope)
			if err != nil {
				return err
			}
			return runClientInstall(cmd.Context(), f, opts, targets)
		},
	}
	addImportFlags(cmd, &opts.All, &opts.Scope, &opts.DryRun)
	cmd.Flags().BoolVar(&opts.NoImport, "no-import", false, "refuse when the agent has servers mcpgw lacks, instead of importing them")
	cmd.Flags().BoolVar(&opts.KeepSecrets, "keep-secrets", false, "copy credentials as they are instead of moving them to the OS keychain")
	addOutputFlag(cmd, &opts.Output)
	return cmd
}

func runClientInstall(ctx context.Context, f *Factory, opts *ClientInstallOptions, targets []clientTarget) error {
	format, err := resolveFormat(f.IO, opts.Output)
	if err != nil {
		return err
	}
	imp, err := newImporter(f, opts.KeepSecrets)
	if err != nil {
		return err
	}
	dir, err := clientStateDir()
	if err != nil {
		return err
	}
	st, err := clients.LoadState(dir)
	if err != nil {
		return err
	}
	var plans []*importPlan
	for _, t := range targets {
		data, exists, err := readAgentFile(t.path)
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
			return withCode(ExitConfig, fmt.Errorf("%s has servers mcpgw cannot import: %s (see above); fix them in %s or remove them, then install again", t.agent.Title, strings.Join(plan.failed, ", "), t.path))
		}
		if opts.NoImport && len(plan.Imported) > 0 {
			var names []string
			for _, s := range plan.Imported {
				names = append(names, cmp.Or(s.From, s.Name))
			}
			return withCode(ExitConfig, fmt.Errorf("%s has servers mcpgw lacks: %s; import them (install without --no-import, or mcpgw client import %s), or remove them from %s", t.agent.Title, strings.Join(names, ", "), t.agent.Name, t.path))
		}
		e, err := f.mcpgwEntry(t.agent.Name)
		if err != nil {
			return err
		}
		edited, err := t.agent.Install(t.path, data, e)
		if err != nil {
			return withCode(ExitConfig, err)
		}
		plans = append(plans, plan)
		if !imp.cfg.HasProfile(t.agent.Name) {
			plan.ProfileCreated = t.agent.Name
		}
		plan.Unchanged = exists && bytes.Equal(edited, data)
		if opts.DryRun {
			if !plan.Unchanged {
				plan.Diff = udiff.Unified(t.path, t.path+" (with mcpgw)", string(data), string(edited))
			}
			// What later agents would see of this one's import.
			if plan.ProfileCreated != "" {
				imp.cfg.Profiles = append(imp.cfg.Profiles, policy.Profile{Name: t.agent.Name})
			}
			continue
		}
		if err := imp.commit(ctx, t.agent.Name); err != nil {
			return err
		}
		if plan.Unchanged {
			continue
		}
		if err := installFile(st, t, data, exists, edited); err != nil {
			return err
		}
		plan.Installed, plan.Backup = true, st.Files[t.path].Backup
	}
	return printReports(f, format, plans, opts.DryRun, fmt.Sprintf("No agent has a %s configuration file (see mcpgw client list).", opts.Scope))
}

// installFile backs up the agent's file, writes the edited one and
// records its hash. A file mcpgw wrote and nobody changed since keeps its
// first backup: that is the file from before mcpgw.
func installFile(st *clients.State, t clientTarget, data []byte, exists bool, edited []byte) error {
	backup := ""
	if rec := st.Files[t.path]; rec != nil && exists && clients.Hash(data) == rec.SHA256 {
		backup = rec.Backup
	} else if exists {
		var err error
		if backup, err = st.Backup(t.agent, t.scope, t.path, data, time.Now()); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(filepath.Dir(t.path), 0o700); err != nil {
		return fmt.Errorf("creating %s: %w", filepath.Dir(t.path), err)
	}
	if err := config.WriteFileAtomic(t.path, edited, 0o600); err != nil {
		return err
	}
	st.Files[t.path] = &clients.Installed{Agent: t.agent.Name, Scope: t.scope, SHA256: clients.Hash(edited), Backup: backup, At: time.Now().UTC()}
	if err := st.Save(); err != nil {
		return fmt.Errorf("installed into %s, but recording it failed (restore will not find the backup %q): %w", t.path, backup, err)
	}
	return nil
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
restores anyway. Backups are kept.`,
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
	cmd.Flags().StringVar(&opts.Scope, "scope", "user", "which configuration file: user, or project (in the working directory)")
	cmd.Flags().BoolVar(&opts.Force, "force", false, "restore even if the file changed since mcpgw wrote it")
	cmd.RegisterFlagCompletionFunc("scope", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return []string{string(clients.User), string(clients.Project)}, cobra.ShellCompDirectiveNoFileComp
	})
	return cmd
}

func runClientRestore(f *Factory, opts *ClientRestoreOptions, t clientTarget) error {
	dir, err := clientStateDir()
	if err != nil {
		return err
	}
	st, err := clients.LoadState(dir)
	if err != nil {
		return err
	}
	rec := st.Files[t.path]
	if rec == nil {
		return fmt.Errorf("mcpgw has not installed into %s (%s): there is nothing to restore", t.path, t.agent.Title)
	}
	data, exists, err := readAgentFile(t.path)
	if err != nil {
		return err
	}
	if (!exists || clients.Hash(data) != rec.SHA256) && !opts.Force {
		what := "was changed"
		if !exists {
			what = "was removed"
		}
		return fmt.Errorf("%s %s after mcpgw wrote it (%s); restoring the backup would lose that change. Look at it, then run: mcpgw client restore %s%s --force", t.path, what, rec.At.Local().Format(time.DateTime), t.agent.Name, scopeFlag(t.scope))
	}
	if rec.Backup == "" {
		if err := os.Remove(t.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("removing %s: %w", t.path, err)
		}
		fmt.Fprintf(f.IO.ErrOut, "Removed %s: there was no file before mcpgw install.\n", t.path)
	} else {
		orig, err := os.ReadFile(rec.Backup)
		if err != nil {
			return fmt.Errorf("reading the backup of %s: %w", t.path, err)
		}
		if err := config.WriteFileAtomic(t.path, orig, 0o600); err != nil {
			return err
		}
		fmt.Fprintf(f.IO.ErrOut, "Restored %s from %s\n", t.path, rec.Backup)
	}
	delete(st.Files, t.path)
	return st.Save()
}
