package mux

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/mcpgw/mcpgw/logs"
	"github.com/mcpgw/mcpgw/policy/guard"
)

// secretArgsStage blocks a call whose arguments carry the value of a
// secret mcpgw resolved from the keychain for a server. Agents never see
// those values (they are masked in everything servers send), so one in a
// call's arguments came from somewhere else, such as a pasted token or a
// prompt injection trying to move it, and sending it to a tool would hand
// a credential to a server it was not configured for. The check costs
// nothing while no secret is in use.
type secretArgsStage struct{}

func (secretArgsStage) Name() string { return "guard-secrets" }
func (secretArgsStage) requestOnly() {}

func (secretArgsStage) Handle(ctx context.Context, c *Call, next Next) Outcome {
	k := c.gw.secrets
	if k.Empty() || len(c.Args) == 0 {
		return next(ctx, c)
	}
	ms := k.FindJSON(c.Args, "$.arguments")
	if ms == nil {
		return next(ctx, c)
	}
	return blockedBySecrets(c, ms)
}

// blockedBySecrets answers a call whose arguments hold stored secrets.
func blockedBySecrets(c *Call, ms []guard.Match) Outcome {
	var names, where []string
	findings := make([]logs.Finding, 0, len(ms))
	for _, m := range ms {
		if !slices.Contains(names, m.Secret) {
			names = append(names, m.Secret)
		}
		where = append(where, m.Path)
		findings = append(findings, logs.Finding{Rule: "stored-secret", Path: m.Path})
	}
	out := failResult(logs.StatusBlocked, fmt.Errorf(
		"call to %q blocked: its arguments hold the value of the stored secret %s (at %s). mcpgw hands stored secrets only to the servers configured with them, never through tool arguments; leave the value out and let the server use its own credential",
		c.Exposed, strings.Join(names, ", "), strings.Join(where, ", ")))
	out.decision = "block"
	out.reason = "arguments hold stored secret " + strings.Join(names, ", ")
	out.findings = findings
	return out
}
