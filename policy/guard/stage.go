package guard

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/mcpgw/mcpgw/mux/callpath"
)

// StoredSecrets is the call path's stage that blocks a call whose
// arguments carry the value of a secret mcpgw resolved from the keychain
// for a server. Agents never see those values (they are masked in
// everything servers send), so one in a call's arguments came from
// somewhere else, such as a pasted token or a prompt injection trying to
// move it, and sending it to a tool would hand a credential to a server it
// was not configured for. It looks at tool and prompt arguments only (it
// implements no result phase), and costs nothing while no secret is in use.
type StoredSecrets struct {
	Known *Known
}

// Name implements [callpath.Stage].
func (StoredSecrets) Name() string { return "guard-secrets" }

// CheckRequest implements [callpath.RequestStage].
func (s StoredSecrets) CheckRequest(_ context.Context, c *callpath.Call) *callpath.Verdict {
	if s.Known.Empty() || len(c.Params) == 0 || c.Kind != callpath.ToolCall && c.Kind != callpath.PromptGet {
		return nil
	}
	ms := s.Known.FindJSON(c.Params, "$.arguments")
	if ms == nil {
		return nil
	}
	var names, where []string
	findings := make([]callpath.Finding, 0, len(ms))
	for _, m := range ms {
		if !slices.Contains(names, m.Secret) {
			names = append(names, m.Secret)
		}
		where = append(where, m.Path)
		findings = append(findings, callpath.Finding{Rule: "stored-secret", Path: m.Path})
	}
	return callpath.Block("stored-secret", fmt.Sprintf(
		"call to %q blocked: its arguments hold the value of the stored secret %s (at %s). mcpgw hands stored secrets only to the servers configured with them, never through tool arguments; leave the value out and let the server use its own credential",
		c.Exposed, strings.Join(names, ", "), strings.Join(where, ", ")), findings...)
}
