package cli

import (
	"github.com/mcpgw/mcpgw/cmd/internal/config"
	"github.com/mcpgw/mcpgw/mux"
	"github.com/mcpgw/mcpgw/mux/callpath"
	"github.com/mcpgw/mcpgw/policy/guard"
)

// serverSpecs turns the enabled servers of a configuration into the
// gateway's typed specs, in config order.
func serverSpecs(cfg *config.Config) []mux.ServerSpec {
	specs := make([]mux.ServerSpec, 0, len(cfg.Order))
	for _, name := range cfg.Order {
		s := cfg.Servers[name]
		if !s.IsEnabled() {
			continue
		}
		specs = append(specs, mux.ServerSpec{
			Name:            name,
			Command:         s.Command,
			Args:            s.Args,
			Env:             s.Env,
			Cwd:             s.Cwd,
			URL:             s.URL,
			Transport:       s.Transport,
			Headers:         s.Headers,
			Prefix:          s.PrefixOr(),
			Lazy:            s.Lazy(),
			AllowTools:      s.Tools.Allow,
			DenyTools:       s.Tools.Deny,
			ConnectTimeout:  s.ConnectTimeout(),
			CallTimeout:     s.CallTimeout(),
			ToolTimeouts:    s.Timeouts.Tools,
			ProtocolVersion: s.ProtocolVersion,
			Identity: mux.IdentityForwarding{Off: !s.Identity.IsOn(), UserHeader: s.Identity.Headers.User,
				TeamHeader: s.Identity.Headers.Team, RolesHeader: s.Identity.Headers.Roles},
			AssertIdentity: s.Identity.Assert,
			OAuth:          oauthConfig(s),
		})
	}
	return specs
}

// newGateway builds a gateway over cfg's servers, logging to the error stream.
// Every command that starts servers (serve, tools, call, doctor)
// builds its gateway here, so the same call path applies to all: the
// policy first (acc; nil means cfg's, with the profile of MCPGW_PROFILE,
// else each agent's), identity from it, and the environment's switches,
// such as MCPGW_NO_SUPERVISOR=1, which starts servers without a
// supervisor, for debugging.
func newGateway(f *Factory, cfg *config.Config, opts *mux.Options, acc *access) (*mux.Gateway, error) {
	return newGatewayOf(f, cfg, opts, serverSpecs(cfg), acc)
}

// newGatewayOf is [newGateway] over specs, a part of cfg's servers: what a
// command needs.
func newGatewayOf(f *Factory, cfg *config.Config, opts *mux.Options, specs []mux.ServerSpec, acc *access) (*mux.Gateway, error) {
	if acc == nil {
		var err error
		if acc, err = newAccess(cfg, ""); err != nil {
			return nil, err
		}
	}
	o := mux.Options{}
	if opts != nil {
		o = *opts
	}
	o.Name, o.Version = "mcpgw", Version
	if o.Logger == nil {
		o.Logger = stderrLogger(f.IO.ErrOut, false)
	}
	o.Identify = acc.identify
	if o.Catalog == nil {
		o.Catalog = newCatalogModes(cfg).mode
	}
	debugSwitches(&o)
	if o.Redactor == nil {
		o.Redactor = guard.NewKnown()
	}
	// The policy first: what a caller may not use is refused before
	// anything else looks at it. Then the stages the caller brought
	// (pinning, from the record; rate limits) after the guards, so a call
	// refused earlier takes no token.
	o.Stages = append(append(append([]callpath.Stage{acc}, mux.DefaultStages(o.Redactor)...), o.Stages...), f.Stages...)
	if o.Secrets == nil {
		o.Secrets = newGatewaySecrets(f, cfg, o.Logger)
	}
	if o.OAuth == nil {
		o.OAuth = f.oauthOptions(cfg)
	}
	g := mux.New(&o)
	o.Logger.Info("call path", "stages", g.CallPath())
	g.Apply(specs)
	return g, nil
}
