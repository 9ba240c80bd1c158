package cli

import (
	"bufio"
	"bytes"
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"

	"github.com/mcpgw/mcpgw/cmd/internal/testenv"
)

// runCLI runs mcpgw in-process with args and returns the exit code, stdout
// and stderr. Out is not a terminal, so data defaults to JSON.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut testenv.SyncBuffer
	io := &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}
	code := Run(context.Background(), args, io)
	return code, out.String(), errOut.String()
}

// testRoot builds the command tree as Run does.
func testRoot() *cobra.Command {
	f := &Factory{IO: &IOStreams{In: strings.NewReader(""), Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}, v: viper.New()}
	root := NewRootCmd(f)
	// cobra adds these when it executes; include them in the walk.
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	return root
}

// allCommands returns root and every command under it, depth first.
func allCommands(root *cobra.Command) []*cobra.Command {
	out := []*cobra.Command{root}
	for _, c := range root.Commands() {
		out = append(out, allCommands(c)...)
	}
	return out
}

// cmdArgs is the argument list that selects c from the root ("server add").
func cmdArgs(c *cobra.Command) []string {
	return strings.Fields(c.CommandPath())[1:]
}

// dataCommands print data and so must take -o/--output.
var dataCommands = []string{"server list", "tools", "doctor", "call", "version", "secret list", "secret check", "logs", "logs show", "logs stats", "logs prune", "policy show", "policy explain", "token list", "approvals list"}

func TestCommandTreeDocumented(t *testing.T) {
	root := testRoot()
	cmds := allCommands(root)
	seen := map[string]bool{}
	for _, c := range cmds {
		path := strings.Join(cmdArgs(c), " ")
		seen[path] = true
		t.Run("cmd="+c.CommandPath(), func(t *testing.T) {
			if strings.TrimSpace(c.Short) == "" {
				t.Errorf("%q has no Short help", c.CommandPath())
			}
			check := func(fl *pflag.Flag) {
				if strings.TrimSpace(fl.Usage) == "" {
					t.Errorf("%q: flag --%s has no usage text", c.CommandPath(), fl.Name)
				}
			}
			c.LocalFlags().VisitAll(check)
			c.InheritedFlags().VisitAll(check)
		})
	}
	// The walk really visits the tree (a broken walk would pass vacuously).
	for _, want := range append([]string{"serve", "server add", "server edit", "server remove", "server enable", "server disable", "exit-codes", "demo", "secret set", "secret rm", "policy", "approvals approve", "approvals deny"}, dataCommands...) {
		if !seen[want] {
			t.Errorf("command %q not found in the tree; have %v", want, seen)
		}
	}
	for _, path := range dataCommands {
		c, _, err := root.Find(strings.Fields(path))
		if err != nil || strings.Join(cmdArgs(c), " ") != path {
			t.Errorf("finding %q: %v", path, err)
			continue
		}
		fl := c.Flags().Lookup("output")
		if fl == nil {
			t.Errorf("%q prints data but has no --output flag", path)
			continue
		}
		if fl.Shorthand != "o" {
			t.Errorf("%q: --output shorthand = %q, want -o", path, fl.Shorthand)
		}
	}
}

func TestHelpForEveryCommand(t *testing.T) {
	for _, c := range allCommands(testRoot()) {
		args := append(cmdArgs(c), "--help")
		t.Run(strings.Join(args, "_"), func(t *testing.T) {
			code, out, errOut := runCLI(t, args...)
			if code != ExitOK {
				t.Fatalf("mcpgw %s: exit %d, want 0; stderr:\n%s", strings.Join(args, " "), code, errOut)
			}
			if !strings.Contains(out, "Usage:") || !strings.Contains(out, c.CommandPath()) {
				t.Errorf("mcpgw %s printed no usage for %q:\n%s", strings.Join(args, " "), c.CommandPath(), out)
			}
		})
	}
}

func TestUnknownFlagIsUsageError(t *testing.T) {
	for _, c := range allCommands(testRoot()) {
		args := append(cmdArgs(c), "--no-such-flag")
		t.Run(strings.Join(args, "_"), func(t *testing.T) {
			code, _, errOut := runCLI(t, args...)
			if code != ExitUsage {
				t.Fatalf("mcpgw %s: exit %d, want %d (ExitUsage); stderr:\n%s", strings.Join(args, " "), code, ExitUsage, errOut)
			}
			if !strings.Contains(errOut, "no-such-flag") {
				t.Errorf("stderr does not name the bad flag:\n%s", errOut)
			}
		})
	}
	// Other command-line mistakes are usage errors too.
	for _, args := range [][]string{
		{"no-such-command"},
		{"call"},                  // missing TOOL
		{"server", "remove"},      // missing NAME
		{"version", "extra-arg"},  // NoArgs
		{"version", "-o", "yaml"}, // bad --output value
		{"policy", "explain"},     // neither --tool nor --prompt
		{"policy", "explain", "--tool", "a__b", "--prompt", "a__c"},
		{"policy", "nonsense"},
	} {
		if code, _, errOut := runCLI(t, args...); code != ExitUsage {
			t.Errorf("mcpgw %s: exit %d, want %d; stderr:\n%s", strings.Join(args, " "), code, ExitUsage, errOut)
		}
	}
}

// exitConsts parses exitcodes.go for its Exit* constants.
func exitConsts(t *testing.T) map[string]int {
	t.Helper()
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, "exitcodes.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	consts := map[string]int{}
	for _, d := range file.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, name := range vs.Names {
				if !strings.HasPrefix(name.Name, "Exit") || i >= len(vs.Values) {
					continue
				}
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok {
					t.Fatalf("%s is not a literal", name.Name)
				}
				n, err := strconv.Atoi(lit.Value)
				if err != nil {
					t.Fatal(err)
				}
				consts[name.Name] = n
			}
		}
	}
	if len(consts) == 0 {
		t.Fatal("no Exit* constants found in exitcodes.go")
	}
	return consts
}

func TestExitCodesCommandListsEveryCode(t *testing.T) {
	code, out, errOut := runCLI(t, "exit-codes")
	if code != ExitOK {
		t.Fatalf("exit-codes: exit %d; stderr:\n%s", code, errOut)
	}
	listed := map[int]string{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 {
			continue
		}
		n, err := strconv.Atoi(f[0])
		if err != nil {
			t.Errorf("exit-codes line %q does not start with a code", sc.Text())
			continue
		}
		listed[n] = strings.Join(f[1:], " ")
	}
	for name, n := range exitConsts(t) {
		meaning, ok := listed[n]
		if !ok {
			t.Errorf("exit-codes does not list %s (%d); output:\n%s", name, n, out)
			continue
		}
		if meaning == "" {
			t.Errorf("exit-codes lists %d without a meaning", n)
		}
	}
	if len(listed) != len(exitConsts(t)) {
		t.Errorf("exit-codes lists %d codes, exitcodes.go declares %d:\n%s", len(listed), len(exitConsts(t)), out)
	}
}

// TestReadmeExitCodesMatch keeps the README's "Exit codes" table in step
// with exitcodes.go, as the comment there promises.
func TestReadmeExitCodesMatch(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "### Exit codes")
	if !ok {
		t.Fatal(`README.md has no "### Exit codes" section`)
	}
	if i := strings.Index(section, "\n#"); i >= 0 {
		section = section[:i] // up to the next heading
	}
	row := regexp.MustCompile(`(?m)^\|\s*(\d+)\s*\|\s*(.*?)\s*\|\s*$`)
	readme := map[int]string{}
	for _, m := range row.FindAllStringSubmatch(section, -1) {
		n, _ := strconv.Atoi(m[1])
		readme[n] = strings.ReplaceAll(m[2], "`", "")
	}
	code := map[int]string{}
	for _, e := range exitCodes {
		code[e.Code] = e.Meaning
	}
	if diff := cmp.Diff(code, readme); diff != "" {
		t.Errorf("README exit codes differ from exitcodes.go (-code +README):\n%s", diff)
	}
	for name, n := range exitConsts(t) {
		if _, ok := code[n]; !ok {
			t.Errorf("%s (%d) is missing from the exitCodes table", name, n)
		}
	}
}
