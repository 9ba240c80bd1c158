package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mcpgw/mcpgw/cmd/internal/config"
	"github.com/mcpgw/mcpgw/keystore"
	"github.com/mcpgw/mcpgw/policy/guard"
)

// NewCmdSecret builds `mcpgw secret` and its subcommands.
func NewCmdSecret(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "secret",
		Short: "Store credentials in the OS keychain for ${secret:NAME} references",
		Long: `Servers' credentials live in the OS keychain (macOS Keychain, Windows Credential
Manager, a Secret Service such as GNOME Keyring on Linux), under the service
name "mcpgw". A config file holds only references, ${secret:NAME}, in a server's
env, headers, args or url; mcpgw resolves them each time it starts the server.
Agents, logs and mcpgw's own output never show a value.`,
		RunE: runGroup,
	}
	cmd.AddCommand(newCmdSecretSet(f), newCmdSecretList(f), newCmdSecretRm(f), newCmdSecretCheck(f))
	return cmd
}

// SecretSetOptions are the inputs of `mcpgw secret set`.
type SecretSetOptions struct {
	Name string
}

func newCmdSecretSet(f *Factory) *cobra.Command {
	opts := &SecretSetOptions{}
	return &cobra.Command{
		Use:   "set NAME",
		Short: "Store a secret, read from stdin or a hidden prompt",
		Long: `Set stores a secret in the OS keychain. The value is read from a hidden prompt
on a terminal, or from stdin otherwise (one trailing newline is dropped); it is
never taken from the command line, where shell history and ps would keep it.`,
		Example: `  mcpgw secret set github-token            # prompts, without echo
  printf %s "$TOKEN" | mcpgw secret set github-token
  mcpgw secret set github-token < token.txt`,
		Args: func(cmd *cobra.Command, args []string) error {
			switch len(args) {
			case 1:
				return nil
			case 0:
				return withCode(ExitUsage, errors.New("name the secret: mcpgw secret set NAME (the value is read from stdin or a prompt)"))
			}
			return withCode(ExitUsage, fmt.Errorf("the value is never taken from the command line (shell history would keep it); pipe it instead: printf %%s \"$VALUE\" | mcpgw secret set %s", args[0]))
		},
		ValidArgsFunction: completeReferencedSecrets(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			return runSecretSet(cmd.Context(), f, opts)
		},
	}
}

func runSecretSet(ctx context.Context, f *Factory, opts *SecretSetOptions) error {
	if err := keystore.ValidName(opts.Name); err != nil {
		return withCode(ExitUsage, err)
	}
	cfg, err := f.secretsConfig()
	if err != nil {
		return err
	}
	value, err := readSecretValue(ctx, f.IO, opts.Name)
	if err != nil {
		return err
	}
	if err := keystore.CheckValue(opts.Name, value); err != nil {
		return withCode(ExitUsage, err)
	}
	if err := f.Keystore(cfg).Set(ctx, opts.Name, value); err != nil {
		return secretError(err)
	}
	fmt.Fprintf(f.IO.ErrOut, "Stored secret %q in the OS keychain (service %q).\n", opts.Name, keystore.Service)
	if len(value) < guard.MinSecretLen {
		fmt.Fprintf(f.IO.ErrOut, "Warning: %s.\n", shortSecretWarning(opts.Name, len(value)))
	}
	if users := secretUsers(cfg)[opts.Name]; len(users) > 0 {
		fmt.Fprintf(f.IO.ErrOut, "Used by: %s. A running mcpgw uses the new value when it next starts them.\n", strings.Join(users, ", "))
	} else {
		fmt.Fprintf(f.IO.ErrOut, "No server uses it yet; reference it as ${secret:%s} in a server's env, headers, args or url.\n", opts.Name)
	}
	return nil
}

// readSecretValue reads a value from a hidden prompt on a terminal, or all
// of stdin otherwise, dropping one trailing newline.
func readSecretValue(ctx context.Context, s *IOStreams, name string) (string, error) {
	if s.ReadHidden != nil {
		v, err := s.ReadHidden(ctx, fmt.Sprintf("Value for %s (input is hidden): ", name))
		if err != nil {
			return "", fmt.Errorf("reading the value: %w", err)
		}
		return v, nil
	}
	b, err := io.ReadAll(io.LimitReader(s.In, keystore.MaxValueLen+3))
	if err != nil {
		return "", fmt.Errorf("reading the value from stdin: %w", err)
	}
	b = bytes.TrimSuffix(b, []byte("\n"))
	b = bytes.TrimSuffix(b, []byte("\r"))
	if len(b) == 0 {
		return "", withCode(ExitUsage, fmt.Errorf("no value on stdin; pipe one in, e.g. printf %%s \"$VALUE\" | mcpgw secret set %s", name))
	}
	return string(b), nil
}

// SecretListOptions are the inputs of `mcpgw secret list`.
type SecretListOptions struct {
	Output string
}

// secretRow is one secret in `secret list` and `secret check` output.
type secretRow struct {
	Name    string   `json:"name"`
	Status  string   `json:"status"`          // stored, env, missing, error
	Servers []string `json:"servers"`         // servers referencing it
	Error   string   `json:"error,omitempty"` // why it cannot be resolved
}

func newCmdSecretList(f *Factory) *cobra.Command {
	opts := &SecretListOptions{}
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List stored and referenced secrets (names only, never values)",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSecretList(cmd.Context(), f, opts)
		},
	}
	addOutputFlag(cmd, &opts.Output)
	return cmd
}

func runSecretList(ctx context.Context, f *Factory, opts *SecretListOptions) error {
	format, err := resolveFormat(f.IO, opts.Output)
	if err != nil {
		return err
	}
	cfg, err := f.secretsConfig()
	if err != nil {
		return err
	}
	store := f.Keystore(cfg)
	stored, err := store.List(ctx)
	if err != nil {
		return secretError(err)
	}
	users := secretUsers(cfg)
	var rows []secretRow
	for _, n := range stored {
		rows = append(rows, secretRow{Name: n, Status: "stored", Servers: users[n]})
	}
	// Referenced names missing from the index may still be in the
	// keychain (stored by another tool, or an index lost to a race).
	for _, n := range sortedKeys(users) {
		if slices.Contains(stored, n) {
			continue
		}
		rows = append(rows, resolveRow(ctx, store, n, users[n]))
	}
	slices.SortFunc(rows, func(a, b secretRow) int { return strings.Compare(a.Name, b.Name) })
	return printSecretRows(f.IO, format, rows)
}

func newCmdSecretRm(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:               "rm NAME",
		Aliases:           []string{"remove", "delete"},
		Short:             "Remove a secret from the OS keychain",
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeStoredSecrets(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := f.secretsConfig()
			if err != nil {
				return err
			}
			if err := f.Keystore(cfg).Delete(cmd.Context(), args[0]); err != nil {
				return secretError(err)
			}
			fmt.Fprintf(f.IO.ErrOut, "Removed secret %q.\n", args[0])
			if users := secretUsers(cfg)[args[0]]; len(users) > 0 {
				fmt.Fprintf(f.IO.ErrOut, "Still referenced by: %s; they will fail to start until it is set again.\n", strings.Join(users, ", "))
			}
			return nil
		},
	}
}

// SecretCheckOptions are the inputs of `mcpgw secret check`.
type SecretCheckOptions struct {
	Output string
}

func newCmdSecretCheck(f *Factory) *cobra.Command {
	opts := &SecretCheckOptions{}
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Check that every ${secret:NAME} in the config resolves",
		Long: `Check looks up every secret the configuration references (enabled servers or
not) and prints whether each resolves. It exits with status 6 when any does not.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSecretCheck(cmd.Context(), f, opts)
		},
	}
	addOutputFlag(cmd, &opts.Output)
	return cmd
}

func runSecretCheck(ctx context.Context, f *Factory, opts *SecretCheckOptions) error {
	format, err := resolveFormat(f.IO, opts.Output)
	if err != nil {
		return err
	}
	cfg, err := f.LoadConfig()
	if err != nil {
		return err
	}
	store := f.Keystore(cfg)
	users := secretUsers(cfg)
	rows := []secretRow{}
	bad := 0
	for _, n := range sortedKeys(users) {
		r := resolveRow(ctx, store, n, users[n])
		if r.Status != "stored" && r.Status != "env" {
			bad++
		}
		rows = append(rows, r)
	}
	if err := printSecretRows(f.IO, format, rows); err != nil {
		return err
	}
	switch {
	case bad > 0:
		return withCode(ExitSecret, fmt.Errorf("%d of %d referenced secrets do not resolve", bad, len(rows)))
	case len(rows) == 0 && format == FormatTable:
		fmt.Fprintln(f.IO.ErrOut, "No server references a secret.")
	}
	return nil
}

// resolveRow looks name up and reports where it resolved from.
func resolveRow(ctx context.Context, store keystore.Store, name string, servers []string) secretRow {
	r := secretRow{Name: name, Servers: servers}
	fromEnv := false
	if ef, ok := store.(*keystore.EnvFallback); ok {
		c := *ef
		c.Used = func(string) { fromEnv = true }
		store = &c
	}
	_, err := store.Get(ctx, name)
	switch {
	case err == nil && fromEnv:
		r.Status = "env"
	case err == nil:
		r.Status = "stored"
	case errors.Is(err, keystore.ErrNotFound):
		r.Status, r.Error = "missing", err.Error()
	default:
		r.Status, r.Error = "error", err.Error()
	}
	return r
}

// printSecretRows prints rows, and why any did not resolve on ErrOut.
func printSecretRows(s *IOStreams, format string, rows []secretRow) error {
	for _, r := range rows {
		if r.Error != "" {
			fmt.Fprintf(s.ErrOut, "%s: %s\n", r.Name, r.Error)
		}
	}
	if format == FormatJSON {
		if rows == nil {
			rows = []secretRow{}
		}
		for i := range rows {
			if rows[i].Servers == nil {
				rows[i].Servers = []string{} // "none", not null
			}
		}
		return printJSON(s.Out, rows)
	}
	t := newTable(s.Out, "NAME", "STATUS", "USED BY")
	for _, r := range rows {
		used := strings.Join(r.Servers, ", ")
		if used == "" {
			used = "-"
		}
		t.row(r.Name, r.Status, used)
	}
	return t.flush()
}

// secretUsers maps each referenced secret to the servers using it, in
// config order.
func secretUsers(cfg *config.Config) map[string][]string {
	users := map[string][]string{}
	for _, name := range cfg.Order {
		for _, ref := range cfg.Servers[name].SecretRefs() {
			users[ref] = append(users[ref], name)
		}
	}
	return users
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// secretsConfig loads the configuration for commands that work without
// one (secret set, list, rm): a missing file means no servers and the
// default keystore settings. A file with a problem outside its secrets:
// section (a typo in a server's keys) is read for secrets: alone, with a
// warning: which servers use each secret is then not known.
func (f *Factory) secretsConfig() (*config.Config, error) {
	cfg, err := f.sectionsConfig("secrets")
	if cfg == nil && err == nil {
		cfg = &config.Config{}
	}
	if cfg != nil && cfg.Servers == nil {
		cfg.Servers = map[string]*config.Server{}
	}
	return cfg, err
}

// Keystore returns the store ${secret:NAME} references resolve from: the
// OS keychain, plus MCPGW_SECRET_<NAME> variables when the configuration
// opts in with secrets: {fallback: env}.
func (f *Factory) Keystore(cfg *config.Config) keystore.Store {
	var s keystore.Store = keystore.NewKeyring(&keystore.KeyringOptions{Timeout: cfg.Secrets.Timeout})
	if cfg.Secrets.Fallback == "env" {
		s = &keystore.EnvFallback{Store: s}
	}
	return s
}

// secretError gives keystore failures their exit code.
func secretError(err error) error {
	var ue *keystore.UnavailableError
	if errors.Is(err, keystore.ErrNotFound) || errors.As(err, &ue) {
		return withCode(ExitSecret, err)
	}
	return err
}
