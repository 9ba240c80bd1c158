package cli

import (
	"github.com/mcpgw/mcpgw/cmd/internal/config"
	"github.com/mcpgw/mcpgw/mux"
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
			AssertIdentity:  s.AssertIdentity,
		})
	}
	return specs
}

// newGateway builds a gateway over cfg's servers, logging to the error stream.
// Every command that starts servers (serve, tools, call, doctor --start)
// builds its gateway here, so the environment's settings apply to all:
// identity (identityFromEnv) and MCPGW_NO_SUPERVISOR=1, which starts
// servers without a supervisor, for debugging.
func newGateway(f *Factory, cfg *config.Config, opts *mux.Options) *mux.Gateway {
	return newGatewayOf(f, cfg, opts, serverSpecs(cfg))
}

// newGatewayOf is [newGateway] over specs, a part of cfg's servers: what a
// command needs.
func newGatewayOf(f *Factory, cfg *config.Config, opts *mux.Options, specs []mux.ServerSpec) *mux.Gateway {
	o := mux.Options{}
	if opts != nil {
		o = *opts
	}
	o.Name, o.Version = "mcpgw", Version
	if o.Logger == nil {
		o.Logger = stderrLogger(f.IO.ErrOut, false)
	}
	o.Identity = identityFromEnv()
	debugSwitches(&o)
	if o.Redactor == nil {
		o.Redactor = guard.NewKnown()
	}
	o.Stages = append(mux.DefaultStages(o.Redactor), f.Stages...)
	if o.Secrets == nil {
		o.Secrets = newGatewaySecrets(f, cfg, o.Logger)
	}
	g := mux.New(&o)
	o.Logger.Info("call path", "stages", g.CallPath())
	g.Apply(specs)
	return g
}
