package cli

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mcpgw/mcpgw/cmd/internal/config"
	"github.com/mcpgw/mcpgw/keystore"
	"github.com/mcpgw/mcpgw/mux/oauth"
)

// loginTimeout bounds `mcpgw auth login`: time to finish in the browser.
const loginTimeout = 10 * time.Minute

// NewCmdAuth builds `mcpgw auth` and its subcommands.
func NewCmdAuth(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "auth",
		Short: "Log in to remote servers that use OAuth",
		Long: `Remote servers behind OAuth (GitHub, Linear, Notion, Sentry...) need a login
once: mcpgw auth login NAME opens the authorization page in your browser, and
stores the tokens in the OS keychain, where every mcpgw process (every agent)
shares them. mcpgw serve attaches them to each request and refreshes them
before they expire. A server with no login, or one that was revoked, is in
state needs_login: its tools are not listed until you log in.`,
		RunE: runGroup,
	}
	cmd.AddCommand(newCmdAuthLogin(f), newCmdAuthStatus(f), newCmdAuthLogout(f))
	return cmd
}

// AuthLoginOptions are the inputs of `mcpgw auth login`.
type AuthLoginOptions struct {
	Name      string
	NoBrowser bool
	// Scope, space-separated, is asked for instead of the configured or
	// advertised scopes: what a server that refused a call for want of
	// scope (403 insufficient_scope) said to ask for.
	Scope string
}

func newCmdAuthLogin(f *Factory) *cobra.Command {
	opts := &AuthLoginOptions{}
	cmd := &cobra.Command{
		Use:   "login NAME",
		Short: "Log in to a remote server with OAuth and store its tokens in the keychain",
		Long: `Login connects to the server; when it asks for a login, mcpgw discovers its
authorization server, registers itself if need be, and opens the authorization
page with your browser ($BROWSER when set, else the OS opener). After you
approve, the browser comes back to mcpgw on 127.0.0.1, and the tokens go to the
OS keychain. With --no-browser the page's URL is printed instead, to open
anywhere that can reach this machine's 127.0.0.1 (an SSH tunnel).

--scope asks for those scopes (space-separated) instead of oauth.scopes or the
ones the server advertises: a call mcpgw serve failed for want of scope says
which.

A server with oauth: {grant: client_credentials} logs in without a browser.`,
		Example: `  mcpgw auth login github
  mcpgw auth login linear --no-browser
  mcpgw auth login github --scope "repo read:org"`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeServerArg(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			return runAuthLogin(cmd.Context(), f, opts)
		},
	}
	cmd.Flags().BoolVar(&opts.NoBrowser, "no-browser", false, "print the authorization URL instead of opening a browser")
	cmd.Flags().StringVar(&opts.Scope, "scope", "", "scopes to ask for, space-separated, instead of the configured or advertised ones")
	return cmd
}

func runAuthLogin(ctx context.Context, f *Factory, opts *AuthLoginOptions) error {
	cfg, err := f.LoadConfig()
	if err != nil {
		return err
	}
	s, err := remoteServer(cfg, opts.Name)
	if err != nil {
		return err
	}
	store := f.Keystore(cfg)
	lo, err := loginOptions(ctx, f, cfg, s, store)
	if err != nil {
		return err
	}
	if scopes := strings.Fields(opts.Scope); len(scopes) > 0 {
		lo.Config.Scopes = scopes
	}
	lo.Open = func(ctx context.Context, u string) error {
		if opts.NoBrowser {
			fmt.Fprintf(f.IO.ErrOut, "Open this URL in a browser to log in to %s:\n\n  %s\n\nWaiting for the browser to come back to 127.0.0.1...\n", s.Name, u)
			return nil
		}
		fmt.Fprintf(f.IO.ErrOut, "Opening the browser to log in to %s...\n", s.Name)
		if err := openBrowser(ctx, u); err != nil {
			fmt.Fprintf(f.IO.ErrOut, "Could not open a browser (%v); open this URL yourself:\n\n  %s\n\n", err, u)
		}
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, loginTimeout)
	defer cancel()
	res, err := oauth.Login(ctx, lo)
	switch {
	case errors.Is(err, oauth.ErrNoLoginNeeded):
		fmt.Fprintf(f.IO.ErrOut, "Server %q did not ask for a login: %v.\n", s.Name, err)
		return nil
	case err != nil:
		return authError(s.Name, err)
	}
	who := ""
	if res.Status.Subject != "" {
		who = " as " + res.Status.Subject
	}
	fmt.Fprintf(f.IO.ErrOut, "Logged in to %s%s; it lists %d tools. The tokens are in the OS keychain (service %q); a running mcpgw serve picks them up on its next attempt to connect.\n",
		s.Name, who, res.Tools, keystore.Service)
	return nil
}

// authError gives a login's failure its exit code.
func authError(server string, err error) error {
	var ue *keystore.UnavailableError
	if errors.As(err, &ue) {
		return withCode(ExitSecret, err)
	}
	if errors.Is(err, keystore.ErrNotFound) {
		return secretError(err)
	}
	return withCode(ExitUnavailable, fmt.Errorf("logging in to %s: %w", server, err))
}

// remoteServer returns the remote server name, or an error that says why
// it cannot log in.
func remoteServer(cfg *config.Config, name string) (*config.Server, error) {
	s := cfg.Servers[name]
	switch {
	case s == nil:
		var remote []string
		for _, n := range cfg.Order {
			if cfg.Servers[n].IsRemote() {
				remote = append(remote, n)
			}
		}
		hint := "it has no remote servers (url:)"
		if len(remote) > 0 {
			hint = "its remote servers: " + strings.Join(remote, ", ")
		}
		return nil, withCode(ExitUsage, fmt.Errorf("no server named %q in %s; %s", name, cfg.Path, hint))
	case !s.IsRemote():
		return nil, withCode(ExitUsage, fmt.Errorf("server %q runs a local command; only remote servers (url:) log in with OAuth", name))
	}
	return s, nil
}

// loginOptions resolves s's url, headers and oauth: secrets for a login.
func loginOptions(ctx context.Context, f *Factory, cfg *config.Config, s *config.Server, store keystore.Store) (oauth.LoginOptions, error) {
	lookup := func(name string) (string, error) { return store.Get(ctx, name) }
	var first error
	expand := func(v string) string {
		if first != nil || !keystore.HasRef(v) {
			return v
		}
		out, err := keystore.Expand(v, lookup)
		first = err
		return out
	}
	headers := map[string]string{}
	for k, v := range s.Headers {
		headers[k] = expand(v)
	}
	conf := oauth.Config{}
	if c := oauthConfig(s); c != nil {
		conf = *c
	}
	conf.ClientSecret, conf.PrivateKey = expand(conf.ClientSecret), expand(conf.PrivateKey)
	lo := oauth.LoginOptions{Server: s.Name, URL: expand(s.URL), SSE: s.Transport == "sse", Config: conf,
		Store: keystore.BlobsOf(store), LockDir: oauthLockDir(), Base: staticHeaders(headers), Name: "mcpgw", Version: Version}
	if first != nil {
		return lo, secretError(fmt.Errorf("server %q: %w", s.Name, first))
	}
	return lo, nil
}

// staticHeaders is a transport adding a server's configured headers.
type staticHeaders map[string]string

func (h staticHeaders) RoundTrip(r *http.Request) (*http.Response, error) {
	if len(h) > 0 {
		r = r.Clone(r.Context())
		for k, v := range h {
			r.Header.Set(k, v)
		}
	}
	return http.DefaultTransport.RoundTrip(r)
}

// openBrowser opens u with $BROWSER when set (as xdg-open honours it: a
// command, where %s stands for the URL, else the URL is its last
// argument; several commands separated by ':' are tried in turn), or
// else the OS opener.
func openBrowser(ctx context.Context, u string) error {
	if b := os.Getenv("BROWSER"); b != "" {
		var err error
		for _, c := range strings.Split(b, ":") {
			args := strings.Fields(c)
			if len(args) == 0 {
				continue
			}
			if i := slices.IndexFunc(args, func(a string) bool { return strings.Contains(a, "%s") }); i >= 0 {
				args[i] = strings.ReplaceAll(args[i], "%s", u)
			} else {
				args = append(args, u)
			}
			cmd := exec.CommandContext(ctx, args[0], args[1:]...)
			cmd.Stdout, cmd.Stderr = nil, nil
			if err = cmd.Start(); err == nil {
				go cmd.Wait()
				return nil
			}
		}
		return fmt.Errorf("$BROWSER: %w", err)
	}
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.CommandContext(ctx, "open", u)
	case "windows":
		cmd = exec.CommandContext(ctx, "rundll32", "url.dll,FileProtocolHandler", u)
	default:
		cmd = exec.CommandContext(ctx, "xdg-open", u)
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	go cmd.Wait()
	return nil
}

// AuthStatusRow is one server of `mcpgw auth status`: never a token.
type AuthStatusRow struct {
	Server string `json:"server"`
	URL    string `json:"url"`
	oauth.Status
	// Error says why the login could not be read (the keychain).
	Error string `json:"error,omitempty"`
}

// AuthStatusOptions are the inputs of `mcpgw auth status`.
type AuthStatusOptions struct {
	Output string
}

func newCmdAuthStatus(f *Factory) *cobra.Command {
	opts := &AuthStatusOptions{}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show each remote server's OAuth login: who, scopes, expiry; never a token",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAuthStatus(cmd.Context(), f, opts)
		},
	}
	addOutputFlag(cmd, &opts.Output)
	return cmd
}

func runAuthStatus(ctx context.Context, f *Factory, opts *AuthStatusOptions) error {
	format, err := resolveFormat(f.IO, opts.Output)
	if err != nil {
		return err
	}
	cfg, err := f.LoadConfig()
	if err != nil {
		return err
	}
	blobs := keystore.BlobsOf(f.Keystore(cfg))
	rows := []AuthStatusRow{}
	for _, name := range cfg.Order {
		s := cfg.Servers[name]
		if !s.IsRemote() {
			continue
		}
		r := AuthStatusRow{Server: name, URL: s.URL}
		c, err := oauth.Load(ctx, blobs, name)
		switch {
		case errors.Is(err, keystore.ErrNotFound):
		case err != nil:
			r.Error = err.Error()
		case c.URL != s.URL:
			r.Error = fmt.Sprintf("the stored login is for %s; log in again", c.URL)
		default:
			r.Status = c.Status()
		}
		rows = append(rows, r)
	}
	failed := 0
	for _, r := range rows {
		if r.Error != "" {
			failed++
			fmt.Fprintf(f.IO.ErrOut, "%s: %s\n", r.Server, r.Error)
		}
	}
	err = nil
	if failed > 0 {
		err = withCode(ExitSecret, fmt.Errorf("the login of %d of %d remote servers cannot be read", failed, len(rows)))
	}
	if format == FormatJSON {
		if perr := printJSON(f.IO.Out, rows); perr != nil {
			return perr
		}
		return err
	}
	if len(rows) == 0 {
		fmt.Fprintln(f.IO.ErrOut, "No remote servers (url:) in the configuration.")
		return nil
	}
	t := newTable(f.IO.Out, "SERVER", "STATUS", "SUBJECT", "SCOPES", "EXPIRES", "REFRESHABLE")
	for _, r := range rows {
		status := "not logged in"
		switch {
		case r.Error != "":
			status = "unreadable"
		case r.LoggedIn:
			status = "logged in"
		case r.Revoked != "":
			status = "revoked: " + r.Revoked
		}
		dash := func(s string) string {
			if s == "" {
				return "-"
			}
			return s
		}
		expires := "-"
		if !r.Expiry.IsZero() {
			expires = r.Expiry.Local().Format(time.DateTime)
		}
		refresh := "-"
		if r.LoggedIn {
			refresh = map[bool]string{true: "yes", false: "no"}[r.Refreshable]
		}
		t.row(r.Server, status, dash(r.Subject), dash(strings.Join(r.Scopes, " ")), expires, refresh)
	}
	if ferr := t.flush(); ferr != nil {
		return ferr
	}
	return err
}

func newCmdAuthLogout(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:               "logout NAME",
		Short:             "Remove a remote server's OAuth tokens and client registration from the keychain",
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeServerArg(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAuthLogout(cmd.Context(), f, args[0])
		},
	}
}

func runAuthLogout(ctx context.Context, f *Factory, name string) error {
	cfg, err := f.LoadConfig()
	if err != nil {
		return err
	}
	blobs := keystore.BlobsOf(f.Keystore(cfg))
	switch _, err := oauth.Load(ctx, blobs, name); {
	case errors.Is(err, keystore.ErrNotFound):
		fmt.Fprintf(f.IO.ErrOut, "No login stored for %s.\n", name)
		return nil
	case err != nil && !strings.Contains(err.Error(), "damaged"):
		return secretError(err)
	}
	if err := oauth.Delete(ctx, blobs, name); err != nil {
		return secretError(err)
	}
	fmt.Fprintf(f.IO.ErrOut, "Logged out of %s: its tokens are gone from the OS keychain. A running mcpgw serve stops using them at its next connect.\n", name)
	return nil
}
