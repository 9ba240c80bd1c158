package cli

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mcpgw/mcpgw/cmd/internal/config"
)

// Shell completion reads what is at hand, never starts a server, and gives
// up quickly: a TAB must not hang.

// completionWait bounds what completing may wait for (the keychain, the
// record).
const completionWait = 2 * time.Second

// completeToolNames completes a tool's exposed name for `mcpgw call` from
// the catalog cache in the record (each server's last listed tools, as
// `mcpgw tools` and `mcpgw serve` saw them), with its description.
func completeToolNames(f *Factory) cobra.CompletionFunc {
	return fromConfig(f, true, func(cfg *config.Config, toComplete string) []string {
		ctx, cancel := context.WithTimeout(context.Background(), completionWait)
		defer cancel()
		tools := cachedTools(ctx, f, cfg)
		var out []string
		for _, srv := range cfg.Order {
			for _, t := range tools[srv] {
				if !strings.HasPrefix(t.Name, toComplete) || slices.ContainsFunc(out, func(s string) bool { return strings.HasPrefix(s, t.Name+"\t") || s == t.Name }) {
					continue
				}
				out = append(out, cobra.CompletionWithDesc(t.Name, oneLine(t.Description, 60)))
			}
		}
		return out
	})
}

// completeServerNames completes configured server names, disabled ones
// included (server enable takes them), for a flag that takes one.
func completeServerNames(f *Factory) cobra.CompletionFunc {
	return fromConfig(f, false, serverNames)
}

// completeServerArg completes a command's one NAME argument with server
// names.
func completeServerArg(f *Factory) cobra.CompletionFunc {
	return fromConfig(f, true, serverNames)
}

func serverNames(cfg *config.Config, toComplete string) []string {
	return withPrefix(cfg.Order, toComplete)
}

// fromConfig completes from the configuration (nothing when it does not
// load); firstArg: only a command's first argument.
func fromConfig(f *Factory, firstArg bool, list func(cfg *config.Config, toComplete string) []string) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		if firstArg && len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		cfg, err := f.LoadConfig()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return list(cfg, toComplete), cobra.ShellCompDirectiveNoFileComp
	}
}

// withPrefix are the names that begin with prefix, in order.
func withPrefix(names []string, prefix string) []string {
	var out []string
	for _, n := range names {
		if strings.HasPrefix(n, prefix) {
			out = append(out, n)
		}
	}
	return out
}

// completeStoredSecrets completes the names of secrets stored in the OS
// keychain (mcpgw's index of them), for secret rm.
func completeStoredSecrets(f *Factory) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		cfg, err := f.LoadConfig()
		if err != nil {
			cfg = &config.Config{} // the keychain's defaults
		}
		ctx, cancel := context.WithTimeout(context.Background(), completionWait)
		defer cancel()
		names, err := f.Keystore(cfg).List(ctx)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return slices.DeleteFunc(names, func(n string) bool { return !strings.HasPrefix(n, toComplete) }), cobra.ShellCompDirectiveNoFileComp
	}
}

// completeReferencedSecrets completes the secrets the configuration
// references, for secret set.
func completeReferencedSecrets(f *Factory) cobra.CompletionFunc {
	return fromConfig(f, true, func(cfg *config.Config, toComplete string) []string {
		return withPrefix(sortedKeys(secretUsers(cfg)), toComplete)
	})
}
