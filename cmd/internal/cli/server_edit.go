package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mcpgw/mcpgw/cmd/internal/config"
)

// ServerEditOptions are the inputs of `mcpgw server edit`.
type ServerEditOptions struct {
	IO      *IOStreams
	Factory *Factory
	// Name, when set, is the server to open the file at.
	Name string
}

// newConfigTemplate is what `server edit` starts from when there is no
// configuration file yet.
const newConfigTemplate = `# mcpgw configuration: the servers mcpgw serve runs or connects to.
# Keys and examples: the README's "Configuration" section.
servers:
  # everything:
  #   command: npx
  #   args: ["-y", "@modelcontextprotocol/server-everything"]
`

func newCmdServerEdit(f *Factory) *cobra.Command {
	opts := &ServerEditOptions{IO: f.IO, Factory: f}
	return &cobra.Command{
		Use:   "edit [NAME]",
		Short: "Edit the configuration file in your editor, and save it only if it validates",
		Long: `Edit opens a copy of the configuration file in $VISUAL, else $EDITOR, else vi
(notepad on Windows), at server NAME when given. Once the editor exits, the
copy is validated; only a valid one replaces the file, atomically, so a
running mcpgw serve never reads half an edit. When it does not validate, the
error is shown and you can edit the copy again; declined, the file stays as it
was, and your edit stays in the copy, whose path is printed.

Exit status: 0 saved (or nothing changed), 3 the edit does not validate,
1 the editor failed or the file changed meanwhile (your edit is kept).`,
		Example: `  mcpgw server edit
  mcpgw server edit github        # at the github server
  EDITOR="code --wait" mcpgw server edit`,
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: completeServerArg(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.Name = args[0]
			}
			return runServerEdit(cmd.Context(), opts)
		},
	}
}

func runServerEdit(ctx context.Context, opts *ServerEditOptions) error {
	s := opts.IO
	path, err := opts.Factory.ConfigPath()
	if err != nil {
		return err
	}
	was, err := os.ReadFile(path)
	start := was
	switch {
	case errors.Is(err, fs.ErrNotExist):
		was, start = nil, []byte(newConfigTemplate)
	case err != nil:
		return withCode(ExitConfig, fmt.Errorf("cannot read %s: %w", path, err))
	}
	line := 0
	if opts.Name != "" {
		if line = config.ServerLine(was, opts.Name); line == 0 {
			return withCode(ExitConfig, fmt.Errorf("no server %q in %s; edit the whole file with: mcpgw server edit", opts.Name, path))
		}
	}
	editor, err := findEditor()
	if err != nil {
		return err
	}
	// The copy is private (a config may hold tokens in plain ${VAR}s'
	// stead) and keeps the .yaml ending for the editor's highlighting.
	tmp, err := os.CreateTemp("", "mcpgw-config-*.yaml")
	if err != nil {
		return fmt.Errorf("creating a copy to edit: %w", err)
	}
	copyPath := tmp.Name()
	_, err = tmp.Write(start)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(copyPath)
		return fmt.Errorf("writing a copy to edit: %w", err)
	}
	kept := func(err error) error {
		return fmt.Errorf("%w; %s is unchanged, and your edit is kept in %s", err, path, copyPath)
	}
	for {
		if err := runEditor(s, editor, copyPath, line); err != nil {
			return kept(err)
		}
		if ctx.Err() != nil {
			fmt.Fprintf(s.ErrOut, "%s is unchanged; your edit is kept in %s\n", path, copyPath)
			return context.Cause(ctx)
		}
		edited, err := os.ReadFile(copyPath)
		if err != nil {
			return kept(fmt.Errorf("reading the edited copy: %w", err))
		}
		if bytes.Equal(edited, start) {
			os.Remove(copyPath)
			if was != nil {
				if err := config.Check(path, was); err != nil {
					return withCode(ExitConfig, fmt.Errorf("no changes, and %s still does not validate: %w", path, err))
				}
			}
			fmt.Fprintf(s.ErrOut, "No changes; %s left as it was.\n", path)
			return nil
		}
		err = config.Replace(path, was, edited)
		if err == nil {
			os.Remove(copyPath)
			fmt.Fprintf(s.ErrOut, "Saved %s; a running mcpgw serve applies it now.\n", path)
			return nil
		}
		if errors.Is(err, config.ErrChanged) {
			return kept(fmt.Errorf("%w: another program wrote it while you edited; run mcpgw server edit again and carry your change over", err))
		}
		var cerr *config.Error
		if !errors.As(err, &cerr) {
			return kept(err)
		}
		// The copy has the same lines as the file, so the error's line
		// numbers point into what is being edited.
		fmt.Fprintf(s.ErrOut, "mcpgw: the edit does not validate: %v\n", err)
		again := false
		if s.CanPrompt {
			if again, err = s.askYesNo(ctx, "Edit it again?", true); err != nil && ctx.Err() != nil {
				fmt.Fprintf(s.ErrOut, "%s is unchanged; your edit is kept in %s\n", path, copyPath)
				return err
			}
		}
		if !again {
			return withCode(ExitConfig, fmt.Errorf("not saved: %s is unchanged, and your edit is kept in %s (fix it there and run mcpgw server edit again, or copy it over)", path, copyPath))
		}
		if cerr.Line > 0 {
			line = cerr.Line
		}
	}
}

// findEditor returns the editor command, as crontab -e and kubectl edit
// choose it: $VISUAL, then $EDITOR, then vi (notepad on Windows).
func findEditor() (string, error) {
	for _, env := range []string{"VISUAL", "EDITOR"} {
		if e := strings.TrimSpace(os.Getenv(env)); e != "" {
			return e, nil
		}
	}
	def := "vi"
	if runtime.GOOS == "windows" {
		def = "notepad"
	}
	if _, err := exec.LookPath(def); err != nil {
		return "", fmt.Errorf("no editor: $VISUAL and $EDITOR are not set and %s is not installed; set one, e.g. export EDITOR=nano", def)
	}
	return def, nil
}

// lineEditors take +LINE before the file to open it at that line.
var lineEditors = []string{"vi", "vim", "nvim", "view", "nano", "pico", "emacs", "emacsclient", "micro", "kak", "joe", "mg", "ne", "jed"}

// runEditor runs editor on file, at line when the editor takes +LINE, with
// the terminal. The editor string may hold arguments ("code --wait"): on
// Unix it runs through sh, as git runs $EDITOR.
func runEditor(s *IOStreams, editor, file string, line int) error {
	args := []string{file}
	fields := strings.Fields(editor)
	if line > 0 && len(fields) > 0 && slices.Contains(lineEditors, filepath.Base(fields[0])) {
		args = append([]string{"+" + strconv.Itoa(line)}, args...)
	}
	var cmd *exec.Cmd
	if runtime.GOOS == "windows" {
		cmd = exec.Command(fields[0], append(fields[1:], args...)...)
	} else {
		cmd = exec.Command("sh", append([]string{"-c", editor + ` "$@"`, editor}, args...)...)
	}
	// The editor needs the terminal itself; streams that are not files
	// (tests) it does not get to read.
	if f, ok := s.In.(*os.File); ok {
		cmd.Stdin = f
	}
	cmd.Stdout, cmd.Stderr = s.Out, s.ErrOut
	if f, ok := s.Out.(*os.File); ok {
		cmd.Stdout = f
	}
	if f, ok := s.ErrOut.(*os.File); ok {
		cmd.Stderr = f
	}
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return fmt.Errorf("the editor (%s) exited with status %d", editor, ee.ExitCode())
		}
		return fmt.Errorf("running the editor (%s): %w; set $VISUAL or $EDITOR to one that works", editor, err)
	}
	return nil
}
