// Package cli holds mcpgw's commands: one constructor per command and a run
// function over an options struct, with IO streams injected.
package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"regexp"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"github.com/mcpgw/mcpgw/cmd/internal/config"
	"github.com/mcpgw/mcpgw/mux/callpath"
)

// Version, Commit and Date are set by the release build (goreleaser ldflags).
var (
	Version = "dev"
	Commit  = ""
	Date    = ""
)

// Factory carries what every command shares: streams and configuration
// lookup. viper decides where the configuration file is (flag, then
// MCPGW_CONFIG, then the default path); the file itself is decoded by the
// config package, so keys keep their case and errors carry line numbers.
type Factory struct {
	IO *IOStreams
	// Stages are call path stages every gateway a command runs adds after
	// the built-in ones (see package callpath): for builds of mcpgw with
	// stages of their own ([MainWith]), and tests.
	Stages []callpath.Stage
	v      *viper.Viper
	// args is the command line as given, for messages that suggest how to
	// write it.
	args []string
}

// ConfigPath returns the configuration file path by precedence.
func (f *Factory) ConfigPath() (string, error) {
	if p := f.v.GetString("config"); p != "" {
		return p, nil
	}
	p, err := config.DefaultPath()
	if err != nil {
		return "", withCode(ExitConfig, fmt.Errorf("finding the default configuration path: %w; pass --config PATH or set MCPGW_CONFIG", err))
	}
	return p, nil
}

// ConfigExplicit reports whether the configuration file was named (by
// --config or MCPGW_CONFIG) rather than the default: only the default may
// be absent, since a named file that is not there is a typo or a move.
func (f *Factory) ConfigExplicit() bool { return f.v.GetString("config") != "" }

// LoadConfig reads and validates the configuration file.
func (f *Factory) LoadConfig() (*config.Config, error) {
	p, err := f.ConfigPath()
	if err != nil {
		return nil, err
	}
	cfg, err := config.Load(p)
	if err != nil {
		return nil, withCode(ExitConfig, err)
	}
	return cfg, nil
}

// NewRootCmd builds the command tree.
func NewRootCmd(f *Factory) *cobra.Command {
	root := &cobra.Command{
		Use:   "mcpgw",
		Short: "One MCP endpoint for your agents, in front of many MCP servers",
		Long: `mcpgw is a local MCP gateway. A desktop agent launches "mcpgw serve" as its
only MCP server; mcpgw runs or connects to your MCP servers, merges their tools,
resources and prompts into one catalog, and relays every call.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(f.IO.In)
	root.SetOut(f.IO.Out)
	root.SetErr(f.IO.ErrOut)
	root.PersistentFlags().String("config", "", "configuration file (env MCPGW_CONFIG; default: mcpgw/config.yaml under your OS config dir)")
	f.v.BindPFlag("config", root.PersistentFlags().Lookup("config"))
	f.v.BindEnv("config", "MCPGW_CONFIG")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return withCode(ExitUsage, fmt.Errorf("%w\nRun '%s --help' for usage.", err, c.CommandPath()))
	})

	root.AddCommand(
		NewCmdServe(f, nil),
		NewCmdServer(f),
		NewCmdSecret(f),
		NewCmdAuth(f),
		NewCmdToken(f),
		NewCmdIdentity(f),
		NewCmdTools(f, nil),
		NewCmdDoctor(f, nil),
		NewCmdCall(f, nil),
		NewCmdLogs(f, nil),
		NewCmdPolicy(f),
		NewCmdApprovals(f, nil),
		NewCmdClient(f),
		NewCmdVersion(f, nil),
		NewCmdDemo(f, nil),
		newCmdDemoServer(f),
		newCmdExitCodes(f),
		newCmdMan(f, nil),
	)
	// No command takes a file name as an argument: where nothing better
	// completes, complete nothing rather than the files of the directory.
	var noFiles func(*cobra.Command)
	noFiles = func(c *cobra.Command) {
		if c.ValidArgsFunction == nil && len(c.ValidArgs) == 0 {
			c.ValidArgsFunction = cobra.NoFileCompletions
		}
		for _, sub := range c.Commands() {
			noFiles(sub)
		}
	}
	noFiles(root)
	return root
}

// Main runs mcpgw with the process's arguments and streams and returns the
// exit code.
func Main() int { return MainWith(nil) }

// MainWith is [Main] for a build of mcpgw that adds call path stages of its
// own: every gateway it runs has them after the built-in ones.
func MainWith(stages []callpath.Stage) int {
	ctx, stop := notifyContext(context.Background())
	defer stop()
	return run(ctx, os.Args[1:], System(), func(f *Factory, _ *cobra.Command) { f.Stages = stages })
}

// interruption is the cause of a context a signal cancelled: it is
// context.Canceled to every check, and tells [run] which exit code to use.
type interruption struct{ sig os.Signal }

func (i interruption) Error() string        { return "stopped by " + i.sig.String() }
func (i interruption) Is(target error) bool { return target == context.Canceled }

// exitCode is the shell's code for a process ended by the signal: 130 for
// Ctrl-C (SIGINT), 143 for SIGTERM.
func (i interruption) exitCode() int {
	if i.sig == syscall.SIGTERM {
		return ExitTerminated
	}
	return ExitInterrupted
}

// notifyContext returns a context cancelled, with an [interruption] as its
// cause, on the first SIGINT or SIGTERM. The signals then get their default
// action back, so a second Ctrl-C ends a shutdown that hangs.
func notifyContext(parent context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(parent)
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	go func() {
		select {
		case sig := <-ch:
			signal.Reset(os.Interrupt, syscall.SIGTERM)
			cancel(interruption{sig})
		case <-ctx.Done():
		}
	}()
	return ctx, func() {
		signal.Stop(ch)
		cancel(context.Canceled)
	}
}

// interruptedCode is the exit code for a command ctx's cancellation ended.
func interruptedCode(ctx context.Context) int {
	var i interruption
	if errors.As(context.Cause(ctx), &i) {
		return i.exitCode()
	}
	return ExitInterrupted
}

// Run runs mcpgw with args and streams, returning the exit code. Tests call
// it directly.
func Run(ctx context.Context, args []string, io *IOStreams) int {
	return run(ctx, args, io, nil)
}

// run is [Run] with a hook that may change the command tree first (tests
// swap in commands with an injected clock).
func run(ctx context.Context, args []string, io *IOStreams, adjust func(*Factory, *cobra.Command)) int {
	f := &Factory{IO: io, v: viper.New(), args: args}
	root := NewRootCmd(f)
	if adjust != nil {
		adjust(f, root)
	}
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		return interruptedCode(ctx)
	}
	err = plainFlagGroupError(err)
	fmt.Fprintln(io.ErrOut, "mcpgw:", err)
	code := exitCode(err)
	if code == ExitError && isUsageError(err) {
		code = ExitUsage
	}
	return code
}

// exclusiveFlags matches cobra's error for mutually exclusive flags given
// together.
var exclusiveFlags = regexp.MustCompile(`^if any flags in the group \[.*\] are set none of the others can be; \[(.*)\] were all set$`)

// plainFlagGroupError says cobra's error for exclusive flags in a user's
// words: "--prefix and --no-prefix cannot be used together".
func plainFlagGroupError(err error) error {
	m := exclusiveFlags.FindStringSubmatch(err.Error())
	if m == nil {
		return err
	}
	flags := strings.Fields(m[1])
	for i := range flags {
		flags[i] = "--" + flags[i]
	}
	return withCode(ExitUsage, fmt.Errorf("%s cannot be used together; give one of them", strings.Join(flags, " and ")))
}

// isUsageError recognizes cobra's own argument errors.
func isUsageError(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "accepts ", "requires at least", "requires exactly", "unknown flag", "unknown shorthand flag", "flag needs an argument", "invalid argument", "if any flags in the group", "at least one of the flags in the group"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}

// runGroup is the run function of a command that only groups others
// (server, secret): bare, it prints its help; with a word that names none
// of its commands, that is a usage error, where cobra would print the help
// and exit 0.
func runGroup(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return cmd.Help()
	}
	msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		msg += fmt.Sprintf(" (did you mean %s?)", strings.Join(s, " or "))
	}
	var names []string
	for _, c := range cmd.Commands() {
		if c.IsAvailableCommand() {
			names = append(names, c.Name())
		}
	}
	return withCode(ExitUsage, fmt.Errorf("%s; its commands: %s", msg, strings.Join(names, ", ")))
}

func newCmdExitCodes(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "exit-codes",
		Short: "List mcpgw's exit codes",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, e := range exitCodes {
				fmt.Fprintf(f.IO.Out, "%3d  %s\n", e.Code, e.Meaning)
			}
			return nil
		},
	}
}
