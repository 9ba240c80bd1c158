package cli

import (
	"context"
	"crypto/ed25519"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/mcpgw/mcpgw/cmd/internal/config"
	"github.com/mcpgw/mcpgw/keystore"
	"github.com/mcpgw/mcpgw/policy"
)

// NewCmdIdentity builds `mcpgw identity` and its subcommands.
func NewCmdIdentity(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "identity",
		Short: "The caller's identity as servers receive it, and the key that signs it",
		Long: `mcpgw tells servers who is calling: user, team and roles, in each request's
_meta (io.mcpgw/identity). Where that identity is worth something, because it
comes from an HTTP token (mcpgw token) or a managed policy, a server that sets
identity: {assert: true} in its config also gets a signed assertion with each
request: a JWT (EdDSA) with iss "mcpgw", aud the server's name, sub the user,
team and roles claims, and an expiry within 5 minutes. Stdio servers find it in
_meta["io.mcpgw/assertion"], remote servers in the X-MCPGW-Identity-Assertion
header. A server checks it with the public key: mcpgw identity public-key.`,
		RunE: runGroup,
	}
	cmd.AddCommand(newCmdIdentityPublicKey(f))
	return cmd
}

// FormatPEM is `identity public-key`'s default output.
const FormatPEM = "pem"

func newCmdIdentityPublicKey(f *Factory) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "public-key",
		Short: "Print the public key servers verify identity assertions with",
		Long: `Public-key prints the Ed25519 public key of the key mcpgw signs identity
assertions with, as a PEM block (SubjectPublicKeyInfo), or as a JSON Web Key
with -o json. The private key lives in the OS keychain (service "mcpgw"); it is
made there on first use, by this command or by the first assertion.`,
		Example: `  mcpgw identity public-key > mcpgw-identity.pem
  mcpgw identity public-key -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runIdentityPublicKey(cmd.Context(), f, output)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", FormatPEM, "output format: pem or json (a JWK)")
	cmd.RegisterFlagCompletionFunc("output", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return []string{FormatPEM, FormatJSON}, cobra.ShellCompDirectiveNoFileComp
	})
	return cmd
}

func runIdentityPublicKey(ctx context.Context, f *Factory, output string) error {
	if output != FormatPEM && output != FormatJSON {
		return withCode(ExitUsage, fmt.Errorf("--output %q: want pem or json", output))
	}
	cfg, err := f.secretsConfig()
	if err != nil {
		return err
	}
	key, err := signingKey(ctx, cfg)
	if err != nil {
		return err
	}
	pub := key.Public().(ed25519.PublicKey)
	if output == FormatJSON {
		return printJSON(f.IO.Out, policy.PublicJWK(pub))
	}
	_, err = fmt.Fprint(f.IO.Out, policy.PublicKeyPEM(pub))
	return err
}

// signingKey reads (or makes) the identity signing key in the OS keychain:
// never from environment variables, whatever secrets.fallback says.
func signingKey(ctx context.Context, cfg *config.Config) (ed25519.PrivateKey, error) {
	key, err := keystore.NewKeyring(&keystore.KeyringOptions{Timeout: cfg.Secrets.Timeout}).SigningKey(ctx)
	if err != nil {
		return nil, secretError(fmt.Errorf("reading the identity signing key: %w", err))
	}
	return key, nil
}
