package cli

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestManPageForEveryCommand generates the man pages as a release does and
// walks the command tree: every command a user can run has its page, with
// its name and synopsis, and there is no page for anything else (hidden
// commands, help).
func TestManPageForEveryCommand(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "man", "man1") // created as needed
	if code, _, errOut := runCLI(t, "man", dir); code != ExitOK {
		t.Fatalf("mcpgw man: exit %d: %s", code, errOut)
	}
	var want []string
	for _, c := range allCommands(testRoot()) {
		if !c.IsAvailableCommand() || c.IsAdditionalHelpTopicCommand() {
			continue
		}
		name := strings.ReplaceAll(c.CommandPath(), " ", "-")
		want = append(want, name+".1")
		b, err := os.ReadFile(filepath.Join(dir, name+".1"))
		if err != nil {
			t.Errorf("%s has no man page: %v", c.CommandPath(), err)
			continue
		}
		page := string(b)
		for _, s := range []string{`.TH "MCPGW" "1"`, ".SH NAME\n" + name + " - " + c.Short, ".SH SYNOPSIS\n\\fB" + c.CommandPath()} {
			if !strings.Contains(page, s) {
				t.Errorf("%s.1 lacks %q", name, s)
			}
		}
	}
	// The walk is real: the tree has the commands a user knows.
	for _, name := range []string{"mcpgw.1", "mcpgw-serve.1", "mcpgw-server-add.1", "mcpgw-doctor.1", "mcpgw-completion-zsh.1"} {
		if !slices.Contains(want, name) {
			t.Errorf("the walk found no %s", name)
		}
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("pages %v, want one per command: %v", got, want)
	}
	if slices.Contains(got, "mcpgw-man.1") || slices.Contains(got, "mcpgw-help.1") {
		t.Errorf("pages for hidden or help commands: %v", got)
	}
}
