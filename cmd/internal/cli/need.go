package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpgw/mcpgw/cmd/internal/config"
	"github.com/mcpgw/mcpgw/mux"
	"github.com/mcpgw/mcpgw/mux/catalog"
)

// Commands start only the servers they need: `call NAME` the servers that
// may list NAME, `tools --server S` only S. Which those are comes from the
// configuration (a prefixed server's tools all carry its prefix) and from
// each server's last listed tools in the record's catalog cache.

// cachedTool is a tool as the catalog cache last saw it: its exposed name
// and description.
type cachedTool struct {
	Name, Description string
	// Destructive is the tool's destructiveHint, nil when it has none.
	Destructive *bool
}

// cachedToolNames returns, for each enabled server of cfg, the exposed
// names of the tools it listed last (after its tool filter), from the
// record's catalog cache; servers that never listed any are missing. The
// cache is a hint here, whatever launch spec it was listed under: it only
// chooses what to start, and completes names. Nothing is started, and a
// record that cannot be read is no catalog.
func cachedToolNames(ctx context.Context, f *Factory, cfg *config.Config) map[string][]string {
	out := map[string][]string{}
	for srv, tools := range cachedTools(ctx, f, cfg) {
		names := make([]string, len(tools))
		for i, t := range tools {
			names[i] = t.Name
		}
		out[srv] = names
	}
	return out
}

// cachedTools is [cachedToolNames] with each tool's description.
func cachedTools(ctx context.Context, f *Factory, cfg *config.Config) map[string][]cachedTool {
	out := map[string][]cachedTool{}
	if cfg == nil || !cfg.Logs.IsEnabled() {
		return out
	}
	path, err := f.DBPath(cfg, "")
	if err != nil {
		return out
	}
	if ok, err := recordExists(path); err != nil || !ok {
		return out
	}
	db, err := openRecord(ctx, path)
	if err != nil {
		return out
	}
	defer db.Close()
	cats, err := db.Catalogs(ctx)
	if err != nil {
		return out
	}
	for _, name := range cfg.Order {
		s := cfg.Servers[name]
		raw, ok := cats[name]
		if !s.IsEnabled() || !ok {
			continue
		}
		var c struct {
			Tools []*mcp.Tool `json:"tools"`
		}
		if json.Unmarshal(raw, &c) != nil {
			continue
		}
		tools := []cachedTool{}
		for _, t := range catalog.FilterTools(c.Tools, s.Tools.Allow, s.Tools.Deny) {
			ct := cachedTool{Name: catalog.ExposedName(s.PrefixOr(), t.Name), Description: t.Description}
			if t.Annotations != nil {
				ct.Destructive = t.Annotations.DestructiveHint
			}
			tools = append(tools, ct)
		}
		out[name] = tools
	}
	return out
}

// callCandidates returns the enabled servers, in config order, that may
// list the exposed tool name: a server whose prefix it carries (even when
// its cached tools lack it: the tool may be new), one whose cached tools
// have it, and an unprefixed server that never listed its tools.
func callCandidates(name string, cfg *config.Config, cached map[string][]string) []string {
	var out []string
	for _, srv := range cfg.Order {
		s := cfg.Servers[srv]
		if !s.IsEnabled() {
			continue
		}
		prefix := s.PrefixOr()
		tools, listed := cached[srv]
		switch {
		case prefix != "" && strings.HasPrefix(name, catalog.ExposedName(prefix, "")):
		case slices.Contains(tools, name):
		case prefix == "" && !listed:
		default:
			continue
		}
		out = append(out, srv)
	}
	return out
}

// only returns specs limited to the servers named, in config order.
func only(specs []mux.ServerSpec, names []string) []mux.ServerSpec {
	return slices.DeleteFunc(specs, func(s mux.ServerSpec) bool { return !slices.Contains(names, s.Name) })
}

// serverFailure explains why a server a command needs did not start, with
// the exit code for it: 6 when one of its secrets does not resolve (named,
// with the fix), else 5 with the server's own error. nil when it is not
// failed.
func serverFailure(ctx context.Context, f *Factory, cfg *config.Config, st mux.ServerStatus) error {
	if st.State == mux.StateNeedsLogin {
		return withCode(ExitUnavailable, errors.New(st.Error))
	}
	if st.State != mux.StateFailed {
		return nil
	}
	if s := cfg.Servers[st.Name]; s != nil && len(s.SecretRefs()) > 0 {
		store := f.Keystore(cfg)
		for _, ref := range s.SecretRefs() {
			switch r := resolveRow(ctx, store, ref, nil); r.Status {
			case "missing":
				return withCode(ExitSecret, fmt.Errorf("server %q cannot start: its secret %q is not in the OS keychain; store it with: mcpgw secret set %s", st.Name, ref, ref))
			case "error":
				return withCode(ExitSecret, fmt.Errorf("server %q cannot start: its secret %q cannot be read: %s", st.Name, ref, r.Error))
			}
		}
	}
	msg := fmt.Sprintf("server %q could not be started", st.Name)
	if st.Error != "" {
		msg += ": " + st.Error
	}
	if len(st.Stderr) > 0 && !strings.Contains(st.Error, "stderr") {
		msg += "; its last stderr line: " + st.Stderr[len(st.Stderr)-1]
	}
	return withCode(ExitUnavailable, errors.New(msg+" (mcpgw doctor checks it)"))
}
