package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mcpgw/mcpgw/cmd/internal/config"
	"github.com/mcpgw/mcpgw/mux"
	"github.com/mcpgw/mcpgw/policy/guard"
)

// ServeOptions are the inputs of `mcpgw serve`.
type ServeOptions struct {
	IO      *IOStreams
	Factory *Factory
	// HTTP is the address of the streamable HTTP front; empty serves one
	// agent over stdio. A non-loopback address needs a token (mcpgw token).
	HTTP string
	// RequireToken makes every HTTP request present a bearer token even
	// while none exists.
	RequireToken bool
	// NoWatch disables live reload of the configuration file.
	NoWatch bool
	Verbose bool
	// DB is the record database (--db); empty means MCPGW_DB, the
	// configuration's logs.path, or the default.
	DB string
	// Profile is the agent profile every session runs under (--profile);
	// empty means MCPGW_PROFILE, else each agent's by its clientInfo name.
	Profile string
}

// NewCmdServe builds `mcpgw serve`.
func NewCmdServe(f *Factory, runF func(context.Context, *ServeOptions) error) *cobra.Command {
	opts := &ServeOptions{IO: f.IO, Factory: f}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the merged catalog to an agent over stdio (or HTTP with --http)",
		Long: `Serve runs the gateway. Agents launch "mcpgw serve" as their MCP server and
speak MCP over its stdin/stdout; diagnostics go to stderr. With --http ADDR it
serves streamable HTTP instead.

Over HTTP, callers authenticate with bearer tokens (mcpgw token create) once
any token exists, or from the start with --require-token: every request then
needs "Authorization: Bearer TOKEN", and the token, not the request, says who
is calling. Without tokens mcpgw listens on loopback addresses only.

Changes to the configuration file apply while it runs: servers, identity,
profiles and policy (agents are told their lists changed).

Each agent runs under the profile --profile (or MCPGW_PROFILE) names, else
the first profile whose match.client fits the agent's clientInfo name.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runServe(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.HTTP, "http", "", "serve streamable HTTP on this address (e.g. 127.0.0.1:8931) instead of stdio; a non-loopback one needs a token (mcpgw token create)")
	cmd.Flags().BoolVar(&opts.RequireToken, "require-token", false, "with --http: refuse requests without a bearer token even while no token exists")
	cmd.Flags().BoolVar(&opts.NoWatch, "no-watch", false, "do not apply configuration file changes while running")
	cmd.Flags().BoolVarP(&opts.Verbose, "verbose", "v", false, "log server starts and reloads to stderr")
	cmd.Flags().StringVar(&opts.DB, "db", "", "record database (env MCPGW_DB; default: logs.path in the config, or mcpgw/mcpgw.db under your OS state dir)")
	cmd.Flags().StringVar(&opts.Profile, "profile", "", "run every agent under this profile of the config's profiles: (env MCPGW_PROFILE; default: the first whose match.client fits the agent)")
	return cmd
}

func runServe(ctx context.Context, opts *ServeOptions) error {
	loopback := true
	if opts.HTTP != "" {
		var err error
		if loopback, err = checkHTTPAddr(opts.HTTP); err != nil {
			return withCode(ExitUsage, err)
		}
	} else if opts.RequireToken {
		return withCode(ExitUsage, errors.New("--require-token applies to the HTTP front: add --http ADDR"))
	}
	path, err := opts.Factory.ConfigPath()
	if err != nil {
		return err
	}
	cfg, err := config.Load(path)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) || opts.Factory.ConfigExplicit() {
			return withCode(ExitConfig, err)
		}
		// No configuration yet: serve an empty catalog, and pick the file
		// up when it appears.
		cfg = &config.Config{Path: path}
		fmt.Fprintf(opts.IO.ErrOut, "mcpgw: no configuration at %s yet; serving no servers until it exists (add one with: mcpgw server add NAME -- CMD ARGS)\n", path)
		// The watch needs the directory: create it, so the first
		// `mcpgw server add` reaches this running gateway.
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			fmt.Fprintf(opts.IO.ErrOut, "mcpgw: cannot create %s (%v); restart mcpgw after adding servers\n", filepath.Dir(path), err)
		}
	}
	acc, err := newAccess(cfg, opts.Profile)
	if err != nil {
		return err
	}
	setServeMemory()
	setServeProcs()
	logger := stderrLogger(opts.IO.ErrOut, opts.Verbose)
	secrets := newGatewaySecrets(opts.Factory, cfg, logger)
	known := guard.NewKnown()
	gd, err := newGuard(cfg, logger)
	if err != nil {
		return err
	}
	record, err := openGatewayRecord(ctx, opts.Factory, cfg, opts.DB, known, gd, logger)
	if err != nil {
		return err
	}
	defer record.close() // after the gateway: its last calls are flushed
	gwOpts := &mux.Options{Logger: logger, ChildStderr: opts.IO.ErrOut, Secrets: secrets, Redactor: known}
	gwOpts.SignAssertion = (&assertionSigner{ctx: ctx, cfg: cfg}).sign
	var auth *httpAuth
	if opts.HTTP != "" {
		if auth, err = openHTTPAuth(ctx, opts.Factory, cfg, opts, loopback, logger); err != nil {
			return err
		}
		defer auth.close()
		if auth != nil {
			gwOpts.Authenticate = auth.authenticate
		}
	}
	record.options(gwOpts, cfg.Logs.Strict)
	record.statusOptions(gwOpts, cfg.Path)
	record.sweep(logger) // before this gateway writes rows of its own
	schema := newSchemaCheck(cfg, logger)
	lim := newLimits(cfg, record, logger)
	// The guards and the schema check before limits: a call they block
	// takes no token.
	gwOpts.Stages = append(gwOpts.Stages, gd, schema, lim)
	// Approval last: a call other stages refuse never bothers a person.
	appr, err := newApproval(cfg, acc, record, known, logger)
	if err != nil {
		return err
	}
	gwOpts.Stages = append(gwOpts.Stages, appr)
	modes := newCatalogModes(cfg)
	gwOpts.Catalog = modes.mode
	g, err := newGateway(opts.Factory, cfg, gwOpts, acc)
	if err != nil {
		return err
	}
	defer g.Close()

	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go trimWhenQuiet(ctx, gd.Secrets().Ready(), logger)
	go startRulesAfterStartup(ctx, g.Settled(), gd.Secrets())
	if record != nil && record.pins != nil {
		// Pins approved or imported by `mcpgw tools` in another process.
		go pollPins(ctx, record.pins, g, logger, pinPollInterval)
	}
	if !opts.NoWatch {
		go func() {
			err := config.Watch(ctx, path, func(c *config.Config, err error) {
				if err != nil {
					logger.Error("configuration change not applied; keeping the running servers", "err", err)
					return
				}
				changed, err := acc.update(c)
				if err != nil {
					logger.Error("configuration change not applied; keeping the running servers and policy", "err", err)
					return
				}
				logger.Info("configuration changed; applying", "path", path)
				lim.Update(c.Limits)
				schema.SetMode(guard.SchemaMode(c.Guardrails.SchemaMode()))
				gd.update(c)
				if err := applyApproval(appr, c, acc); err != nil {
					logger.Error("approval: change not applied; keeping the rules in force", "err", err)
				}
				secrets.apply(c)
				g.Apply(serverSpecs(c))
				if modes.update(c) {
					changed = true
				}
				if changed {
					// What each agent may see changed: views are made again,
					// and agents told their lists changed.
					g.CatalogChanged()
				}
			}, managedPolicyPath())
			if err != nil && ctx.Err() == nil {
				logger.Warn("not watching the configuration file", "err", err)
			}
		}()
	}

	if opts.HTTP != "" {
		err = g.ListenAndServeHTTP(ctx, opts.HTTP, func(a net.Addr) {
			fmt.Fprintf(opts.IO.ErrOut, "mcpgw: serving MCP at http://%s/\n", a)
			if auth != nil && auth.Required() {
				fmt.Fprintln(opts.IO.ErrOut, "mcpgw: callers need a bearer token (Authorization: Bearer TOKEN; mcpgw token create makes one)")
			}
		})
	} else {
		in, out, restore := stdioPipes(opts.IO)
		defer restore()
		err = g.ServeStdio(ctx, in, out)
	}
	if parent.Err() != nil {
		// Stopped by a signal: its exit code, once the deferred shutdown
		// has stopped the servers.
		return context.Cause(parent)
	}
	return err
}

// checkHTTPAddr checks --http before anything starts: HOST:PORT. It
// reports whether the host is a loopback one; any other needs a token
// (see openHTTPAuth).
func checkHTTPAddr(addr string) (loopback bool, err error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return false, fmt.Errorf("--http %q: want HOST:PORT, e.g. 127.0.0.1:8931", addr)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return false, fmt.Errorf("--http %q: %q is not a port number (0-65535; 0 picks a free one)", addr, port)
	}
	ip := net.ParseIP(host)
	return strings.EqualFold(host, "localhost") || ip != nil && ip.IsLoopback(), nil
}

// stdioPipes adapts the injected streams to the closers the transport wants.
// stdioPipes returns the agent's streams for ServeStdio: pipes read and
// written through the poller (pollable, stdio_unix.go), and the function
// that puts them back as they were.
func stdioPipes(s *IOStreams) (io.ReadCloser, io.WriteCloser, func()) {
	var restores []func()
	in, ok := s.In.(io.ReadCloser)
	if !ok {
		in = io.NopCloser(s.In)
	} else if f, ok := in.(*os.File); ok {
		var restore func()
		in, restore = pollable(f)
		restores = append(restores, restore)
	}
	out, ok := s.Out.(io.WriteCloser)
	if !ok {
		out = nopWriteCloser{s.Out}
	} else if f, ok := out.(*os.File); ok {
		var restore func()
		out, restore = pollable(f)
		restores = append(restores, restore)
	}
	return in, out, func() {
		for _, r := range restores {
			r()
		}
	}
}

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }
