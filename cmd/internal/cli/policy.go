package cli

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mcpgw/mcpgw/cmd/internal/config"
	"github.com/mcpgw/mcpgw/mux/callpath"
	"github.com/mcpgw/mcpgw/mux/catalog"
	"github.com/mcpgw/mcpgw/policy"
	"github.com/mcpgw/mcpgw/policy/approval"
)

// PolicyOptions are the inputs of `mcpgw policy show` and `mcpgw policy
// explain`.
type PolicyOptions struct {
	IO      *IOStreams
	Factory *Factory
	Output  string
	// Profile and Client choose the agent profile as serve would: by name,
	// else by the agent's clientInfo name.
	Profile, Client string

	// explain: the target, its arguments, and an identity to ask about
	// instead of the one mcpgw resolves.
	Tool, Prompt string
	Args         string
	User, Team   string
	Roles        []string
}

// NewCmdPolicy builds `mcpgw policy`.
func NewCmdPolicy(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Show the policy in force, or explain one of its decisions",
		Long: `The policy says which teams, roles and users may see and call which servers'
tools, prompts and resources. It comes from the configuration's policy: and
profiles: sections and, above them, a managed policy an administrator installs
(` + config.ManagedPolicyPath() + `), which the user's can narrow but never widen.`,
		Args: cobra.ArbitraryArgs,
		RunE: runGroup,
	}
	cmd.AddCommand(newCmdPolicyShow(f, nil), newCmdPolicyExplain(f, nil))
	return cmd
}

func newCmdPolicyShow(f *Factory, runF func(context.Context, *PolicyOptions) error) *cobra.Command {
	opts := &PolicyOptions{IO: f.IO, Factory: f}
	cmd := &cobra.Command{
		Use:   "show",
		Short: "Print the effective policy and where each part of it came from",
		Long: `Show prints the policies in force (the managed one, then the user's), each part
with the file and line it came from, and the identity mcpgw serve would
resolve, each part with its source.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runPolicyShow(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Profile, "profile", "", "the identity under this profile (env MCPGW_PROFILE)")
	cmd.Flags().StringVar(&opts.Client, "client", "", "the identity of an agent of this clientInfo name (profiles' match.client)")
	addOutputFlag(cmd, &opts.Output)
	return cmd
}

func newCmdPolicyExplain(f *Factory, runF func(context.Context, *PolicyOptions) error) *cobra.Command {
	opts := &PolicyOptions{IO: f.IO, Factory: f}
	cmd := &cobra.Command{
		Use:   "explain --tool SERVER__TOOL",
		Short: "Explain the policy's decision about one call, without making it",
		Long: `Explain decides one call as mcpgw serve would and prints the decision and the
chain of rules behind it, most binding first. Nothing is started or called.

The caller is the identity mcpgw serve resolves (configuration, environment,
profile, managed policy, OS account) unless --user, --team or --roles say
whom to ask about. The exit code is 7 when the call would be denied.`,
		Example: `  mcpgw policy explain --tool github__create_issue --args '{"repo":"acme/api"}'
  mcpgw policy explain --tool postgres__drop_table --team finance --roles analyst
  mcpgw policy explain --prompt fx__greet --client Cursor -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runPolicyExplain(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Tool, "tool", "", "the tool, by its exposed name (SERVER__TOOL, as mcpgw tools lists it)")
	cmd.Flags().StringVar(&opts.Prompt, "prompt", "", "a prompt instead, by its exposed name")
	cmd.Flags().StringVar(&opts.Args, "args", "", "the call's arguments as one JSON object, for rules' conditions")
	cmd.Flags().StringVar(&opts.User, "user", "", "ask about this user instead of the resolved identity")
	cmd.Flags().StringVar(&opts.Team, "team", "", "ask about this team")
	cmd.Flags().StringSliceVar(&opts.Roles, "roles", nil, "ask about these roles (comma-separated)")
	cmd.Flags().StringVar(&opts.Profile, "profile", "", "under this profile (env MCPGW_PROFILE)")
	cmd.Flags().StringVar(&opts.Client, "client", "", "as an agent of this clientInfo name (profiles' match.client)")
	cmd.MarkFlagsMutuallyExclusive("tool", "prompt")
	cmd.MarkFlagsOneRequired("tool", "prompt")
	cmd.RegisterFlagCompletionFunc("tool", completeToolNames(f))
	addOutputFlag(cmd, &opts.Output)
	return cmd
}

// policyCaller is the identity a policy command asks about, with its
// sources, and the profile.
type policyCaller struct {
	policy.ResolvedIdentity
	Profile string `json:"profile,omitempty"`
	// Given: the identity came from --user, --team and --roles.
	Given bool `json:"given,omitempty"`
}

// caller resolves the identity as serve would for opts' profile or
// client, or takes the one the flags give.
func (opts *PolicyOptions) caller(acc *access) policyCaller {
	st := acc.state.Load()
	profile := acc.explicit
	if profile == "" && st.user != nil {
		profile, _ = st.user.SelectProfile("", opts.Client)
	}
	c := policyCaller{Profile: profile}
	if opts.User != "" || opts.Team != "" || len(opts.Roles) > 0 {
		c.Given = true
		c.Identity = policy.Identity{User: opts.User, Team: opts.Team, Roles: opts.Roles}
		c.UserFrom, c.TeamFrom, c.RolesFrom = "command line", "command line", "command line"
		return c
	}
	c.ResolvedIdentity = acc.resolve(st, profile)
	return c
}

// describe is the identity in one line: user ana (env), team web (config).
func (c policyCaller) describe() string {
	part := func(name, v, from string) string {
		if v == "" {
			return name + " none"
		}
		if from != "" {
			return name + " " + v + " (" + from + ")"
		}
		return name + " " + v
	}
	s := strings.Join([]string{part("user", c.User, c.UserFrom), part("team", c.Team, c.TeamFrom),
		part("roles", strings.Join(c.Roles, ","), c.RolesFrom)}, ", ")
	if len(c.Ignored) > 0 {
		s += "; set aside under the managed policy: " + strings.Join(c.Ignored, ", ")
	}
	return s
}

// explanation is `mcpgw policy explain -o json`.
type explanation struct {
	Kind     string        `json:"kind"`   // tool or prompt
	Target   string        `json:"target"` // the exposed name
	Server   string        `json:"server"`
	Name     string        `json:"name"` // the server's own name
	Caller   policyCaller  `json:"caller"`
	Decision string        `json:"decision"` // allow or deny
	Allow    bool          `json:"allow"`
	Rule     string        `json:"rule"`
	Reason   string        `json:"reason"`
	Chain    []policy.Step `json:"chain"`
	// SchemaCheck is guardrails.schema for a tool: what a call whose
	// arguments do not match its inputSchema gets.
	SchemaCheck string `json:"schema_check,omitempty"`
	// Guards are the content guardrails that would look at the call
	// (guardrails.go); GuardVerdict is what guard-in says of --args.
	Guards       []guardExplained  `json:"guards"`
	GuardVerdict *guardArgsVerdict `json:"guard_verdict,omitempty"`
	// Approval says whether an allowed tool call would wait for a
	// person, and by which rule (approval:).
	Approval *explainApproval `json:"approval,omitempty"`
}

// explainApproval is the approval part of `mcpgw policy explain`.
type explainApproval struct {
	Required bool   `json:"required"`
	Rule     string `json:"rule,omitempty"`
	Channel  string `json:"channel"`
	Timeout  string `json:"timeout"`
	// Destructive is the tool's destructiveHint as the catalog cache has
	// it: true, false, or null for unknown (absent, or never listed).
	Destructive *bool `json:"destructive"`
}

// policyAccess is what both policy commands start from: the output format
// asked for, the config, and its policy and identity under opts.Profile.
func policyAccess(opts *PolicyOptions) (string, *config.Config, *access, error) {
	format, err := resolveFormat(opts.IO, opts.Output)
	if err != nil {
		return "", nil, nil, err
	}
	cfg, err := opts.Factory.LoadConfig()
	if err != nil {
		return "", nil, nil, err
	}
	acc, err := newAccess(cfg, opts.Profile)
	return format, cfg, acc, err
}

func runPolicyExplain(ctx context.Context, opts *PolicyOptions) error {
	format, cfg, acc, err := policyAccess(opts)
	if err != nil {
		return err
	}
	in := policy.Input{Kind: policy.Tool, Exposed: opts.Tool}
	if opts.Prompt != "" {
		in.Kind, in.Exposed = policy.Prompt, opts.Prompt
	}
	if in.Server, in.Name, err = routeExposed(ctx, opts.Factory, cfg, in.Exposed); err != nil {
		return withCode(ExitUsage, err)
	}
	if opts.Args != "" {
		var obj map[string]any
		if err := json.Unmarshal([]byte(opts.Args), &obj); err != nil {
			return withCode(ExitUsage, fmt.Errorf("--args: want one JSON object, e.g. '{\"repo\":\"acme/api\"}': %w", err))
		}
		in.Args = json.RawMessage(opts.Args)
	}
	caller := opts.caller(acc)
	in.Identity, in.Profile = caller.Identity, caller.Profile
	st := acc.state.Load()
	d := st.layers.Decide(in)
	e := explanation{Kind: in.Kind.String(), Target: in.Exposed, Server: in.Server, Name: in.Name, Caller: caller,
		Decision: "deny", Allow: d.Allow, Rule: d.Rule, Reason: d.Reason, Chain: d.Chain}
	if d.Allow {
		e.Decision = "allow"
	}
	if e.Chain == nil {
		e.Chain = []policy.Step{}
	}
	if in.Kind == policy.Tool {
		e.SchemaCheck = cfg.Guardrails.SchemaMode()
		if e.Approval, err = explainApprovalOf(ctx, opts.Factory, cfg, acc, in); err != nil {
			return err
		}
	}
	if e.Guards, e.GuardVerdict, err = explainGuards(ctx, cfg, in, opts.IO); err != nil {
		return err
	}
	if format == FormatJSON {
		err = printJSON(opts.IO.Out, e)
	} else {
		err = printExplanation(opts.IO, e, st)
	}
	if err != nil {
		return err
	}
	if !e.Allow {
		return withCode(ExitDenied, fmt.Errorf("%s %s would be denied (%s)", e.Kind, e.Target, e.Rule))
	}
	if v := e.GuardVerdict; v != nil && v.Decision == "block" {
		return withCode(ExitDenied, fmt.Errorf("%s %s would be blocked by the guardrails (%s)", e.Kind, e.Target, v.Rule))
	}
	return nil
}

func printExplanation(s *IOStreams, e explanation, st *accessState) error {
	w := s.Out
	fmt.Fprintf(w, "%s %s (server %s, %s %s)\n", e.Kind, e.Target, e.Server, e.Kind, e.Name)
	who := e.Caller.describe()
	if e.Caller.Given {
		who = strings.ReplaceAll(who, " (command line)", "") + " (as given)"
	}
	fmt.Fprintf(w, "caller:   %s\n", who)
	if e.Caller.Profile != "" {
		fmt.Fprintf(w, "profile:  %s\n", e.Caller.Profile)
	}
	fmt.Fprintf(w, "policies: %s\n", inForce(st))
	fmt.Fprintf(w, "decision: %s, by %s\n", e.Decision, e.Rule)
	fmt.Fprintf(w, "reason:   %s\n", e.Reason)
	if a := e.Approval; a != nil {
		switch {
		case a.Required:
			fmt.Fprintf(w, "approval: required, by %s (channel %s, timeout %s)\n", a.Rule, a.Channel, a.Timeout)
		default:
			fmt.Fprintln(w, "approval: not required (no approval rule matches)")
		}
	}
	if says, ok := schemaCheckSays[e.SchemaCheck]; ok {
		fmt.Fprintf(w, "schema:   %s (guardrails.schema): %s\n", e.SchemaCheck, says)
	}
	printGuards(w, e.Guards, e.GuardVerdict)
	if len(e.Chain) == 0 {
		return nil
	}
	fmt.Fprintln(w, "\nrules considered, most binding first (→ decided):")
	t := newTable(w, "", "LEVEL", "RULE", "SAYS", "DETAIL")
	for _, step := range e.Chain {
		mark := ""
		if step.Decides {
			mark = "→"
		}
		t.row(mark, string(step.Level), step.Rule, string(step.Says), oneLine(step.Detail, 100))
	}
	return t.flush()
}

// schemaCheckSays is what each guardrails.schema mode does to a call, as
// policy explain says it.
var schemaCheckSays = map[string]string{
	"warn":  "arguments that do not match the tool's inputSchema are noted in the record; the call goes on",
	"block": "a call whose arguments do not match the tool's inputSchema is refused, saying which argument and why",
	"off":   "arguments are not checked against the tool's inputSchema",
}

// inForce names the policies in force, managed first.
func inForce(st *accessState) string {
	var parts []string
	if st.managed != nil {
		parts = append(parts, "managed ("+st.managed.Path+")")
	}
	if st.user != nil {
		parts = append(parts, "the configuration's")
	}
	if len(parts) == 0 {
		return "none (everything is allowed)"
	}
	return strings.Join(parts, " over ")
}

// routeExposed finds the server an exposed name belongs to, and the
// server's own name for it, from the configuration's prefixes (the longest
// that fits), else the catalog cache's lists of unprefixed servers.
func routeExposed(ctx context.Context, f *Factory, cfg *config.Config, exposed string) (server, name string, err error) {
	best, bestPrefix := "", ""
	for _, srv := range cfg.Order {
		p := cfg.Servers[srv].PrefixOr()
		if p != "" && strings.HasPrefix(exposed, p+catalog.NameSeparator) && len(p) > len(bestPrefix) {
			best, bestPrefix = srv, p
		}
	}
	if best != "" {
		return best, strings.TrimPrefix(exposed, bestPrefix+catalog.NameSeparator), nil
	}
	var bare []string
	for _, srv := range cfg.Order {
		if cfg.Servers[srv].PrefixOr() == "" {
			bare = append(bare, srv)
		}
	}
	switch len(bare) {
	case 0:
		return "", "", errors.New(noSuchTool(exposed, cfg, cachedToolNames(ctx, f, cfg), nil).Error())
	case 1:
		return bare[0], exposed, nil
	}
	cached := cachedToolNames(ctx, f, cfg)
	for _, srv := range bare {
		if slices.Contains(cached[srv], exposed) {
			return srv, exposed, nil
		}
	}
	return "", "", fmt.Errorf("%q has no server's prefix, and servers %s have none: run mcpgw tools once, so the catalog cache says which lists it", exposed, strings.Join(bare, ", "))
}

// policyPart is one part of a policy in force, for `mcpgw policy show`.
type policyPart struct {
	Source string `json:"source"` // managed or config
	File   string `json:"file"`
	Line   int    `json:"line,omitempty"`
	ID     string `json:"id"` // its rule id: default, teams.web, rules.no_prod, profiles.cursor
	What   string `json:"what"`
}

// policyShow is `mcpgw policy show -o json`.
type policyShow struct {
	Managed     string       `json:"managed,omitempty"` // its file, when one is in force
	ManagedPath string       `json:"managed_path"`      // where one is looked for
	Config      string       `json:"config"`
	Caller      policyCaller `json:"caller"`
	Parts       []policyPart `json:"parts"`
}

func runPolicyShow(ctx context.Context, opts *PolicyOptions) error {
	format, cfg, acc, err := policyAccess(opts)
	if err != nil {
		return err
	}
	st := acc.state.Load()
	caller := opts.caller(acc)
	out := policyShow{ManagedPath: managedPolicyPath(), Config: cfg.Path, Caller: caller, Parts: []policyPart{}}
	if st.managed != nil {
		out.Managed = st.managed.Path
		out.Parts = append(out.Parts, policyParts("managed", st.managed.Path, "managed.", st.managed.Policy, st.managed.Lines)...)
	}
	if cfg.Access != nil {
		p := policy.Policy{Default: policy.Allow}
		if cfg.Policy != nil {
			p = *cfg.Policy
		}
		p.Profiles = cfg.Profiles
		out.Parts = append(out.Parts, policyParts("config", cfg.Path, "", p, cfg.PolicyLines)...)
	}
	if format == FormatJSON {
		return printJSON(opts.IO.Out, out)
	}
	w := opts.IO.Out
	fmt.Fprintf(w, "policies: %s\n", inForce(st))
	if st.managed == nil {
		fmt.Fprintf(w, "managed:  none (none installed at %s)\n", out.ManagedPath)
	}
	fmt.Fprintf(w, "caller:   %s\n", caller.describe())
	if caller.Profile != "" {
		fmt.Fprintf(w, "profile:  %s\n", caller.Profile)
	}
	if len(out.Parts) == 0 {
		fmt.Fprintln(w, "\nNo policy is in force: every caller may see and call everything.")
		return nil
	}
	if st.managed != nil && st.user != nil {
		fmt.Fprintln(w, "\nA call is allowed only when both allow it: the configuration's policy narrows the managed one, never widens it.")
	}
	fmt.Fprintln(w)
	t := newTable(w, "FROM", "PART", "WHAT")
	for _, p := range out.Parts {
		from := filepath.Base(p.File)
		if p.Line > 0 {
			from += fmt.Sprintf(":%d", p.Line)
		}
		t.row(p.Source+" "+from, p.ID, p.What)
	}
	return t.flush()
}

// policyParts lists p's parts in the order a reader meets them: default,
// teams, roles, rules, members, profiles.
func policyParts(source, file, label string, p policy.Policy, lines map[string]int) []policyPart {
	var out []policyPart
	add := func(id, what string) {
		out = append(out, policyPart{Source: source, File: file, Line: lines[label+id], ID: label + id, What: what})
	}
	def := p.Default
	if def == "" {
		def = policy.Deny
	}
	add("default", "what nothing else speaks of: "+string(def))
	for _, name := range sortedKeys(p.Teams) {
		who := "team " + name
		if name == "*" {
			who = "every caller"
		}
		add(config.PolicyKey("teams", name), who+": "+grantsText(p.Teams[name]))
	}
	for _, name := range sortedKeys(p.Roles) {
		add(config.PolicyKey("roles", name), "role "+name+": "+grantsText(p.Roles[name]))
	}
	for i, r := range p.Rules {
		id := fmt.Sprintf("rules[%d]", i)
		if r.Name != "" {
			id = config.PolicyKey("rules", r.Name)
		}
		add(id, ruleText(r))
	}
	for i, m := range p.Members {
		add(fmt.Sprintf("members[%d]", i), fmt.Sprintf("users %q: team %q, roles %s", m.User, m.Team, strings.Join(m.Roles, ",")))
	}
	for _, pr := range p.Profiles {
		add(config.PolicyKey("profiles", pr.Name), profileText(pr))
	}
	return out
}

// grantsText is a grant in one line: "github: all; postgres: tools allow query, list_*".
func grantsText(g policy.Grants) string {
	var parts []string
	for _, srv := range sortedKeys(g.Servers) {
		sg := g.Servers[srv]
		name := srv
		if srv == "*" {
			name = "every server"
		}
		var kinds []string
		for _, k := range []struct {
			name string
			r    policy.ToolRules
		}{{"tools", sg.Tools}, {"prompts", sg.Prompts}, {"resources", sg.Resources}} {
			if t := rulesText(k.r); t != "" {
				kinds = append(kinds, k.name+" "+t)
			}
		}
		if len(kinds) == 0 {
			kinds = []string{"all"}
		}
		parts = append(parts, name+": "+strings.Join(kinds, ", "))
	}
	if len(parts) == 0 {
		return "nothing"
	}
	return strings.Join(parts, "; ")
}

func rulesText(r policy.ToolRules) string {
	var s []string
	if len(r.Allow) > 0 {
		s = append(s, "allow "+strings.Join(r.Allow, " "))
	}
	if len(r.Deny) > 0 {
		s = append(s, "deny "+strings.Join(r.Deny, " "))
	}
	return strings.Join(s, ", ")
}

func ruleText(r policy.Rule) string {
	kind := r.Kind
	if kind == "" {
		kind = "tool"
	}
	s := fmt.Sprintf("%s %s/%s", r.Effect, orAll(r.Server), orAll(r.Tool))
	if kind != "tool" {
		s = fmt.Sprintf("%s %s %s/%s", r.Effect, kind, orAll(r.Server), orAll(r.Tool))
	}
	if r.When != "" {
		s += " when " + r.When
	}
	return s
}

func orAll(s string) string {
	if s == "" {
		return "*"
	}
	return s
}

func profileText(p policy.Profile) string {
	var s []string
	if p.Match.Client != "" {
		s = append(s, "for agents "+p.Match.Client)
	}
	if len(p.Servers) > 0 {
		s = append(s, "servers "+strings.Join(p.Servers, " "))
	}
	if t := rulesText(p.Tools); t != "" {
		s = append(s, "tools "+t)
	}
	if id := p.Identity; !id.IsZero() {
		var parts []string
		for _, kv := range [][2]string{{"user", id.User}, {"team", id.Team}, {"roles", strings.Join(id.Roles, ",")}} {
			if kv[1] != "" {
				parts = append(parts, kv[0]+" "+kv[1])
			}
		}
		s = append(s, "identity "+strings.Join(parts, " "))
	}
	if len(s) == 0 {
		return "narrows nothing"
	}
	return strings.Join(s, "; ")
}

// explainApprovalOf says whether the tool call in would wait for a
// person: the approval rules in force (the configuration's and the managed
// policy's) matched against it, with the tool's destructiveHint from the
// catalog cache.
func explainApprovalOf(ctx context.Context, f *Factory, cfg *config.Config, acc *access, in policy.Input) (*explainApproval, error) {
	ac := approvalConfig(cfg, acc)
	rules, err := approval.Compile(ac.Rules)
	if err != nil {
		return nil, withCode(ExitConfig, err)
	}
	out := &explainApproval{Channel: string(cmp.Or(ac.Channel, approval.Auto)), Timeout: cmp.Or(ac.Timeout, approval.DefaultTimeout).String()}
	for _, t := range cachedTools(ctx, f, cfg)[in.Server] {
		if t.Name == in.Exposed {
			out.Destructive = t.Destructive
		}
	}
	c := &callpath.Call{Kind: callpath.ToolCall, Exposed: in.Exposed, Server: in.Server, Name: in.Name, Params: in.Args, Destructive: out.Destructive}
	if r := rules.Match(c); r != nil {
		out.Required, out.Rule = true, r.ID
	}
	return out, nil
}
