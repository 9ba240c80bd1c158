package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/spf13/cobra"

	"github.com/mcpgw/mcpgw/cmd/internal/config"
	"github.com/mcpgw/mcpgw/mux"
	"github.com/mcpgw/mcpgw/mux/catalog"
	"github.com/mcpgw/mcpgw/policy/guard"
	"github.com/mcpgw/mcpgw/policy/pin"
)

// CallOptions are the inputs of `mcpgw call`.
type CallOptions struct {
	IO      *IOStreams
	Factory *Factory
	Tool    string
	Args    []string // k=v, typed from the input schema
	JSON    string   // --args
	Output  string
	Timeout time.Duration
}

// NewCmdCall builds `mcpgw call`.
func NewCmdCall(f *Factory, runF func(context.Context, *CallOptions) error) *cobra.Command {
	opts := &CallOptions{IO: f.IO, Factory: f}
	cmd := &cobra.Command{
		Use:   "call TOOL",
		Short: "Call one tool through the whole gateway, as an agent would",
		Long: `Call starts the configured servers and calls TOOL (its exposed name, as
"mcpgw tools" lists it) through the same call path agents use. The result is
printed as JSON; the exit code is 4 when the tool reports an error.

--arg k=v values are typed from the tool's input schema: numbers, booleans,
and JSON for arrays and objects. Repeat --arg for an array to add items.`,
		Example: `  mcpgw call everything__echo --arg message=hello
  mcpgw call fixture__add --arg a=1 --arg b=2
  mcpgw call memory__create_entities --args '{"entities":[]}'`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeToolNames(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Tool = args[0]
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runCall(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringArrayVar(&opts.Args, "arg", nil, "argument as key=value, typed from the tool's input schema (repeatable)")
	cmd.Flags().StringVar(&opts.JSON, "args", "", "all arguments as one JSON object (--arg values override its keys)")
	cmd.Flags().DurationVar(&opts.Timeout, "timeout", 2*time.Minute, "how long to wait for the servers to start and the call to end, in all")
	addOutputFlag(cmd, &opts.Output)
	cmd.Flags().Lookup("output").Usage = "output format: json (the default: the whole result) or table (the text content only)"
	return cmd
}

func runCall(ctx context.Context, opts *CallOptions) error {
	format := opts.Output
	if format == "" {
		format = FormatJSON // the result is data; scripts read it
	}
	if _, err := resolveFormat(opts.IO, format); err != nil {
		return err
	}
	cfg, err := opts.Factory.LoadConfig()
	if err != nil {
		return err
	}
	// Only the servers that may list the tool start.
	cached := cachedToolNames(ctx, opts.Factory, cfg)
	need := callCandidates(opts.Tool, cfg, cached)
	if len(need) == 0 {
		return withCode(ExitUsage, noSuchTool(opts.Tool, cfg, cached, nil))
	}
	logger := commandLogger(opts.IO.ErrOut)
	known := guard.NewKnown()
	gd, err := newGuard(cfg, logger)
	if err != nil {
		return err
	}
	gd.Secrets().Start() // the one call needs them: read while the server starts
	record, err := openGatewayRecord(ctx, opts.Factory, cfg, "", known, gd, logger)
	if err != nil {
		return err
	}
	defer record.close()
	gwOpts := &mux.Options{Logger: logger, Redactor: known, OAuth: opts.Factory.oauthOptions(cfg)}
	gwOpts.OAuth.StepUp = stepUp(opts.Factory, opts.IO, cfg)
	record.options(gwOpts, cfg.Logs.Strict)
	gwOpts.Stages = append(gwOpts.Stages, gd, newSchemaCheck(cfg, logger), newLimits(cfg, record, logger))
	acc, err := newAccess(cfg, "")
	if err != nil {
		return err
	}
	// No agent to ask here: a call that needs approval waits for
	// mcpgw approvals in another terminal.
	appr, err := newApproval(cfg, acc, record, known, logger)
	if err != nil {
		return err
	}
	gwOpts.Stages = append(gwOpts.Stages, appr)
	g, err := newGatewayOf(opts.Factory, cfg, gwOpts, only(serverSpecs(cfg), need), acc)
	if err != nil {
		return err
	}
	defer g.Close()
	// The deadline's cause names it, for the gateway's answer and the
	// record: the server's own call timeout is another limit.
	ctx, cancel := context.WithTimeoutCause(ctx, opts.Timeout, fmt.Errorf("mcpgw call --timeout %s passed", opts.Timeout))
	defer cancel()
	view, err := viewWaiting(ctx, opts.IO, g)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return withCode(ExitUnavailable, fmt.Errorf("%s did not start within --timeout %s; raise it, or see why with: mcpgw doctor", strings.Join(need, ", "), opts.Timeout))
		}
		return withCode(ExitUnavailable, fmt.Errorf("waiting for servers: %w", err))
	}
	var schema map[string]any
	found := false
	for _, t := range view.Tools {
		if t.Tool.Name == opts.Tool {
			schema, _ = t.Tool.InputSchema.(map[string]any)
			found = true
			break
		}
	}
	hidden := slices.ContainsFunc(view.Hidden, func(h mux.HiddenTool) bool { return h.Name == opts.Tool })
	if !found && !hidden {
		// A server that may have it did not start: that is the problem.
		for _, st := range view.Servers {
			if err := serverFailure(ctx, opts.Factory, cfg, st); err != nil {
				return err
			}
		}
		return withCode(ExitUsage, noSuchTool(opts.Tool, cfg, cached, view))
	}
	args, err := buildArgs(schema, opts.JSON, opts.Args)
	if err != nil {
		return withCode(ExitUsage, err)
	}
	res, err := callWaiting(ctx, opts.IO, g, opts.Tool, args)
	if err != nil {
		return fmt.Errorf("calling %s: %w", opts.Tool, err)
	}
	if format == FormatJSON {
		if err := printJSON(opts.IO.Out, res); err != nil {
			return err
		}
	} else {
		for _, c := range res.Content {
			b, _ := json.Marshal(c)
			var probe struct {
				Type string `json:"type"`
				Text string `json:"text"`
			}
			json.Unmarshal(b, &probe)
			if probe.Type == "text" {
				fmt.Fprintln(opts.IO.Out, probe.Text)
			} else {
				fmt.Fprintf(opts.IO.Out, "[%s content]\n", probe.Type)
			}
		}
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("gave up on %s after --timeout %s; raise --timeout if it needs longer", opts.Tool, opts.Timeout)
	}
	if i := slices.IndexFunc(view.Hidden, func(h mux.HiddenTool) bool { return h.Name == opts.Tool && h.Rule == pin.Rule }); res.IsError && i >= 0 {
		// Held: its definition changed since it was pinned.
		return withCode(ExitDenied, errors.New(view.Hidden[i].Reason))
	}
	if res.IsError && hidden {
		// Refused as an agent's call would be: the policy hides it.
		return withCode(ExitDenied, fmt.Errorf("the policy does not let you call %s (see why with: mcpgw policy explain --tool %s)", opts.Tool, opts.Tool))
	}
	if res.IsError {
		return withCode(ExitToolError, fmt.Errorf("tool %s returned an error", opts.Tool))
	}
	return nil
}

// callWaiting makes the call, showing on a terminal that it runs and the
// tool's progress notifications as they come.
func callWaiting(ctx context.Context, s *IOStreams, g *mux.Gateway, tool string, args json.RawMessage) (*mcp.CallToolResult, error) {
	w := startWaiting(s, "calling "+tool)
	var mu sync.Mutex
	text := "calling " + tool
	stop := w.watch(func() string {
		mu.Lock()
		defer mu.Unlock()
		return text
	})
	defer stop()
	// Progress is asked for also when it is not shown: it keeps the
	// server's idle call timeout from cutting a long job off.
	return g.CallToolProgress(ctx, tool, args, func(p mux.Progress) {
		mu.Lock()
		text = progressText(tool, p)
		mu.Unlock()
	})
}

// noSuchTool says that no server lists name, suggesting names from what
// the started servers listed (view, when any started) and from the
// catalog cache.
func noSuchTool(name string, cfg *config.Config, cached map[string][]string, view *mux.CatalogView) error {
	var names []string
	if view != nil {
		for _, t := range view.Tools {
			names = append(names, t.Tool.Name)
		}
	}
	for _, srv := range cfg.Order {
		for _, n := range cached[srv] {
			if !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
	}
	msg := fmt.Sprintf("no tool %q", name)
	if view == nil {
		var prefixes []string
		for _, srv := range cfg.Order {
			if s := cfg.Servers[srv]; s.IsEnabled() && s.PrefixOr() != "" {
				prefixes = append(prefixes, s.PrefixOr()+catalog.NameSeparator)
			}
		}
		msg += ": no configured server lists it"
		if len(prefixes) > 0 {
			msg += ", and tool names start with their server's prefix: " + strings.Join(prefixes, ", ")
		}
	}
	if s := catalog.Suggest(name, names); len(s) > 0 {
		msg += "; did you mean: " + strings.Join(s, ", ")
	}
	return errors.New(msg + " (list tools with: mcpgw tools)")
}

// buildArgs merges --args JSON and --arg k=v pairs, typing each value from
// the tool's input schema.
func buildArgs(schema map[string]any, rawJSON string, pairs []string) (json.RawMessage, error) {
	args := map[string]any{}
	if rawJSON != "" {
		if err := json.Unmarshal([]byte(rawJSON), &args); err != nil {
			return nil, fmt.Errorf("--args: want one JSON object, e.g. '{\"a\":1}': %w", err)
		}
	}
	props, _ := schema["properties"].(map[string]any)
	for _, p := range pairs {
		k, raw, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--arg %q: want key=value", p)
		}
		prop, _ := props[k].(map[string]any)
		if prop == nil && props != nil && schema["additionalProperties"] == false {
			return nil, fmt.Errorf("--arg %s: the tool has no parameter %q; it takes: %s", p, k, strings.Join(sortedProps(props), ", "))
		}
		if raw == "null" && allowsNull(prop) {
			args[k] = nil
			continue
		}
		typ := schemaType(prop)
		if typ == "array" {
			// A JSON array given whole replaces; single values accumulate.
			if strings.HasPrefix(strings.TrimSpace(raw), "[") {
				var arr []any
				if err := json.Unmarshal([]byte(raw), &arr); err == nil {
					args[k] = arr
					continue
				}
			}
			item, err := typedValue(k, raw, schemaType(asMap(prop["items"])))
			if err != nil {
				return nil, err
			}
			prev, _ := args[k].([]any)
			args[k] = append(prev, item)
			continue
		}
		v, err := typedValue(k, raw, typ)
		if err != nil {
			return nil, err
		}
		args[k] = v
	}
	if len(args) == 0 {
		return nil, nil
	}
	return json.Marshal(args)
}

func typedValue(key, raw, typ string) (any, error) {
	switch typ {
	case "integer":
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("--arg %s=%s: %q must be an integer", key, raw, key)
		}
		return n, nil
	case "number":
		n, err := strconv.ParseFloat(raw, 64)
		if err != nil {
			return nil, fmt.Errorf("--arg %s=%s: %q must be a number", key, raw, key)
		}
		return n, nil
	case "boolean":
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return nil, fmt.Errorf("--arg %s=%s: %q must be true or false", key, raw, key)
		}
		return b, nil
	case "object", "array":
		var v any
		if err := json.Unmarshal([]byte(raw), &v); err != nil {
			return nil, fmt.Errorf("--arg %s=%s: %q must be JSON (%s): %v", key, raw, key, typ, err)
		}
		return v, nil
	case "", "string":
		if typ == "" {
			// No schema type: take JSON when it parses, else the string.
			var v any
			if json.Unmarshal([]byte(raw), &v) == nil {
				return v, nil
			}
		}
		return raw, nil
	}
	return raw, nil
}

// schemaType returns a property's JSON type ("" when unknown); for a type
// list such as ["string","null"] the first non-null type.
func schemaType(prop map[string]any) string {
	switch t := prop["type"].(type) {
	case string:
		return t
	case []any:
		for _, x := range t {
			if s, ok := x.(string); ok && s != "null" {
				return s
			}
		}
	}
	return ""
}

// allowsNull reports whether a property's type is "null" or a type list
// holding "null", such as ["integer","null"].
func allowsNull(prop map[string]any) bool {
	switch t := prop["type"].(type) {
	case string:
		return t == "null"
	case []any:
		return slices.Contains(t, any("null"))
	}
	return false
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func sortedProps(props map[string]any) []string {
	out := make([]string, 0, len(props))
	for k := range props {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
