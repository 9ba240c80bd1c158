package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/spf13/cobra"

	"github.com/mcpgw/mcpgw/cmd/internal/config"
	"github.com/mcpgw/mcpgw/mux"
)

// DemoOptions are the inputs of `mcpgw demo`.
type DemoOptions struct {
	IO *IOStreams
	// Keep leaves the temporary state directory in place and prints it.
	Keep bool
}

// NewCmdDemo builds `mcpgw demo`: the gateway on built-in defaults, with no
// config, keychain or network, driven by a real MCP client as an agent would.
func NewCmdDemo(f *Factory, runF func(context.Context, *DemoOptions) error) *cobra.Command {
	opts := &DemoOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the gateway in front of two built-in example servers and show what an agent sees",
		Long: `Demo writes a configuration to a temporary directory naming two built-in example
servers (mcpgw itself, run as "mcpgw demo-server"), launches "mcpgw serve" on it
exactly as a desktop agent would, and makes a few calls over stdio: it lists the
merged catalog, calls tools (text, structured content, progress), reads a
resource and gets a prompt, shows the guardrails block a credential in a call's
arguments and redact one in a result, and shows the record of every call. Nothing is installed and nothing leaves the machine.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runDemo(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Keep, "keep", false, "keep the temporary directory (config and state) and print its path")
	return cmd
}

func runDemo(ctx context.Context, opts *DemoOptions) error {
	out := opts.IO.Out
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("finding the mcpgw executable: %w", err)
	}
	dir, err := os.MkdirTemp("", "mcpgw-demo-")
	if err != nil {
		return fmt.Errorf("creating a temporary directory: %w", err)
	}
	if opts.Keep {
		fmt.Fprintf(out, "State directory: %s\n", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	cfgPath := filepath.Join(dir, "config.yaml")
	for _, name := range []string{"alpha", "beta"} {
		if err := config.AddServer(cfgPath, &config.Server{Name: name, Command: self, Args: []string{"demo-server", "--name", name}}); err != nil {
			return fmt.Errorf("writing the demo configuration: %w", err)
		}
	}
	cfgText, _ := os.ReadFile(cfgPath)
	fmt.Fprintf(out, "1. Configuration (%s):\n%s\n", cfgPath, indent(string(cfgText)))

	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, self, "serve", "--config", cfgPath, "--no-watch")
	db := filepath.Join(dir, "record.db")
	cmd.Env = append(os.Environ(), "XDG_STATE_HOME="+dir, "XDG_CONFIG_HOME="+dir, envDB+"="+db)
	cmd.Stderr = opts.IO.ErrOut
	progress := make(chan string, 16)
	client := mcp.NewClient(&mcp.Implementation{Name: "mcpgw-demo-agent", Version: Version}, &mcp.ClientOptions{
		ProgressNotificationHandler: func(_ context.Context, req *mcp.ProgressNotificationClientRequest) {
			select {
			case progress <- fmt.Sprintf("%v/%v %s", req.Params.Progress, req.Params.Total, req.Params.Message):
			default:
			}
		},
	})
	fmt.Fprintf(out, "2. Launching the gateway as an agent would: %s serve --config %s\n", filepath.Base(self), cfgPath)
	cs, err := client.Connect(ctx, &mcp.CommandTransport{Command: cmd}, &mcp.ClientSessionOptions{ProtocolVersion: mux.DefaultProtocolVersion})
	if err != nil {
		return withCode(ExitUnavailable, fmt.Errorf("starting mcpgw serve: %w", err))
	}
	defer cs.Close()
	init := cs.InitializeResult()
	fmt.Fprintf(out, "   connected to %s %s, protocol %s\n\n", init.ServerInfo.Name, init.ServerInfo.Version, init.ProtocolVersion)

	tools, err := cs.ListTools(ctx, nil)
	if err != nil {
		return fmt.Errorf("tools/list: %w", err)
	}
	fmt.Fprintf(out, "3. tools/list: %d tools merged from two servers, each prefixed with its server's name:\n", len(tools.Tools))
	width := 0
	for _, t := range tools.Tools {
		width = max(width, len(t.Name))
	}
	for _, t := range tools.Tools {
		fmt.Fprintf(out, "   %-*s  %s\n", width, t.Name, t.Description)
	}

	call := func(name string, args map[string]any, meta mcp.Meta) error {
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args, Meta: meta})
		if err != nil {
			return fmt.Errorf("tools/call %s: %w", name, err)
		}
		a, _ := json.Marshal(args)
		fmt.Fprintf(out, "   %s %s\n", name, a)
		for _, c := range res.Content {
			if t, ok := c.(*mcp.TextContent); ok {
				fmt.Fprintf(out, "     → %s\n", strings.ReplaceAll(t.Text, "\n", "\n       "))
			}
		}
		if res.StructuredContent != nil {
			s, _ := json.Marshal(res.StructuredContent)
			fmt.Fprintf(out, "     → structuredContent %s\n", s)
		}
		return nil
	}
	fmt.Fprintln(out, "\n4. tools/call, routed by prefix to the server that owns each tool:")
	if err := call("alpha__echo", map[string]any{"text": "hello"}, nil); err != nil {
		return err
	}
	if err := call("beta__echo", map[string]any{"text": "hello"}, nil); err != nil {
		return err
	}
	if err := call("alpha__add", map[string]any{"a": 2, "b": 40}, nil); err != nil {
		return err
	}
	if err := call("beta__count", map[string]any{"to": 3}, mcp.Meta{"progressToken": "demo"}); err != nil {
		return err
	}
	// Progress notifications and the result travel separately: wait for
	// the three steps (never close the channel; a late one would panic).
	wait := time.NewTimer(5 * time.Second)
	defer wait.Stop()
collect:
	for range 3 {
		select {
		case p := <-progress:
			fmt.Fprintf(out, "     progress relayed: %s\n", p)
		case <-wait.C:
			fmt.Fprintln(out, "     (not all progress notifications arrived)")
			break collect
		}
	}

	fmt.Fprintln(out, "\n5. Resources and prompts keep their owners:")
	res, err := cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "demo://beta/readme"})
	if err != nil {
		return fmt.Errorf("resources/read: %w", err)
	}
	fmt.Fprintf(out, "   resources/read demo://beta/readme → %s\n", res.Contents[0].Text)
	pr, err := cs.GetPrompt(ctx, &mcp.GetPromptParams{Name: "alpha__greet", Arguments: map[string]string{"who": "you"}})
	if err != nil {
		return fmt.Errorf("prompts/get: %w", err)
	}
	if t, ok := pr.Messages[0].Content.(*mcp.TextContent); ok {
		fmt.Fprintf(out, "   prompts/get alpha__greet → %s\n", t.Text)
	}

	fmt.Fprintln(out, "\n6. Guardrails, on by default: a credential in a call's arguments is blocked, one in a result is redacted:")
	if err := call("alpha__echo", map[string]any{"text": "deploy with " + mux.DemoToken()}, nil); err != nil {
		return err
	}
	if err := call("beta__show_config", map[string]any{}, nil); err != nil {
		return err
	}
	// Stopping the gateway flushes its record.
	cs.Close()
	fmt.Fprintf(out, "\n7. The record: every call above, in SQLite (%s), as mcpgw logs shows it:\n", db)
	if code := Run(ctx, []string{"logs", "--db", db, "-o", "table", "-n", "20"}, &IOStreams{In: opts.IO.In, Out: indentWriter{out}, ErrOut: opts.IO.ErrOut}); code != ExitOK {
		return fmt.Errorf("mcpgw logs exited with %d", code)
	}
	fmt.Fprintln(out, "\nDone. Point your agent at mcpgw with: mcpgw server add NAME -- CMD ARGS, then use \"mcpgw serve\" as its MCP server (see README).")
	return nil
}

// indentWriter indents what it is given, line by line.
type indentWriter struct{ w io.Writer }

func (iw indentWriter) Write(p []byte) (int, error) {
	s := strings.TrimSuffix(string(p), "\n")
	_, err := io.WriteString(iw.w, indent(s)+"\n")
	return len(p), err
}

func indent(s string) string {
	return "   " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n   ")
}

// newCmdDemoServer is the built-in example server `mcpgw demo` runs behind
// the gateway. Hidden: it is not for users.
func newCmdDemoServer(f *Factory) *cobra.Command {
	var name string
	cmd := &cobra.Command{
		Use:    "demo-server",
		Short:  "Serve the built-in example MCP server over stdio",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			in, out, restore := stdioPipes(f.IO) // a Go server on stdin too
			defer restore()
			return mux.RunDemoServer(cmd.Context(), name, in, out)
		},
	}
	cmd.Flags().StringVar(&name, "name", "demo", "name shown in results")
	return cmd
}
