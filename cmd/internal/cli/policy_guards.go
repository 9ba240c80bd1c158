package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/mcpgw/mcpgw/cmd/internal/config"
	"github.com/mcpgw/mcpgw/mux/callpath"
	"github.com/mcpgw/mcpgw/policy"
	"github.com/mcpgw/mcpgw/policy/guard"
)

// guardExplained is one guardrail of `mcpgw policy explain`: what it
// looks for, and what it does in the call's arguments and its result.
type guardExplained struct {
	Guard  string `json:"guard"`  // secrets, pii, stored-secrets
	Input  string `json:"input"`  // action on arguments: block, warn, off
	Output string `json:"output"` // action on the result: redact, block, warn, off
	Detail string `json:"detail"`
}

// guardArgsVerdict is what guard-in decides about explain's --args.
type guardArgsVerdict struct {
	Decision string             `json:"decision"` // block, redact, warn, or pass
	Rule     string             `json:"rule,omitempty"`
	Findings []callpath.Finding `json:"findings,omitempty"`
}

// explainGuards lists the guardrails cfg applies to a call, and, when the
// call has arguments, scans them as guard-in would.
func explainGuards(ctx context.Context, cfg *config.Config, in policy.Input, s *IOStreams) ([]guardExplained, *guardArgsVerdict, error) {
	gc := guardConfig(cfg.Guardrails)
	rules := "gitleaks' default rules"
	if p := cfg.Guardrails.Secrets.RulesPath(cfg.Path); p != "" {
		rules += " and those of " + p
	}
	types := strings.Join(gc.PIITypes, ", ")
	if types == "" {
		types = strings.Join(guard.PIITypes, ", ")
	}
	budget := gc.MaxScanBytes
	if budget == 0 {
		budget = guard.DefaultMaxScanBytes
	}
	gs := []guardExplained{
		{Guard: "stored-secrets", Input: "block", Output: "redact", Detail: "the values of the ${secret:NAME} references servers are configured with"},
		{Guard: "secrets", Input: string(gc.SecretsIn), Output: string(gc.SecretsOut), Detail: rules},
		{Guard: "pii", Input: string(gc.PIIIn), Output: string(gc.PIIOut), Detail: types},
		{Guard: "max_scan_bytes", Input: "block", Output: "redact", Detail: fmt.Sprintf("payloads past %d bytes are not scanned: arguments are blocked, result fields redacted whole", budget)},
	}
	if len(in.Args) == 0 {
		return gs, nil, nil
	}
	gg, err := newGuard(cfg, stderrLogger(io.Discard, false))
	if err != nil {
		return nil, nil, err
	}
	kind := callpath.ToolCall
	if in.Kind == policy.Prompt {
		kind = callpath.PromptGet
	}
	c := &callpath.Call{Kind: kind, Exposed: in.Exposed, Server: in.Server, Name: in.Name, Params: json.RawMessage(in.Args)}
	v := gg.CheckRequest(ctx, c)
	if v != nil && v.Hold != nil {
		v = v.Hold(ctx) // the rules compile first
	}
	if v == nil {
		return gs, &guardArgsVerdict{Decision: "pass"}, nil
	}
	return gs, &guardArgsVerdict{Decision: v.Decision, Rule: v.Rule, Findings: v.Findings}, nil
}

// printGuards writes explain's guardrails section.
func printGuards(w io.Writer, gs []guardExplained, v *guardArgsVerdict) {
	if len(gs) == 0 {
		return
	}
	fmt.Fprintln(w, "\nguardrails (arguments → result):")
	t := newTable(w, "GUARD", "ARGUMENTS", "RESULT", "LOOKS FOR")
	for _, g := range gs {
		t.row(g.Guard, g.Input, g.Output, g.Detail)
	}
	t.flush()
	if v == nil {
		return
	}
	switch v.Decision {
	case "pass":
		fmt.Fprintln(w, "--args:   nothing found; they would pass")
	default:
		var where []string
		for _, f := range v.Findings {
			where = append(where, f.Rule+" at "+f.Path)
		}
		fmt.Fprintf(w, "--args:   %s: %s\n", v.Decision, strings.Join(where, ", "))
	}
}
